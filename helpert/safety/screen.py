"""Screen transcripts for crisis content without a language model: every client turn of every session
through the safety path's risk assessment (:func:`helpert.safety.risk.assess_turns`), so a researcher can
find which sessions need a clinician's eyes. ``helpert screen`` is the command over it.

Only the seam of :mod:`helpert.safety.risk` is used (``assess_turns``, ``RiskAssessment``, the policies), so
a new detector behind it changes the tiers, never this module. Turn ``idx`` is the session's own.

Consecutive client turns are **not** merged (``merge_consecutive`` is for replay): every original client
turn gets its own tier, so a flag points at the line that holds the statement. ``assess_turns`` reads each
turn with the client's earlier turns as context, so the earlier fragments of a split utterance are its
context; a risk phrase broken over two lines is caught only as far as the detector reads that context.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Iterable

from helpert.safety.policy import DEFAULT_POLICY
from helpert.safety.risk import RiskAssessment, assess_conversations
from helpert.session import Session
from helpert.text.language import check_english


@dataclass(frozen=True)
class ScreenedTurn:
    """One client turn and what the safety path makes of it."""

    dialogue_id: str
    idx: int
    text: str
    assessment: RiskAssessment

    def to_record(self) -> dict[str, Any]:
        """The JSON line of ``helpert screen --json`` (no text: the ids point back into the transcript)."""
        a = self.assessment
        return {"dialogue_id": self.dialogue_id, "idx": self.idx, "tier": a.tier, "kinds": list(a.kinds),
                "score": round(float(a.score), 4)}


@dataclass(frozen=True)
class ScreenSummary:
    """Counts over a screened corpus. Each session counts once, under its most severe tier: ``crisis_sessions`` have
    a crisis turn, ``check_sessions`` a check turn and no crisis turn (before 2026-12-07 a session with both counted
    under both, and a user read two flagged sessions where there was one)."""

    sessions: int
    client_turns: int
    crisis_sessions: int
    check_sessions: int
    flagged_turns: int
    not_english_sessions: int = 0  # text not English: a tier of none there clears nothing (see screen_batch)

    @property
    def unflagged_sessions(self) -> int:
        return self.sessions - self.crisis_sessions - self.check_sessions


BATCH_SESSIONS = 500  # sessions whose client turns the encoder reads in one batched pass


def screen_session(session: Session, policy: str = DEFAULT_POLICY) -> list[ScreenedTurn]:
    """Every client turn of ``session``, in order, with its assessment."""
    return screen_batch([session], policy)[0]


NOT_ENGLISH = "not_english"


def screen_batch(sessions: list[Session], policy: str = DEFAULT_POLICY) -> list[list[ScreenedTurn]]:
    """:func:`screen_session` for several sessions, their turns read by the encoder in one pass.

    A session whose text is not English (:func:`helpert.text.language.check_english`) is read all the same, but its
    client turns get the kind :data:`NOT_ENGLISH` beside the detector's: the lexicon and the encoder know English
    only, so "none" there means only that nothing was found that they can read. (Reading it all the same keeps an
    English session the check misjudges, say one typed in heavy chat shorthand, as safe as before.)"""
    turns = [s.client_turns for s in sessions]
    assessed = assess_conversations([[t.text for t in ts] for ts in turns], policy)
    out = []
    for s, ts, az in zip(sessions, turns, assessed, strict=True):
        if not check_english(t.text for t in s.turns).english:
            az = [replace(a, kinds=(*a.kinds, NOT_ENGLISH)) for a in az]
        out.append([ScreenedTurn(s.dialogue_id, t.idx, t.text, a) for t, a in zip(ts, az, strict=True)])
    return out


def screen_by_session(sessions: Iterable[Session], policy: str = DEFAULT_POLICY) -> list[list[ScreenedTurn]]:
    """:func:`screen_session` for every session, :data:`BATCH_SESSIONS` at a time through the encoder."""
    sessions = list(sessions)
    return [per for start in range(0, len(sessions), BATCH_SESSIONS)
            for per in screen_batch(sessions[start:start + BATCH_SESSIONS], policy)]


def screen_sessions(sessions: Iterable[Session], policy: str = DEFAULT_POLICY) -> list[ScreenedTurn]:
    """Every client turn of every session, in session then turn order (flagged or not; filter on
    ``turn.assessment.flagged``). ``policy``: one of :data:`helpert.safety.risk.SAFETY_POLICIES`."""
    return [turn for per in screen_by_session(sessions, policy) for turn in per]


def summarise(per_session: Iterable[list[ScreenedTurn]]) -> ScreenSummary:
    """Counts over :func:`screen_session` outputs, one list per session (a session without client turns
    is an empty list and still counts as screened)."""
    sessions = client_turns = crisis = check = flagged = unread = 0
    for turns in per_session:
        tiers = {t.assessment.tier for t in turns}
        sessions += 1
        client_turns += len(turns)
        crisis += "crisis" in tiers
        check += "check" in tiers and "crisis" not in tiers
        flagged += sum(t.assessment.flagged for t in turns)
        unread += any(NOT_ENGLISH in t.assessment.kinds for t in turns)
    return ScreenSummary(sessions, client_turns, crisis, check, flagged, unread)
