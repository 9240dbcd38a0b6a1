"""Talk: who speaks how much, and how often the counselor asks. Needs no labels except, optionally,
``behaviour`` for questions whose text has no question mark (e.g. transcribed speech)."""

from __future__ import annotations

from helpert.metrics.common import QUESTION_BEHAVIOURS, behaviour, ratio
from helpert.session import Session, Turn


def words(turn: Turn) -> int:
    return len(turn.text.split())


def is_question(turn: Turn) -> bool:
    return "?" in turn.text or behaviour(turn) in QUESTION_BEHAVIOURS


def measure(session: Session) -> dict[str, float | None]:
    counselor, client = session.counselor_turns, session.client_turns
    cw, kw = sum(map(words, counselor)), sum(map(words, client))
    return {
        "talk.talk_ratio": ratio(cw, cw + kw),
        "talk.question_ratio": ratio(sum(map(is_question, counselor)), len(counselor)),
        "talk.counselor_words_per_turn": ratio(cw, len(counselor)),
        "talk.client_words_per_turn": ratio(kw, len(client)),
        "talk.counselor_turns": float(len(counselor)),
        "talk.client_turns": float(len(client)),
    }
