"""Pictures of a protocol, drawn offline: the phase graph from the YAML, the compiled LangGraph graph,
and both as mermaid text.

The YAML picture is the protocol a reader has to follow: phases left to right in canonical order,
required phases filled, optional ones dashed, skips arcing above and loops back arcing below. The
LangGraph picture is what actually runs per counselor turn: START → route → one phase node (or
safety) → END. Nothing here calls a web service (``draw_mermaid_png`` would).
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

from helpert.report.plot.common import new_figure, phase_colours, save_figure, text_colour
from helpert.protocols import SAFETY, Protocol

if TYPE_CHECKING:
    import networkx as nx
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.patches import FancyBboxPatch

CANONICAL, SKIP, LOOP = "canonical", "skip", "loop"
EDGE_LOOK = {  # kind -> (colour, line style, line width, legend text)
    CANONICAL: ("#222222", "solid", 2.2, "canonical path (first unvisited 'next')"),
    SKIP: ("#8c8c8c", "solid", 1.3, "allowed skip forward"),
    LOOP: ("#1f5fbf", "dashed", 1.5, "allowed loop back"),
}
FORMATS = ("png", "svg", "mermaid")
SPACING = 1.6          # data units between neighbouring phases (1 unit is drawn as 1 inch)
BOX_W, BOX_H = 1.36, 1.0


def protocol_graph(proto: Protocol) -> "nx.DiGraph":
    """Phases as nodes (``title``, ``required``, ``position``, ``start``, ``end``) and every allowed
    move as an edge with ``kind``: canonical (consecutive on the canonical path), skip (forward) or
    loop (back to an earlier phase)."""
    import networkx as nx

    g = nx.DiGraph(name=proto.name, title=proto.title)
    for p in proto.phases:
        g.add_node(p.id, title=p.title or p.id, required=p.required, position=proto.position[p.id],
                   start=p.id == proto.start, end=p.id in proto.end)
    steps = set(zip(proto.canonical_path, proto.canonical_path[1:]))
    for src, dst in proto.edges():
        if (src, dst) in steps:
            kind = CANONICAL
        else:
            kind = LOOP if proto.position[dst] < proto.position[src] else SKIP
        g.add_edge(src, dst, kind=kind)
    return g


def protocol_layout(proto: Protocol) -> dict[str, tuple[float, float]]:
    """Canonical path on one row, left to right; phases off the path on a row above."""
    path = proto.canonical_path
    pos = {p: (SPACING * i, 0.0) for i, p in enumerate(path)}
    off = [p.id for p in proto.phases if p.id not in pos]
    for i, p in enumerate(off):
        pos[p] = (SPACING * (i + 0.5), 2.0)
    return pos


def _box(ax: "Axes", xy: tuple[float, float], text: str, *, fill: str, edge: str, dashed: bool = False,
         bold: bool = True, width: float = BOX_W, height: float = BOX_H, double: bool = False,
         gid: str = "", text_dy: float = 0.0) -> "FancyBboxPatch":
    """A rounded box centred on ``xy`` with wrapped text; arrows are clipped to its outline."""
    from matplotlib.patches import FancyBboxPatch

    x, y = xy
    patch = FancyBboxPatch((x - width / 2, y - height / 2), width, height, boxstyle="round,pad=0,rounding_size=0.12",
                           facecolor=fill, edgecolor=edge, linewidth=2.4 if double else 1.4,
                           linestyle=(0, (4, 2.5)) if dashed else "solid", zorder=3, gid=gid)
    ax.add_patch(patch)
    if double:
        inner = FancyBboxPatch((x - width / 2 + 0.05, y - height / 2 + 0.05), width - 0.1, height - 0.1,
                               boxstyle="round,pad=0,rounding_size=0.09", facecolor="none", edgecolor=edge,
                               linewidth=1.0, zorder=3)
        ax.add_patch(inner)
    ax.text(x, y + text_dy, text, ha="center", va="center", fontsize=8.5, color=text_colour(fill) if fill != "none" else "#111111",
            fontweight="bold" if bold else "normal", fontstyle="normal" if bold else "italic", zorder=4,
            linespacing=1.05)
    return patch


def _arrow(ax: "Axes", a: "FancyBboxPatch | None", b: "FancyBboxPatch | None", pa: tuple[float, float], pb: tuple[float, float],
           *, colour: str, style: str, width: float, rad: float, gid: str) -> Any:
    from matplotlib.patches import FancyArrowPatch

    arrow = FancyArrowPatch(pa, pb, patchA=a, patchB=b, arrowstyle="-|>", mutation_scale=14, color=colour,
                            linestyle=style, linewidth=width, connectionstyle=f"arc3,rad={rad}", zorder=2,
                            shrinkA=1, shrinkB=1, gid=gid)
    ax.add_patch(arrow)
    return arrow


# How far from the row the Bezier control point of a skip (above) or a loop (below) sits; the curve
# peaks halfway there, clear of the boxes, whatever the span.
SKIP_DEPTH, LOOP_DEPTH = 1.9, 1.7


def draw_protocol(proto: Protocol) -> "Figure":
    """The protocol as a left-to-right phase diagram (see module docstring). Boxes carry gids
    ``phase:<id>``; arrows ``edge:<src>-><dst>``."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    g = protocol_graph(proto)
    pos = protocol_layout(proto)
    colours = phase_colours(proto)
    xs = [x for x, _ in pos.values()]
    ys = [y for _, y in pos.values()]
    width = max(xs) - min(xs) + BOX_W + 1.6
    bottom, top = min(ys) - BOX_H / 2 - LOOP_DEPTH / 2 - 0.2, max(ys) + BOX_H / 2 + SKIP_DEPTH / 2 - 0.1
    fig = new_figure(max(7.0, width), top - bottom + 1.0, layout="compressed")
    ax = fig.add_subplot()
    boxes = {}
    for n, data in g.nodes(data=True):
        title = "\n".join(textwrap.wrap(data["title"], 14))
        p = proto.by_id[n]
        fill = colours[n] if data["required"] else "white"
        boxes[n] = _box(ax, pos[n], title, fill=fill, edge="#222222" if data["required"] else colours[n],
                        dashed=not data["required"], bold=data["required"], double=data["end"], gid=f"phase:{n}",
                        height=BOX_H, text_dy=0.13)
        caption = f"{n}\n{p.share:.0%} · ≥{p.min_turns} turn{'s' if p.min_turns > 1 else ''}"
        ax.text(pos[n][0], pos[n][1] - BOX_H / 2 + 0.07, caption, ha="center", va="bottom", fontsize=6.3,
                color=text_colour(fill), alpha=0.85, family="monospace", zorder=4, linespacing=1.1)
    for u, v, data in g.edges(data=True):
        colour, style, lw, _ = EDGE_LOOK[data["kind"]]
        span = max(abs(pos[v][0] - pos[u][0]), SPACING / 2)
        # arc3 with a negative radius bends rightward edges up and leftward ones down
        rad = {CANONICAL: 0.0, SKIP: -SKIP_DEPTH / span, LOOP: -LOOP_DEPTH / span}[data["kind"]]
        _arrow(ax, boxes[u], boxes[v], pos[u], pos[v], colour=colour, style=style, width=lw, rad=rad,
               gid=f"edge:{u}->{v}")
    sx, sy = pos[proto.start]
    ax.annotate("start", xy=(sx - BOX_W / 2, sy), xytext=(sx - BOX_W / 2 - 0.45, sy), ha="right", va="center",
                fontsize=8, arrowprops={"arrowstyle": "-|>", "color": "#222222", "lw": 1.5})
    ax.set_xlim(min(xs) - BOX_W / 2 - 0.6, max(xs) + BOX_W / 2 + 0.3)
    ax.set_ylim(bottom, top)
    ax.set_aspect("equal")
    ax.set_axis_off()
    handles = [Line2D([], [], color=c, ls=s, lw=w, label=t) for c, s, w, t in EDGE_LOOK.values()]
    handles += [Patch(facecolor="#cccccc", edgecolor="#222222", label="required phase"),
                Patch(facecolor="white", edgecolor="#888888", linestyle="--", label="optional phase"),
                Patch(facecolor="white", edgecolor="#222222", linewidth=2.4, label="end phase")]
    fig.legend(handles=handles, loc="outside lower center", ncol=6 if width >= 12 else 3, fontsize=8, frameon=False)
    ax.set_title(f"{proto.title or proto.name}  ({proto.name})", fontsize=12, loc="left")
    return fig


