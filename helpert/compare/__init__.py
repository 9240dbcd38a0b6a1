"""LLM reconstruction vs peer original: per-session differences and paired corpus statistics.

A pair is one original session and its reconstruction (same dialogue_id, same client words). Every
metric is measured on both; the corpus table reports, per metric, the paired mean difference
(llm - peer) with a percentile bootstrap CI, Cohen's dz and a paired test. Pairs where either side of a
metric is missing are dropped for that metric only.
"""

from __future__ import annotations

import math
from pathlib import Path
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from helpert.metrics import ctrs as ctrs_metrics
from helpert.metrics import ensure_labelled, measure_sessions
from helpert.protocols import Protocol
from helpert.io.atomic import atomic_write_json, atomic_write_text, read_json
from helpert.replay.runs import NoPairsError, Run  # noqa: F401  (NoPairsError: raised by compare_run_dir; callers catch it from here)
from helpert.session import Session

if TYPE_CHECKING:
    import numpy
    import pandas

N_BOOT = 2_000
SEED = 0
EXACT_PERMUTATION_MAX_N = 16   # up to 2**16 sign vectors are enumerated; beyond, random flips
N_PERMUTATIONS = 10_000
PEER, LLM = "peer", "llm"
SMALL_N = 10  # fewer session pairs than this: a bootstrap CI says little (the tables, the plot and the HTML say so)


def pairs_of(stats: "pandas.DataFrame") -> int:
    """The most session pairs any metric of ``compare_corpus`` output was computed over (0 for none)."""
    n = float(stats["n"].max()) if len(stats) else float("nan")
    return 0 if math.isnan(n) else int(n)


def small_sample_note(stats: "pandas.DataFrame") -> str:
    """A warning for a corpus too small for its intervals to mean much ("" from :data:`SMALL_N` pairs on)."""
    n = pairs_of(stats)
    if n >= SMALL_N:
        return ""
    if n <= 1:
        return "One session pair: no CI, effect size or test; the differences describe these two sessions, nothing more general."
    return (f"Only {n} session pairs: a bootstrap CI from so few pairs is far too narrow to trust (even one that "
            "excludes 0); read the differences as descriptions of these sessions, not as estimates.")


def _none_if_nan(v: Any) -> Any:
    return None if isinstance(v, float) and math.isnan(v) else v


def _measured(pairs: list[tuple[Session, Session]], protocol: Protocol, judge: ctrs_metrics.Judge | None,
              judge_concurrency: int = 1, label_judge: ctrs_metrics.Judge | None = None) -> list[dict[str, Any]]:
    """Measure originals and reconstructions in one batch each (the labeller runs once per side)."""
    sides = [measure_sessions([p[i] for p in pairs], protocol, judge, label_judge, judge_concurrency) for i in (0, 1)]
    return [
        {"dialogue_id": o.dialogue_id,
         **{name: {k: _none_if_nan(float(v)) for k, v in side.iloc[i].items()} for name, side in zip((PEER, LLM), sides)}}
        for i, (o, _) in enumerate(pairs)
    ]


def compare_pair(original: Session, reconstruction: Session, protocol: Protocol,
                 judge: ctrs_metrics.Judge | None = None) -> dict[str, Any]:
    """Both sides measured, and per metric llm - peer (None where either side is None)."""
    result = _measured([(original, reconstruction)], protocol, judge)[0]
    peer, llm = result[PEER], result[LLM]
    result["diff"] = {k: None if peer[k] is None or llm.get(k) is None else llm[k] - peer[k] for k in peer}
    return result


def pairs_frame(results: list[dict[str, Any]]) -> "pandas.DataFrame":
    """Wide table, one row per session: ``<metric>.peer`` and ``<metric>.llm`` for every metric."""
    import pandas as pd

    rows = [{f"{k}.{side}": r[side].get(k) for k in r[PEER] for side in (PEER, LLM)} for r in results]
    index = pd.Index([r["dialogue_id"] for r in results], name="dialogue_id")
    return pd.DataFrame(rows, index=index, dtype=float)


