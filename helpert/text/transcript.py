"""A transcript's markup, so that the measures read what was said.

Transcripts of real sessions carry marks nobody said: times ("[00:01:05]", "(12:31)") and the transcriber's notes on
what was not speech ("[inaudible]", "(laughs)", "[crosstalk]", "*sighs*"). Read as words they move the measures: on
the ten unseen sessions of the degradation checks, a time before every turn raised the CTRS mean by 0.17 and a note
after a third of the turns by 0.21 (``benchmarks/transcript_markup.py``), since a note became a sentence with a
code of its own and a time hid the first words of a turn from the rules that read them.

:func:`speech` takes those marks out of a turn's text; :func:`speech_view` gives a session whose turns hold only
that text, which the labellers (:func:`helpert.label.label_sessions`) and the measures
(:func:`helpert.metrics.measure_labelled`) read. The stored transcript is never changed. The crisis detector still
reads turns as written: its head learned notes as a cue of ordinary talk (benchmarks/README.md, round 62). A mark
is taken out only when it is unambiguous: a time in brackets or parentheses anywhere, and a note in brackets,
parentheses or asterisks whose first word is one of :data:`NON_SPEECH` (the conventions of transcription services and
of chat: "[inaudible 00:12]", "(long pause)", "*laughs*"); a bare time ("10:30 is when I wake up") and any other
bracketed text ("[name]", "(I know, silly)") stay. Since round 65 the fillers that are never words of content go too
(:data:`FILLER`: "um", "uh", "er", "hmm", "mm" standing alone; not "uh-huh", "mm-hmm", "like" or "you know"): put into
8% of a counselor's words they had moved the CTRS mean by -0.19, a filler inside a phase cue ("what, um, went through
your mind") hiding it. A turn that is nothing but marks or fillers keeps its text.
"""

from __future__ import annotations

import re
from typing import Iterable

from helpert.session import Session

TIME = r"\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d{1,3})?"  # "05:12", "00:01:05", "00:00:05.000"
# A speaker's name before a colon, as transcripts write it ("Counselor:", "**Therapist**:", "Client："); the plain-text
# loader (helpert.io.plain_text) builds its turn prefix on it too.
SPEAKER = r"\**\s*(?P<name>[A-Za-z][A-Za-z \-]{0,24}?)\s*\**"
# The first word of a transcriber's note on what was not speech (lower case; a few words of detail may follow).
NON_SPEECH = (
    "inaudible", "unintelligible", "indistinct", "crosstalk", "cross-talk", "overlapping", "overtalk", "laughs", "laugh",
    "laughing", "laughter", "chuckles", "chuckle", "chuckling", "giggles", "giggling", "sighs", "sigh", "sighing", "pause",
    "pauses", "long pause", "silence", "crying", "cries", "sobbing", "sobs", "tearful", "coughs", "cough", "coughing",
    "clears throat", "sniffs", "sniffles", "sniffling", "nods", "nodding", "smiles", "smiling", "shrugs", "whispers",
    "whispering", "background noise", "noise", "phone rings", "phone ringing", "music", "unclear", "audio",
)
_WORDS = "|".join(re.escape(w) for w in sorted(NON_SPEECH, key=len, reverse=True))
# In parentheses and asterisks, where chat also writes asides ("(laughing at me)"), the note alone, an adverb
# ("(laughs nervously)") or a time after it; in square brackets, a transcriber's own, any short detail.
_NOTE = rf"(?:{_WORDS})(?:\s+\w+ly)?(?:\s*[,;]?\s*{TIME})?"
_MARK = re.compile(
    rf"\[\s*(?:{TIME}|(?:{_WORDS})\b[^\]\[]{{0,40}})\s*\]"      # [00:01:05], [inaudible 00:12], [laughs at self]
    rf"|\(\s*(?:{TIME}|{_NOTE})\s*\)"                              # (12:31), (long pause), (laughs nervously)
    rf"|\*\s*{_NOTE}\s*\*",                                       # *sighs*
    re.IGNORECASE,
)
# Fillers that are never words of content, standing alone (with the comma after them): not "uh-huh" or "mm-hmm"
# (minimal encouragers), not "like", "you know", "I mean" (also words of content). Round 65.
# The comma before a filler goes with it ("what, um, went" -> "what went", so that a phrase reads whole again); a full
# stop after it stays.
FILLER = re.compile(r"(?:,\s*)?(?<![\w'’-])(?:u+m+|u+h+|uhm+|erm+|er|hm+|mm+)(?![\w'’-])[,.]?(?=\s|$)", re.IGNORECASE)
_SPACE = re.compile(r"\s{2,}")
_SPACE_BEFORE_PUNCT = re.compile(r"\s+(?=[.,!?;:])")


def speech(text: str) -> str:
    """``text`` without times in brackets, transcribers' notes and fillers (see the module docstring); the text
    itself when nothing else is left."""
    out = _MARK.sub(" ", text) if ("[" in text or "(" in text or "*" in text) else text
    out = FILLER.sub(lambda m: "." if m.group().endswith(".") else " ", out)
    if out == text:
        return text
    out = _SPACE_BEFORE_PUNCT.sub("", _SPACE.sub(" ", out)).strip()
    return out if any(c.isalnum() for c in out) else text