def langgraph_graph(proto: Protocol) -> "nx.DiGraph":
    """The compiled LangGraph graph (``build_graph(proto).get_graph()``) as a networkx graph; edges
    carry ``conditional`` (True for the router's choices)."""
    import networkx as nx

    from helpert.replay.graph.build import build_graph

    drawable = build_graph(proto).get_graph()
    g = nx.DiGraph(name=proto.name)
    for node_id in drawable.nodes:
        g.add_node(node_id)
    for edge in drawable.edges:
        g.add_edge(edge.source, edge.target, conditional=bool(edge.conditional))
    return g


def langgraph_layout(g: "nx.DiGraph", proto: Protocol) -> dict[str, tuple[float, float]]:
    """Layers left to right (networkx ``topological_generations``: START, route, the phase nodes,
    END); within a layer, phases top to bottom in canonical order with ``safety`` last."""
    import networkx as nx

    order = {p: i for i, p in enumerate(sorted(proto.by_id, key=proto.position.__getitem__))}
    order[SAFETY] = len(order)
    pos: dict[str, tuple[float, float]] = {}
    for x, layer in enumerate(nx.topological_generations(g)):
        nodes = sorted(layer, key=lambda n: (order.get(n, -1), n))
        for i, n in enumerate(nodes):
            pos[n] = (LAYER_GAP * x, LANE_GAP * ((len(nodes) - 1) / 2 - i))
    return pos


