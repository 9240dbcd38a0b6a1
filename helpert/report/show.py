"""Terminal views of a run: the two sessions side by side with phases, then the comparison."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from helpert.session import Session, Turn

if TYPE_CHECKING:
    from rich.console import Console

    from helpert.compare import ComparedRun


def _by_slot(session: Session) -> dict[int, Turn]:
    return {t.meta["slot"]: t for t in session.turns if t.role == "counselor" and "slot" in t.meta}


def _clients_by_slot(session: Session) -> dict[int, str]:
    """The client text each counselor slot answers (the client turn just before it)."""
    out: dict[int, str] = {}
    last = ""
    for t in session.turns:
        if t.role == "client":
            last = t.text
        elif "slot" in t.meta:
            out[t.meta["slot"]] = last
            last = ""
    return out


def _tag(turn: Turn | None) -> str:
    if turn is None:
        return "[dim](session ended)[/]"
    labels = turn.labels
    phase = labels.get("phase", "?")
    planned = labels.get("graph_phase")
    tier = turn.meta.get("safety_tier")
    tag = f"{phase}" if not planned or planned == phase else f"{planned} → said: {phase}"
    if tier:  # the safety node's full response or its one question
        tag += f" ({tier})"
    checks = [f.split(":", 1)[1] for f in turn.meta.get("flags") or [] if f.startswith("degenerate:")]
    if checks:  # still degenerate after the retries: kept, flagged
        tag += f" [bold red]degenerate: {', '.join(checks)}[/]"
    return f"[bold cyan]{tag}[/] [dim]{labels.get('behaviour', '')}[/]\n{turn.text}"


def side_by_side(original: Session, reconstruction: Session, title: str = "") -> Any:
    """A rich Table: slot | client | peer counselor | LLM counselor, phases on every counselor turn."""
    from rich.table import Table

    peer, llm, client = _by_slot(original), _by_slot(reconstruction), _clients_by_slot(reconstruction)
    table = Table(title=title, show_lines=True, expand=True)
    table.add_column("#", justify="right", width=3)
    table.add_column("client", ratio=3)
    table.add_column("peer counselor", ratio=4)
    table.add_column("LLM counselor (graph phase → labelled)", ratio=4)
    for k in sorted(set(peer) | set(llm)):
        table.add_row(str(k), client.get(k, ""), _tag(peer.get(k)), _tag(llm.get(k)))
    return table


def print_run(run_dir: "str | Path | ComparedRun", console: "Console | None" = None) -> None:
    """Print every session of a run (a folder or an open :class:`helpert.compare.ComparedRun`) side by side, the
    corpus comparison, and where the files are."""
    from rich.console import Console

    from helpert.report.tables import print_comparison
    from helpert.compare import ComparedRun

    console = console or Console()
    run = ComparedRun.open(run_dir)
    protocol = run.protocol()
    for original, reconstruction in run.labelled():
        console.print(side_by_side(original, reconstruction, title=f"{original.dialogue_id} — peer vs LLM ({protocol.name})"))
    print_comparison(run.comparison().stats, title=run.title(), console=console)
    console.print(f"\nRun folder: [bold]{run.root}[/] (manifest.json, sessions/*/original.json + reconstruction.json, "
                  f"comparison.csv, corpus.json). Pictures: helpert plot {run.root}; HTML: helpert report {run.root}")
