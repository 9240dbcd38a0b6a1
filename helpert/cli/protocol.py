"""``helpert protocol``: validate, show (and draw) protocols: the shipped ones (helpert/protocols/*.yaml) or any YAML."""

from __future__ import annotations

from pathlib import Path

import click


@click.group(short_help="Show, validate and draw protocol definitions.")
def protocol() -> None:
    """Inspect protocol definitions (shipped: helpert/protocols/*.yaml; or a YAML path)."""


@protocol.command(short_help="Check protocol definitions (default: every one found).")
@click.argument("names", nargs=-1)
def validate(names: tuple[str, ...]) -> int:
    """Validate protocols by name or path (default: every protocol found)."""
    from helpert.protocols import ProtocolError, available_protocols, load_protocol

    failed = 0
    for name in names or tuple(available_protocols()):
        try:
            proto = load_protocol(name)
        except ProtocolError as exc:
            click.echo(f"✗ {exc}", err=True)
            failed += 1
            continue
        click.echo(f"✓ {proto.name}: {len(proto.phases)} phases, canonical path {' → '.join(proto.canonical_path)}")
    return 2 if failed else 0


@protocol.command(short_help="Print a protocol's phases, goals and transitions.")
@click.argument("name", default="cbt_session")
def show(name: str) -> None:
    """Print a protocol's phases, goals, allowed transitions and canonical path."""
    from rich.console import Console, Group
    from rich.padding import Padding
    from rich.table import Table
    from rich.text import Text

    from helpert.protocols import load_protocol
    from helpert.report.tables import Fit

    proto = load_protocol(name)
    named = f"{proto.name}: {proto.title}" if proto.title and proto.title != proto.name else proto.name
    table = Table(title=f"{named}\nfile: {proto.source}", show_lines=True)
    table.add_column("#", no_wrap=True)
    table.add_column("phase", no_wrap=True)
    table.add_column("goal", min_width=24)
    for col in ("next", "CTRS items", "req."):
        table.add_column(col, no_wrap=True)
    blocks: list = [Text(table.title or "", style="table.title")]   # one block per phase, for a narrow console
    for p in proto.phases:
        pos = str(proto.canonical_path.index(p.id) + 1) if p.id in proto.canonical_path else "-"
        nxt = ", ".join(p.next) or "(end)"
        table.add_row(pos, p.id, p.goal, nxt.replace(", ", "\n"), "\n".join(p.ctrs), "yes" if p.required else "")
        blocks += [Text(f"{pos}. {p.id}" + (" (required)" if p.required else ""), style="bold"),
                   Padding(Text(f"goal: {p.goal}\nnext: {nxt}\nCTRS items: {', '.join(p.ctrs) or '-'}"), (0, 0, 0, 3))]
    console = Console()
    console.print(Fit(table, Group(*blocks)))
    console.print("canonical path: " + " → ".join(proto.canonical_path))


@protocol.command(short_help="Draw a protocol's phase graph and compiled graph offline.")
@click.argument("name", default="cbt_session")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Output folder (default: ./graphs; pictures are kept apart from the protocol YAML).")
@click.option("--format", "fmt", type=click.Choice(["png", "svg", "mermaid", "all"]), default="all", show_default=True,
              help="Picture format; 'mermaid' writes .mmd text.")
def draw(name: str, out_dir: Path | None, fmt: str) -> None:
    """Draw a protocol offline: NAME.{png,svg,mmd} (the phase graph from the YAML) and
    NAME.langgraph.{png,svg,mmd} (the compiled LangGraph graph)."""
    from helpert.report.plot.protocol_draw import FORMATS, write_protocol_pictures
    from helpert.protocols import load_protocol

    proto = load_protocol(name)
    out = out_dir if out_dir is not None else Path("graphs")
    for path in write_protocol_pictures(proto, out, FORMATS if fmt == "all" else (fmt,)):
        click.echo(str(path))