LAYER_GAP, LANE_GAP = 3.2, 0.62
LANGGRAPH_BOX = {"terminal": (1.0, 0.42), "phase": (1.9, 0.44), "router": (1.0, 0.5)}


def draw_langgraph(proto: Protocol) -> "Figure":
    """The compiled graph: START → route → (phase nodes | safety) → END; conditional edges dashed.
    Edges run from the right side of a box to the left side of the next, so none crosses a box."""
    from matplotlib.lines import Line2D

    g = langgraph_graph(proto)
    pos = langgraph_layout(g, proto)
    colours = phase_colours(proto)
    ys = [y for _, y in pos.values()]
    xs = [x for x, _ in pos.values()]
    fig = new_figure(max(xs) - min(xs) + 3.2, max(ys) - min(ys) + 2.0, layout="compressed")
    ax = fig.add_subplot()
    width = {}
    for n in g:
        if n.startswith("__"):
            kind, fill, edge, dashed, text = "terminal", "#f0f0f0", "#555555", False, n.strip("_").upper()
        elif n in colours:
            required = n not in proto.by_id or proto.by_id[n].required
            kind, text, dashed = "phase", n, not required
            fill, edge = (colours[n], "#222222") if required else ("white", colours[n])
        else:
            kind, fill, edge, dashed, text = "router", "#fff7d6", "#8a6d00", False, n
        w, h = LANGGRAPH_BOX[kind]
        width[n] = w
        _box(ax, pos[n], text, fill=fill, edge=edge, dashed=dashed, width=w, height=h, gid=f"node:{n}")
    for u, v, data in g.edges(data=True):
        cond = data["conditional"]
        a = (pos[u][0] + width[u] / 2, pos[u][1])
        b = (pos[v][0] - width[v] / 2, pos[v][1])
        _arrow(ax, None, None, a, b, colour="#7a7a7a" if cond else "#222222", style="dashed" if cond else "solid",
               width=1.0 if cond else 1.6, rad=0.0, gid=f"edge:{u}->{v}")
    ax.set_xlim(min(xs) - 0.8, max(xs) + 0.8)
    ax.set_ylim(min(ys) - 0.4, max(ys) + 0.4)
    ax.set_aspect("equal")
    ax.set_axis_off()
    handles = [Line2D([], [], color="#222222", lw=1.6, label="always"),
               Line2D([], [], color="#7a7a7a", ls="--", lw=1.0, label="router's choice (conditional edge)")]
    if not all(p.required for p in proto.phases):
        handles.append(Line2D([], [], color="#888888", ls=(0, (4, 2.5)), lw=1.4, label="optional phase (dashed box)"))
    fig.legend(handles=handles, loc="outside lower center", ncol=len(handles), fontsize=8, frameon=False)
    ax.set_title(f"compiled LangGraph graph of {proto.name}: one invocation = one counselor turn", fontsize=10,
                 loc="left")
    return fig


