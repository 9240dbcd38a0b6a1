"""Integer matrix products for the shared encoder, with each token's activations quantised on their own.

The layer files of :mod:`helpert.text.encoder` hold int8 weights that the graph turns back into floats
(``Cast`` then ``Mul`` by a per-column scale), so the arithmetic of the stock graph is float: on 2 cores it
runs at the float peak and is about three quarters of ``helpert screen``'s time. :func:`integer_products`
rewrites every such ``MatMul`` into an ``MatMulInteger`` on the *same* int8 weight values (nothing is
quantised again) and an activation quantised to 8 bits **row by row**: each token's vector gets its own
scale, so a text's states do not depend on the other texts of a batch (onnxruntime's dynamic quantisation
uses one scale per tensor, which made a turn score otherwise in a replay than in a screen: round 25,
benchmarks/README.md). Two refinements keep the states near the float ones:

- the few input channels where activations carry outliers (LayerNorm outputs up to 15 times the median
  channel's range, GELU outputs and attention contexts too; found once on CounselChat answers by ``benchmarks/int8_encoder.py`` and listed in
  ``helpert/data/minilm_int8_outliers.json``) stay in float, as a small float product added back (the
  decomposition of LLM.int8(), Dettmers et al. 2022);
- a GELU output (never below -0.17) is shifted by 0.2 and quantised unsigned, using all 256 levels; the
  shift's contribution, a constant per output column, is taken off the product's bias.

The weights enter the products as uint8 with zero point 128 (the same integers): onnxruntime's uint8 x int8 kernel on
CPUs without VNNI (an AMD EPYC here) adds pairs of products in 16 bits and saturates, so the states differed from an
Intel Xeon's by more than rounding (2026-12-06: 29 pinned crisis figures moved by one statement or more); uint8 x
uint8 products are exact on both. The float parts still round by the CPU's instruction set (tests/test_risk.py allows
one statement per set for it).

The per-token quantisation is one ``QuantizeLinear`` with a block as wide as the token's vector (opset 21's
blocked quantisation), so the graph is raised to opset 21. The integer products are exact; everything else is
float. Agreement with float and the time: ``benchmarks/int8_encoder.py``; adoption: benchmarks/README.md, rounds 28
and 29. ``benchmarks/int8_encoder.py`` measures what is
lost against the float graph and what is gained in time.
"""

from __future__ import annotations

import json
from pathlib import Path

OUTLIERS = Path(__file__).resolve().parent.parent / "data" / "minilm_int8_outliers.json"
GELU_SHIFT = 0.2  # GELU(x) >= -0.170


def weight_products(graph) -> "dict[str, tuple[str, str]]":
    """{MatMul node name: (int8 weight initializer, per-column scale)} for every product of the form
    ``A @ (Cast(W_int8) * scale)`` in an ``onnx`` graph."""
    produced = {o: n for n in graph.node for o in n.output}
    initializers = {i.name for i in graph.initializer}
    out = {}
    for node in graph.node:
        if node.op_type != "MatMul":
            continue
        mul = produced.get(node.input[1])
        cast = produced.get(mul.input[0]) if mul is not None and mul.op_type == "Mul" else None
        if cast is not None and cast.op_type == "Cast" and cast.input[0] in initializers:
            out[node.name] = (cast.input[0], mul.input[1])
    return out


def load_outliers(path: Path = OUTLIERS) -> "dict[str, list[int]]":
    """{activation tensor name: input channels kept in float}; empty if the file is missing."""
    if not path.is_file():
        return {}
    return {k: [int(c) for c in v] for k, v in json.loads(path.read_text())["channels"].items()}


