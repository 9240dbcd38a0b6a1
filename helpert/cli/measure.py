"""`helpert measure`: score transcripts as they are, one row per session (no LLM unless a judge is asked for)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from helpert.cli.options import judge_from_options, judge_options, judge_roles, judge_shown, say_judged, speaker_option


def _unscored(frame) -> list[str]:
    """Sessions in English with counselor turns but no scored turn (no drift score)."""
    if "drift.score" not in frame or "talk.counselor_turns" not in frame:
        return []
    english = frame["language.english"] != 0 if "language.english" in frame else True
    mask = frame["drift.score"].isna() & (frame["talk.counselor_turns"] > 0) & english
    return [str(i) for i in frame.index[mask]]


def _measure_frame(paths: tuple[Path, ...], protocol_name: str, judge: object = None, label_judge: object = None,
                   judge_concurrency: int = 1, dialogue: str | None = None, speakers: "dict[str, str] | None" = None,
                   phase_labeller: str = "auto"):
    from helpert.cli.errors import UserError, refuse_run_folders
    from helpert.io import read_sessions
    from helpert.metrics import measure_sessions
    from helpert.protocols import load_protocol
    from helpert.text.transcript import unpunctuated_ids, unpunctuated_warning

    refuse_run_folders(paths, "measure")
    protocol = load_protocol(protocol_name)
    if phase_labeller != "rules":  # "auto" resolves here to what labels the phases: the model where it serves, else the rules
        try:
            from helpert.label import phase_model_for

            phase_labeller = "model" if phase_model_for(protocol, phase_labeller) is not None else "rules"
        except ImportError as exc:
            raise UserError(f"sessions need phase labels and the labeller could not be loaded ({exc})") from None
        except ValueError as exc:
            raise UserError(f"--phase-labeller model: {exc}") from None
    sessions = read_sessions(*paths, dialogue=dialogue, speakers=speakers)
    _warn_repeated_ids(sessions)
    bare = unpunctuated_ids(sessions)
    if bare:
        click.echo(unpunctuated_warning(bare), err=True)
    try:
        return protocol, phase_labeller, measure_sessions(sessions, protocol, judge, label_judge, judge_concurrency, phase_labeller)
    except ImportError as exc:
        raise UserError(f"sessions need phase labels and the labeller could not be loaded ({exc})") from None


def _warn_repeated_ids(sessions) -> None:
    """Files may hold sessions of one id (a run's original.json and reconstruction.json): their rows would carry the
    same id with nothing to tell them apart, so say so."""
    from collections import Counter

    repeated = {i: n for i, n in Counter(s.dialogue_id for s in sessions).items() if n > 1}
    if repeated:
        from helpert.io.errors import first_few

        shown = first_few(f"{i!r} x{n}" for i, n in repeated.items())
        click.echo(f"warning: {len(repeated)} dialogue_id(s) occur more than once ({shown}): their rows carry the same "
                   "id, in the order the files were read", err=True)


@click.command(short_help="Score sessions: adherence, drift, CTRS, MI codes, empathy, talk.")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--protocol", "protocol_name", default="cbt_session", show_default=True,
              help="Protocol name (shipped, $HELPERT_PROTOCOLS or ./graphs) or path to a protocol YAML.")
@click.option("--dialogue", default=None, help="Measure only the dialogue with this id.")
@speaker_option
@click.option("--json", "as_json", is_flag=True, help="Print every metric of every session as JSON.")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write every metric to this CSV file (one row per session).")
@click.option("--threads", type=click.IntRange(min=1), default=None, help="CPU threads of a GGUF judge model.")
@click.option("--phase-labeller", type=click.Choice(["auto", "rules", "model"]), default="auto", show_default=True,
              help="Who names each counselor turn's phase: 'auto' is the learned model for cbt_session (agrees with "
                   "annotators on 75-80% of the turns of fresh sessions) and the cue rules for any other protocol; "
                   "'rules' the cue rules (33-40%); 'model' the learned model, an error for other protocols "
                   "(docs/metrics.md, 'Adherence').")
@judge_options
def measure(paths: tuple[Path, ...], protocol_name: str, dialogue: str | None, speakers: "dict[str, str] | None", as_json: bool, csv_path: Path | None, judge_model: str | None,
            judge_what: str, threads: int | None, phase_labeller: str, judge_served_model: str | None,
            judge_api_key_env: str | None, judge_concurrency: int, judge_timeout: float, judge_cache: str | None) -> None:
    """Score the sessions in PATH... (files or folders) against a protocol: adherence, drift, CTRS,
    empathy and talk metrics. Unlabelled sessions are labelled first."""
    import math

    judge = judge_from_options(judge_model, threads, judge_served_model, judge_api_key_env, judge_timeout, judge_concurrency,
                               judge_cache)
    with judge_shown(judge) as shown:
        protocol, phase_labeller, frame = _measure_frame(paths, protocol_name, *judge_roles(shown, judge_what), judge_concurrency,
                                                        dialogue, speakers, phase_labeller)
    if "language.english" in frame and (frame["language.english"] == 0).any():
        from helpert.text.language import not_english_warning

        click.echo(not_english_warning([str(i) for i in frame.index[frame["language.english"] == 0]]), err=True)
    unscored = _unscored(frame)
    if unscored:
        from helpert.io.errors import first_few

        shown = first_few(unscored)
        click.echo(f"note: {len(unscored)} session(s) with no counselor turn to score ({shown}): every counselor turn is a "
                   "minimal encourager (\"mm-hmm\", \"okay\", \"I see\") or a safety turn, which no measure counts, so "
                   "drift, adherence, CTRS and the MI scores are left empty (docs/metrics.md)", err=True)
    if csv_path is not None:
        from helpert.io.atomic import atomic_write_text

        atomic_write_text(csv_path, frame.to_csv())
    if as_json:
        sessions = [
            {"dialogue_id": str(i), "metrics": {k: None if math.isnan(v) else v for k, v in row.items()}}
            for i, row in frame.iterrows()
        ]
        doc = {"protocol": protocol.name, "protocol_sha256": protocol.sha256, "phase_labeller": phase_labeller,
               "sessions": sessions, **({"judge": judge.info()} if judge is not None else {})}
        click.echo(json.dumps(doc, indent=2))
        return
    from helpert.report.tables import print_measure_table

    print_measure_table(frame, title=f"helpert measure ({protocol.name}; phases: "
                                      f"{'the learned model' if phase_labeller == 'model' else 'the cue rules'})")
    say_judged(judge)
