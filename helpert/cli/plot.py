"""`helpert plot`: draw the pictures of a replay run into RUN_DIR/plots/."""

from __future__ import annotations

from pathlib import Path

import click


@click.command(short_help="Draw a run's phase flow graphs, timelines and score plots (PNG).")
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--protocol", "protocol_name", default=None,
              help="Protocol name or YAML path (default: the run's protocol, else cbt_session).")
def plot(run_dir: Path, protocol_name: str | None) -> None:
    """Draw per session the phase flow graph, the phase timeline and the CTRS/empathy scores, and for
    the corpus the paired differences, into RUN_DIR/plots/ (PNG)."""
    from helpert.cli.errors import run_dir_errors
    from helpert.report.plot import plot_run
    from helpert.protocols import load_protocol

    protocol = load_protocol(protocol_name) if protocol_name else None
    with run_dir_errors():
        paths = plot_run(run_dir, protocol)
    click.echo(f"wrote {len(paths)} pictures to {run_dir / 'plots'}", err=True)
    for path in paths:
        click.echo(str(path))
