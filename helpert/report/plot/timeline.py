"""Phase timeline: the phase of every counselor turn, slot by slot, peer row above LLM row.

x is the slot (the client words both counselors answer), so one column compares two answers to the same
client turn. Drift turns carry a marker: the drift metric's per-turn flags (off-protocol talk, small
talk, self-disclosure, advice outside an action phase) and moves the protocol does not allow (read
through off-protocol turns, as the adherence metric does). For the LLM, a thin row shows the phase the
graph's router chose, so a model that says something else than it was asked to is visible too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from helpert.report.plot.common import counselor_slots, new_figure, phase_colours, phase_of, phase_order
from helpert.protocols import OFF_PROTOCOL, Protocol
from helpert.session import Session

if TYPE_CHECKING:
    from matplotlib.figure import Figure

FLAG_NAMES = {
    "off_phase": "off protocol",
    "small_talk": "small talk",
    "self_disclosure": "self-disclosure",
    "unstructured_advice": "advice outside an action phase",
}
DRIFT_MARKER_COLOUR = "#d62728"
UNLABELLED = "#ffffff"
ROW_GAP = 0.5  # room between rows for the drift markers


def drift_reasons(session: Session, protocol: Protocol) -> dict[int, list[str]]:
    """slot -> why that counselor turn counts as drift (slots without drift are absent)."""
    from helpert.metrics.common import scored_turns
    from helpert.metrics.drift import turn_flags

    slot_of = {id(t): k for k, t in counselor_slots(session)}
    turns = scored_turns(session)
    reasons: dict[int, list[str]] = {}
    for turn, flags in zip(turns, turn_flags(session, protocol)):
        found = [text for key, text in FLAG_NAMES.items() if flags[key]]
        if found:
            reasons.setdefault(slot_of[id(turn)], []).extend(found)
    on_protocol = [t for t in turns if phase_of(t) != OFF_PROTOCOL]
    for prev, turn in zip(on_protocol, on_protocol[1:]):
        a, b = phase_of(prev), phase_of(turn)
        if a in protocol.by_id and b in protocol.by_id and not protocol.allowed(a, b):
            reasons.setdefault(slot_of[id(turn)], []).append(f"not allowed: {a} → {b}")
    return reasons


def timeline_rows(original: Session, reconstruction: Session) -> list[tuple[str, Session, str, float]]:
    """(row name, session, label key, row height): peer and LLM by labelled phase, then the router's
    plan when the reconstruction carries ``graph_phase`` labels."""
    rows = [("peer", original, "phase", 0.62), ("LLM", reconstruction, "phase", 0.62)]
    if any("graph_phase" in t.labels for t in reconstruction.counselor_turns):
        rows.append(("LLM plan", reconstruction, "graph_phase", 0.3))
    return rows


def draw_timeline(original: Session, reconstruction: Session, protocol: Protocol) -> "Figure":
    """One row of coloured cells per counselor (colour = phase), drift turns marked with a red ▼.
    Cells carry gids ``cell:<row>:<slot>``; the drift markers of a row are the scatter ``drift:<row>``."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    colours = phase_colours(protocol)
    rows = timeline_rows(original, reconstruction)
    slots = sorted({k for _, s, _, _ in rows for k, _ in counselor_slots(s)})
    n = (max(slots) + 1) if slots else 1
    fig = new_figure(max(9.0, 3.0 + 0.34 * n), 2.2 + 0.75 * len(rows))
    ax = fig.add_subplot()
    ys, names = [], []
    top = 0.0  # upper edge of the next row
    for name, session, key, height in rows:
        y = top - height / 2
        cells = counselor_slots(session)
        values = [t.labels.get(key) if isinstance(t.labels.get(key), str) else None for _, t in cells]
        bars = ax.barh([y] * len(cells), [0.94] * len(cells), left=[k - 0.47 for k, _ in cells], height=height,
                       color=[colours.get(v, UNLABELLED) if v else UNLABELLED for v in values],
                       edgecolor="#555555", linewidth=0.4)
        for (k, _), patch in zip(cells, bars.patches):
            patch.set_gid(f"cell:{name}:{k}")
        if key == "phase":
            reasons = drift_reasons(session, protocol)
            marks = sorted(reasons)
            ax.scatter(marks, [y + height / 2 + 0.13] * len(marks), marker="v", s=36, color=DRIFT_MARKER_COLOUR,
                       zorder=4, clip_on=False, gid=f"drift:{name}")
        ys.append(y)
        names.append(name)
        top = y - height / 2 - ROW_GAP

    ax.set_yticks(ys, names)
    ax.set_ylim(top + ROW_GAP - 0.35, 0.3)
    ax.set_xlim(-0.6, n - 0.4)
    ax.set_xticks(range(n))
    ax.tick_params(axis="x", labelsize=7)
    ax.set_xlabel("slot (the client turn both counselors answer)")
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.tick_params(axis="y", length=0)
    ax.set_title(f"{original.dialogue_id}: phase of each counselor turn ({protocol.name})", fontsize=11, loc="left")

    handles = [Patch(facecolor=colours[p], edgecolor="#555555", label=p) for p in phase_order(protocol)]
    handles.append(Patch(facecolor=UNLABELLED, edgecolor="#555555", label="no label"))
    handles.append(Line2D([], [], ls="none", marker="v", color=DRIFT_MARKER_COLOUR, label="drift turn"))
    fig.legend(handles=handles, loc="outside lower center", ncol=min(6, len(handles)), fontsize=7.5, frameon=False)
    return fig
