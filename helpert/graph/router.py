"""The router: which phase the next counselor turn serves. Pure rules, so every decision is testable
and explained (``Decision.reason`` is stored with the turn).

Order of the rules:
1. a client turn with crisis risk goes to the safety node, whatever the phase (tier ``crisis``: the full
   safety response);
2. after a safety turn, stay in safety (``crisis``) while the client's answer does not rule risk out: a
   short "yes", "sometimes", "not really", "I don't know";
3. a turn only the learned model flags gets one direct safety question (tier ``check``): at its screening
   level once per session, at its ``high`` level whenever the previous turn was not a safety turn (a
   stronger signal later in a session deserves a question even if a weaker one was asked;
   ``helpert.label.risk.triage``); after a safety turn otherwise resume the interrupted phase;
4. when the remaining counselor turns only just suffice to reach an end phase along allowed
   transitions, advance along the shortest such path (the turn budget always ends a session);
5. stay while the phase has had fewer than ``min_turns``;
6. advance once the client's words show the phase goal is met (``client_cues``) or the phase has used
   its share of the session; the next phase is the first listed ``next`` that is forward on the
   canonical path (an optional phase only when the client cues it), or a loop back (a new agenda item)
   when enough turns remain for a whole cycle and the closing phases.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from helpert.label.risk import MODEL_KIND, STEPPED, triage
from helpert.protocol import SAFETY, Protocol


@dataclass(frozen=True)
class Decision:
    phase: str
    reason: str
    risk: tuple[str, ...] = ()
    tier: str = ""  # for the safety node: "crisis" (full response) or "check" (one safety question)


@dataclass(frozen=True)
class RouteInput:
    phase: str | None      # phase of the previous counselor turn (None before the first)
    phase_turns: int       # consecutive counselor turns already spent in that phase
    resume_phase: str | None  # phase interrupted by a safety turn
    slot: int              # index of the counselor turn to route (0-based)
    total_slots: int       # counselor turns the session will have
    client_text: str       # what the client said since the previous counselor turn
    risk_sensitivity: str = STEPPED  # helpert.label.risk.SAFETY_POLICIES
    safety_asked: bool = False  # a safety turn has already happened this session


# Answers to a safety question that do not rule risk out. Short answers only: a replayed client's next turn
# was not written as an answer, and "Yeah, my mom called about the exam" is not one.
_UNRESOLVED = re.compile(r"^\W*(yes|yeah|yep|yup|ya|sometimes|kind of|kinda|sort of|a (little|bit)|maybe|i guess|i think so|"
                         r"i (don'?t|do not) know|idk|not sure|not really|i have|i do|probably|often|a lot)\b", re.IGNORECASE)
UNRESOLVED_MAX_WORDS = 8


def answer_unresolved(text: str) -> bool:
    """Whether a client's reply to a safety question leaves the risk open (conservatively: hedges count)."""
    return len(text.split()) <= UNRESOLVED_MAX_WORDS and bool(_UNRESOLVED.search(text))


def cue_hit(cues: list[str], text: str) -> bool:
    """Whole-word, case-insensitive match of any cue phrase."""
    lowered = text.lower()
    return any(re.search(rf"(?<![a-z']){re.escape(c.lower())}(?![a-z])", lowered) for c in cues)


def _next_on_shortest_path(proto: Protocol, phase: str) -> str:
    dist = proto.distance_to_end
    return min(proto.by_id[phase].next, key=lambda n: (dist.get(n, 10**6), proto.position[n]))


def phase_budget(proto: Protocol, phase: str, total_slots: int) -> int:
    """Counselor turns a phase may use: its share of the session, at least ``min_turns``."""
    total_share = sum(proto.by_id[p].share for p in proto.canonical_path)
    ph = proto.by_id[phase]
    return max(ph.min_turns, round(ph.share / total_share * total_slots))


def _choose_next(proto: Protocol, phase: str, inp: RouteInput, remaining: int) -> tuple[str, str]:
    pos = proto.position
    dist = proto.distance_to_end
    for cand in proto.by_id[phase].next:
        ph = proto.by_id[cand]
        if pos[cand] > pos[phase]:
            if not ph.required and not cue_hit(ph.client_cues, inp.client_text):
                continue
            return cand, f"advance to {cand}"
        cycle = [p for p in proto.canonical_path if pos[cand] <= pos[p] <= pos[phase]]
        need = sum(phase_budget(proto, p, inp.total_slots) for p in cycle) + dist[phase]
        if remaining - 1 >= need:
            return cand, f"loop back to {cand} for another item ({remaining} turns left, cycle needs {need})"
    forward = [n for n in proto.by_id[phase].next if pos[n] > pos[phase]]
    if forward:
        return forward[-1], f"advance to {forward[-1]} (optional phases not cued)"
    return phase, "no forward phase: stay"


def route(proto: Protocol, inp: RouteInput) -> Decision:
    kinds, level = triage(inp.client_text, inp.risk_sensitivity)
    risk = tuple(kinds)
    if risk:
        return Decision(SAFETY, f"crisis risk in client turn: {', '.join(risk)}", risk, "crisis")
    phase = inp.phase
    if phase == SAFETY and answer_unresolved(inp.client_text):
        return Decision(SAFETY, "the answer to the safety question does not rule risk out", ("unresolved",), "crisis")
    if phase != SAFETY and (level == "high" or (level == "screen" and not inp.safety_asked)):
        return Decision(SAFETY, f"screening model ({level} level): possible risk; ask about safety", (MODEL_KIND,), "check")
    if phase == SAFETY:
        phase = inp.resume_phase or proto.start
        return Decision(phase, f"no risk in client turn: resume {phase}")
    if phase is None:
        return Decision(proto.start, "session start")
    remaining = inp.total_slots - inp.slot  # this turn included
    dist = proto.distance_to_end[phase]
    if dist > 0 and remaining - 1 < dist:
        nxt = _next_on_shortest_path(proto, phase)
        return Decision(nxt, f"turn budget: {remaining} turns left, {dist} phases to the end")
    ph = proto.by_id[phase]
    if inp.phase_turns < ph.min_turns:
        return Decision(phase, f"stay: {inp.phase_turns}/{ph.min_turns} minimum turns")
    if dist == 0:
        return Decision(phase, "stay in end phase")
    budget = phase_budget(proto, phase, inp.total_slots)
    if cue_hit(ph.client_cues, inp.client_text):
        nxt, why = _choose_next(proto, phase, inp, remaining)
        return Decision(nxt, f"goal cue met; {why}")
    if inp.phase_turns >= budget:
        nxt, why = _choose_next(proto, phase, inp, remaining)
        return Decision(nxt, f"phase budget of {budget} turns used; {why}")
    return Decision(phase, f"stay: goal not yet met ({inp.phase_turns}/{budget} turns)")
