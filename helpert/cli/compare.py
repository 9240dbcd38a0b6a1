"""`helpert compare`: LLM reconstruction vs peer original, per metric, with paired statistics."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from helpert.cli.options import judge_from_options, judge_options, judge_roles, judge_shown, say_judged, speaker_option


DEFAULT_NAMES = ("peer", "LLM")


def _names(ctx: click.Context, param: click.Parameter, value: str | None) -> "tuple[str, str] | None":
    """``--names A,B`` as two non-empty names, different from each other."""
    if value is None:
        return None
    parts = tuple(p.strip() for p in value.split(","))
    if len(parts) != 2 or not all(parts) or parts[0] == parts[1]:
        raise click.BadParameter(f"give two different names separated by one comma, e.g. 'session 1,session 6' (not {value!r})")
    return parts  # type: ignore[return-value]


@click.command(short_help="Compare peer and LLM counselor sessions, or a replay run folder.")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--protocol", "protocol_name", default=None,
              help="Protocol name or YAML path (default: the run's protocol, else cbt_session).")
@click.option("--json", "as_json", is_flag=True, help="Print the corpus statistics as JSON.")
@click.option("--all", "all_metrics", is_flag=True, help="Show every metric, not only the main ones.")
@click.option("--exclude-degenerate", is_flag=True,
              help="Leave out every slot where either counselor turn is degenerate (loops, copies, narration...) "
                   "and recompute; a RUN_DIR then gets comparison.no_degenerate.csv and corpus.no_degenerate.json.")
@click.option("--names", default=None, metavar="ORIGINAL,RECONSTRUCTED", callback=_names,
              help="What to call the two sides in the table and warnings, e.g. --names 'session 1,session 6' for two human "
                   "sessions (default: peer,LLM). The JSON keys stay peer_* (ORIGINAL) and llm_* (RECONSTRUCTED) and "
                   "the names are added under \"names\".")
@speaker_option
@judge_options
def compare(paths: tuple[Path, ...], protocol_name: str | None, as_json: bool, all_metrics: bool,
            exclude_degenerate: bool, names: "tuple[str, str] | None", speakers: "dict[str, str] | None",
            judge_model: str | None, judge_served_model: str | None, judge_api_key_env: str | None, judge_concurrency: int,
            judge_timeout: float, judge_cache: str | None, judge_what: str) -> None:
    """Compare ORIGINAL and RECONSTRUCTED transcript files (sessions matched by dialogue_id; two files of one
    session each are compared as one pair whatever their ids), or a replay RUN_DIR (writes RUN_DIR/comparison.csv
    and RUN_DIR/corpus.json). With --judge-model, an LLM judge also scores the 11 CTRS items of both sides (ctrs_judge.*) and labels both sides' turns (--judge)."""
    from helpert.metrics import MAIN_METRICS
    from helpert.protocols import load_protocol

    protocol = load_protocol(protocol_name) if protocol_name else None
    judge = judge_from_options(judge_model, None, judge_served_model, judge_api_key_env, judge_timeout, judge_concurrency,
                               judge_cache)
    with judge_shown(judge) as shown:
        stats, doc = _compared(paths, protocol, exclude_degenerate, judge_concurrency, *judge_roles(shown, judge_what),
                               speakers=speakers, names=names)
    shown_names = names or DEFAULT_NAMES
    _warn_not_english(stats, shown_names)
    if names:
        doc["names"] = {"peer": names[0], "llm": names[1]}
    if as_json:
        click.echo(json.dumps(doc, indent=2))
        return
    from helpert.report.tables import print_comparison

    if doc.get("exclude_degenerate"):
        click.echo(f"left out {doc['degenerate_slots_dropped']} slot(s) with a degenerate counselor turn", err=True)
    judged = [k for k in stats.index if k.startswith("ctrs_judge.")]
    if names:
        title = f"{shown_names[1]} vs {shown_names[0]}"
    elif len(paths) == 1:  # a run folder: how many sessions, and whether --max-turns cut both sides
        from helpert.compare import ComparedRun

        title = ComparedRun.open(paths[0]).title(doc.get("n_sessions"))
    else:
        title = "LLM reconstruction vs peer"
    print_comparison(stats, None if all_metrics else [*MAIN_METRICS, *judged], title=title, names=shown_names)
    say_judged(judge)


