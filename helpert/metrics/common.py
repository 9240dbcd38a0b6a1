"""What every metric family agrees on: which counselor turns count, and which phases play which role.

The roles of phases (exploration, action) are read from the protocol's CTRS tags and canonical order
rather than from phase names, so the same metrics work for any protocol.
"""

from __future__ import annotations

from helpert.label.mi import FACILITATE, REFLECTION, TELLING, is_minimal_encourager_text
from helpert.protocols import OFF_PROTOCOL, SAFETY, Protocol
from helpert.session import Session, Turn

# Advice-type behaviours: telling before understanding is premature whatever the phase label says.
ACTION_BEHAVIOURS = frozenset({"suggestion", "information", "homework"})
QUESTION_BEHAVIOURS = frozenset({"open_question", "closed_question"})


def phase(turn: Turn) -> str | None:
    value = turn.labels.get("phase")
    return value if isinstance(value, str) and value else None


def behaviour(turn: Turn) -> str | None:
    value = turn.labels.get("behaviour")
    return value if isinstance(value, str) else None


def is_labelled(session: Session, protocol: Protocol) -> bool:
    """True when counselor turns carry ``phase`` labels, all of them known to ``protocol``.

    Labels from another protocol's ids mean the session was labelled for something else, so callers
    label it again rather than measure nonsense.
    """
    known = set(protocol.by_id) | {SAFETY, OFF_PROTOCOL}
    phases = [phase(t) for t in session.counselor_turns]
    present = [p for p in phases if p is not None]
    return bool(present) and all(p in known for p in present)


def is_minimal_encourager(turn: Turn) -> bool:
    """A counselor turn that is only "mm-hmm", "right", "i see" ... (every utterance coded ``facilitate``): a
    transcriber's own turn for a backchannel, not a move of the session (MISC 2.5's Facilitate; MITI does not
    code it)."""
    codes = turn.labels.get("mi")
    return isinstance(codes, list) and bool(codes) and all(c == FACILITATE for c in codes)


def codes_of(turn: Turn) -> list[str]:
    """The MI codes MITI counts in a turn: its utterances' codes less minimal encouragers (``facilitate``)."""
    value = turn.labels.get("mi")
    return [c for c in value if isinstance(c, str) and c != FACILITATE] if isinstance(value, list) else []


def telling_counts(turn: Turn) -> tuple[int, int, int]:
    """(words, telling codes, codes) of a counselor turn; telling = giving information, advice without permission,
    direction, confrontation, warning (:data:`helpert.label.mi.TELLING`)."""
    codes = codes_of(turn)
    return len(turn.text.split()), sum(c in TELLING for c in codes), len(codes)


def tells(counts: tuple[int, int, int]) -> bool:
    """More than half of the codes of :func:`telling_counts` tell."""
    return counts[1] > counts[2] / 2


def telling_stretches(session: Session) -> dict[int, tuple[int, int, int]]:
    """Counselor talk that a verbatim transcript cut at the client's minimal encouragers (round 61): a counselor turn
    continues the last one that was not a minimal encourager when nothing but minimal encouragers came in between, the
    client's among them ("mm-hmm", "yeah", "right"), the earlier one asked nothing (no question mark at its end) and
    both tell (:func:`tells`: mostly information, advice, direction). Per position in ``session.turns`` of each part
    of such a stretch of two parts or more: the stretch's :func:`telling_counts`, summed over its parts. Only
    :func:`helpert.metrics.drift.is_lecture` reads it: every other share counts the parts as the turns they are
    (round 58 joined them, and the shares of fewer turns rose)."""
    counts = {i: telling_counts(t) for i, t in enumerate(session.turns) if t.role == "counselor" and codes_of(t)}
    runs: list[list[int]] = []
    last: int | None = None
    for i in counts:
        if (last is not None and tells(counts[i]) and tells(counts[last])
                and not session.turns[last].text.rstrip().endswith("?")
                and any(b.role == "client" for b in session.turns[last + 1:i])
                and all(is_minimal_encourager_text(b.text) for b in session.turns[last + 1:i])):
            runs[-1].append(i)
        else:
            runs.append([i])
        last = i
    out: dict[int, tuple[int, int, int]] = {}
    for run in runs:
        if len(run) > 1:
            total = tuple(map(sum, zip(*(counts[i] for i in run))))
            out.update(dict.fromkeys(run, total))
    return out


def coded_turns(session: Session) -> list[Turn]:
    """Counselor turns with a phase label, less minimal encouragers (time-in-phase shares are over these). A part of
    counselor talk cut at the client's minimal encouragers (:func:`telling_stretches`) carries the whole stretch's
    counts in ``meta["telling_stretch"]``."""
    stretches = telling_stretches(session)
    out = []
    for i, t in enumerate(session.turns):
        if t.role != "counselor" or phase(t) is None or is_minimal_encourager(t):
            continue
        out.append(t.model_copy(update={"meta": {**t.meta, "telling_stretch": stretches[i]}}) if i in stretches else t)
    return out


