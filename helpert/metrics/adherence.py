"""Adherence: did the counselor do what the protocol asks, in the order it allows?

All functions read the ``phase`` (and for premature action the ``behaviour``) labels of counselor turns;
``safety`` turns are left out, ``off_protocol`` turns are looked through (see ``common``).
"""

from __future__ import annotations

from bisect import bisect_left

from helpert.metrics.common import (
    coded_turns,
    explored_flags,
    is_action_turn,
    on_protocol_phases,
    phase,
    ratio,
    scored_turns,
    transitions,
)
from helpert.protocols import OFF_PROTOCOL, SAFETY, Protocol
from helpert.session import Session


def coverage(session: Session, protocol: Protocol) -> float | None:
    """Share of required phases with at least one counselor turn."""
    if not scored_turns(session) or not protocol.required:
        return None
    visited = set(on_protocol_phases(session))
    return sum(p in visited for p in protocol.required) / len(protocol.required)


def timely_coverage(session: Session, protocol: Protocol) -> float | None:
    """Share of required phases with at least one scored turn that is not a premature action turn:
    jumping to an action phase before exploring does not count as having done that phase."""
    turns = scored_turns(session)
    if not turns or not protocol.required:
        return None
    flags = explored_flags(turns, protocol) or [True] * len(turns)
    visited = {phase(t) for t, explored in zip(turns, flags) if explored or not is_action_turn(t, protocol)}
    return sum(p in visited for p in protocol.required) / len(protocol.required)


def allowed_transitions(session: Session, protocol: Protocol) -> float | None:
    """Share of consecutive on-protocol phase pairs that the protocol allows (staying is allowed)."""
    pairs = transitions(session)
    return ratio(sum(protocol.allowed(a, b) for a, b in pairs), len(pairs))


def longest_increasing(values: list[int]) -> int:
    """Length of the longest strictly increasing subsequence (patience sorting, O(n log n))."""
    tails: list[int] = []
    for v in values:
        i = bisect_left(tails, v)
        tails[i:i + 1] = [v]
    return len(tails)


def order_agreement(session: Session, protocol: Protocol) -> float | None:
    """Share of visited phases whose first visits follow the canonical order (LIS share).

    The longest increasing subsequence of canonical positions, in first-visit order, divided by the
    number of distinct phases visited. Unlike Kendall's tau it is defined for one phase, needs no
    tie rule, and reads directly as "this share of the session's phases came in protocol order".
    """
    first: list[str] = []
    for p in on_protocol_phases(session):
        if p not in first:
            first.append(p)
    if not first:
        return None
    return longest_increasing([protocol.position[p] for p in first]) / len(first)


def time_in_phase(session: Session, protocol: Protocol) -> dict[str, float | None]:
    """Share of labelled counselor turns in each phase, ``off_protocol`` and ``safety`` (sums to 1)."""
    turns = coded_turns(session)
    keys = [p.id for p in protocol.phases] + [OFF_PROTOCOL, SAFETY]
    phases = [phase(t) for t in turns]
    return {k: ratio(phases.count(k), len(phases)) for k in keys}


def premature_action(session: Session, protocol: Protocol) -> float | None:
    """Share of action turns (suggestion/information/homework behaviour or an action phase) that come before the
    problem was explored (see ``common.explored_flags``). None without action turns."""
    turns = scored_turns(session)
    flags = explored_flags(turns, protocol)
    if flags is None:
        return None
    actions = [explored for t, explored in zip(turns, flags) if is_action_turn(t, protocol)]
    return ratio(sum(not e for e in actions), len(actions))


def measure(session: Session, protocol: Protocol) -> dict[str, float | None]:
    out: dict[str, float | None] = {
        "adherence.coverage": coverage(session, protocol),
        "adherence.timely_coverage": timely_coverage(session, protocol),
        "adherence.transitions": allowed_transitions(session, protocol),
        "adherence.order": order_agreement(session, protocol),
        "adherence.premature_action": premature_action(session, protocol),
    }
    out.update({f"adherence.time.{k}": v for k, v in time_in_phase(session, protocol).items()})
    return out
