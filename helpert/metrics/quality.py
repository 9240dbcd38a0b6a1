"""Quality of the generated text itself: how many turns are degenerate (loops, copies, narration...).

A generated turn carries the flags written when it was generated (``meta.flags``; ``degenerate`` marks a
turn still failing a check of :mod:`helpert.replay.llm.degenerate` after the retries). A turn without generation
flags (a human transcript) is put through the same checks here, so the peer's share is measured by the
same rules. Every other metric is contaminated by degenerate turns; ``helpert compare
--exclude-degenerate`` recomputes them without those turns.
"""

from __future__ import annotations

from helpert.replay.llm.degenerate import DEGENERATE, session_findings
from helpert.metrics.common import ratio
from helpert.session import Session, Turn


def findings_after_the_fact(session: Session) -> dict[int, list[str]]:
    """``idx`` -> the checks each counselor turn fails when run on the final transcript, as the graph ran
    them at generation time. The safety node's scripted words are taken out first: they repeat by design
    (:func:`helpert.safety.templates.model_part`)."""
    from helpert.safety.templates import model_part
    from helpert.text.transcript import speech

    turns = session.turns
    # a transcriber's "(laughs)" is not a model's narration: times and notes out first (helpert.text.transcript)
    return {turns[i].idx: f for i, f in session_findings([(t.role, model_part(speech(t.text))) for t in turns])}


def degenerate_turn_ids(session: Session) -> set[int]:
    """``idx`` of the counselor turns that are degenerate: flagged at generation, or, for a turn never
    generated here (no ``flags`` in meta), failing the checks on the transcript."""
    found = findings_after_the_fact(session)
    out = set()
    for t in session.counselor_turns:
        flags = t.meta.get("flags")
        if (DEGENERATE in flags) if isinstance(flags, list) else bool(found.get(t.idx)):
            out.add(t.idx)
    return out


def _client_flagged(turn: Turn) -> bool:
    return DEGENERATE in (turn.meta.get("flags") or [])


def measure(session: Session) -> dict[str, float | None]:
    counselor = session.counselor_turns
    simulated = [t for t in session.client_turns if t.meta.get("simulated")]
    return {
        "quality.degenerate_share": ratio(len(degenerate_turn_ids(session)), len(counselor)),
        "quality.client_degenerate_share": ratio(sum(map(_client_flagged, simulated)), len(simulated)) if simulated else None,
    }