def scored_turns(session: Session) -> list[Turn]:
    """Coded counselor turns minus safety turns: crisis handling is neither adherence nor drift."""
    return [t for t in coded_turns(session) if phase(t) != SAFETY]


def on_protocol_phases(session: Session) -> list[str]:
    """Phases of scored turns without ``off_protocol``: transitions look through small talk to the
    next protocol phase, and the small talk itself is counted by the drift shares."""
    return [p for t in scored_turns(session) if (p := phase(t)) != OFF_PROTOCOL]


def transitions(session: Session) -> list[tuple[str, str]]:
    phases = on_protocol_phases(session)
    return list(zip(phases, phases[1:]))


def is_backward_jump(protocol: Protocol, src: str, dst: str) -> bool:
    """A move to an earlier canonical position that the protocol's ``next`` lists do not allow
    (so the allowed loops, e.g. capsule_summary -> identify_thoughts, are not backward jumps)."""
    return protocol.position[dst] < protocol.position[src] and not protocol.allowed(src, dst)


def serving(protocol: Protocol, ctrs_item: str) -> list[str]:
    """Phase ids whose ``ctrs`` list names the item."""
    return [p.id for p in protocol.phases if ctrs_item in p.ctrs]


def exploration_phases(protocol: Protocol) -> list[str]:
    """Phases that serve guided discovery, in canonical order: where a problem gets explored."""
    return sorted(serving(protocol, "guided_discovery"), key=protocol.position.__getitem__)


def action_phases(protocol: Protocol) -> set[str]:
    """Phases that serve strategy for change or homework and come after the first exploration phase
    on the canonical path (a homework *review* before exploration is not an action)."""
    explore = exploration_phases(protocol)
    if not explore:
        return set()
    start = protocol.position[explore[0]]
    ids = set(serving(protocol, "strategy_for_change")) | set(serving(protocol, "homework"))
    return {p for p in ids if protocol.position[p] > start}


def opening_phases(protocol: Protocol) -> set[str]:
    """Phases placed before the protocol's first exploration phase on the canonical path (``cbt_session``: mood check,
    bridge, agenda, homework review): the steps a session takes before it explores today's problem. Empty for a
    protocol without an exploration phase."""
    explore = exploration_phases(protocol)
    if not explore:
        return set()
    start = protocol.position[explore[0]]
    return {p for p in protocol.position if protocol.position[p] < start}


def homework_roles(protocol: Protocol) -> tuple[list[str], list[str]]:
    """(reviewing, assigning) homework phases: those serving the CTRS homework item among the opening phases review
    last week's task (``cbt_session``: homework_review), the others set the new one (``cbt_session``: homework;
    ``helping_skills``: action)."""
    opening = opening_phases(protocol)
    phases = serving(protocol, "homework")
    return [p for p in phases if p in opening], [p for p in phases if p not in opening]


def is_action_turn(turn: Turn, protocol: Protocol) -> bool:
    """A suggestion, information or homework turn, by behaviour label, or any turn in an action phase; in a phase
    placed before the first exploration phase on the canonical path (``cbt_session``: mood check, bridge, agenda,
    homework review) only a suggestion: information and homework talk there are the mood check's, the agenda's or
    last week's task's, steps the protocol puts before exploring (round 98)."""
    if phase(turn) in opening_phases(protocol):
        return behaviour(turn) == "suggestion"
    return behaviour(turn) in ACTION_BEHAVIOURS or phase(turn) in action_phases(protocol)


def explored_flags(turns: list[Turn], protocol: Protocol) -> list[bool] | None:
    """Per turn: has the problem been explored before it?

    Explored = at least ``min_turns`` (of the first exploration phase on the canonical path) earlier
    counselor turns were in exploration phases, *or* at least that many earlier counselor turns held a
    reflection (MITI-style ``mi`` codes) outside the opening phases. A counselor explores a concern either by
    the protocol's exploration phases or by reflective listening (MITI: reflections are how understanding is
    shown); a session that listens for twenty turns in the words of motivational interviewing, which no CBT
    phase cue matches, has explored before it advises. A reflection in a phase placed before the first
    exploration phase on the canonical path (for ``cbt_session``: mood check, bridge, agenda, homework review)
    reflects the mood or the week, not the problem to be worked on (round 94). None when the protocol has no
    exploration phase.
    """
    explore = exploration_phases(protocol)
    if not explore:
        return None
    needed = protocol.by_id[explore[0]].min_turns
    opening = opening_phases(protocol)
    flags, seen, reflected = [], 0, 0
    for turn in turns:
        flags.append(seen >= needed or reflected >= needed)
        seen += phase(turn) in explore
        codes = turn.labels.get("mi")
        reflected += isinstance(codes, list) and any(c in REFLECTION for c in codes) and phase(turn) not in opening
    return flags


def ratio(num: float, den: float) -> float | None:
    return num / den if den else None
