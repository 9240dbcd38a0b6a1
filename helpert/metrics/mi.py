"""Motivational-interviewing summary scores of the counselor, MITI-style, from the utterance codes of
:mod:`helpert.label.mi` (``Turn.labels["mi"]``). Formulas and the literature: docs/metrics.md, "mi".

Counts are over the utterances (sentences) of counselor turns; safety-node turns (scripted crisis handling)
are left out, as in adherence and drift, and so are minimal encouragers ("mm-hmm", "right", "i see": the
``facilitate`` code, MISC 2.5's Facilitate), which MITI does not code. A ratio whose denominator is zero is None, not 0.
"""

from __future__ import annotations

from helpert.label.mi import ADHERENT, NON_ADHERENT, QUESTION, REFLECTION
from helpert.metrics.common import codes_of, ratio
from helpert.protocols import SAFETY
from helpert.session import Session, Turn

# MITI thresholds (MITI 3.1.1: beginning proficiency / competency; 4.2.1 keeps those of R:Q and %CR).
THRESHOLDS = {
    "mi.reflection_to_question": (1.0, 2.0),
    "mi.complex_reflection_pct": (0.40, 0.50),
    "mi.open_question_pct": (0.50, 0.70),
    "mi.adherent_pct": (0.90, 1.00),
}


def mi_turns(session: Session) -> list[Turn]:
    """Counselor turns that carry MI codes, minus safety-node turns."""
    return [t for t in session.counselor_turns if codes_of(t) and t.labels.get("phase") != SAFETY]


def counts(session: Session) -> dict[str, int]:
    codes = [c for t in mi_turns(session) for c in codes_of(t)]
    return {
        "utterances": len(codes),
        "R": sum(c in REFLECTION for c in codes),
        "CR": codes.count("reflection_complex"),
        "Q": sum(c in QUESTION for c in codes),
        "OQ": codes.count("question_open"),
        "MIA": sum(c in ADHERENT for c in codes),
        "MINA": sum(c in NON_ADHERENT for c in codes),
        "AWP": codes.count("advise_without_permission"),
    }


def measure(session: Session) -> dict[str, float | None]:
    n = counts(session)
    u = n["utterances"]
    return {
        "mi.reflection_to_question": ratio(n["R"], n["Q"]),
        "mi.complex_reflection_pct": ratio(n["CR"], n["R"]),
        "mi.open_question_pct": ratio(n["OQ"], n["Q"]),
        "mi.adherent_pct": ratio(n["MIA"], n["MIA"] + n["MINA"]),
        "mi.reflection_share": ratio(n["R"], u),
        "mi.question_share": ratio(n["Q"], u),
        "mi.adherent_share": ratio(n["MIA"], u),
        "mi.non_adherent_share": ratio(n["MINA"], u),
        "mi.advice_without_permission_share": ratio(n["AWP"], u),
    }
