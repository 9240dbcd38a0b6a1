"""Drift: how far a counselor strays from the protocol, and whether it gets worse as the session goes on.

"Talking rather than doing" is counted per counselor turn; structure (jumps, churn, edit distance) is
read from the sequence of phases; listening (reflections, MI-non-adherent moves, lecturing) from the
MITI-style utterance codes (:mod:`helpert.metrics.mi`). ``score`` folds the parts into one number in
[0, 1] (higher = more drift); its weights are fixed by design, not fitted to any dataset (the reasoning
is in docs/metrics.md).
"""

from __future__ import annotations

from helpert.metrics import adherence, mi
from helpert.metrics.common import (
    action_phases,
    behaviour,
    codes_of,
    explored_flags,
    is_action_turn,
    is_backward_jump,
    on_protocol_phases,
    phase,
    ratio,
    scored_turns,
    tells,
    telling_counts,
    transitions,
)
from helpert.protocols import OFF_PROTOCOL, Protocol
from helpert.session import Session, Turn

OPENING_TURNS = 2  # greetings in the first two counselor turns are the opening, not small talk
CLOSING_TURNS = 1  # nor is a goodbye in the last one

# Weights of the drift score's parts; each part is in [0, 1] with 1 = most drift (docs/metrics.md).
WEIGHTS = {
    "low_reflection": 0.25,      # 1 - min(1, mi.reflection_share / REFLECTION_FULL)
    "mi_non_adherent": 0.20,     # min(1, mi.non_adherent_share / NON_ADHERENT_WORST)
    "lecturing": 0.15,           # min(1, lecture_share / LECTURE_WORST)
    "off_protocol_share": 0.15,  # talking rather than doing
    "premature_action": 0.15,    # advice before the problem was explored
    "structure": 0.10,           # mean of missing required, disallowed transitions, edit distance
}
REFLECTION_FULL = 0.25
NON_ADHERENT_WORST = 0.20
LECTURE_WORST = 0.20  # a fifth of the turns lecturing is the worst, as for MI-non-adherent utterances
LECTURE_WORDS = 40


# MI codes that do no counseling work: a turn of these and a self-disclosure is the counselor's own talk
NO_WORK = frozenset({"self_disclosure", "other", "small_talk"})


def tells_only_of_self(turn: Turn) -> bool:
    """The turn's MI codes hold a self-disclosure and nothing that does the work of counseling (only
    :data:`NO_WORK`): "I spent most of yesterday in the garden." (round 79)."""
    codes = codes_of(turn)
    return "self_disclosure" in codes and all(c in NO_WORK for c in codes)


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
            "self_disclosure": behaviour(t) == "self_disclosure" or tells_only_of_self(t),
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


def is_lecture(turn: Turn) -> bool:
    """At least LECTURE_WORDS words, more than half of its utterances telling (giving information, advice
    without permission, direction, confrontation, warning). A long turn that summarises, affirms, supports
    or asks to collaborate is not a lecture, however few questions it holds."""
    # a part of talk the transcript cut at the client's "mm-hmm" is judged with the whole stretch (round 61)
    counts = turn.meta.get("telling_stretch") or telling_counts(turn)
    return counts[0] >= LECTURE_WORDS and tells(counts)


def lecture_share(turns: list) -> float | None:
    """Lecture turns / those of ``turns`` that carry MI codes (None without such turns)."""
    coded = [t for t in turns if mi.codes_of(t)]
    return ratio(sum(is_lecture(t) for t in coded), len(coded))


def _mean(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


def score(parts: dict[str, float | None]) -> float | None:
    """Weighted mean of the available parts (weights renormalised over parts that are not None)."""
    used = {k: w for k, w in WEIGHTS.items() if parts.get(k) is not None}
    if not used:
        return None
    return sum(w * parts[k] for k, w in used.items()) / sum(used.values())


def score_parts(session: Session, protocol: Protocol, flags: list[dict[str, bool]]) -> dict[str, float | None]:
    cov = adherence.timely_coverage(session, protocol)
    allowed = adherence.allowed_transitions(session, protocol)
    codes = mi.measure(session)
    reflect, non_adherent = codes["mi.reflection_share"], codes["mi.non_adherent_share"]
    lectures = lecture_share(scored_turns(session))
    return {
        "low_reflection": None if reflect is None else 1 - min(1.0, reflect / REFLECTION_FULL),
        "mi_non_adherent": None if non_adherent is None else min(1.0, non_adherent / NON_ADHERENT_WORST),
        "lecturing": None if lectures is None else min(1.0, lectures / LECTURE_WORST),
        "off_protocol_share": share(flags, "any"),
        "premature_action": adherence.premature_action(session, protocol),
        "structure": _mean([None if cov is None else 1 - cov, None if allowed is None else 1 - allowed,
                            edit_distance(session, protocol)]),
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
        "drift.edit_distance": edit_distance(session, protocol),
        "drift.lecture_share": lecture_share(scored_turns(session)),
        "drift.trend": trend(flags),
        "drift.score": score(parts),
    }