def _compared(paths: tuple[Path, ...], protocol: Any, exclude_degenerate: bool, judge_concurrency: int, ctrs_judge: Any,
              label_judge: Any, speakers: "dict[str, str] | None" = None,
              names: "tuple[str, str] | None" = None) -> tuple[Any, dict]:
    """The corpus statistics and corpus.json of a RUN_DIR or of two transcript files."""
    from helpert.cli.errors import UserError
    from helpert.compare import (
        NoPairsError, compare_corpus, compare_run_dir, compare_sessions, corpus_json, exclude_degenerate_slots, judge_about,
        match_pairs,
    )
    from helpert.io import first_few, read_sessions
    from helpert.io.errors import TranscriptError
    from helpert.protocols import load_protocol

    for path in paths:  # the same line as measure's and screen's
        if not path.exists():
            raise TranscriptError(path, "no such file or folder")
    try:
        if len(paths) == 1 and paths[0].is_dir():
            try:
                _, stats, doc = compare_run_dir(paths[0], protocol, ctrs_judge, exclude_degenerate_turns=exclude_degenerate,
                                                judge_concurrency=judge_concurrency, label_judge=label_judge)
            except NoPairsError as exc:
                raise UserError(str(exc)) from None
            suffix = ".no_degenerate" if exclude_degenerate else ""
            click.echo(f"wrote {paths[0] / f'comparison{suffix}.csv'} and {paths[0] / f'corpus{suffix}.json'}", err=True)
        elif len(paths) == 2:
            from helpert.replay.runs import run_folder_of

            for path in paths:
                if path.is_dir() and (root := run_folder_of(path)) is not None:
                    raise UserError(f"{path} is a helpert run folder: give it alone (`helpert compare {root}`); "
                                    "two paths are an ORIGINAL and a RECONSTRUCTED transcript file")
            protocol = protocol or load_protocol("cbt_session")
            originals, reconstructions = read_sessions(paths[0], speakers=speakers), read_sessions(paths[1], speakers=speakers)
            pairs, unmatched = match_pairs(originals, reconstructions)
            if not pairs and len(originals) == len(reconstructions) == 1:
                # one session on each side: what else could be meant? (a plain-text file's id is its file name)
                original, other = originals[0], reconstructions[0]
                click.echo(f"note: one session on each side, compared as one: {original.dialogue_id!r} ({paths[0]}) "
                           f"with {other.dialogue_id!r} ({paths[1]}), under the first id", err=True)
                pairs, unmatched = [(original, other.model_copy(update={"dialogue_id": original.dialogue_id}))], []
            if not pairs:
                def ids(sessions) -> str:
                    return first_few(repr(s.dialogue_id) for s in sessions)

                raise UserError(f"no dialogue_id is in both {paths[0]} ({ids(originals)}) and {paths[1]} "
                                f"({ids(reconstructions)}): sessions are paired by id (a plain-text file's id is its "
                                "file name unless a '# id: NAME' line sets it)")
            _warn_unpunctuated(pairs, names)
            if unmatched:
                click.echo(f"warning: {len(unmatched)} session(s) on one side only, left out: "
                           f"{first_few(unmatched)}", err=True)
            extra: dict[str, object] = {}
            if exclude_degenerate:
                pairs, dropped = exclude_degenerate_slots(pairs)
                extra = {"exclude_degenerate": True, "degenerate_slots_dropped": dropped}
            stats = compare_corpus(compare_sessions(pairs, protocol, ctrs_judge, judge_concurrency, label_judge))
            doc = corpus_json(stats, protocol=protocol.name, protocol_sha256=protocol.sha256, n_sessions=len(pairs),
                              unmatched=unmatched, **extra, **judge_about(ctrs_judge, label_judge))
        else:
            raise click.UsageError("give ORIGINAL RECONSTRUCTED (two files) or one RUN_DIR")
    except ImportError as exc:
        raise UserError(f"sessions need phase labels and the labeller could not be loaded ({exc})") from None
    return stats, doc


def _warn_not_english(stats, names: "tuple[str, str]" = ("peer", "LLM")) -> None:
    """Say how many sessions of each side were left out of every metric for not being English."""
    if "language.english" not in stats.index:
        return
    row = stats.loc["language.english"]
    for side, mean in ((names[0], row["peer_mean"]), (names[1], row["llm_mean"])):
        left = round(int(row["n"]) * (1.0 - float(mean))) if mean == mean else 0
        if left:
            click.echo(f"warning: {left} of {int(row['n'])} {side} session(s) are not in English and are left out of "
                       "every metric (helpert's labellers read English only; `helpert measure` names them)", err=True)


def _warn_unpunctuated(pairs, names: "tuple[str, str] | None" = None) -> None:
    """Say which sessions of each side have almost no sentence punctuation (a bias between the sides)."""
    from helpert.text.transcript import unpunctuated_ids, unpunctuated_warning

    for side, name in enumerate(names or ("original", "reconstructed")):
        bare = unpunctuated_ids(p[side] for p in pairs)
        if bare:
            click.echo(unpunctuated_warning(bare, f"{name} session(s)"), err=True)
