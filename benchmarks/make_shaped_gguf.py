"""Build a random-weight GGUF with the exact shape of a bigger chat model (no model hub here).

llama.cpp's memory use and per-token speed depend on the architecture, the shape and the quantisation,
not on the weight values, so a shaped random model gives an honest memory/speed figure for a model
size we cannot download. The tokenizer and chat template are copied from the embedded SmolLM2-135M
GGUF (vocab 49152), so ``helpert replay --model`` works on it unchanged; its text is gibberish.

Needs the ``gguf`` package (benchmark-only: ``.venv/bin/pip install gguf``). Files go to
~/.cache/helpert-bench/ (never into the repo)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

CACHE = Path.home() / ".cache" / "helpert-bench"

# Hyper-parameters of the real models (their config.json); the vocab is SmolLM2's 49152, see above.
SHAPES: dict[str, dict[str, Any]] = {
    "llama-3.2-1b": {"name": "Llama-3.2-1B shape (random)", "hidden": 2048, "layers": 16, "heads": 32,
                     "kv_heads": 8, "ffn": 8192, "rope_theta": 500000.0, "context": 131072, "rms_eps": 1e-5},
    "smollm2-1.7b": {"name": "SmolLM2-1.7B shape (random)", "hidden": 2048, "layers": 24, "heads": 32,
                     "kv_heads": 32, "ffn": 8192, "rope_theta": 130000.0, "context": 8192, "rms_eps": 1e-5},
}


def _copy_tokenizer(reader: Any, writer: Any) -> None:
    """Every ``tokenizer.*`` key of the source GGUF, with its original value type."""
    from gguf import GGUFValueType

    for key, field in reader.fields.items():
        if not key.startswith("tokenizer."):
            continue
        vtype = field.types[0]
        sub = field.types[1] if vtype == GGUFValueType.ARRAY else None
        writer.add_key_value(key, field.contents(), vtype, sub_type=sub)


def _tensors(shape: dict[str, Any], vocab: int, seed: int):
    """(name, array) in llama.cpp's naming; numpy shape is (out, in). Tied embeddings: no output.weight."""
    import numpy as np

    rng = np.random.default_rng(seed)
    h, hd = shape["hidden"], shape["hidden"] // shape["heads"]
    kv = shape["kv_heads"] * hd

    def w(rows: int, cols: int) -> Any:
        return (rng.standard_normal((rows, cols), dtype=np.float32) * 0.02).astype(np.float16)

    def norm() -> Any:
        return np.ones(h, dtype=np.float32)

    yield "token_embd.weight", w(vocab, h)
    for i in range(shape["layers"]):
        b = f"blk.{i}."
        yield b + "attn_norm.weight", norm()
        yield b + "attn_q.weight", w(h, h)
        yield b + "attn_k.weight", w(kv, h)
        yield b + "attn_v.weight", w(kv, h)
        yield b + "attn_output.weight", w(h, h)
        yield b + "ffn_norm.weight", norm()
        yield b + "ffn_gate.weight", w(shape["ffn"], h)
        yield b + "ffn_up.weight", w(shape["ffn"], h)
        yield b + "ffn_down.weight", w(h, shape["ffn"])
    yield "output_norm.weight", norm()


def write_f16(preset: str, out: Path, seed: int = 0) -> int:
    """Write the F16 GGUF; returns the parameter count."""
    from gguf import GGUFReader, GGUFWriter, LlamaFileType

    from helpert.replay.llm.models import default_model_path

    shape = SHAPES[preset]
    reader = GGUFReader(default_model_path())
    vocab = int(reader.fields["llama.vocab_size"].contents())
    writer = GGUFWriter(out, "llama")
    writer.add_name(shape["name"])
    writer.add_type("model")
    writer.add_context_length(shape["context"])
    writer.add_embedding_length(shape["hidden"])
    writer.add_block_count(shape["layers"])
    writer.add_feed_forward_length(shape["ffn"])
    writer.add_head_count(shape["heads"])
    writer.add_head_count_kv(shape["kv_heads"])
    writer.add_rope_dimension_count(shape["hidden"] // shape["heads"])
    writer.add_rope_freq_base(shape["rope_theta"])
    writer.add_layer_norm_rms_eps(shape["rms_eps"])
    writer.add_vocab_size(vocab)
    writer.add_file_type(LlamaFileType.MOSTLY_F16)
    _copy_tokenizer(reader, writer)
    params = 0
    for name, arr in _tensors(shape, vocab, seed):
        params += arr.size
        writer.add_tensor(name, arr)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return params


def quantize_q4_1(fin: Path, fout: Path, threads: int) -> None:
    """Same quantisation as the embedded model, through llama.cpp's own quantiser."""
    import ctypes

    import llama_cpp

    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = llama_cpp.LLAMA_FTYPE_MOSTLY_Q4_1
    params.nthread = threads
    rc = llama_cpp.llama_model_quantize(str(fin).encode(), str(fout).encode(), ctypes.byref(params))
    if rc != 0:
        raise SystemExit(f"llama_model_quantize failed ({rc})")


def smoke_test(path: Path, threads: int) -> str:
    """Loads with the replay's settings and generates a few tokens (gibberish expected)."""
    from llama_cpp import Llama

    llm = Llama(model_path=str(path), n_ctx=4096, n_threads=threads, verbose=False)
    out = llm.create_chat_completion([{"role": "user", "content": "Hello"}], max_tokens=8, temperature=0.7)
    return out["choices"][0]["message"]["content"]


def build(preset: str, threads: int, seed: int = 0) -> Path:
    CACHE.mkdir(parents=True, exist_ok=True)
    f16, q4 = CACHE / f"{preset}.F16.gguf", CACHE / f"{preset}.Q4_1.gguf"
    params = write_f16(preset, f16, seed)
    print(f"{preset}: {params:,} parameters ({params / 1e9:.2f}B), F16 {f16.stat().st_size / 2**20:.0f} MiB", flush=True)
    quantize_q4_1(f16, q4, threads)
    f16.unlink()
    print(f"{preset}: {q4} {q4.stat().st_size / 2**20:.0f} MiB; sample: {smoke_test(q4, threads)!r}", flush=True)
    return q4


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("presets", nargs="*", metavar="PRESET", help=f"one or more of {', '.join(SHAPES)} (default: all)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    if unknown := set(args.presets) - set(SHAPES):
        ap.error(f"unknown preset(s): {', '.join(sorted(unknown))}")
    for preset in args.presets or list(SHAPES):
        build(preset, args.threads, args.seed)


if __name__ == "__main__":
    main()
