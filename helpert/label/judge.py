"""Phase and behaviour of counselor turns from an LLM judge, for users with a model large enough to read
a session better than the shipped linear labeller.

The judge (``helpert.replay.llm.judge.LlamaJudge`` or any ``judge(prompt, schema) -> dict | None``) sees the
protocol's phases with their goals, the twelve behaviour codes with one-line definitions, the last few
turns before the counselor turn and the turn itself, and must answer ``{"phase": ..., "behaviour": ...}``
with values from those lists (the schema's enums constrain the model's grammar). Like the rule labeller it
is not shown the protocol's allowed transitions or canonical order, which the adherence metrics score.

The session is labelled by the rule labeller first; the judge's answer replaces ``phase`` and
``behaviour`` where it is readable. A turn whose reply cannot be read keeps the rule labels and is
counted: ``labels["label_source"]`` is ``"judge"`` or ``"rules"`` on every counselor turn, and
``meta["label_judge_failures"]`` holds the count, which ``helpert measure`` reports.
"""

from __future__ import annotations

from typing import Any, Callable

from helpert.label.behaviour import BEHAVIOURS
from helpert.protocols import OFF_PROTOCOL, SAFETY, Protocol
from helpert.session import Session

Judge = Callable[[str, dict], "dict | None"]

BEHAVIOUR_MEANING = {
    "open_question": "a question that invites a free answer (what, how, tell me more)",
    "closed_question": "a question answered by yes/no, a number or a choice",
    "reflection": "names or mirrors the client's feelings",
    "restatement": "repeats or paraphrases what the client said",
    "affirmation": "reassures, validates or praises the client",
    "self_disclosure": "the counselor tells about their own life or feelings",
    "suggestion": "proposes something the client could do",
    "information": "gives facts, explanations or psychoeducation",
    "structuring": "manages the session: agenda, moving on, time, asking for feedback on the session",
    "homework": "sets or reviews practice between sessions",
    "greeting": "greeting, thanks, goodbye or small talk",
    "other": "none of the above",
}
CONTEXT_TURNS = 4


def phase_choices(protocol: Protocol) -> list[str]:
    return [p.id for p in protocol.phases] + [OFF_PROTOCOL, SAFETY]


def label_schema(protocol: Protocol) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {"phase": {"type": "string", "enum": phase_choices(protocol)},
                       "behaviour": {"type": "string", "enum": list(BEHAVIOURS)}},
        "required": ["phase", "behaviour"],
    }


def instructions(protocol: Protocol) -> str:
    """The part of every prompt that does not change within a protocol (a shared, cached prefix)."""
    phases = "\n".join(f"- {p.id}: {p.title}. Goal: {p.goal}." for p in protocol.phases)
    codes = "\n".join(f"- {b}: {m}" for b, m in BEHAVIOUR_MEANING.items())
    return (
        "You label one counselor turn of a counseling session.\n"
        f"Phases of the session ({protocol.title or protocol.name}):\n{phases}\n"
        f"- {OFF_PROTOCOL}: the turn serves none of these phases (small talk, the counselor's own stories, advice with no link to the work).\n"
        f"- {SAFETY}: the turn responds to a risk of suicide, self-harm, harm to others or abuse.\n"
        f"Behaviour codes:\n{codes}\n"
    )


def turn_prompt(head: str, session: Session, index: int) -> str:
    before = session.turns[max(0, index - CONTEXT_TURNS):index]
    context = "\n".join(f"{t.role.capitalize()}: {t.text}" for t in before) or "(start of the session)"
    return (
        f"{head}\nConversation so far:\n{context}\n\nCounselor turn to label:\n{session.turns[index].text}\n\n"
        'Answer with JSON only: {"phase": "<phase>", "behaviour": "<code>"}.'
    )


def judge_turn_labels(session: Session, protocol: Protocol, judge: Judge) -> Session:
    """A copy of a rule-labelled ``session`` with the judge's phase and behaviour where readable."""
    head, choices = instructions(protocol), set(phase_choices(protocol))
    schema = label_schema(protocol)
    turns, failures = [], 0
    for i, t in enumerate(session.turns):
        if t.role != "counselor":
            turns.append(t)
            continue
        try:
            reply = judge(turn_prompt(head, session, i), schema)
        except ValueError:
            reply = None
        ok = isinstance(reply, dict) and reply.get("phase") in choices and reply.get("behaviour") in BEHAVIOURS
        labels = dict(t.labels)
        if ok:
            labels.update(phase=reply["phase"], behaviour=reply["behaviour"], label_source="judge")
        else:
            failures += 1
            labels["label_source"] = "rules"
        turns.append(t.model_copy(update={"labels": labels}))
    return session.model_copy(update={"turns": turns, "meta": {**session.meta, "label_judge_failures": failures}})
