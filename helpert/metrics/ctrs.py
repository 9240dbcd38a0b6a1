"""Cognitive Therapy Rating Scale (CTRS) items, 0-6, from turn labels by simple rules; or by an LLM judge.

The rule scores are transparent proxies, not expert ratings: each item reads a few labels of the
phases that serve it (the ``ctrs`` lists of the protocol) and maps a share onto 0-6. An item whose
rule needs serving phases is None for a protocol without any (e.g. agenda in helping_skills).
Rules and thresholds are listed in docs/metrics.md.

The judge path asks a model one item at a time with a rubric written for this project. A reply that
cannot be read is counted in ``ctrs_judge_failures`` and leaves the item None; it is never a zero.
"""

from __future__ import annotations

import math
from typing import Any, Callable

from helpert.metrics import adherence, mi
from helpert.metrics.common import behaviour, explored_flags, homework_roles, phase, ratio, scored_turns, serving
from helpert.metrics.drift import is_lecture, lecture_share
from helpert.protocols import CTRS_ITEMS, OFF_PROTOCOL, Protocol
from helpert.session import Session, Turn

TARGET_SHARE = {"understanding": 0.4, "interpersonal_effectiveness": 0.5, "guided_discovery": 0.5, "invite": 0.4}
CLIENT_WORD_TARGET = 0.5  # the client speaking at least half the words counts as full collaboration
HOSTILE_FACTOR = 5.0      # a fifth of the utterances confronting or warning zeroes interpersonal effectiveness
PUSH_WORST = 0.2          # share of pushing utterances (advice without permission, direct ...) that zeroes a part
WARM = frozenset({"affirm", "support", "emphasize_autonomy"}) | mi.REFLECTION
INVITE = frozenset({"question_open", "seek_collaboration", "advise_with_permission", "emphasize_autonomy"})
HOSTILE = frozenset({"confront", "warn"})
PUSH = frozenset({"advise_without_permission", "direct"})

Judge = Callable[[str, dict], "dict | None"]


def scaled(x: float, target: float) -> float:
    """6 at or above ``target``, linear below it."""
    return 6.0 * min(1.0, x / target)


def dose(turns: list[Turn], protocol: Protocol, phases: list[str]) -> float:
    """How far each phase reached its ``min_turns``: sum of min(turns, min_turns) over sum of min_turns."""
    counts = [sum(phase(t) == p for t in turns) for p in phases]
    mins = [protocol.by_id[p].min_turns for p in phases]
    return sum(min(c, m) for c, m in zip(counts, mins)) / sum(mins)


def agenda(turns: list[Turn], protocol: Protocol) -> float | None:
    """6: an agenda turn before any later-phase work; 3: agenda set only after work began; 0: none."""
    phases = serving(protocol, "agenda")
    if not phases:
        return None
    last = max(protocol.position[p] for p in phases)
    seq = [phase(t) for t in turns]
    first_agenda = next((i for i, p in enumerate(seq) if p in phases), None)
    first_work = next((i for i, p in enumerate(seq) if p in protocol.by_id and protocol.position[p] > last), None)
    if first_agenda is None:
        return 0.0
    return 6.0 if first_work is None or first_agenda < first_work else 3.0


def feedback(turns: list[Turn], protocol: Protocol) -> float | None:
    """6 x share of the feedback-serving phases (e.g. capsule summary, feedback) that were visited."""
    phases = serving(protocol, "feedback")
    if not phases:
        return None
    visited = {phase(t) for t in turns}
    return 6.0 * sum(p in visited for p in phases) / len(phases)


def _has(turn: Turn, codes: frozenset[str]) -> bool:
    return any(c in codes for c in mi.codes_of(turn))


def _utterance_share(turns: list[Turn], codes: frozenset[str]) -> float:
    all_codes = [c for t in turns for c in mi.codes_of(t)]
    return ratio(sum(c in codes for c in all_codes), len(all_codes)) or 0.0


def collaborative(turns: list[Turn]) -> float:
    """(1 - min(1, MI-non-adherent utterance share / 0.2)) x (1 - lecture share): how far the work was
    neither imposed nor lectured."""
    return (1.0 - min(1.0, _utterance_share(turns, mi.NON_ADHERENT) / PUSH_WORST)) * (1.0 - (lecture_share(turns) or 0.0))


def understanding(turns: list[Turn]) -> float:
    """Turns holding a reflection (simple or complex) that are not lectures: a monologue that happens to
    contain a reflective sentence does not convey understanding of the client."""
    hits = sum(_has(t, mi.REFLECTION) and not is_lecture(t) for t in turns)
    return scaled(hits / len(turns), TARGET_SHARE["understanding"])


def interpersonal_effectiveness(turns: list[Turn]) -> float:
    """Warm turns (reflection, affirm, support, autonomy) that are not lectures, less confrontation and
    warning: a monologue with a supportive sentence in it is not warmth towards the client."""
    warm = scaled(sum(_has(t, WARM) and not is_lecture(t) for t in turns) / len(turns),
                  TARGET_SHARE["interpersonal_effectiveness"])
    return warm * (1.0 - min(1.0, HOSTILE_FACTOR * _utterance_share(turns, HOSTILE)))


