"""The router: which phase the next counselor turn serves. Pure rules, so every decision is testable
and explained (``Decision.reason`` is stored with the turn).

Each client turn is read with the client's earlier turns (``RouteInput.client_context``, at most
:data:`helpert.safety.risk.CONTEXT_TURNS`) by :func:`helpert.safety.risk.assess`, which tiers it ``crisis``,
``check`` or ``none`` and scores it (the learned detector's probability of risk).

Order of the rules:
1. a client turn tiered ``crisis`` goes to the safety node, whatever the phase (tier ``crisis``: the full
   safety response);
2. after a safety turn, stay in safety (``crisis``) while the client's answer does not rule risk out
   (:func:`answer_unresolved`: it opens with a hedge or an affirmation, or it carries hopelessness, and it
   does not clearly deny), for at most ``UNRESOLVED_HOLDS`` more turns;
3. a turn tiered ``check`` gets one direct safety question (tier ``check``), not right after a safety turn,
   once per session, and again later only when its score is higher than the score of the turn that
   triggered the previous question (``RouteInput.safety_check_score``, kept in the graph state): a stronger
   signal deserves a question even if a weaker one was asked, the same or a weaker one does not;
   after a safety turn otherwise resume the interrupted phase;
4. when the remaining counselor turns only just suffice to reach an end phase along allowed
   transitions, advance along the shortest such path (the turn budget always ends a session);
5. stay while the phase has had fewer than ``min_turns``;
6. advance once the client's words show the phase goal is met (``client_cues``) or the phase has used
   its share of the session; the next phase is the first listed ``next`` that is forward on the
   canonical path (an optional phase only when the client cues it), or a loop back (a new agenda item)
   when enough turns remain for a whole cycle and the closing phases.

:func:`route` decides one turn from a :class:`RouteInput`; :func:`step` is the router of a whole session: it
reads a :class:`RouterState` and a :class:`ClientTurn` and returns the decision with the state of the next
turn (phase turns, the phase a safety turn interrupted, the score of the last safety question, the client's
latest turns). The graph's ``route`` node and ``benchmarks/validate_risk.py`` both call it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

from helpert.text.lexicon import normalise
from helpert.safety.policy import DEFAULT_POLICY
from helpert.safety.risk import CONTEXT_TURNS, assess
from helpert.protocols import SAFETY, Protocol


@dataclass(frozen=True)
class Decision:
    phase: str
    reason: str
    risk: tuple[str, ...] = ()
    tier: str = ""  # for the safety node: "crisis" (full response) or "check" (one safety question)
    score: float = 0.0  # the client turn's risk score (helpert.safety.risk.RiskAssessment.score)

    def __post_init__(self) -> None:  # a checkpoint gives the kinds back as a list
        object.__setattr__(self, "risk", tuple(self.risk))


@dataclass(frozen=True)
class RouteInput:
    phase: str | None      # phase of the previous counselor turn (None before the first)
    phase_turns: int       # consecutive counselor turns already spent in that phase
    resume_phase: str | None  # phase interrupted by a safety turn
    slot: int              # index of the counselor turn to route (0-based)
    total_slots: int       # counselor turns the session will have
    client_text: str       # what the client said since the previous counselor turn
    risk_sensitivity: str = DEFAULT_POLICY  # helpert.safety.policy.SAFETY_POLICIES
    safety_check_score: float | None = None  # score of the turn that triggered the last safety question (None: none yet)
    client_context: tuple[str, ...] = ()  # earlier client turns, most recent last (at most risk.CONTEXT_TURNS)


@dataclass(frozen=True)
class RouterState:
    """What the router carries from one counselor turn to the next; ``RouterState()`` starts a session."""

    phase: str | None = None               # phase of the previous counselor turn (None before the first)
    phase_turns: int = 0                   # consecutive counselor turns spent in that phase
    resume_phase: str | None = None        # phase interrupted by the latest safety turn
    safety_check_score: float | None = None  # score of the turn that triggered the last safety question (None: none yet)
    client_context: tuple[str, ...] = ()   # the client's latest turns, most recent last (at most risk.CONTEXT_TURNS)


@dataclass(frozen=True)
class ClientTurn:
    """The counselor turn to route and the client's words before it."""

    slot: int          # index of the counselor turn (0-based)
    total_slots: int   # counselor turns the session will have
    text: str          # what the client said since the previous counselor turn ("" before an opening turn)


# The client's turn after a safety turn, read as an answer to its question (answer_unresolved).
_HEDGE_OPENING = re.compile(
    r"^\W*(yes|yeah|yep|yup|ya|sometimes|kind of|kinda|sort of|a (little|bit)|maybe|perhaps|possibly|i guess|i think so|"
    r"i (don'?t|do not) know|idk|(i'?m )?not sure|hard to say|not really|i have|i do|probably|often|a lot)\b", re.IGNORECASE)
_HOPELESS = re.compile(
    r"\btired of (everything|it all|life|living|being alive|trying|fighting|this)\b|\bso tired of\b|"
    r"\bwhat'?s the (point|use)\b|\bno point\b|\b(don'?t|do not|can'?t|cannot) see (the|a|any) point\b|"
    r"\b(can'?t|cannot) (go on|keep going|do this anymore|take (it|this) anymore)\b|"
    r"\b(don'?t|do not) care anymore\b|\b(better|easier) off without me\b|\bgiv(e|ing) up\b|"
    r"\bno reason to (live|go on|keep going)\b|\bhopeless\b|\bnothing (matters|will (ever )?(get better|change))\b|"
    r"\bdone with (everything|life|it all)\b|\bno way out\b|\bwant (it all|everything) to (end|stop)\b",
    re.IGNORECASE)
