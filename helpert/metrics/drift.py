"""Drift: how far a counselor strays from the protocol, and whether it gets worse as the session goes on.

"Talking rather than doing" is counted per counselor turn; structure (jumps, churn, edit distance) is
read from the sequence of phases. ``score`` folds the parts into one number in [0, 1] (higher = more
drift); its weights are fixed by design, not fitted to any dataset (see docs/metrics.md).
"""

from __future__ import annotations

from helpert.metrics import adherence
from helpert.metrics.common import (
    action_phases,
    behaviour,
    explored_flags,
    is_action_turn,
    is_backward_jump,
    on_protocol_phases,
    phase,
    ratio,
    scored_turns,
    transitions,
)
from helpert.protocol import OFF_PROTOCOL, Protocol
from helpert.session import Session

OPENING_TURNS = 2  # greetings in the first two counselor turns are the opening, not small talk
CLOSING_TURNS = 1  # nor is a goodbye in the last one

# Weights of the drift score's parts; each part is in [0, 1] with 1 = most drift.
WEIGHTS = {
    "off_protocol_share": 0.30,     # talking rather than doing
    "missing_required": 0.20,       # 1 - adherence.timely_coverage
    "premature_action": 0.20,       # advice before the problem was explored
    "disallowed_transitions": 0.15,  # 1 - adherence.transitions
    "edit_distance": 0.15,          # global shape vs the canonical path
}


def turn_flags(session: Session, protocol: Protocol) -> list[dict[str, bool]]:
    """Per scored counselor turn, which kind of off-protocol talk it is (each may be several).

    Unstructured advice is a suggestion outside an action phase, or any action turn (advice-type
    behaviour or action phase) before the problem was explored: the protocol does not reach action
    before exploration, so an action phase label does not make such a turn structured."""
    turns = scored_turns(session)
    actions = action_phases(protocol)
    explored = explored_flags(turns, protocol) or [True] * len(turns)
    n = len(turns)
    flags = []
    for i, t in enumerate(turns):
        greeting = behaviour(t) == "greeting"
        ritual = greeting and (i < OPENING_TURNS or i >= n - CLOSING_TURNS)
        f = {
            "small_talk": greeting and not ritual,
            "self_disclosure": behaviour(t) == "self_disclosure",
            "unstructured_advice": (behaviour(t) == "suggestion" and phase(t) not in actions)
            or (is_action_turn(t, protocol) and not explored[i]),
            "off_phase": phase(t) == OFF_PROTOCOL and not ritual,
        }
        f["any"] = any(f.values())
        flags.append(f)
    return flags


def share(flags: list[dict[str, bool]], key: str) -> float | None:
    return ratio(sum(f[key] for f in flags), len(flags))


def backward_jumps(session: Session, protocol: Protocol) -> int:
    return sum(is_backward_jump(protocol, a, b) for a, b in transitions(session))


def backward_jump_rate(session: Session, protocol: Protocol) -> float | None:
    """Backward jumps per phase change (staying is not a change)."""
    changes = [(a, b) for a, b in transitions(session) if a != b]
    return ratio(sum(is_backward_jump(protocol, a, b) for a, b in changes), len(changes))


def churn(session: Session) -> float | None:
    """Share of consecutive scored counselor-turn pairs whose phase differs (off_protocol included)."""
    phases = [phase(t) for t in scored_turns(session)]
    if len(phases) < 2:
        return None
    return sum(a != b for a, b in zip(phases, phases[1:])) / (len(phases) - 1)


def collapse(seq: list[str]) -> list[str]:
    """Run-length collapse: [a, a, b, a] -> [a, b, a]."""
    return [x for i, x in enumerate(seq) if i == 0 or seq[i - 1] != x]


def levenshtein(a: list[str], b: list[str]) -> int:
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        cur = [i]
        for j, y in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y)))
        prev = cur
    return prev[-1]


def edit_distance(session: Session, protocol: Protocol) -> float | None:
    """Levenshtein distance between the collapsed on-protocol phase sequence and the canonical path,
    divided by the longer length. A session with no protocol phase at all scores 1."""
    if not scored_turns(session):
        return None
    seq, canon = collapse(on_protocol_phases(session)), protocol.canonical_path
    return levenshtein(seq, canon) / max(len(seq), len(canon))


def trend(flags: list[dict[str, bool]]) -> float | None:
    """Off-protocol share of the second half minus the first (odd lengths drop the middle turn)."""
    half = len(flags) // 2
    if half == 0:
        return None
    first, second = flags[:half], flags[len(flags) - half:]
    return (share(second, "any") or 0.0) - (share(first, "any") or 0.0)


def score(parts: dict[str, float | None]) -> float | None:
    """Weighted mean of the available parts (weights renormalised over parts that are not None)."""
    used = {k: w for k, w in WEIGHTS.items() if parts.get(k) is not None}
    if not used:
        return None
    return sum(w * parts[k] for k, w in used.items()) / sum(used.values())


def score_parts(session: Session, protocol: Protocol, flags: list[dict[str, bool]]) -> dict[str, float | None]:
    cov = adherence.timely_coverage(session, protocol)
    allowed = adherence.allowed_transitions(session, protocol)
    return {
        "off_protocol_share": share(flags, "any"),
        "missing_required": None if cov is None else 1 - cov,
        "premature_action": adherence.premature_action(session, protocol),
        "disallowed_transitions": None if allowed is None else 1 - allowed,
        "edit_distance": edit_distance(session, protocol),
    }


def measure(session: Session, protocol: Protocol) -> dict[str, float | None]:
    flags = turn_flags(session, protocol)
    parts = score_parts(session, protocol, flags)
    return {
        "drift.off_protocol_share": parts["off_protocol_share"],
        "drift.small_talk_share": share(flags, "small_talk"),
        "drift.self_disclosure_share": share(flags, "self_disclosure"),
        "drift.unstructured_advice_share": share(flags, "unstructured_advice"),
        "drift.backward_jumps": float(backward_jumps(session, protocol)) if flags else None,
        "drift.backward_jump_rate": backward_jump_rate(session, protocol),
        "drift.churn": churn(session),
        "drift.edit_distance": parts["edit_distance"],
        "drift.trend": trend(flags),
        "drift.score": score(parts),
    }
