"""How well predicted labels agree with gold labels: per-label precision, recall and F1, macro-F1 and
accuracy, F1 with a percentile bootstrap interval over items, and the precision and recall of "any label"
against "none".

``helpert validate labels`` reports these, and the label benchmarks (``benchmarks/validate_labels.py``,
``train_mi_labeller.py``, ``validate_regulation.py``) score their predictions with them. F1 is
``2 tp / (gold + predicted)`` per label and 0 where a label is neither gold nor predicted (scikit-learn's
``f1_score`` with ``zero_division=0``, to the last bit).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

if TYPE_CHECKING:
    import numpy as np


def _counts(gold: Sequence[Any], pred: Sequence[Any], labels: Sequence[Any]) -> tuple["np.ndarray", "np.ndarray", "np.ndarray"]:
    """True positives, predicted and gold counts per label."""
    import numpy as np

    g, p = np.asarray(gold), np.asarray(pred)
    tp = np.array([np.sum((g == c) & (p == c)) for c in labels], dtype=float)
    n_pred = np.array([np.sum(p == c) for c in labels], dtype=float)
    n_gold = np.array([np.sum(g == c) for c in labels], dtype=float)
    return tp, n_pred, n_gold


def _ratio(num: "np.ndarray", den: "np.ndarray") -> "np.ndarray":
    import numpy as np

    return np.divide(num, den, out=np.zeros_like(num), where=den > 0)


def f1_per_label(gold: Sequence[Any], pred: Sequence[Any], labels: Sequence[Any]) -> "np.ndarray":
    """F1 of each label, in the order of ``labels``."""
    tp, n_pred, n_gold = _counts(gold, pred, labels)
    return _ratio(2 * tp, n_gold + n_pred)


def per_label(gold: Sequence[Any], pred: Sequence[Any], labels: Sequence[Any]) -> dict[Any, dict[str, Any]]:
    """Precision, recall, F1 and gold support of each label."""
    tp, n_pred, n_gold = _counts(gold, pred, labels)
    precision, recall, f1 = _ratio(tp, n_pred), _ratio(tp, n_gold), _ratio(2 * tp, n_gold + n_pred)
    return {c: {"precision": float(precision[i]), "recall": float(recall[i]), "f1": float(f1[i]), "support": int(n_gold[i])}
            for i, c in enumerate(labels)}


def accuracy(gold: Sequence[Any], pred: Sequence[Any]) -> float:
    import numpy as np

    return float(np.mean(np.asarray(gold) == np.asarray(pred)))


def macro_f1(gold: Sequence[Any], pred: Sequence[Any], labels: Sequence[Any]) -> float:
    return float(f1_per_label(gold, pred, labels).mean())


def f1_with_ci(gold: Sequence[Any], pred: Sequence[Any], labels: Sequence[Any], resamples: int = 1000, seed: int = 0,
               digits: int = 3) -> dict[str, Any]:
    """F1 per label and macro-F1 with percentile bootstrap 95% intervals over items, rounded to ``digits``:
    ``{"macro_f1": [point, low, high], "f1": {label: [point, low, high, gold support]}}``."""
    import numpy as np

    gold, pred = np.asarray(gold), np.asarray(pred)
    point = f1_per_label(gold, pred, labels)
    rng = np.random.default_rng(seed)
    boot = []
    for _ in range(resamples):
        i = rng.integers(0, len(gold), len(gold))
        boot.append(f1_per_label(gold[i], pred[i], labels))
    boot = np.array(boot)
    lo, hi = np.percentile(boot, [2.5, 97.5], axis=0)
    mlo, mhi = np.percentile(boot.mean(1), [2.5, 97.5])
    return {"macro_f1": [round(float(point.mean()), digits), round(float(mlo), digits), round(float(mhi), digits)],
            "f1": {k: [round(float(p), digits), round(float(a), digits), round(float(b), digits), int((gold == k).sum())]
                   for k, p, a, b in zip(labels, point, lo, hi)}}


def detection(gold: Sequence[Any], pred: Sequence[Any], none: Any = "none") -> dict[str, float | None]:
    """Precision and recall of "some label" against ``none`` (None where nothing was found or present)."""
    pairs = list(zip(gold, pred))
    tp = sum(g != none and p != none for g, p in pairs)
    found = sum(p != none for p in pred)
    present = sum(g != none for g in gold)
    return {"precision": tp / found if found else None, "recall": tp / present if present else None}