# A speaker label repeated inside a turn's text ("Therapist: So what happened?"), as some exports write it. Read as
# words it moved the ten unseen sessions' CTRS mean by -0.64 and drift by +0.16 (benchmarks/transcript_markup.py).
_ROLE_PREFIX = re.compile(rf"^\s*{SPEAKER}\s*[:：]\s+")


def without_own_label(text: str, role: str) -> str:
    """``text`` without a leading speaker label that names the turn's own role ("Therapist:" on a counselor turn,
    "Patient:" on a client turn: :func:`helpert.io.roles.normalize_role`); a label of the other role stays."""
    from helpert.io.roles import normalize_role

    m = _ROLE_PREFIX.match(text)
    if m is None or normalize_role(m.group("name")) != role or not text[m.end():].strip():
        return text
    return text[m.end():]


def speech_view(session: Session) -> Session:
    """``session`` with each turn's text replaced by :func:`speech` of it, less a repeated label of its own speaker
    (:func:`without_own_label`; labels and meta kept), and with sentence marks put back when the session has almost
    none (:func:`unpunctuated`; :func:`helpert.text.punctuation.restore`); the session itself when nothing changed."""
    texts = [without_own_label(speech(t.text), t.role) for t in session.turns]
    if unpunctuated(texts):  # a speech recogniser's text: sentence marks put back (helpert.text.punctuation)
        from helpert.text.punctuation import restore

        texts = restore(texts)
        return session.model_copy(update={
            "turns": [t.model_copy(update={"text": new}) for new, t in zip(texts, session.turns)],
            "meta": {**session.meta, "punctuation_restored": True}})
    if all(new is t.text for new, t in zip(texts, session.turns)):  # (both functions return the same object unchanged)
        return session
    return session.model_copy(update={"turns": [t if new is t.text else t.model_copy(update={"text": new})
                                                for new, t in zip(texts, session.turns)]})


# Sentence marks. Punctuated English transcripts have one every 6 to 19 words (ESConv, HOPE, MIBot, the written sets,
# the crisis rounds' transcripts: benchmarks/README.md, "Transcript markup"); speech recognisers that write none, or
# one per long segment, leave far fewer.
MAX_WORDS_PER_MARK = 40
MIN_WORDS_FOR_MARKS = 100
# A short session with no sentence mark at all (a fresh user's 84-word recogniser excerpt had gone unread): no
# punctuated session of ../shared's English corpora, the written sets or the crisis rounds' transcripts has as few
# as one mark per 20 words (benchmarks/transcript_markup.py, "punctuation").
MIN_WORDS_WITHOUT_MARKS = 30
_END = re.compile(r"[.!?…]")


def unpunctuated(texts: Iterable[str]) -> bool:
    """Whether ``texts`` (every turn of a session), at least :data:`MIN_WORDS_FOR_MARKS` words, have fewer than one
    sentence mark per :data:`MAX_WORDS_PER_MARK` words, or, at least :data:`MIN_WORDS_WITHOUT_MARKS` words, none.
    The labellers find questions and sentences by their marks (the MI codes are one per sentence), so such a
    transcript is measured with a bias, not only with more noise."""
    text = " ".join(texts)
    words = len(text.split())
    marks = len(_END.findall(text))
    return (words >= MIN_WORDS_FOR_MARKS and words > MAX_WORDS_PER_MARK * marks) or (words >= MIN_WORDS_WITHOUT_MARKS
                                                                                      and marks == 0)


def unpunctuated_ids(sessions: Iterable[Session]) -> list[str]:
    """The ``dialogue_id`` of each session that :func:`unpunctuated` finds: what the commands' warnings name."""
    return [s.dialogue_id for s in sessions if unpunctuated(t.text for t in s.turns)]


def _unpunctuated_sessions(ids: list[str], what: str) -> str:
    """The first half of both warnings below: how many sessions, which (the first five)."""
    from helpert.io.errors import first_few

    return f"warning: {len(ids)} {what} with almost no sentence punctuation ({first_few(ids)}), as some speech recognisers write"


def unpunctuated_screen_warning(ids: list[str]) -> str:
    """What ``helpert screen`` says of the sessions :func:`unpunctuated` finds: the detector reads turns as written."""
    return (_unpunctuated_sessions(ids, "session(s)") + ": the crisis detector reads them as written, which catches "
            "as much risk but raises more false alarms (risk statements without their marks: 19 false alarms of 200 "
            "against 8; ESConv sessions with a safety turn 30 of 195 against 19: benchmarks/screen_unpunctuated.py)")


def unpunctuated_warning(ids: list[str], what: str = "session(s)") -> str:
    """The one-line warning the commands print for the sessions :func:`unpunctuated` finds."""
    return (_unpunctuated_sessions(ids, what) + ": the labellers find questions and sentences by their marks, so "
            "helpert reads these with marks put back by a learned model (helpert.text.punctuation), which leaves a "
            "smaller bias (on ten transcribed sessions without their marks, the CTRS mean came out 0.17 lower than with "
            "them; 0.79 lower before the marks were put back: benchmarks/transcript_markup.py); punctuated transcripts "
            "are measured more exactly")
