"""``helpert probe``: controlled variations of sessions that test the LLM counselor (fairness for now)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from helpert.cli.options import model_options
from helpert.probe.counterfactual import ATTRIBUTES, CUES

if TYPE_CHECKING:
    import pandas

    from helpert.report.tables import MetricTable


@click.group()
def probe() -> None:
    """Probe the LLM counselor with controlled variations of sessions."""


def format_gaps(table: pandas.DataFrame, reference: str, title: str) -> MetricTable:
    """Per metric (in the probe's order), one row per group: group | n | reference | group |
    diff [95% CI] | p | p Holm | gap; a :class:`helpert.report.tables.MetricTable`."""
    from helpert.probe.fairness import METRICS
    from helpert.report.tables import MetricTable, diff_cell, fmt

    order = {m: i for i, m in enumerate(METRICS)}
    rows = []
    for _, r in sorted(table.iterrows(), key=lambda ir: order.get(ir[1]["metric"], len(order))):
        flag = "[bold red]FLAG[/]" if r["flag"] else ("[yellow]ci≠0[/]" if r["ci_excludes_0"] else "")
        rows.append((r["metric"], [r["group"], str(int(r["n"])), fmt(r["reference_mean"]), fmt(r["group_mean"]),
                                   diff_cell(r["mean_diff"], r["ci_low"], r["ci_high"]), fmt(r["p_value"]),
                                   fmt(r["p_holm"]), flag], None))
    return MetricTable(("group", "n", reference, "group", "diff [95% CI]", "p", "p Holm", "gap"), rows, title=title, left=1)


@probe.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--attribute", type=click.Choice(ATTRIBUTES), default="gender", show_default=True,
              help="The demographic attribute that changes between the copies of a session.")
@click.option("--cue", type=click.Choice(CUES), default="explicit", show_default=True,
              help="explicit: 'A bit about me: I'm …'; implicit: names, self-descriptions, life stage; both.")
@click.option("--groups", "group_list", default=None, help="Comma-separated subset of the attribute's groups.")
@click.option("--reference", default=None, help="Group the others are compared with (default: the first).")
@click.option("--plant-bias", default=None, metavar="GROUP[:prompt|strip]",
              help="Positive control: make the counselor colder to GROUP (see docs/fairness.md).")
@click.option("--dialogue", default=None, help="Probe only the dialogue with this id.")
@click.option("--out", type=click.Path(file_okay=False), default=None,
              help="Output folder (default: runs/fairness-<attribute>-<name>).")
@click.option("--json", "as_json", is_flag=True, help="Print the gap table as JSON.")
@click.option("--all", "all_metrics", is_flag=True, help="Show the CTRS items too, not only the primary metrics.")
@model_options
def fairness(paths: tuple[str, ...], attribute: str, cue: str, group_list: str | None, reference: str | None,
             plant_bias: str | None, dialogue: str | None, out: str | None, as_json: bool, all_metrics: bool,
             **opts: Any) -> int:
    """Demographic counterfactual probe: replay every session once per group, with only the client's
    stated or implied race, gender or age changed, and test the paired gaps in empathy and CTRS."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from helpert.replay.batch import RunOptions
    from helpert.cli.errors import UserError
    from helpert.io import read_sessions
    from helpert.probe.fairness import PRIMARY, run_fairness_probe
    from helpert.probe.planted import PlantedBias
    from helpert.protocols import load_protocol

    options = RunOptions(**opts)
    sessions = read_sessions(*paths, dialogue=dialogue)
    try:
        plant = PlantedBias.parse(plant_bias) if plant_bias else None
    except ValueError as exc:
        raise UserError(str(exc)) from None
    only = [g.strip() for g in group_list.split(",") if g.strip()] if group_list else None
    run_dir = Path(out or Path("runs") / f"fairness-{attribute}-{dialogue or Path(paths[0]).stem}")
    console = Console(stderr=as_json)
    protocol = load_protocol(options.protocol)
    backend = options.load_backend()
    progress = Progress(TextColumn("replays"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                        console=console, transient=True)
    task = progress.add_task("replays", total=None)

    def on_event(e: dict[str, Any]) -> None:
        if e["kind"] == "planned":
            progress.update(task, total=e["total"])
        else:
            progress.advance(task)

    try:
        with progress:
            report = run_fairness_probe(sessions, attribute, backend, options.replay_settings(protocol), cue=cue,
                                        only_groups=only, reference=reference, plant=plant, out=run_dir,
                                        on_event=on_event)
    except ValueError as exc:  # bad groups, or OUT holds a probe with other settings (ManifestMismatch)
        raise UserError(str(exc)) from None
    except ImportError as exc:
        raise UserError(f"counselor turns need labels and the labeller could not be loaded ({exc})") from None
    if report.about["n_sessions"] < 2:
        click.echo("note: one session pair: no CI, effect size or test can be computed, so nothing can be flagged; "
                   "probe a corpus (several sessions) to test for gaps", err=True)
    if as_json:
        click.echo(json.dumps(report.to_json(), indent=2))
        return 0
    probe_info = report.about["probe"]
    shown = report.table if all_metrics else report.table[report.table["metric"].isin(PRIMARY)]
    title = (f"{attribute} ({cue} cue): group - {probe_info['reference']}, paired over {report.about['n_sessions']} "
             f"sessions, seed {options.seed}" + (f"; planted bias: {plant.group} ({plant.mode})" if plant else ""))
    Console().print(format_gaps(shown, probe_info["reference"], title))
    flagged = report.flagged
    click.echo(f"{len(flagged)} gap(s) flagged (95% CI excludes 0 and Holm p < {probe_info['alpha']})"
               + (": " + ", ".join(f"{r.group} {r.metric}" for r in flagged.itertuples()) if len(flagged) else "."))
    click.echo(f"Output: {run_dir} (fairness.csv, fairness.json, measures.csv, one replay folder per group: "
               f"`helpert report {run_dir}/<group>` for a group's transcripts)")
    return 0
