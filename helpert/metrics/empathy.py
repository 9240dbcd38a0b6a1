"""Empathy: session means of the three EPITOME dimensions (0-2 each) from counselor ``empathy`` labels."""

from __future__ import annotations

from helpert.session import Session

DIMENSIONS = ("emotional_reactions", "interpretations", "explorations")


def means(session: Session) -> dict[str, float | None]:
    """Mean per dimension over counselor turns that carry a numeric value for it (None if none do)."""
    out: dict[str, float | None] = {}
    for dim in DIMENSIONS:
        values = [
            float(v)
            for t in session.counselor_turns
            if isinstance(v := (t.labels.get("empathy") or {}).get(dim), (int, float)) and not isinstance(v, bool)
        ]
        out[dim] = sum(values) / len(values) if values else None
    return out


def measure(session: Session) -> dict[str, float | None]:
    return {f"empathy.{k}": v for k, v in means(session).items()}
