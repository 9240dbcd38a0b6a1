"""`helpert measure`: score transcripts as they are, one row per session (no LLM involved)."""

from __future__ import annotations

import json
from pathlib import Path

import click


def _measure_frame(paths: tuple[Path, ...], protocol_name: str):
    from helpert.cli.errors import UserError
    from helpert.io import read_sessions
    from helpert.metrics import measure_sessions
    from helpert.protocol import load_protocol

    protocol = load_protocol(protocol_name)
    sessions = read_sessions(*paths)
    try:
        return protocol, measure_sessions(sessions, protocol)
    except ImportError as exc:
        raise UserError(f"sessions need phase labels and the labeller could not be loaded ({exc})") from None


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--protocol", "protocol_name", default="cbt_session", show_default=True,
              help="Protocol name (graphs/*.yaml) or path to a protocol YAML.")
@click.option("--json", "as_json", is_flag=True, help="Print every metric of every session as JSON.")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write every metric to this CSV file (one row per session).")
def measure(paths: tuple[Path, ...], protocol_name: str, as_json: bool, csv_path: Path | None) -> None:
    """Score the sessions in PATH... (files or folders) against a protocol: adherence, drift, CTRS,
    empathy and talk metrics. Unlabelled sessions are labelled first."""
    import math

    protocol, frame = _measure_frame(paths, protocol_name)
    if csv_path is not None:
        from helpert.runs import atomic_write_text

        atomic_write_text(csv_path, frame.to_csv())
    if as_json:
        sessions = [
            {"dialogue_id": str(i), "metrics": {k: None if math.isnan(v) else v for k, v in row.items()}}
            for i, row in frame.iterrows()
        ]
        doc = {"protocol": protocol.name, "protocol_sha256": protocol.sha256, "sessions": sessions}
        click.echo(json.dumps(doc, indent=2))
        return
    from helpert.report_table import print_measure_table

    print_measure_table(frame, title=f"helpert measure ({protocol.name})")
