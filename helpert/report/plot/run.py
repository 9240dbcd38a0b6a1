"""The figures of a replay run, drawn from one :class:`helpert.compare.ComparedRun`: its labelled session pairs,
its comparison table and corpus statistics, and its protocol.

Pictures and the report ask the run for its comparison with ``reuse=True``: ``comparison.csv`` /
``corpus.json`` are reused when they are newer than every session file and cover the same sessions
and protocol; otherwise they are recomputed (and rewritten), so a picture never shows numbers from an
older state of the run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from helpert.compare import ComparedRun
from helpert.session import Session

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def session_figures(run: ComparedRun, original: Session, reconstruction: Session) -> dict[str, "Figure"]:
    """``flow``, ``timeline`` and (when the comparison table has the session) ``scores``."""
    from helpert.report.plot.flow import draw_flow_pair
    from helpert.report.plot.scores import draw_session_scores
    from helpert.report.plot.timeline import draw_timeline

    protocol, table = run.protocol(), run.comparison(reuse=True).table
    figures = {
        "flow": draw_flow_pair(original, reconstruction, protocol),
        "timeline": draw_timeline(original, reconstruction, protocol),
    }
    if original.dialogue_id in table.index:
        figures["scores"] = draw_session_scores(table.loc[original.dialogue_id],
                                                f"{original.dialogue_id}: CTRS and empathy, peer vs LLM")
    return figures


def corpus_figures(run: ComparedRun) -> dict[str, "Figure"]:
    """``differences`` (paired differences with CIs) and ``protocol`` (the protocol's phase graph)."""
    from helpert.report.plot.protocol_draw import draw_protocol
    from helpert.report.plot.scores import draw_corpus_differences

    return {"differences": draw_corpus_differences(run.comparison(reuse=True).stats),
            "protocol": draw_protocol(run.protocol())}