def collaboration(session: Session, turns: list[Turn], protocol: Protocol) -> float | None:
    """Client's share of the words, invitations (open questions, asking permission, autonomy), and no
    advice without permission or directing (docs/metrics.md)."""
    if not serving(protocol, "collaboration"):
        return None
    words = {r: sum(len(t.text.split()) for t in session.turns if t.role == r) for r in ("counselor", "client")}
    client_share = ratio(words["client"], words["client"] + words["counselor"]) or 0.0
    invite = sum(_has(t, INVITE) for t in turns) / len(turns)
    push = _utterance_share(turns, PUSH)
    return (2.0 * min(1.0, client_share / CLIENT_WORD_TARGET) + 2.0 * min(1.0, invite / TARGET_SHARE["invite"])
            + 2.0 * (1.0 - min(1.0, push / PUSH_WORST)))


def pacing(turns: list[Turn], protocol: Protocol) -> float:
    """6 x (1 - total variation distance) between time in phase and the protocol's ``share``s."""
    total = sum(p.share for p in protocol.phases)
    expected = {p.id: p.share / total for p in protocol.phases} | {OFF_PROTOCOL: 0.0}
    seq = [phase(t) for t in turns]
    tvd = 0.5 * sum(abs(seq.count(k) / len(seq) - e) for k, e in expected.items())
    return 6.0 * (1.0 - tvd)


def guided_discovery(turns: list[Turn], protocol: Protocol) -> float | None:
    """Session-wide: turns with an open question or a reflection that are not lectures (half of them gives 6), less persuasion
    (MI-non-adherent utterances) and lecturing (lecture turns), the low anchors of the CTRS item."""
    if not serving(protocol, "guided_discovery"):
        return None
    coded = [t for t in turns if mi.codes_of(t)]
    if not coded:
        return 0.0
    share = sum(_has(t, mi.REFLECTION | {"question_open"}) and not is_lecture(t) for t in coded) / len(coded)
    persuasion = _utterance_share(coded, mi.NON_ADHERENT)
    return scaled(share, TARGET_SHARE["guided_discovery"]) * (1.0 - min(1.0, persuasion / PUSH_WORST)) * (1.0 - lecture_share(coded))


def dose_item(turns: list[Turn], protocol: Protocol, item: str) -> float | None:
    phases = serving(protocol, item)
    return 6.0 * dose(turns, protocol, phases) if phases else None


def strategy_for_change(turns: list[Turn], protocol: Protocol) -> float | None:
    """Dose of strategy phases, counting only turns after the problem was explored."""
    flags = explored_flags(turns, protocol)
    after = turns if flags is None else [t for t, f in zip(turns, flags) if f]
    return dose_item(after, protocol, "strategy_for_change")


def application(session: Session, turns: list[Turn], protocol: Protocol) -> float | None:
    """Dose of technique phases times the share of allowed transitions (techniques in a coherent order)."""
    base = dose_item(turns, protocol, "application_of_cbt_techniques")
    if base is None:
        return None
    return base * (adherence.allowed_transitions(session, protocol) or 0.0)


def homework(turns: list[Turn], protocol: Protocol) -> float | None:
    """CTRS item 11 rates reviewing last week's task and assigning a new one (round 96). Assignment A: 1 for a
    homework-behaviour turn (a concrete ask) in an assigning phase, 0.5 for such a turn outside the homework
    phases or an assigning phase visited without one, else 0 (an ask in the review is about last week's task).
    Review R: 1 if a reviewing phase is visited. 4 A + 2 R where the protocol has a reviewing phase, else 6 A."""
    if not serving(protocol, "homework"):
        return None
    review, assign = homework_roles(protocol)
    seq = [(phase(t), behaviour(t) == "homework") for t in turns]
    if any(p in assign and ask for p, ask in seq):
        a = 1.0
    elif any(p in assign or (ask and p not in review) for p, ask in seq):
        a = 0.5
    else:
        a = 0.0
    if not review:
        return 6.0 * a
    return 4.0 * a + 2.0 * any(p in review for p, _ in seq)


def rule_scores(session: Session, protocol: Protocol) -> dict[str, float | None]:
    """The 11 items by rule; all None when no counselor turn is labelled."""
    turns = scored_turns(session)
    if not turns:
        return dict.fromkeys(CTRS_ITEMS)
    collab = collaborative(turns)
    # The phase items read only turns that are not lectures: a monologue labelled with a phase (a list of
    # recommendations read as homework, a lecture carried into a summary phase) does not do that phase's
    # work; lecturing itself lowers the items through ``collab`` and the general items.
    work = [t for t in turns if not is_lecture(t)]
    return {
        "agenda": agenda(work, protocol),
        "feedback": feedback(work, protocol),
        "understanding": understanding(turns),
        "interpersonal_effectiveness": interpersonal_effectiveness(turns),
        "collaboration": collaboration(session, turns, protocol),
        "pacing": pacing(turns, protocol),
        "guided_discovery": guided_discovery(turns, protocol),
        "focus_on_key_cognitions": dose_item(work, protocol, "focus_on_key_cognitions"),
        "strategy_for_change": _times(strategy_for_change(work, protocol), collab),
        "application_of_cbt_techniques": _times(application(session, work, protocol), collab),
        "homework": _times(homework(work, protocol), collab),
    }


