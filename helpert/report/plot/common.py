"""What every picture shares: one colour per phase, the slot of each counselor turn, and atomic saving.

A phase keeps the same colour in the flow graph, the timeline and the HTML report, so a reader learns
the palette once. Colours follow the protocol's canonical order along a rainbow, so a jump back in the
protocol is also a jump back in hue; neighbouring phases alternate light and dark.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from helpert.protocols import OFF_PROTOCOL, SAFETY, Protocol
from helpert.session import Session, Turn

if TYPE_CHECKING:
    from matplotlib.figure import Figure

OFF_PROTOCOL_COLOUR = "#a6a6a6"
SAFETY_COLOUR = "#111111"
PEER_COLOUR = "#1b6ca8"
LLM_COLOUR = "#e07b00"
ALLOWED_COLOUR = "#6b6b6b"
DISALLOWED_COLOUR = "#d62728"
SAFETY_EDGE_COLOUR = "#7b3294"
BACKBONE_COLOUR = "#e4e4e4"


def phase_order(protocol: Protocol) -> list[str]:
    """Protocol phases in canonical order, then ``off_protocol`` and ``safety``."""
    return sorted(protocol.by_id, key=protocol.position.__getitem__) + [OFF_PROTOCOL, SAFETY]


def phase_colours(protocol: Protocol) -> dict[str, str]:
    """Hex colour of every phase id, ``off_protocol`` (grey) and ``safety`` (black)."""
    from matplotlib import colormaps
    from matplotlib.colors import to_hex

    phases = phase_order(protocol)[:-2]
    cmap = colormaps["turbo"]
    span = max(1, len(phases) - 1)
    shade = [1.0, 0.68]  # neighbours alternate light and dark, so adjacent phases never look alike
    colours = {p: to_hex([c * shade[i % 2] for c in cmap(0.12 + 0.78 * i / span)[:3]]) for i, p in enumerate(phases)}
    return {**colours, OFF_PROTOCOL: OFF_PROTOCOL_COLOUR, SAFETY: SAFETY_COLOUR}


def text_colour(background: str) -> str:
    """Black or white, whichever reads better on ``background`` (relative luminance)."""
    from matplotlib.colors import to_rgb

    r, g, b = to_rgb(background)
    return "#000000" if 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.45 else "#ffffff"


def wrap_id(phase_id: str) -> str:
    """``identify_thoughts`` -> ``identify\\nthoughts``: short lines fit under a node."""
    return phase_id.replace("_", "\n")


def phase_of(turn: Turn) -> str | None:
    value = turn.labels.get("phase")
    return value if isinstance(value, str) and value else None


def counselor_slots(session: Session) -> list[tuple[int, Turn]]:
    """(slot, turn) for every counselor turn: ``meta['slot']`` from a replay run, else the turn's
    position among counselor turns (hand-made or unaligned sessions)."""
    return [(int(t.meta.get("slot", i)), t) for i, t in enumerate(session.counselor_turns)]


def new_figure(width: float, height: float, layout: str = "constrained") -> "Figure":
    """A figure on the Agg canvas, outside pyplot: no global state, no display needed. ``layout``
    "compressed" suits axes with a fixed aspect (it drops the space they cannot use)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout=layout)
    FigureCanvasAgg(fig)
    return fig


def save_figure(fig: "Figure", path: Path, dpi: int = 120) -> Path:
    """Save under a temporary name in the same folder, then rename: a reader never sees half an image.
    The format comes from the suffix; a fixed SVG id salt keeps SVG output byte-identical across runs."""
    from matplotlib import rc_context

    from helpert.io.atomic import atomic_write

    fmt = Path(path).suffix.lstrip(".").lower()
    with rc_context({"svg.hashsalt": "helpert"}):
        return atomic_write(Path(path), lambda fh: fig.savefig(fh, format=fmt, dpi=dpi, metadata=_stable_metadata(fmt)))


def figure_png(fig: "Figure", dpi: int = 110) -> bytes:
    """PNG bytes of a figure (for embedding in the HTML report)."""
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata=_stable_metadata("png"))
    return buf.getvalue()


def _stable_metadata(fmt: str) -> dict[str, None] | None:
    """No creation date or software version in the file, so the same run gives the same bytes."""
    if fmt == "svg":
        return {"Date": None, "Creator": None}
    if fmt == "png":
        return {"Software": None}
    if fmt == "pdf":
        return {"CreationDate": None, "Creator": None, "Producer": None}
    return None
