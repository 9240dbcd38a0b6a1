"""Make raw model output usable as one counselor turn, and say what had to be fixed.

Small quantized models leak role prefixes ("Counselor: ..."), start speaking for the client, act out
stage directions ("*nods*") or run on. What cleaning cannot repair (loops, narration, refusals...) is
left to the checks of :mod:`helpert.replay.llm.degenerate`. Cleaning is deterministic; anything it had to do is returned as flags so a
result records it instead of hiding it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from helpert.text.language import MIN_ASCII_LETTERS, english_share

_OWN_ROLE = r"(?:counselor|counsellor|therapist|assistant|supporter|helper|system|ai|a)"
_OTHER_ROLE = r"(?:client|patient|user|seeker|b|q)"
_LEADING_ROLE = re.compile(rf"^\s*[\[(*]*\s*{_OWN_ROLE}\s*[\])*]*\s*[:：-]\s*", re.IGNORECASE)
_LEADING_OTHER = re.compile(rf"^\s*[\[(*]*\s*{_OTHER_ROLE}\s*[\])*]*\s*[:：]", re.IGNORECASE)
_LATER_ROLE = re.compile(
    r"(?:^|\s|\n)[\[(*]*\s*(?:client|patient|user|seeker|counselor|counsellor|therapist|assistant)\s*[\])*]*\s*[:：]",
    re.IGNORECASE,
)
_SPECIAL = re.compile(r"<\|[^|>]{1,40}\|>|</?s>")
_GUIDANCE_ECHO = re.compile(r"[(\[]\s*(?:guidance|next counselor step|counselor step|step|note)\b[^)\]]*[)\]]", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
# What is left of "<|im_start|>assistant\n..." once the special token is gone: a bare role word first.
_BARE_ROLE = re.compile(r"^\s*(?:assistant|system)\b(?![:'’])\s*", re.IGNORECASE)
# Actions in brackets or asterisks ("(glancing at the client's face)", "*nods*"): not words anyone says.
STAGE_DIRECTION = re.compile(
    r"[(*\[]\s*(?:\w+ly\s+)?(?:[a-z]+ing|smiles?|nods?|pauses?|sighs?|leans?|laughs?|looks?|shrugs?|cries|"
    r"whispers?|softly|gently|quietly|silence|beat)\b[^)*\]]{0,120}[)*\]]",
    re.IGNORECASE,
)


@dataclass
class Cleaned:
    text: str
    flags: list[str] = field(default_factory=list)


def clean_turn(
    raw: str, *, speaks_for_other: re.Pattern[str], own_prefix: re.Pattern[str], later_role: re.Pattern[str],
    max_words: int = 70, max_sentences: int = 4,
) -> Cleaned:
    """Strip special tokens, echoed guidance and the speaker's own role prefix, return nothing when the
    model speaks for the other side, cut where another speaker starts, bound the length. Counselor and
    simulated-client output differ only in which roles count as "own" and "other"."""
    flags: list[str] = []
    text = _SPECIAL.sub(" ", raw)
    if speaks_for_other.match(text):
        return Cleaned(text="", flags=["role_leak", "empty"])
    unechoed = _GUIDANCE_ECHO.sub(" ", text)
    if unechoed != text:
        flags.append("guidance_echo")
        text = unechoed
    staged = STAGE_DIRECTION.sub(" ", text)
    if staged != text:
        flags.append("stage_direction")
        text = staged
    stripped = own_prefix.sub("", _BARE_ROLE.sub("", text, count=1), count=1)
    if stripped != text:
        flags.append("role_prefix")
        text = stripped
    later = later_role.search(text)
    if later and later.start() > 0:
        flags.append("role_leak")
        text = text[: later.start()]
    text = " ".join(text.split()).strip(" \"'“”")
    sentences = [s for s in _SENTENCE_END.split(text) if s]
    if len(sentences) > max_sentences:
        flags.append("truncated")
        text = " ".join(sentences[:max_sentences])
    words = text.split()
    if len(words) > max_words:
        if "truncated" not in flags:
            flags.append("truncated")
        cut = " ".join(words[:max_words])
        last_end = max(cut.rfind(". "), cut.rfind("? "), cut.rfind("! "))
        text = cut[: last_end + 1] if last_end > len(cut) // 2 else cut.rstrip(",;:") + "…"
    if not text:
        flags.append("empty")
    elif english_share(text) < MIN_ASCII_LETTERS:
        flags.append("non_english")
    return Cleaned(text=text, flags=flags)


def clean_reply(raw: str, *, max_words: int = 70, max_sentences: int = 4) -> Cleaned:
    """A counselor turn: the model speaking as the client yields an empty (retried) reply."""
    return clean_turn(raw, speaks_for_other=_LEADING_OTHER, own_prefix=_LEADING_ROLE, later_role=_LATER_ROLE,
                      max_words=max_words, max_sentences=max_sentences)