def _times(value: float | None, factor: float) -> float | None:
    return None if value is None else value * factor


def measure(session: Session, protocol: Protocol) -> dict[str, float | None]:
    items = rule_scores(session, protocol)
    present = [v for v in items.values() if v is not None]
    out: dict[str, float | None] = {f"ctrs.{k}": v for k, v in items.items()}
    out["ctrs.mean"] = sum(present) / len(present) if present else None
    out["ctrs.total"] = sum(present) if len(present) == len(items) else None
    return out


# --- LLM judge -------------------------------------------------------------------------------------

RUBRIC = {
    "agenda": "Did the counselor agree with the client, early on, on one or two concrete problems to work on, and keep to them?",
    "feedback": "Did the counselor check during and at the end of the conversation how the client understood and felt about it?",
    "understanding": "Did the counselor show accurate understanding of what the client said and felt, by reflecting it back?",
    "interpersonal_effectiveness": "Was the counselor warm, genuine and respectful, so the client could trust them?",
    "collaboration": "Did counselor and client work as a team, choosing topics and next steps together rather than the counselor deciding?",
    "pacing": "Was the time used well: no rushing through steps, no lingering on side topics, a clear ending?",
    "guided_discovery": "Did the counselor help the client find new views by asking questions, instead of telling or persuading?",
    "focus_on_key_cognitions": "Did the counselor find the key thoughts or beliefs behind the client's distress and keep the work on them?",
    "strategy_for_change": "Did the counselor work towards a sensible, concrete plan for change that fits the client's problem?",
    "application_of_cbt_techniques": "Did the counselor use cognitive-behavioural techniques (examining evidence, alternative thoughts, small experiments) skilfully?",
    "homework": "Did the counselor agree on a concrete, doable practice task for before the next contact, with its purpose explained?",
}
ANCHORS = ("0 = not done at all or done harmfully; 2 = attempted but with clear problems; "
           "4 = done well with minor problems; 6 = done excellently.")
JUDGE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"score": {"type": "integer", "minimum": 0, "maximum": 6}, "reason": {"type": "string"}},
    "required": ["score"],
}


def transcript_text(session: Session, max_chars: int = 12_000) -> str:
    """The dialogue as "Counselor: ..." lines, cutting the middle when it is too long for the judge."""
    lines = [f"{t.role.capitalize()}: {t.text}" for t in session.turns]
    text = "\n".join(lines)
    if len(text) <= max_chars:
        return text
    head, tail, budget = [], [], max_chars // 2
    for line in lines:
        if sum(map(len, head)) + len(line) > budget:
            break
        head.append(line)
    for line in reversed(lines[len(head):]):
        if sum(map(len, tail)) + len(line) > budget:
            break
        tail.insert(0, line)
    omitted = len(lines) - len(head) - len(tail)
    return "\n".join([*head, f"[... {omitted} turns omitted ...]", *tail])


def judge_prompt(session: Session, item: str, max_chars: int = 12_000) -> str:
    """The conversation comes first, so the 11 prompts of a session share it as a cached prefix."""
    return (
        "You rate one aspect of the counseling conversation below on a scale from 0 to 6.\n\n"
        f"Conversation:\n{transcript_text(session, max_chars)}\n\n"
        f"Aspect: {item.replace('_', ' ')}. {RUBRIC[item]}\n"
        f"Scale: {ANCHORS}\n"
        'Answer with JSON only: {"score": <integer 0-6>, "reason": "<one sentence>"}.\n'
    )


def parse_score(reply: Any) -> float | None:
    """The score of a judge reply, or None when the reply does not hold an integer 0-6."""
    if not isinstance(reply, dict):
        return None
    score = reply.get("score")
    if isinstance(score, bool) or not isinstance(score, (int, float)) or not math.isfinite(score):
        return None
    return float(score) if score == int(score) and 0 <= score <= 6 else None


def judge_ctrs(session: Session, judge: Judge, items: tuple[str, ...] = CTRS_ITEMS) -> dict[str, float | None]:
    """Ask ``judge(prompt, schema)`` once per item. Unreadable replies (None, wrong shape, a score
    out of range, or a ValueError such as a JSON decode error) leave the item None and are counted;
    ``ctrs_judge.mean`` is the mean of the items scored (None when none was)."""
    out: dict[str, float | None] = {}
    failures = 0
    for item in items:
        try:
            reply = judge(judge_prompt(session, item), JUDGE_SCHEMA)
        except ValueError:
            reply = None
        out[f"ctrs_judge.{item}"] = parse_score(reply)
        failures += out[f"ctrs_judge.{item}"] is None
    scored = [v for v in out.values() if v is not None]
    out["ctrs_judge.mean"] = sum(scored) / len(scored) if scored else None  # as ctrs.mean: the items that were scored
    out["ctrs_judge_failures"] = float(failures)
    return out