_SAFE = (r"(i'?m|i am) safe\b|i (would|will|could) never\b|i'?d never\b|i won'?t (do|hurt|act)\b|"
         r"i'?m not going to (do|hurt|act)\b|i have no (plans?|intention)")
# a safety statement opening the turn, or a "no" and then a safety statement (after a "no", "I'm okay" is one too)
_DENIAL = re.compile(rf"^\W*(({_SAFE})|(no|nope|nah|not at all|never)\b\W*(({_SAFE})|(i'?m|i am|i feel) "
                     r"(okay|ok|fine|alright|all right)\b|no plans?\b))", re.IGNORECASE)


# Safety turns in a row that unresolved answers may add after the one a risk statement triggered. In a
# replay the client's turns were not written as answers ("Yes, thanks for your help and advice"), and an
# unbounded rule held ESConv replays in the safety node for up to 6 turns.
UNRESOLVED_HOLDS = 2


def answer_unresolved(text: str) -> bool:
    """Whether the client's turn after a safety turn leaves the risk open (then the next turn stays in
    safety, with the full response): when it opens with a hedge or an affirmation, whatever its length, or
    carries hopelessness or exhaustion anywhere, unless it clearly denies:

    * stays: "Yes.", "Not really.", "I don't know", "I think so. I just feel so tired of everything.",
      "Maybe, what's the point anyway", "My exam went badly and honestly I can't do this anymore";
      and "Yeah, my mom called about the exam" (a replayed client's next turn was not written as an answer,
      but it opens with an affirmation: one more safety turn, which is cheap next to resuming the agenda on
      an answer that was a "yes");
    * resumes: "No.", "No, I'm safe, I just miss my exam.", "No, I would never.", "I'm not going to do
      anything.", "My sister is staying with me this week." (a safety statement opening the turn, or a
      clear "no" and then one, wins over anything after it; a plain turn neither hedges nor despairs).
      "I'm fine, I guess" is no denial but neither hedges at its opening nor despairs: it resumes; with
      "... just tired of everything" after it, it stays.
    """
    text = normalise(text)
    if _DENIAL.search(text):
        return False
    return bool(_HEDGE_OPENING.search(text) or _HOPELESS.search(text))


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
    risk = assess(inp.client_text, inp.client_context, inp.risk_sensitivity)
    if risk.tier == "crisis":
        return Decision(SAFETY, f"crisis risk in client turn: {', '.join(risk.kinds)}", risk.kinds, "crisis", risk.score)
    phase = inp.phase
    if phase == SAFETY and inp.phase_turns <= UNRESOLVED_HOLDS and answer_unresolved(inp.client_text):
        return Decision(SAFETY, "the answer to the safety question does not rule risk out", ("unresolved",), "crisis", risk.score)
    if risk.tier == "check" and phase != SAFETY and (inp.safety_check_score is None or risk.score > inp.safety_check_score):
        why = "first" if inp.safety_check_score is None else f"stronger than the last question's {inp.safety_check_score:.3f}"
        return Decision(SAFETY, f"screening model: possible risk (score {risk.score:.3f}, {why}); ask about safety",
                        risk.kinds, "check", risk.score)
    if phase == SAFETY:
        phase = inp.resume_phase or proto.start
        return Decision(phase, f"no risk in client turn: resume {phase}", score=risk.score)
    if phase is None:
        return Decision(proto.start, "session start")
    remaining = inp.total_slots - inp.slot  # this turn included
    dist = proto.distance_to_end[phase]
    if dist > 0 and remaining - 1 < dist:
        nxt = _next_on_shortest_path(proto, phase)
        return Decision(nxt, f"turn budget: {remaining} turn{'s' if remaining != 1 else ''} left, {dist} phases to the end")
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


def recent_context(said: Sequence[str]) -> tuple[str, ...]:
    """The client turns a turn is read with: the latest :data:`helpert.safety.risk.CONTEXT_TURNS` of ``said``."""
    return tuple(said[max(0, len(said) - CONTEXT_TURNS):])


def step(proto: Protocol, state: RouterState, turn: ClientTurn, risk_sensitivity: str = DEFAULT_POLICY) -> tuple[Decision, RouterState]:
    """Route one counselor turn of a session and carry the router's state to the next: pure, so a replay
    and a benchmark that routes transcripts without a model make the same decisions."""
    decision = route(proto, RouteInput(
        phase=state.phase, phase_turns=state.phase_turns, resume_phase=state.resume_phase, slot=turn.slot,
        total_slots=turn.total_slots, client_text=turn.text, risk_sensitivity=risk_sensitivity,
        safety_check_score=state.safety_check_score, client_context=state.client_context,
    ))
    safety = decision.phase == SAFETY
    return decision, RouterState(
        phase=decision.phase,
        phase_turns=state.phase_turns + 1 if decision.phase == state.phase else 1,
        resume_phase=state.phase if safety and state.phase != SAFETY else state.resume_phase,
        safety_check_score=decision.score if safety and decision.tier == "check" else state.safety_check_score,
        client_context=recent_context((*state.client_context, turn.text) if turn.text else state.client_context),
    )