def compare_sessions(pairs: list[tuple[Session, Session]], protocol: Protocol, judge: ctrs_metrics.Judge | None = None,
                     judge_concurrency: int = 1, label_judge: ctrs_metrics.Judge | None = None) -> "pandas.DataFrame":
    """The :func:`pairs_frame` table of (original, reconstruction) pairs; with ``judge``, the LLM-judged CTRS items
    of both sides too; with ``label_judge``, both sides' phases and behaviours from an LLM judge
    (:func:`helpert.metrics.measure_sessions`; ``judge_concurrency`` sessions judged at once)."""
    return pairs_frame(_measured(pairs, protocol, judge, judge_concurrency, label_judge))


def bootstrap_ci(d: "numpy.ndarray", n_boot: int = N_BOOT, seed: int = SEED) -> tuple[float, float]:
    """Percentile 95% CI of the mean of ``d`` (vectorised: one index matrix, one mean per row)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    means = d[rng.integers(0, len(d), size=(n_boot, len(d)))].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return float(low), float(high)


def sign_flip_p(d: "numpy.ndarray", seed: int = SEED) -> float:
    """Two-sided p of the paired mean under random sign flips; exact enumeration for small n."""
    import numpy as np

    n = len(d)
    if n <= EXACT_PERMUTATION_MAX_N:
        signs = 1 - 2 * ((np.arange(2**n)[:, None] >> np.arange(n)) & 1)
        null = np.abs((signs * d).mean(axis=1))
        return float(np.mean(null >= abs(d.mean()) - 1e-12))
    rng = np.random.default_rng(seed)
    signs = rng.choice([-1.0, 1.0], size=(N_PERMUTATIONS, n))
    null = np.abs((signs * d).mean(axis=1))
    return float((np.sum(null >= abs(d.mean()) - 1e-12) + 1) / (N_PERMUTATIONS + 1))


def paired_p(d: "numpy.ndarray") -> tuple[float, str]:
    """Wilcoxon signed-rank (scipy) when available, else the sign-flip permutation test."""
    import numpy as np

    if not np.any(d):
        return 1.0, "all differences zero"
    try:
        from scipy.stats import wilcoxon
    except ImportError:
        return sign_flip_p(d), "sign-flip permutation"
    return float(wilcoxon(d).pvalue), "wilcoxon signed-rank"


def metric_stats(peer: "numpy.ndarray", llm: "numpy.ndarray", n_boot: int = N_BOOT, seed: int = SEED) -> dict[str, Any]:
    """Paired statistics of one metric; arrays may hold NaN, which drops that pair."""
    import numpy as np

    keep = ~(np.isnan(peer) | np.isnan(llm))
    sides = {name: values[~np.isnan(values)] for name, values in ((PEER, peer), (LLM, llm))}
    peer, llm = peer[keep], llm[keep]
    d = llm - peer
    n = len(d)
    nan = float("nan")
    out: dict[str, Any] = {"n": n, "peer_mean": nan, "llm_mean": nan, "mean_diff": nan, "ci_low": nan,
                           "ci_high": nan, "dz": nan, "p_value": nan, "test": "", "note": ""}
    if n == 0:
        # a metric one side never has (the peer gave no advice, so premature action is undefined for it) would vanish
        # from the table: say what the other side shows (a fresh-user review, 2026-12-07)
        only = [(name, v) for name, v in sides.items() if len(v)]
        out["note"] = ("no session has this metric on both sides" if len(only) != 1 else
                       f"only the {'LLM' if only[0][0] == LLM else 'peer'} side has values ({len(only[0][1])} "
                       f"session{'s' if len(only[0][1]) != 1 else ''}, mean {float(only[0][1].mean()):.3f})")
        return out
    out.update(peer_mean=float(peer.mean()), llm_mean=float(llm.mean()), mean_diff=float(d.mean()))
    if n == 1:
        out["note"] = "n=1: no CI, effect size or test from a single pair"
        return out
    out["p_value"], out["test"] = paired_p(d)
    out["ci_low"], out["ci_high"] = bootstrap_ci(d, n_boot, seed)
    sd = float(d.std(ddof=1))
    if sd > 0:
        out["dz"] = float(d.mean()) / sd
    else:
        out["note"] = "differences all equal: dz undefined"
    return out


def metric_names(pairs_df: "pandas.DataFrame") -> list[str]:
    """Metrics that have both a ``.peer`` and a ``.llm`` column, in column order."""
    cols = set(pairs_df.columns)
    suffix = f".{PEER}"
    return [c[: -len(suffix)] for c in pairs_df.columns if c.endswith(suffix) and f"{c[: -len(suffix)]}.{LLM}" in cols]


def compare_corpus(pairs_df: "pandas.DataFrame", n_boot: int = N_BOOT, seed: int = SEED) -> "pandas.DataFrame":
    """Per metric (index): n, peer_mean, llm_mean, mean_diff, ci_low, ci_high, dz, p_value, test, note."""
    import pandas as pd

    rows = {}
    for m in metric_names(pairs_df):
        peer = pairs_df[f"{m}.{PEER}"].to_numpy(dtype=float)
        llm = pairs_df[f"{m}.{LLM}"].to_numpy(dtype=float)
        rows[m] = metric_stats(peer, llm, n_boot, seed)
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame.index.name = "metric"
    return frame


def corpus_records(stats: "pandas.DataFrame") -> list[dict[str, Any]]:
    """The corpus table as JSON-able dicts (NaN -> None)."""
    return [
        {"metric": m, **{k: _none_if_nan(v.item() if hasattr(v, "item") else v) for k, v in row.items()}}
        for m, row in stats.iterrows()
    ]


def judge_about(judge: ctrs_metrics.Judge | None, label_judge: ctrs_metrics.Judge | None) -> dict[str, Any]:
    """``{"judge": ...}``, what corpus.json records of the LLM judge that was asked (its ``info()``), or nothing."""
    used = judge if judge is not None else label_judge
    return {"judge": used.info()} if used is not None and hasattr(used, "info") else {}


def corpus_json(stats: "pandas.DataFrame", **about: Any) -> dict[str, Any]:
    return {
        **about,
        "bootstrap": {"resamples": N_BOOT, "seed": SEED, "interval": "percentile 95%", "statistic": "mean of llm - peer"},
        "metrics": corpus_records(stats),
    }


def without_degenerate(original: Session, reconstruction: Session) -> tuple[Session, Session, int]:
    """The pair with every degenerate counselor turn left out (:mod:`helpert.metrics.quality`: flagged
    at generation, or failing the checks on a human transcript) together with the other side's counselor
    turn in the same slot, so the two sides still answer the same client words. Client turns stay.
    Returns (original, reconstruction, slots dropped)."""
    from helpert.metrics.quality import degenerate_turn_ids

    def slot_of(session: Session) -> dict[int, Any]:
        """Counselor turn idx -> slot (``meta.slot`` as replay writes it, else the turn's ordinal)."""
        counselor = [t for t in session.turns if t.role == "counselor"]
        return {t.idx: t.meta.get("slot", k) for k, t in enumerate(counselor)}

    def bad_slots(session: Session) -> set[Any]:
        of = slot_of(session)
        return {of[i] for i in degenerate_turn_ids(session)}

    drop = bad_slots(original) | bad_slots(reconstruction)
    if not drop:
        return original, reconstruction, 0

    def keep(session: Session) -> Session:
        of = slot_of(session)
        turns = [t for t in session.turns if not (t.role == "counselor" and of[t.idx] in drop)]
        return session.model_copy(update={"turns": [t.model_copy(update={"idx": i}) for i, t in enumerate(turns)]})

    return keep(original), keep(reconstruction), len(drop)


def exclude_degenerate_slots(pairs: list[tuple[Session, Session]]) -> tuple[list[tuple[Session, Session]], int]:
    """:func:`without_degenerate` over a corpus: the pairs and the number of slots dropped in all."""
    out, dropped = [], 0
    for original, reconstruction in pairs:
        o, r, n = without_degenerate(original, reconstruction)
        out.append((o, r))
        dropped += n
    return out, dropped


def match_pairs(originals: list[Session], reconstructions: list[Session]) -> tuple[list[tuple[Session, Session]], list[str]]:
    """Pairs by dialogue_id (in the originals' order) and the ids found on one side only."""
    by_id = {s.dialogue_id: s for s in reconstructions}
    pairs = [(o, by_id[o.dialogue_id]) for o in originals if o.dialogue_id in by_id]
    matched = {o.dialogue_id for o, _ in pairs}
    unmatched = sorted({s.dialogue_id for s in [*originals, *reconstructions]} - matched)
    return pairs, unmatched


@dataclass(frozen=True)
class Comparison:
    table: "pandas.DataFrame"   # one row per dialogue_id: <metric>.peer / <metric>.llm
    stats: "pandas.DataFrame"   # compare_corpus output, index = metric
    doc: dict[str, Any]         # corpus.json


class ComparedRun(Run):
    """A run folder (:class:`helpert.replay.runs.Run`) with its labelled pairs and comparison, each computed once
    and kept on the object: what ``show``, ``plot``, ``report`` and ``demo`` read."""

    def __init__(self, root: str | Path, protocol: Protocol | None = None):
        super().__init__(root, protocol)
        self._labelled: list[tuple[Session, Session]] | None = None
        self._comparisons: dict[bool, Comparison] = {}

    def title(self, n_sessions: int | None = None) -> str:
        """The comparison table's title: what was compared, and that both sides stop where the replay stopped when
        ``--max-turns`` cut it (a peer session cut to its first slots read as a finding about the peer: a fresh-user
        review, 2026-12-07)."""
        title = "LLM reconstruction vs peer" + (f" — {n_sessions} sessions" if n_sessions is not None else "")
        cut = self.manifest.args.get("max_turns")
        return f"{title} (both sides cut at {cut} counselor turns: --max-turns)" if cut else title

    def labelled(self) -> list[tuple[Session, Session]]:
        """:meth:`pairs` with phase labels for :meth:`protocol` (sessions that carry none are labelled
        with the default labeller, originals and reconstructions in one batch each), once."""
        if self._labelled is None:
            pairs, protocol = self.pairs(), self.protocol()
            originals, reconstructions = (ensure_labelled([p[i] for p in pairs], protocol) for i in (0, 1))
            self._labelled = list(zip(originals, reconstructions))
        return self._labelled

    def comparison(self, exclude_degenerate: bool = False, judge: ctrs_metrics.Judge | None = None, reuse: bool = False,
                   judge_concurrency: int = 1, label_judge: ctrs_metrics.Judge | None = None) -> Comparison:
        """Every pair measured on both sides and the corpus statistics (:mod:`helpert.compare`),
        computed once per object and written atomically to RUN_DIR/comparison.csv and corpus.json
        (``exclude_degenerate``: comparison.no_degenerate.csv and corpus.no_degenerate.json, without
        the degenerate slots). ``reuse`` takes the files on disk instead when they are newer than every
        session file and cover the same sessions and protocol. ``judge`` (an LLM judge of the CTRS
        items; ``label_judge``: of the turn labels; ``judge_concurrency`` sessions at once) is never cached. Raises :class:`NoPairsError` when no session is complete."""
        judged = judge is not None or label_judge is not None
        cached = None if judged else self._comparisons.get(exclude_degenerate)
        if cached is None and reuse and not exclude_degenerate and not judged:
            cached = self._comparison_on_disk()
        if cached is None:
            cached = self._compare(exclude_degenerate, judge, judge_concurrency, label_judge)
        if not judged:
            self._comparisons[exclude_degenerate] = cached
        return cached

    def _compare(self, exclude_degenerate: bool, judge: ctrs_metrics.Judge | None, judge_concurrency: int = 1,
                 label_judge: ctrs_metrics.Judge | None = None) -> Comparison:
        protocol = self.protocol()
        about: dict[str, Any] = {"run_dir": str(self.root), "protocol": protocol.name, "protocol_sha256": protocol.sha256,
                                 "n_sessions": len(self.pairs()), "skipped": self.skipped}
        suffix = ""
        if exclude_degenerate:  # the slots leave before labelling, so the labeller never sees them
            pairs, dropped = exclude_degenerate_slots(self.pairs())
            about.update(exclude_degenerate=True, degenerate_slots_dropped=dropped)
            suffix = ".no_degenerate"
        else:
            pairs = self.labelled()
        table = compare_sessions(pairs, protocol, judge, judge_concurrency, label_judge)
        stats = compare_corpus(table)
        doc = corpus_json(stats, **about, **judge_about(judge, label_judge))
        atomic_write_text(self.root / f"comparison{suffix}.csv", table.to_csv())
        atomic_write_json(self.root / f"corpus{suffix}.json", doc)
        return Comparison(table, stats, doc)

    def _comparison_on_disk(self) -> Comparison | None:
        import pandas as pd

        ids, protocol = {o.dialogue_id for o, _ in self.pairs()}, self.protocol()
        csv, corpus = self.root / "comparison.csv", self.root / "corpus.json"
        if not (csv.is_file() and corpus.is_file()):
            return None
        sessions = [f for d in (self.root / "sessions").iterdir() if d.is_dir() for f in d.glob("*.json")]
        newest = max((f.stat().st_mtime for f in sessions), default=0.0)
        if min(csv.stat().st_mtime, corpus.stat().st_mtime) < newest:
            return None
        doc = read_json(corpus)
        table = pd.read_csv(csv, dtype={"dialogue_id": str}).set_index("dialogue_id")
        if (doc.get("protocol") != protocol.name or doc.get("protocol_sha256", protocol.sha256) != protocol.sha256
                or set(table.index) != ids):
            return None
        return Comparison(table, stats_from_json(doc), doc)


def compare_run_dir(run_dir: str | Path, protocol: Protocol | None = None,
                    judge: ctrs_metrics.Judge | None = None,
                    exclude_degenerate_turns: bool = False, judge_concurrency: int = 1,
                    label_judge: ctrs_metrics.Judge | None = None) -> tuple["pandas.DataFrame", "pandas.DataFrame", dict[str, Any]]:
    """Compare every session of a replay run (:meth:`ComparedRun.comparison`); writes
    RUN_DIR/comparison.csv and RUN_DIR/corpus.json atomically (with ``exclude_degenerate_turns``:
    comparison.no_degenerate.csv and corpus.no_degenerate.json, computed without the degenerate
    slots). Returns (pairs table, corpus stats, corpus.json content). Raises NoPairsError when the run
    has no complete pair."""
    result = ComparedRun.open(run_dir, protocol).comparison(exclude_degenerate=exclude_degenerate_turns, judge=judge,
                                                            judge_concurrency=judge_concurrency, label_judge=label_judge)
    return result.table, result.stats, result.doc


NUMERIC_STATS = ("n", "peer_mean", "llm_mean", "mean_diff", "ci_low", "ci_high", "dz", "p_value")


def stats_from_json(doc: dict[str, Any]) -> "pandas.DataFrame":
    """``corpus.json`` back into the :func:`compare_corpus` frame (None -> NaN)."""
    import pandas as pd

    frame = pd.DataFrame(doc.get("metrics", []))
    if frame.empty:
        return pd.DataFrame(columns=list(NUMERIC_STATS), index=pd.Index([], name="metric"))
    frame = frame.set_index("metric")
    for col in NUMERIC_STATS:
        if col in frame:
            frame[col] = pd.to_numeric(frame[col], errors="coerce")
    return frame
