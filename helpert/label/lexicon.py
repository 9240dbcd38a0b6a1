"""What the lexicon labellers of client turns share (risk, regulation, safety handling): text
normalisation and the clause-local negation window, so that "I don't talk to anyone" is not read as
talking to someone.
"""

from __future__ import annotations

import re

NEGATOR = re.compile(r"\b(not|never|no|nor|(do|does|did|would|wo|is|are|was|were|am)n'?t)\b", re.IGNORECASE)
_OPENER = re.compile(r"[.;:!?,\n]|\b(but|why|if|whether|that|because|when|what|how|and I|yet)\b", re.IGNORECASE)


def normalise(text: str) -> str:
    """Straight apostrophes, and ESConv's tokenised contractions joined again ("hasn ' t" -> "hasn't")."""
    return re.sub(r" ' ?(?=[a-z])", "'", text.replace("\u2019", "'").replace("\u2018", "'"))


def clause_window(text: str, start: int, words: int = 4) -> str:
    """The last ``words`` words before ``start`` in the same clause (a punctuation mark or a clause
    opener such as "but" or "why" ends the look-back)."""
    before = text[max(0, start - 80):start]
    cut = list(_OPENER.finditer(before))
    clause = before[cut[-1].end():] if cut else before
    return " ".join(clause.split()[-words:])


def negated(text: str, start: int, words: int = 4, negator: re.Pattern[str] = NEGATOR) -> bool:
    """Whether a negator stands in the clause-local window before ``start``."""
    return bool(negator.search(clause_window(text, start, words)))
