"""Numpy-only linear classifiers over :mod:`helpert.text.features`, loaded from one shipped ``.npz``.

Why not pickle: a weights file must be data, not code, and must load without scikit-learn. The bundle
holds one vocabulary/IDF shared by every model and the weights of all models side by side, so a batch of
turns is vectorised once and scored by a single sparse product.

Layout of ``helpert/data/labellers.npz`` (``allow_pickle=False``): ``vocab`` (UTF-8 bytes, one feature
per line), ``idf`` (float32), ``W`` (float16, features x all model columns), ``b`` (float32), ``S``
(float32, stacked sentence-score features x all model columns) and ``meta`` (UTF-8 JSON: the models,
their classes and column ranges, what each was trained on, hashes of the training turns).

A model may be *stacked* on a sentence model: its score then also depends on that sentence model's
scores over the sentences of the turn (max, mean, share above zero) - how the EPITOME rationale spans
supervise the response-level empathy levels.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from helpert.text.features import BLOCKS, Unit, Vectoriser, normalise, sentences

if TYPE_CHECKING:
    import numpy as np

DEFAULT_WEIGHTS = Path(__file__).resolve().parent.parent / "data" / "labellers.npz"
N_STACK = 3  # max, mean, share > 0 of a sentence model's scores over a turn's sentences


@dataclass
class ModelSpec:
    """Where one model's columns sit in the bundle and how to read them."""

    classes: list[str]
    start: int
    stop: int
    stack: list[str] = field(default_factory=list)  # sentence models whose aggregated scores feed this one
    info: dict[str, Any] = field(default_factory=dict)  # training data, hyper-parameters (documentation)


def csr_dot(indptr: "np.ndarray", indices: "np.ndarray", data: "np.ndarray", weights: "np.ndarray") -> "np.ndarray":
    """Sparse (CSR arrays) times dense ``weights`` without scipy: gather rows, sum per row."""
    import numpy as np

    n_rows = len(indptr) - 1
    out = np.zeros((n_rows, weights.shape[1]), dtype=np.float32)
    if len(indices) == 0:
        return out
    rows = np.repeat(np.arange(n_rows), np.diff(indptr))
    columns = np.ascontiguousarray(weights.T)  # gather one class at a time: no nnz x classes temporary
    for k in range(columns.shape[0]):
        out[:, k] = np.bincount(rows, weights=columns[k][indices] * data, minlength=n_rows)
    return out


def stack_features(sentence_scores: "np.ndarray", owner: "np.ndarray", n_units: int) -> "np.ndarray":
    """Per unit: max, mean and share above zero of each sentence-score column (rows grouped by ``owner``)."""
    import numpy as np

    n_models = sentence_scores.shape[1]
    feats = np.zeros((n_units, N_STACK * n_models), dtype=np.float32)
    counts = np.bincount(owner, minlength=n_units).astype(np.float32)
    counts[counts == 0] = 1.0
    for m in range(n_models):
        col = sentence_scores[:, m]
        mx = np.full(n_units, -np.inf, dtype=np.float32)
        np.maximum.at(mx, owner, col)
        mx[np.isinf(mx)] = 0.0
        feats[:, N_STACK * m] = mx
        feats[:, N_STACK * m + 1] = np.bincount(owner, weights=col, minlength=n_units) / counts
        feats[:, N_STACK * m + 2] = np.bincount(owner, weights=(col > 0).astype(np.float32), minlength=n_units) / counts
    return feats


def sentence_units(units: Sequence[Unit]) -> tuple[list[Unit], list[int]]:
    """Each unit's sentences as units of their own (no context, no position), with their owner index."""
    out: list[Unit] = []
    owner: list[int] = []
    for i, u in enumerate(units):
        for s in sentences(normalise(u.text)):
            out.append(Unit(text=s))
            owner.append(i)
    return out, owner


class LinearBundle:
    """All shipped turn classifiers: one vectoriser, one weight matrix, named column ranges."""

    def __init__(
        self,
        vectoriser: Vectoriser,
        W: "np.ndarray",
        b: "np.ndarray",
        S: "np.ndarray",
        models: dict[str, ModelSpec],
        meta: dict[str, Any] | None = None,
    ) -> None:
        import numpy as np

        self.vectoriser = vectoriser
        self.W = np.asarray(W, dtype=np.float32)
        self.b = np.asarray(b, dtype=np.float32)
        self.S = np.asarray(S, dtype=np.float32)
        self.models = models
        self.meta = meta or {}
        self.sentence_models = sorted({s for m in models.values() for s in m.stack})
        # blocks the sentence models read: the sentence pass skips the others (their weights are zero)
        cols = [c for s in self.sentence_models for c in range(models[s].start, models[s].stop)]
        used = np.abs(self.W[:, cols]).sum(axis=1) > 0 if cols else np.zeros(len(self.W), dtype=bool)
        self.sentence_blocks = sorted({BLOCKS[b] for b in np.unique(vectoriser.block_ids[used])}, key=BLOCKS.index)

    @classmethod
    def load(cls, path: str | Path = DEFAULT_WEIGHTS) -> "LinearBundle":
        import numpy as np

        with np.load(Path(path), allow_pickle=False) as z:
            meta = json.loads(z["meta"].tobytes().decode("utf-8"))
            vocab = z["vocab"].tobytes().decode("utf-8").split("\n")
            vec = Vectoriser(vocab, z["idf"])
            W, b, S = z["W"], z["b"], z["S"]
        models = {name: ModelSpec(**spec) for name, spec in meta.pop("models").items()}
        return cls(vec, W, b, S, models, meta)

    def save(self, path: str | Path) -> None:
        import numpy as np

        meta = {**self.meta, "models": {n: vars(m) for n, m in self.models.items()}}
        np.savez_compressed(
            Path(path),
            vocab=np.frombuffer("\n".join(self.vectoriser.vocab).encode("utf-8"), dtype=np.uint8),
            idf=self.vectoriser.idf.astype(np.float32),
            W=self.W.astype(np.float16),
            b=self.b.astype(np.float32),
            S=self.S.astype(np.float32),
            meta=np.frombuffer(json.dumps(meta, sort_keys=True).encode("utf-8"), dtype=np.uint8),
        )

    def scores(self, units: Sequence[Unit]) -> dict[str, "np.ndarray"]:
        """Raw decision scores of every model for ``units`` (rows follow ``units``)."""
        import numpy as np

        if not units:
            return {n: np.zeros((0, len(m.classes)), dtype=np.float32) for n, m in self.models.items()}
        all_scores = csr_dot(*self.vectoriser.transform(units), self.W) + self.b
        if self.sentence_models:
            sents, owner = sentence_units(units)
            cols = [self.models[s].start for s in self.sentence_models]
            sent_scores = csr_dot(*self.vectoriser.transform(sents, self.sentence_blocks), self.W[:, cols]) + self.b[cols]
            stacked = stack_features(sent_scores, np.asarray(owner), len(units))
            all_scores += stacked @ self.S
        return {n: all_scores[:, m.start : m.stop] for n, m in self.models.items()}

    def predict(self, units: Sequence[Unit]) -> dict[str, list[str]]:
        """Highest-scoring class of every model for ``units``."""
        return {
            n: [self.models[n].classes[j] for j in s.argmax(axis=1)]
            for n, s in self.scores(units).items()
            if len(self.models[n].classes) > 1
        }


@lru_cache(maxsize=4)
def load_bundle(path: str | None = None) -> LinearBundle:
    """The shipped bundle (cached: loading takes a few hundred milliseconds)."""
    return LinearBundle.load(path or DEFAULT_WEIGHTS)
