"""A replay run folder, loaded once for pictures and the report: labelled session pairs, the
comparison table and the corpus statistics, and the figures drawn from them.

``comparison.csv`` / ``corpus.json`` are reused when they are newer than every session file and cover
the same sessions and protocol; otherwise they are recomputed (and rewritten) by ``compare_run_dir``,
so a picture never shows numbers from an older state of the run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from helpert.protocol import Protocol
from helpert.runs import RunDir
from helpert.session import Session

if TYPE_CHECKING:
    import pandas
    from matplotlib.figure import Figure

NUMERIC_STATS = ("n", "peer_mean", "llm_mean", "mean_diff", "ci_low", "ci_high", "dz", "p_value")


@dataclass
class RunData:
    root: Path
    manifest: dict[str, Any]
    protocol: Protocol
    pairs: list[tuple[Session, Session]]   # (original, reconstruction), both labelled
    table: "pandas.DataFrame"              # one row per dialogue_id: <metric>.peer / <metric>.llm
    stats: "pandas.DataFrame"              # compare_corpus output, index = metric
    skipped: list[str] = field(default_factory=list)

    def slug(self, dialogue_id: str) -> str:
        """The session's folder name in the run (safe as a file name and an HTML id)."""
        return RunDir(self.root).session_dir(dialogue_id).name


def stats_from_json(doc: dict[str, Any]) -> "pandas.DataFrame":
    """``corpus.json`` back into the ``compare_corpus`` frame (None -> NaN)."""
    import pandas as pd

    frame = pd.DataFrame(doc.get("metrics", []))
    if frame.empty:
        return pd.DataFrame(columns=list(NUMERIC_STATS), index=pd.Index([], name="metric"))
    frame = frame.set_index("metric")
    for col in NUMERIC_STATS:
        if col in frame:
            frame[col] = pd.to_numeric(frame[col], errors="coerce")
    return frame


def _cached_comparison(root: Path, pairs: list[tuple[Session, Session]],
                       protocol: Protocol) -> tuple["pandas.DataFrame", "pandas.DataFrame"] | None:
    import pandas as pd

    from helpert.runs import read_json

    csv, corpus = root / "comparison.csv", root / "corpus.json"
    if not (csv.is_file() and corpus.is_file()):
        return None
    sessions = [f for d in (root / "sessions").iterdir() if d.is_dir() for f in d.glob("*.json")]
    newest = max((f.stat().st_mtime for f in sessions), default=0.0)
    if min(csv.stat().st_mtime, corpus.stat().st_mtime) < newest:
        return None
    doc = read_json(corpus)
    table = pd.read_csv(csv, dtype={"dialogue_id": str}).set_index("dialogue_id")
    if doc.get("protocol") != protocol.name or set(table.index) != {o.dialogue_id for o, _ in pairs}:
        return None
    return table, stats_from_json(doc)


def load_run(run_dir: str | Path, protocol: Protocol | None = None) -> RunData:
    """Read a run folder: manifest, session pairs (labelled with the default labeller where they carry
    no phase labels), comparison table and corpus statistics. Raises ``NoPairsError`` when no session
    is complete."""
    from helpert.compare import NoPairsError, compare_run_dir, read_run_pairs, run_protocol_name
    from helpert.metrics import ensure_labelled
    from helpert.protocol import load_protocol
    from helpert.runs import read_json

    root = Path(run_dir)
    pairs, skipped = read_run_pairs(root)
    if not pairs:
        raise NoPairsError(f"{root}: no session folder with both original.json and reconstruction.json")
    protocol = protocol or load_protocol(run_protocol_name(root, pairs))
    manifest = read_json(root / "manifest.json") if (root / "manifest.json").is_file() else {}
    cached = _cached_comparison(root, pairs, protocol)
    if cached is None:
        table, stats, _ = compare_run_dir(root, protocol)
    else:
        table, stats = cached
    originals = ensure_labelled([o for o, _ in pairs], protocol)
    reconstructions = ensure_labelled([r for _, r in pairs], protocol)
    return RunData(root=root, manifest=manifest, protocol=protocol, pairs=list(zip(originals, reconstructions)),
                   table=table, stats=stats, skipped=skipped)


def session_figures(data: RunData, original: Session, reconstruction: Session) -> dict[str, "Figure"]:
    """``flow``, ``timeline`` and (when the comparison table has the session) ``scores``."""
    from helpert.plot.flow import draw_flow_pair
    from helpert.plot.scores import draw_session_scores
    from helpert.plot.timeline import draw_timeline

    figures = {
        "flow": draw_flow_pair(original, reconstruction, data.protocol),
        "timeline": draw_timeline(original, reconstruction, data.protocol),
    }
    if original.dialogue_id in data.table.index:
        figures["scores"] = draw_session_scores(data.table.loc[original.dialogue_id],
                                                f"{original.dialogue_id}: CTRS and empathy, peer vs LLM")
    return figures


def corpus_figures(data: RunData) -> dict[str, "Figure"]:
    """``differences`` (paired differences with CIs) and ``protocol`` (the protocol's phase graph)."""
    from helpert.plot.protocol_draw import draw_protocol
    from helpert.plot.scores import draw_corpus_differences

    return {"differences": draw_corpus_differences(data.stats), "protocol": draw_protocol(data.protocol)}
