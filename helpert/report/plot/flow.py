"""Session flow graph: which phases one counselor spent turns in, and how they moved between them.

Nodes are phases (``off_protocol`` and ``safety`` included), sized by the counselor turns spent there;
edges are phase changes between consecutive labelled counselor turns, as wide as the number of times
they happened. Staying in a phase is not an edge (it is the node's size). Phases sit left to right in
the protocol's canonical order on a faint backbone, so a move forward arcs above the line and a move
back arcs below it; off-protocol talk and the safety node sit on a row underneath.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from helpert.report.plot.common import (
    ALLOWED_COLOUR,
    BACKBONE_COLOUR,
    DISALLOWED_COLOUR,
    SAFETY_EDGE_COLOUR,
    counselor_slots,
    new_figure,
    phase_colours,
    phase_of,
    text_colour,
    wrap_id,
)
from helpert.protocols import OFF_PROTOCOL, SAFETY, Protocol
from helpert.session import Session

if TYPE_CHECKING:
    import networkx as nx
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

ALLOWED, DISALLOWED, CRISIS = "allowed", "disallowed", "safety"
EDGE_STYLE = {  # kind -> (colour, line style, legend text)
    ALLOWED: (ALLOWED_COLOUR, "solid", "transition the protocol allows"),
    DISALLOWED: (DISALLOWED_COLOUR, "dashed", "transition the protocol does not allow"),
    CRISIS: (SAFETY_EDGE_COLOUR, "dotted", "into / out of the safety node"),
}
BOTTOM_ROW = -1.5   # y of off_protocol, safety and unknown phases
OFF_PATH_ROW = 1.3  # y of protocol phases that are not on the canonical path


def edge_kind(protocol: Protocol, src: str, dst: str) -> str:
    """``safety`` for a crisis detour, ``allowed`` when the protocol's ``next`` lists allow it,
    else ``disallowed`` (moves into or out of off-protocol talk are never allowed)."""
    if SAFETY in (src, dst):
        return CRISIS
    if src in protocol.by_id and dst in protocol.by_id and protocol.allowed(src, dst):
        return ALLOWED
    return DISALLOWED


def flow_graph(session: Session, protocol: Protocol) -> "nx.DiGraph":
    """Nodes: visited phases with ``turns``; edges: phase changes with ``weight`` (count) and ``kind``
    (:func:`edge_kind`). Unlabelled counselor turns are looked through. Graph attribute ``start`` is
    the first phase."""
    import networkx as nx

    phases = [p for _, t in counselor_slots(session) if (p := phase_of(t)) is not None]
    g = nx.DiGraph(protocol=protocol.name, dialogue_id=session.dialogue_id, start=phases[0] if phases else None)
    for p in phases:
        if p not in g:
            g.add_node(p, turns=0)
        g.nodes[p]["turns"] += 1
    for a, b in zip(phases, phases[1:]):
        if a == b:
            continue
        if g.has_edge(a, b):
            g[a][b]["weight"] += 1
        else:
            g.add_edge(a, b, weight=1, kind=edge_kind(protocol, a, b))
    return g


def flow_layout(protocol: Protocol, extra: list[str] | tuple[str, ...] = ()) -> dict[str, tuple[float, float]]:
    """Canonical path on y=0, left to right; other protocol phases above; ``off_protocol``, ``safety``
    and any ``extra`` node (a label the protocol does not know) on a row underneath."""
    path = protocol.canonical_path
    pos = {p: (float(i), 0.0) for i, p in enumerate(path)}
    for p in sorted(protocol.by_id, key=protocol.position.__getitem__):
        pos.setdefault(p, (float(protocol.position[p]) - len(path) + 0.5, OFF_PATH_ROW))
    mid = (len(path) - 1) / 2
    half_gap = min(1.5, max(0.5, (len(path) - 1) / 4))  # under the middle of the path, short or long
    bottom = [OFF_PROTOCOL, SAFETY] + [n for n in extra if n not in pos and n not in (OFF_PROTOCOL, SAFETY)]
    for i, n in enumerate(bottom):
        pos[n] = (mid - half_gap + 2 * half_gap * i, BOTTOM_ROW)
    return pos


def panel_width(protocol: Protocol) -> float:
    """Inches: about one per phase on the canonical path, between 7 and 12."""
    return min(12.0, max(7.0, 0.95 * len(protocol.canonical_path) + 2))


def node_size(turns: int) -> float:
    """Marker area in points²: grows with turns, the same scale in every panel."""
    return min(2400.0, 260.0 + 190.0 * turns)


def _edge_rad(pos: dict[str, tuple[float, float]], u: str, v: str, inch_per_unit: float) -> float:
    """Negative arc3 radius: rightward edges bulge up, leftward ones down, so a pair of opposite
    moves never overlaps. The bulge is set in inches (longer jumps bulge more, up to 0.8 in), so arcs
    look alike whether the protocol has 3 phases or 11; edges to the bottom row stay nearly straight
    so they are not mistaken for moves along the backbone."""
    if pos[u][1] != pos[v][1]:
        return -0.15
    span = abs(pos[v][0] - pos[u][0])
    bulge = min(0.8, 0.15 + 0.07 * span)
    return -2 * bulge / max(span * inch_per_unit, 1e-6)


def draw_flow(session: Session, protocol: Protocol, ax: "Axes | None" = None, title: str | None = None,
              pos: dict[str, tuple[float, float]] | None = None) -> "Figure":
    """Draw one session's flow graph on ``ax`` (a new figure without one); ``pos`` fixes the layout
    (``draw_flow_pair`` passes one layout to both panels). Returns the figure."""
    import networkx as nx

    g = flow_graph(session, protocol)
    pos = pos or flow_layout(protocol, list(g.nodes))
    if ax is None:
        fig = new_figure(panel_width(protocol), 4.2)
        ax = fig.add_subplot()
    colours = phase_colours(protocol)
    path = protocol.canonical_path

    ax.plot([pos[p][0] for p in path], [pos[p][1] for p in path], color=BACKBONE_COLOUR, lw=14,
            solid_capstyle="round", zorder=0, gid="flow-backbone")
    everything = [n for n in pos if n in protocol.by_id or n in g or n in (OFF_PROTOCOL, SAFETY)]
    ax.scatter([pos[n][0] for n in everything], [pos[n][1] for n in everything], s=70, facecolors="white",
               edgecolors="#bdbdbd", linewidths=1.0, zorder=1, gid="flow-layout")

    nodes = list(g.nodes)
    sizes = [node_size(g.nodes[n]["turns"]) for n in nodes]
    if nodes:
        coll = nx.draw_networkx_nodes(g, pos, nodelist=nodes, node_size=sizes, ax=ax, edgecolors="#333333",
                                      linewidths=1.0, node_color=[colours.get(n, "#ffffff") for n in nodes])
        coll.set_zorder(3)
        coll.set_gid("flow-nodes")
        for n in nodes:
            ax.text(*pos[n], str(g.nodes[n]["turns"]), ha="center", va="center", fontsize=8, fontweight="bold",
                    color=text_colour(colours.get(n, "#ffffff")), zorder=4, gid=f"count:{n}")
    xs = [x for x, _ in pos.values()]
    ys = [y for _, y in pos.values()]
    ax.set_xlim(min(xs) - 0.7, max(xs) + 0.7)
    ax.set_ylim(min(ys) - 0.9, max(max(ys), 0) + 1.6)
    inch_per_unit = ax.figure.get_figwidth() * 0.92 / (max(xs) - min(xs) + 1.4)
    for u, v, data in g.edges(data=True):
        colour, style, _ = EDGE_STYLE[data["kind"]]
        arrows = nx.draw_networkx_edges(
            g, pos, edgelist=[(u, v)], nodelist=nodes, node_size=sizes, ax=ax, arrows=True, arrowstyle="-|>",
            arrowsize=12, width=1.2 + 1.3 * (data["weight"] - 1), edge_color=colour, style=style,
            connectionstyle=f"arc3,rad={_edge_rad(pos, u, v, inch_per_unit)}", min_source_margin=2, min_target_margin=2,
        )
        for patch in arrows:
            patch.set_gid(f"edge:{u}->{v}")
            patch.set_zorder(2)
    for n in everything:
        visited = n in g
        radius = (node_size(g.nodes[n]["turns"]) if visited else 70) ** 0.5 / 2
        ax.annotate(wrap_id(n), pos[n], xytext=(0, -radius - 3),
                    textcoords="offset points", ha="center", va="top", fontsize=7.5, linespacing=0.95,
                    color="#111111" if visited else "#9a9a9a", fontweight="bold" if visited else "normal",
                    bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.75},
                    zorder=5, gid=f"label:{n}")
    start = g.graph.get("start")
    if start is not None:
        ax.annotate("start", pos[start], xytext=(0, node_size(g.nodes[start]["turns"]) ** 0.5 / 2 + 3),
                    textcoords="offset points", ha="center", va="bottom",
                    fontsize=7, color="#333333", zorder=5, gid="flow-start")

    ax.set_axis_off()
    turns = sum(g.nodes[n]["turns"] for n in g)
    changes = sum(d["weight"] for *_, d in g.edges(data=True))
    bad = sum(d["weight"] for *_, d in g.edges(data=True) if d["kind"] == DISALLOWED)
    summary = f"{turns} labelled turns, {changes} phase changes, {bad} not allowed"
    ax.set_title(f"{title} — {summary}" if title else summary, fontsize=10, loc="left")
    return ax.figure


def flow_legend_handles() -> list:
    """Legend entries: the three edge styles, the backbone, and what node size means."""
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], color=c, ls=s, lw=2, label=t) for c, s, t in EDGE_STYLE.values()]
    handles.append(Line2D([], [], color=BACKBONE_COLOUR, lw=8, label="protocol's canonical path"))
    handles.append(Line2D([], [], ls="none", marker="o", markersize=11, markerfacecolor="#dddddd",
                          markeredgecolor="#333333", label="phase visited (size, number = turns)"))
    return handles


def draw_flow_pair(original: Session, reconstruction: Session, protocol: Protocol,
                   titles: tuple[str, str] = ("peer counselor", "LLM counselor")) -> "Figure":
    """Peer above, LLM below, on one layout (same node positions), so the two paths compare at a glance."""
    nodes = list(flow_graph(original, protocol)) + list(flow_graph(reconstruction, protocol))
    pos = flow_layout(protocol, nodes)
    fig = new_figure(panel_width(protocol), 7.6)
    axes = fig.subplots(2, 1, sharex=True, sharey=True)
    for ax, session, title in zip(axes, (original, reconstruction), titles):
        draw_flow(session, protocol, ax=ax, title=title, pos=pos)
    fig.legend(handles=flow_legend_handles(), loc="outside lower center", ncol=3 if fig.get_figwidth() >= 10 else 2,
               fontsize=8, frameon=False)
    fig.suptitle(f"{original.dialogue_id}: phase flow ({protocol.name})", fontsize=11)
    return fig