def _mermaid_id(node: str) -> str:
    """Mermaid treats a bare ``end`` as a keyword; any other phase id is a valid node id as is."""
    return f"{node}_" if node.lower() == "end" else node


def _mermaid_text(text: str) -> str:
    return text.replace('"', "#quot;")


def protocol_mermaid(proto: Protocol) -> str:
    """Mermaid flowchart of the protocol: canonical steps thick, skips plain, loops dotted, optional
    phases dashed, end phases double-bordered."""
    g = protocol_graph(proto)
    lines = ["---", f"title: {_mermaid_text(proto.title or proto.name)}", "---", "flowchart LR",
             "    start((start))"]
    for n, data in g.nodes(data=True):
        shape = '[["{}"]]' if data["end"] else '["{}"]'
        label = data["title"] + ("" if data["required"] else " (optional)")
        lines.append(f"    {_mermaid_id(n)}{shape.format(_mermaid_text(label))}")
    lines.append(f"    start --> {_mermaid_id(proto.start)}")
    arrow = {CANONICAL: "==>", SKIP: "-->", LOOP: "-. loop .->"}
    for u, v, data in g.edges(data=True):
        lines.append(f"    {_mermaid_id(u)} {arrow[data['kind']]} {_mermaid_id(v)}")
    optional = [_mermaid_id(n) for n, d in g.nodes(data=True) if not d["required"]]
    lines.append("    classDef optional stroke-dasharray: 5 5,fill:#ffffff")
    if optional:
        lines.append(f"    class {','.join(optional)} optional")
    return "\n".join(lines) + "\n"


def langgraph_mermaid(proto: Protocol) -> str:
    """LangGraph's own mermaid text of the compiled graph (offline; never the PNG web call)."""
    from helpert.replay.graph.build import build_graph

    return build_graph(proto).get_graph().draw_mermaid()


def write_protocol_pictures(proto: Protocol, out_dir: str | Path, formats: Iterable[str] = FORMATS) -> list[Path]:
    """Write ``<name>.{png,svg,mmd}`` (the protocol) and ``<name>.langgraph.{png,svg,mmd}`` (the compiled
    graph) into ``out_dir``, atomically; returns the paths written."""
    from helpert.io.atomic import atomic_write_text

    formats = list(formats)
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise ValueError(f"unknown format(s) {', '.join(unknown)}; choose from {', '.join(FORMATS)}")
    out = Path(out_dir)
    written: list[Path] = []
    images = [f for f in formats if f != "mermaid"]
    if images:
        for stem, draw in ((proto.name, draw_protocol), (f"{proto.name}.langgraph", draw_langgraph)):
            fig = draw(proto)
            written += [save_figure(fig, out / f"{stem}.{fmt}") for fmt in images]
    if "mermaid" in formats:
        for stem, text in ((proto.name, protocol_mermaid(proto)), (f"{proto.name}.langgraph", langgraph_mermaid(proto))):
            atomic_write_text(out / f"{stem}.mmd", text)
            written.append(out / f"{stem}.mmd")
    return written