def integer_products(model: bytes, outliers: "dict[str, list[int]] | None" = None) -> bytes:
    """``model`` (a serialised ONNX graph) with its weight-only int8 ``MatMul`` nodes run as integer products
    (module docstring). ``outliers``: {activation name: channels kept in float}; None reads the shipped list."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    outliers = load_outliers() if outliers is None else outliers
    m = onnx.load_from_string(model)
    g = m.graph
    targets = weight_products(g)
    if not targets:
        return model
    arrays = {i.name: i for i in g.initializer}
    readers: dict = {}
    for n in g.node:
        for i in n.input:
            readers.setdefault(i, []).append(n)

    def array(name):
        return numpy_helper.to_array(arrays[name])

    consts = [numpy_helper.from_array(np.array(v, dt), name) for name, v, dt in (
        ("int8/127", 127.0, np.float32), ("int8/255", 255.0, np.float32), ("int8/eps", 1e-8, np.float32),
        ("int8/0f", 0.0, np.float32), ("int8/128f", 128.0, np.float32), ("int8/128", 128, np.uint8),
        ("int8/shift", GELU_SHIFT, np.float32), ("int8/last", [-1], np.int64), ("int8/0u8", 0, np.uint8))]
    node = helper.make_node
    unsigned: dict = {}

    def weight_u8(wq: str) -> str:
        """The int8 weights as uint8 with zero point 128 (the same integers): onnxruntime's uint8 x int8 kernel for
        CPUs without VNNI sums pairs of products in 16 bits and saturates, so the same graph gave other states on an
        AMD EPYC than on an Intel Xeon; uint8 x uint8 products are exact on both."""
        if wq not in unsigned:
            unsigned[wq] = wq + "/u8"
            consts.append(numpy_helper.from_array((array(wq).astype(np.int16) + 128).astype(np.uint8), unsigned[wq]))
        return unsigned[wq]

    gelu_inputs = {n.input[0] for n in g.node if n.name in targets and "/out/" in n.name}
    new, prepared, bias_shift = [], {}, {}
    for n in g.node:
        if n.name not in targets:
            new.append(n)
            continue
        a = n.input[0]
        wq, ws = targets[n.name]
        if a not in prepared:  # one quantisation per activation, shared by the products that read it (q, k, v)
            q = f"int8/a{len(prepared)}/"
            src = a
            width = int(array(wq).shape[0])  # one block per token: a scale of its own
            channels = np.array(sorted(outliers.get(a, ())), dtype=np.int64)
            if len(channels):
                keep = np.ones(array(wq).shape[0], np.float32)
                keep[channels] = 0
                consts += [numpy_helper.from_array(keep, q + "keep"), numpy_helper.from_array(channels, q + "channels")]
                new += [node("Gather", [a, q + "channels"], [q + "outliers"], axis=-1),
                        node("Mul", [a, q + "keep"], [q + "rest"])]
                src = q + "rest"
            if a in gelu_inputs:  # non-negative after the shift: unsigned, zero point 0, all 256 levels
                new += [node("Add", [src, "int8/shift"], [q + "shifted"]),
                        node("ReduceMax", [q + "shifted", "int8/last"], [q + "max"], keepdims=1),
                        node("Max", [q + "max", "int8/eps"], [q + "max+"]),
                        node("Div", [q + "max+", "int8/255"], [q + "scale"]),
                        node("QuantizeLinear", [q + "shifted", q + "scale"], [q + "u8"], axis=-1, block_size=width)]
                zero = None
            else:  # symmetric: 127 levels each side of the zero point 128
                new += [node("Abs", [src], [q + "abs"]),
                        node("ReduceMax", [q + "abs", "int8/last"], [q + "max"], keepdims=1),
                        node("Max", [q + "max", "int8/eps"], [q + "max+"]),
                        node("Div", [q + "max+", "int8/127"], [q + "scale"]),
                        node("Mul", [q + "scale", "int8/0f"], [q + "0"]),  # [batch, tokens, 1] zero points of 128
                        node("Add", [q + "0", "int8/128f"], [q + "128"]),
                        node("Cast", [q + "128"], [q + "zero"], to=TensorProto.UINT8),
                        node("QuantizeLinear", [src, q + "scale", q + "zero"], [q + "u8"], axis=-1, block_size=width)]
                zero = "int8/128"
            prepared[a] = (q, len(channels) > 0, zero, a in gelu_inputs)
        q, split, zero, shifted = prepared[a]
        p = f"int8/{n.name}/"
        new += [node("MatMulInteger", [q + "u8", weight_u8(wq), zero or "int8/0u8", "int8/128"], [p + "i32"]),
                node("Cast", [p + "i32"], [p + "f"], to=TensorProto.FLOAT),
                node("Mul", [p + "f", q + "scale"], [p + "fs"]),
                node("Mul", [p + "fs", ws], [p + "y"])]
        y = p + "y"
        weights = array(wq).astype(np.float32) * array(ws).astype(np.float32) if shifted or split else None
        if shifted:  # the shift's share of the product, a constant per column, comes off the bias
            bias = next((r for r in readers.get(n.output[0], ()) if r.op_type == "Add"
                         and any(i in arrays for i in r.input)), None)
            if bias is None:
                raise ValueError(f"{n.name}: no bias Add to take the GELU shift off")
            name = next(i for i in bias.input if i in arrays)
            bias_shift[name] = bias_shift.get(name, 0) + GELU_SHIFT * weights.sum(0)
        if split:
            channels = sorted(outliers[a])
            consts.append(numpy_helper.from_array(weights[channels], p + "outlier_w"))
            new += [node("MatMul", [q + "outliers", p + "outlier_w"], [p + "y_outliers"]),
                    node("Add", [y, p + "y_outliers"], [p + "y+outliers"])]
            y = p + "y+outliers"
        new.append(node("Identity", [y], list(n.output)))
    for init in g.initializer:
        if init.name in bias_shift:
            init.CopyFrom(numpy_helper.from_array((array(init.name) - bias_shift[init.name]).astype(np.float32), init.name))
    del g.node[:]
    g.node.extend(new)
    g.initializer.extend(consts)
    _prune(g)
    del m.opset_import[:]  # QuantizeLinear with one scale per token (blocked quantisation) is opset 21
    m.opset_import.extend([helper.make_opsetid("", 21)])
    return m.SerializeToString()


def _prune(g) -> None:
    """Drop nodes and initializers nothing reads any more (the float copies of the weights)."""
    while True:
        used = {i for n in g.node for i in n.input} | {o.name for o in g.output}
        keep = [n for n in g.node if any(o in used for o in n.output)]
        if len(keep) == len(g.node):
            break
        del g.node[:]
        g.node.extend(keep)
    live = {i for n in g.node for i in n.input}
    keep = [i for i in g.initializer if i.name in live]
    del g.initializer[:]
    g.initializer.extend(keep)


__all__ = ["OUTLIERS", "integer_products", "load_outliers", "weight_products"]
