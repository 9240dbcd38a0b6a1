"""Pictures of sessions, runs and protocols (networkx + matplotlib on the Agg canvas, no display).

One module per kind: ``flow`` (phase-transition graph of a session), ``timeline`` (phase per slot,
peer vs LLM), ``scores`` (CTRS and empathy of a session; paired differences of a corpus),
``protocol_draw`` (a protocol's YAML graph and its compiled LangGraph graph). ``run`` draws a replay
folder's figures. Nothing heavy is imported until a function runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from helpert.protocols import Protocol

if TYPE_CHECKING:
    from helpert.compare import ComparedRun


def plot_run(run_dir: "str | Path | ComparedRun", protocol: Protocol | None = None) -> list[Path]:
    """Write every picture of a run (a folder or an open :class:`helpert.compare.ComparedRun`) into RUN_DIR/plots/
    (atomically): per session ``<id>.flow.png``, ``<id>.timeline.png``, ``<id>.scores.png``; for the
    corpus ``corpus.differences.png`` and ``protocol.png``. Returns the paths written."""
    from helpert.report.plot.common import save_figure
    from helpert.report.plot.run import corpus_figures, session_figures
    from helpert.compare import ComparedRun

    run = ComparedRun.open(run_dir, protocol)
    out = run.root / "plots"
    written: list[Path] = []
    for original, reconstruction in run.labelled():
        slug = run.slug(original.dialogue_id)
        for name, fig in session_figures(run, original, reconstruction).items():
            written.append(save_figure(fig, out / f"{slug}.{name}.png"))
    for name, fig in corpus_figures(run).items():
        written.append(save_figure(fig, out / ("protocol.png" if name == "protocol" else f"corpus.{name}.png")))
    return written


__all__ = ["plot_run"]
