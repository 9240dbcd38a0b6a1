"""``helpert demo``: replay a bundled session on the embedded model and show the comparison."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import click

from helpert.cli.options import model_options

BUNDLED = Path(__file__).resolve().parents[2] / "sessions"


@click.command(short_help="Replay a bundled peer session and print both side by side.")
@click.option("--session", "session_file", default="exam_anxiety.txt", show_default=True,
              help="A file in the bundled sessions/ folder (or any transcript path).")
@click.option("--out", type=click.Path(file_okay=False), default="runs/demo", show_default=True)
@model_options
def demo(session_file: str, out: str, **opts: Any) -> int:
    """Replay a bundled peer session with the LLM counselor and print both side by side."""
    from rich.console import Console

    from helpert.cli.errors import UserError
    from helpert.cli.replay import replay_to_run
    from helpert.compare import ComparedRun
    from helpert.report.show import print_run
    from helpert.replay.runs import run_folder_of

    path = Path(session_file) if Path(session_file).exists() else BUNDLED / session_file
    if not path.is_file():
        raise UserError(f"{session_file}: not found (bundled sessions: {', '.join(sorted(p.name for p in BUNDLED.glob('*.*') if p.suffix != '.md'))})")
    console = Console()
    run_dir = Path(out)
    if run_folder_of(run_dir) == run_dir:
        shutil.rmtree(run_dir)  # a demo always shows a fresh replay
    console.print(f"Replaying [bold]{path.name}[/] through the [bold]{opts['protocol']}[/] graph "
                  f"({'embedded SmolLM2-135M-Instruct Q4_1' if opts['model'] is None else opts['model']}).")
    summary = replay_to_run([str(path)], dialogue=None, out=run_dir, console=console, **opts)
    run = ComparedRun.open(run_dir)  # one reader for the three views: the sessions are labelled and compared once
    print_run(run, console=console)
    with console.status("drawing plots and the HTML report…"):
        from helpert.report.plot import plot_run
        from helpert.report.html import write_report

        plots = plot_run(run)
        report = write_report(run)
    console.print(f"Plots: [bold]{run_dir / 'plots'}[/] ({len(plots)} files: session flow, phase timeline, scores, corpus)")
    console.print(f"Report: [bold]{report}[/] (open it in a browser)")
    return 1 if summary.failed else 0
