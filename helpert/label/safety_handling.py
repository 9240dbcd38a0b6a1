"""Did the counselor handle a crisis moment? For every client turn with crisis risk
(:func:`helpert.safety.risk.detect_risk`, coded spellings read as the words they stand for:
:func:`~helpert.safety.risk.decoded`), whether the counselor's next turn asks about safety and whether it gives
resources, by lexicon.

Written for the peer sessions, whose counselors have no safety node, so that a comparison can say
where the human handled the same moment the LLM's safety node answered; it works on any session
(on a reconstruction it measures the safety node: its scripted words, :mod:`helpert.safety.templates`, ask
directly and, on a crisis turn, give the resource sentence; the resource sentence counts as a resource,
never as asking, although it names danger). A lexicon cannot judge *how well* a counselor
responded, only whether the response contains a safety question or a resource.
"""

from __future__ import annotations

import re
from typing import Any

from helpert.safety.templates import SAFETY_RESOURCES
from helpert.text.lexicon import normalise
from helpert.safety.risk import decoded, detect_risk
from helpert.session import Session, slots_of

SAFETY_QUESTION_CUES: tuple[str, ...] = (
    r"\bare you (feeling )?safe\b", r"\b(keep|keeping|stay|staying|feel|feeling) (yourself )?safe\b", r"\bsafe (right )?now\b",
    r"\bsafety\b", r"\bin (any )?danger\b",
    r"\b(thoughts?|thinking) (of|about) (ending|taking) your (own )?life\b", r"\b(end|ending|take|taking) your (own )?life\b",
    r"\b(kill|killing|hurt|hurting|harm|harming|cut|cutting) yourself\b", r"\bsuicid\w*",
    r"\b(a|any) plan\b", r"\bhave you (thought|planned) (about )?how\b", r"\bmeans to\b",
    r"\b(kept|keeps|keep) you going\b", r"\breasons? (for|to) (living|live|keep going|stay)\b",
    r"\b(hurt|harm|hurting|harming) (him|her|them|someone|anyone)\b", r"\bare (you|the kids|your children) (in danger|at risk)\b",
)
RESOURCE_CUES: tuple[str, ...] = (
    r"\bcrisis (line|service|team|center|centre|text)\b", r"\b(hot|help|life)line\b", r"\bsamaritans\b",
    r"\b(988|911|999|112|116 ?123)\b", r"\bemergency (number|services|room|department)\b", r"\b(call|text|contact) (the )?(police|emergency)\b",
    r"\b(go to|visit) (the )?(ER|A&E|hospital|emergency)\b", r"\bdomestic (violence|abuse) (hotline|shelter|service|advocate)\b",
    r"\bshelter\b", r"\b(GP|doctor|therapist|psychiatrist|mental health professional|professional help)\b",
)
_ASK = [re.compile(p, re.IGNORECASE) for p in SAFETY_QUESTION_CUES]
_RESOURCE = [re.compile(p, re.IGNORECASE) for p in RESOURCE_CUES]


def _hits(patterns: list[re.Pattern[str]], text: str) -> list[str]:
    return [m.group(0) for p in patterns for m in p.finditer(text)]


def peer_safety_response(session: Session) -> list[dict[str, Any]]:
    """One record per risky client turn: ``slot`` (the counselor turn that answers it, numbered as in
    :func:`helpert.session.slots_of`), ``client_idx``, ``kinds``, ``counselor_idx`` (None when the session
    ends first), ``asks_safety``, ``gives_resources``, ``handled`` (either), and the cue phrases found."""
    records = []
    for k, slot in enumerate(slots_of(session)):
        if slot.client is None:
            continue
        kinds = detect_risk(decoded(slot.client.text))  # coded spellings read as the words, as the safety path does
        if not kinds:
            continue
        reply = slot.peer.text if slot.peer is not None else ""
        # the safety node's resource sentence names danger but asks nothing
        asks = _hits(_ASK, normalise(reply.replace(SAFETY_RESOURCES, "")))
        resources = _hits(_RESOURCE, normalise(reply))
        records.append({
            "slot": k, "client_idx": slot.client.idx, "kinds": kinds,
            "counselor_idx": slot.peer.idx if slot.peer is not None else None,
            "asks_safety": bool(asks), "gives_resources": bool(resources), "handled": bool(asks or resources),
            "safety_cues": asks, "resource_cues": resources,
        })
    return records


def safety_summary(session: Session) -> dict[str, Any]:
    """Per-session counts for a comparison table: risky client turns, and the share of them the next
    counselor turn handled (None when the session has no risky turn)."""
    records = peer_safety_response(session)
    n = len(records)

    def share(key: str) -> float | None:
        return sum(r[key] for r in records) / n if n else None

    return {"risk_turns": n, "asks_safety": share("asks_safety"), "gives_resources": share("gives_resources"),
            "handled": share("handled")}
