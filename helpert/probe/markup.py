"""Invariance probes for transcript conventions that carry no counseling (rounds 62-65): the same session rewritten
the way a real transcript may differ from it. A measure that reads only what was said should give the same value for
each of the first four (`tests/test_transcript.py`, `benchmarks/transcript_markup.py`); the last, text without
sentence marks, is what speech recognisers may write, and the measures read it with a bias (`helpert measure` warns).

Deterministic: random choices are seeded by the dialogue id. Turns keep their labels; label the rewritten session
again before measuring it.
"""

from __future__ import annotations

import random
import re
from typing import Callable

from helpert.session import Session


def _texts(session: Session, rewrite: Callable[[int, str, str], str]) -> Session:
    """``session`` with each turn's text replaced by ``rewrite(index, role, text)``."""
    return session.model_copy(update={"turns": [t.model_copy(update={"text": rewrite(i, t.role, t.text)})
                                                for i, t in enumerate(session.turns)]})


def with_times(session: Session) -> Session:
    """A time in brackets before every turn ("[01:05] ...", as transcription services export)."""
    return _texts(session, lambda i, role, text: f"[{i // 60:02d}:{i % 60:02d}] {text}")


def with_notes(session: Session) -> Session:
    """A transcriber's note after some turns: "[inaudible]" after about 30%, "(laughs)" after about 20%."""
    rnd = random.Random(session.dialogue_id)
    return _texts(session, lambda i, role, text: text + (" [inaudible]" if rnd.random() < 0.3 else "")
                  + (" (laughs)" if rnd.random() < 0.2 else ""))


def with_own_labels(session: Session) -> Session:
    """The speaker's label repeated at the start of every turn's text ("Therapist: ...", "Client: ...")."""
    own = {"counselor": "Therapist:", "client": "Client:"}
    return _texts(session, lambda i, role, text: f"{own[role]} {text}")


def with_fillers(session: Session, share: float = 0.08) -> Session:
    """ "um" or "uh" before about ``share`` of the words, after a word without punctuation (as a verbatim transcript
    has them)."""
    rnd = random.Random(session.dialogue_id)

    def fill(i: int, role: str, text: str) -> str:
        words = text.split()
        out = words[:1]
        for before, word in zip(words, words[1:]):
            if before[-1].isalpha() and rnd.random() < share:
                out.append(rnd.choice(("um,", "uh,", "um", "uh")))
            out.append(word)
        return " ".join(out)

    return _texts(session, fill)


def unpunctuated(session: Session) -> Session:
    """Every sentence mark (. , ! ? ; :) taken out and the text lower-cased, as some speech recognisers write."""
    return _texts(session, lambda i, role, text: re.sub(r"[.,!?;:]", "", text).lower())


# name -> rewrite, in the order benchmarks/transcript_markup.py reports them
REWRITES: dict[str, Callable[[Session], Session]] = {
    "times": with_times, "notes": with_notes, "labels": with_own_labels, "fillers": with_fillers,
    "unpunctuated": unpunctuated,
}
