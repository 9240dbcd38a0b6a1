"""`helpert report`: one self-contained HTML page for a replay run."""

from __future__ import annotations

from pathlib import Path

import click


@click.command(short_help="Write a run's self-contained report.html.")
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--protocol", "protocol_name", default=None,
              help="Protocol name or YAML path (default: the run's protocol, else cbt_session).")
def report(run_dir: Path, protocol_name: str | None) -> None:
    """Write RUN_DIR/report.html: the run's manifest, the corpus comparison, and per session the
    pictures and both transcripts side by side with phase and behaviour tags. Images are embedded,
    so the file works offline and on its own."""
    from helpert.cli.errors import run_dir_errors
    from helpert.protocols import load_protocol
    from helpert.report.html import write_report

    protocol = load_protocol(protocol_name) if protocol_name else None
    with run_dir_errors():
        path = write_report(run_dir, protocol)
    click.echo(str(path))
