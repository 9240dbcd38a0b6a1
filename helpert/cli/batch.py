"""``helpert batch``: replay a whole corpus with worker processes; resumable; prints the corpus comparison."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from helpert.cli.options import model_options, speaker_option


@click.command(short_help="Replay every dialogue of files or folders into one resumable run.")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--out", type=click.Path(file_okay=False), required=True, help="Run folder (re-use it to resume).")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Worker processes, each with its own model; threads are split between them.")
@click.option("--concurrency", type=click.IntRange(min=1), default=1, show_default=True,
              help="--backend openai: sessions in flight at once against the server(s), each one's turns in order.")
@click.option("--dialogue", "dialogues", multiple=True,
              help="Replay only the dialogue with this id (repeat it for several; default: every dialogue).")
@speaker_option
@model_options
def batch(paths: tuple[str, ...], out: str, workers: int, concurrency: int, dialogues: tuple[str, ...],
          speakers: "dict[str, str] | None", **opts: Any) -> int:
    """Replay every dialogue in PATHS (files or folders). Ctrl-C or a crash loses at most the turns in
    flight: run the same command again to continue. Several processes may share one --out: each session
    is claimed by one of them. Exit code 1 if any file or session failed."""
    from rich.console import Console

    from helpert.cli.replay import replay_to_run
    from helpert.report.tables import print_comparison
    from helpert.compare import ComparedRun
    from helpert.replay.runs import NoPairsError

    console = Console()
    summary = replay_to_run(list(paths), dialogue=dialogues or None, out=Path(out), console=console, workers=workers,
                            concurrency=concurrency, speakers=speakers, **opts)
    try:
        run = ComparedRun.open(out)
        comparison = run.comparison()
        print_comparison(comparison.stats, title=run.title(comparison.doc["n_sessions"]), console=console)
    except NoPairsError:
        console.print("no finished session to compare")
    failed = len(summary.failed)
    elsewhere = f", {summary.elsewhere} finished by another process" if summary.elsewhere else ""
    console.print(f"{summary.total} sessions: {summary.skipped} already done, {summary.replayed} replayed{elsewhere}, "
                  f"{failed} failed" + (f" (see {Path(out) / 'errors.jsonl'})" if failed else ""))
    if summary.requests:
        r = summary.requests
        console.print(f"server requests: {r['requests']}, retried {r['retries']}"
                      + (f" ({', '.join(f'{k} {v}' for k, v in r['retry_reasons'].items())})" if r["retries"] else "")
                      + f", failed {r['failures']}")
    console.print(f"Run folder: [bold]{out}[/]")
    return 1 if failed else 0
