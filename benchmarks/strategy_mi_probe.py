"""Probe: do the MI labeller's scores of a turn's sentences lift the ESConv strategy labeller?

The MI labeller (``helpert.label.mi``; trained on MI data, never on ESConv) scores every sentence of a counselor turn
for MITI groups and codes; ESConv's strategies (question, restatement, reflection of feelings, affirmation,
suggestions, information, self-disclosure, others) are close kin of those codes. This probe appends the scores of the
turn's first sentence (a merged ESConv turn carries its first utterance's strategy), their maximum over the turn's
sentences and their mean, standardised on each training fold, as one dense block (weight ``w``) to the shipped
strategy model's features, and runs the grouped 5-fold cross-validation of ``validate_labels.py`` (folds of whole
dialogues of esconv_valid_195.jsonl, the TSV dialogues added to every training fold). Prints strategy macro-F1 per
weight; ``w`` = 0 is the shipped model. Results: ``results/strategy_mi_probe.json``.

    .venv/bin/python benchmarks/strategy_mi_probe.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import report  # noqa: E402
from strategy_embedding_probe import StrategyCV  # noqa: E402

WEIGHTS = (0.0, 0.5, 1.0, 2.0)


def mi_block(examples) -> np.ndarray:
    """Per example: [first sentence's scores | max over sentences | mean over sentences] of the MI model."""
    from helpert.label.mi import load_model, turn_utterances

    model = load_model()
    units = [turn_utterances(e.unit.text, e.unit.prev) for e in examples]
    flat = model.scores([u for us in units for u in us])
    width = flat.shape[1]
    out = np.zeros((len(examples), 3 * width), dtype=np.float32)
    k = 0
    for i, us in enumerate(units):
        s = flat[k:k + len(us)]
        k += len(us)
        if len(us):
            out[i] = np.concatenate([s[0], s.max(axis=0), s.mean(axis=0)])
    return out


def main() -> None:
    from sklearn.metrics import f1_score

    cv = StrategyCV()
    block = mi_block(cv.examples)
    results = []
    for w in WEIGHTS:
        def dense(tr, te, w=w):
            mu, sd = block[tr].mean(axis=0), block[tr].std(axis=0) + 1e-6
            return w * (block[tr] - mu) / sd, w * (block[te] - mu) / sd

        pred = cv.predict(dense)
        f1 = float(f1_score(cv.gold, pred, labels=cv.labels, average="macro"))
        per = f1_score(cv.gold, pred, labels=cv.labels, average=None)
        results.append({"w": w, "strategy_macro_f1": round(f1, 4), "per_class": {c: round(float(x), 3) for c, x in zip(cv.labels, per)}})
        print(f"w {w}: strategy macro-F1 {f1:.3f}", flush=True)
    report("strategy_mi_probe", {"folds": 5, "dialogues": len(set(e.group for e in cv.jsonl)), "settings": results})


if __name__ == "__main__":
    main()
