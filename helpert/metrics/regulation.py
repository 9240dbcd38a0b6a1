"""How the client's emotion regulation moves across the session (client turns, helpert.label.regulation).

Two families of strategies, as in the meta-analysis the label set follows (Aldao, Nolen-Hoeksema &
Schweizer 2010): reappraisal, acceptance, problem solving and seeking support are *adaptive*; suppression,
rumination and avoidance are *maladaptive*. In a replay both sessions share the client's turns, so these
are equal for peer and LLM; they differ in simulated sessions, where the client answers the counselor.
"""

from __future__ import annotations

from helpert.label.regulation import regulation_trajectory
from helpert.session import Session

ADAPTIVE = ("reappraisal", "acceptance", "problem_solving", "seeking_support")
MALADAPTIVE = ("suppression", "rumination", "avoidance")


def measure(session: Session) -> dict[str, float | None]:
    traj = regulation_trajectory(session)

    def total(half: str, family: tuple[str, ...]) -> float | None:
        shares = traj[half]
        return None if shares[family[0]] is None else sum(shares[s] for s in family)

    out: dict[str, float | None] = {}
    for name, family in (("adaptive", ADAPTIVE), ("maladaptive", MALADAPTIVE)):
        first, second = total("first", family), total("second", family)
        out[f"regulation.{name}_first"] = first
        out[f"regulation.{name}_second"] = second
        out[f"regulation.{name}_change"] = None if first is None or second is None else second - first
    return out
