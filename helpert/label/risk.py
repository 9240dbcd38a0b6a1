"""Crisis-risk detection on client turns: suicide, self-harm, harm to others, abuse.

A lexicon of phrases rather than a model, on purpose: it must never miss an explicit statement
(recall first), it must be inspectable by clinicians, and it runs on every client turn for free.
Negated mentions ("I would never hurt myself") still fire: a counselor should check, not assume.
"""

from __future__ import annotations

import re

RISK_PATTERNS: dict[str, tuple[str, ...]] = {
    "suicide": (
        r"\bkill(ing)? myself\b", r"\bsuicid(e|al)\b", r"\bend (it all|my life|things)\b", r"\btake my (own )?life\b",
        r"\b(want|wish|wanted) to die\b", r"\bbetter off (dead|without me)\b", r"\bno (reason|point) (to|in) (live|living|go on|going on)\b",
        r"\bdon'?t want to (live|be alive|wake up|exist)\b", r"\bnot want to (live|be alive|wake up)\b",
        r"\b(overdose|hang myself|jump off)\b", r"\bnot be here anymore\b", r"\bdisappear forever\b",
        r"\bending my life\b", r"\bunalive\b",
    ),
    "self_harm": (
        r"\b(cut|cutting|burn|burning|hurt|hurting|harm|harming) myself\b", r"\bself[- ]?harm", r"\bself[- ]?injur",
        r"\bstarv(e|ing) myself\b", r"\bpunish myself\b",
    ),
    "harm_to_others": (
        r"\b(kill|hurt|harm|stab|shoot|beat) (him|her|them|someone|somebody|my (wife|husband|boss|partner|mom|dad|mother|father))\b",
        r"\bmake (him|her|them) pay\b", r"\bget a gun\b",
    ),
    "abuse": (
        r"\b(hits|hit|beats|beat|chokes|choked|kicks|kicked|slaps|slapped) me\b", r"\b(sexually )?abus(e|ed|ing|es)\b",
        r"\braped?\b", r"\bmolest", r"\bafraid (to go|of going) home\b", r"\bthreaten(s|ed)? to (kill|hurt) me\b",
    ),
}
_COMPILED = {kind: [re.compile(p, re.IGNORECASE) for p in pats] for kind, pats in RISK_PATTERNS.items()}


def detect_risk(text: str) -> list[str]:
    """The kinds of risk a client turn mentions (empty when none)."""
    return [kind for kind, pats in _COMPILED.items() if any(p.search(text) for p in pats)]
