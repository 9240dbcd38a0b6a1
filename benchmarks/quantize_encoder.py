"""Integer arithmetic for the encoder's fine-tuned layers (round 25): rewrite each top-layer file so its matrix
products run in int8 (onnxruntime's dynamic quantization: the weights' int8 values and per-column scales kept as
they are, the activations quantized to uint8 at run time), for speed on the CPU (issue #16: ``helpert screen`` on
1,000 sessions in < 30 s on 2 cores).

The layer files as trained and exported (``top_layers_encoder.py --export``) hold int8 weights dequantised in the
graph, so their arithmetic is float. Here each file is constant-folded by onnxruntime (the dequantisation becomes
float weights), then ``onnxruntime.quantization.quantize_dynamic`` (per channel, symmetric int8 weights) writes
``MatMulInteger`` nodes. Per channel, each column's scale is its largest magnitude over 127, as in the export, so
the int8 weight values come out identical: the script checks that, and stops if not. What changes is the
activations' rounding: the scale of each product's input is computed per run, which is why
``helpert.text.encoder`` reads one text per run (in a batch a text would depend on its neighbours).

Also recorded: how far the mean-pooled states move from the float arithmetic (cosine, on the ESConv validation
client turns of ../shared, or the bundled sessions), and how long both take on those texts. The heads read the
new states, so they are refitted on them (``train_risk_encoder.py``, ``train_mi_labeller.py --only-fold 1``),
and the choice is made on fresh sets (benchmarks/README.md, round 25). Needs only helpert's dependencies::

    .venv/bin/python benchmarks/quantize_encoder.py                  # the shipped files, in place
    .venv/bin/python benchmarks/quantize_encoder.py --dest DIR FILE...
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO, SHARED, report  # noqa: E402

from helpert.text import encoder  # noqa: E402


def int8_weights(model) -> list[bytes]:
    """The int8 weight matrices of an ONNX model, by value (their names differ between the two forms)."""
    from onnx import TensorProto, numpy_helper

    return sorted(numpy_helper.to_array(i).tobytes() for i in model.graph.initializer
                  if i.data_type == TensorProto.INT8 and len(i.dims) == 2)


def dynamic_int8(src: Path, dst: Path) -> None:
    """``src`` (int8 weights dequantised in the graph) as a file whose matrix products are dynamically quantized,
    written atomically to ``dst``; stops if the int8 weight values would change."""
    import onnx
    import onnxruntime as ort
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with tempfile.TemporaryDirectory() as tmp:
        folded, ready, out = (Path(tmp) / n for n in ("folded.onnx", "ready.onnx", "int8.onnx"))
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC  # constant folding: standard ops only
        options.optimized_model_filepath = str(folded)
        options.log_severity_level = 3
        ort.InferenceSession(str(src), options, providers=["CPUExecutionProvider"])
        model = onnx.load(str(folded))
        opsets: dict[str, int] = {}
        for o in model.opset_import:  # the optimiser lists the default domain once per merged piece
            opsets.setdefault(o.domain, o.version)
        del model.opset_import[:]
        for domain, version in opsets.items():
            model.opset_import.add(domain=domain, version=version)
        onnx.save(model, str(ready))
        quantize_dynamic(str(ready), str(out), weight_type=QuantType.QInt8, per_channel=True)
        before, after = int8_weights(onnx.load(str(src))), int8_weights(onnx.load(str(out)))
        if before != after:
            raise SystemExit(f"{src}: the int8 weights changed under quantization; not writing {dst}")
        part = dst.with_suffix(".onnx.part")
        part.write_bytes(out.read_bytes())
        os.replace(part, dst)


def texts_for_check(limit: int = 1000) -> list[str]:
    from helpert.io import read_sessions

    source = SHARED / "esconv" / "esconv_valid_195.jsonl"
    sessions = read_sessions(source if source.is_file() else REPO / "sessions")
    return sorted({t.text for s in sessions for t in s.client_turns})[:limit]


def compare(float_files: "list[Path]", int8_files: "list[Path]", texts: list[str]) -> dict:
    """Mean-pooled states of ``texts`` under both versions (one text per run, as the runtime reads them)."""
    import numpy as np

    out = {}
    for name, files in (("float", float_files), ("int8", int8_files)):
        with encoder.override(top=files):
            encoder.embed(texts[:5])
            encoder._cache.clear()
            t0 = time.perf_counter()
            out[name] = encoder.embed(texts)
            out[f"{name}_s"] = time.perf_counter() - t0
    cos = (out["float"] * out["int8"]).sum(1)
    return {"texts": len(texts), "cosine_mean": round(float(cos.mean()), 4), "cosine_min": round(float(cos.min()), 4),
            "float_s": round(out["float_s"], 2), "int8_s": round(out["int8_s"], 2)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("files", nargs="*", type=Path, help="layer files (default: the shipped ones)")
    ap.add_argument("--dest", type=Path, help="write here (default: in place)")
    args = ap.parse_args(argv)
    files = args.files or list(encoder.TOP_LAYERS)
    with tempfile.TemporaryDirectory() as tmp:
        originals = []
        for f in files:  # the float-arithmetic versions, kept for the comparison
            originals.append(Path(tmp) / f.name)
            originals[-1].write_bytes(f.read_bytes())
        written = []
        for f, src in zip(files, originals):
            dst = (args.dest or f.parent) / f.name
            dynamic_int8(src, dst)
            written.append(dst)
            print(f"{dst}: {dst.stat().st_size} bytes", flush=True)
        check = compare(originals, written, texts_for_check())
    report("quantize_encoder", {"files": [str(p.relative_to(REPO)) if p.is_relative_to(REPO) else str(p) for p in written],
                                "bytes": [p.stat().st_size for p in written], "int8_weights_identical": True, **check})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
