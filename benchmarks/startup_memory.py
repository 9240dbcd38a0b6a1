"""Targets: `helpert --help` < 0.3 s (heavy imports lazy); peak RSS of a replay on the default model
< 600 MB. Both measured on fresh subprocesses, as a user would run them.

``--model PATH`` (repeatable) also replays on other GGUFs, e.g. the random-weight 1B-shaped models of
make_shaped_gguf.py: peak RSS, model file size, KV cache at the replay's n_ctx, model calls and tok/s."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO, report  # noqa: E402

HELPERT = [sys.executable, "-m", "helpert"]
SESSION = REPO / "sessions" / "exam_anxiety.txt"
MAX_TURNS = 8
N_CTX = 4096  # `helpert replay`'s default, passed explicitly so the KV cache figure matches


def replay_peak(extra: list[str]) -> dict[str, Any]:
    """One replay in a fresh subprocess. Its peak RSS comes from os.wait4 on that child alone:
    RUSAGE_CHILDREN's ru_maxrss is the maximum over every child reaped so far, not this one."""
    with tempfile.TemporaryDirectory() as tmp, tempfile.TemporaryFile() as log:
        cmd = [*HELPERT, "replay", str(SESSION), "--out", tmp, "--max-turns", str(MAX_TURNS), *extra]
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode:
            log.seek(0)
            raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{log.read().decode()[-2000:]}")
        session_dir = next((Path(tmp) / "sessions").iterdir())
        timings = json.loads((session_dir / "timings.json").read_text())
        recon = json.loads((session_dir / "reconstruction.json").read_text())
    completion = sum(t["completion_tokens"] for t in timings)
    turn_s = sum(t["wall_ms"] for t in timings) / 1000
    return {
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "process_wall_s": round(wall, 1),
        "counselor_turns": len(timings),
        "model_calls": sum(t["meta"].get("attempts", 1) for t in recon["turns"] if t["role"] == "counselor"),
        "prompt_tokens_evaluated": sum(t["prompt_tokens"] - t["cached_tokens"] for t in timings),
        "completion_tokens": completion,
        "turn_wall_s": round(turn_s, 1),
        # timings.json keeps each turn's wall time, not generation time alone: prompt evaluation is included
        "tok_s_incl_prompt_eval": round(completion / turn_s, 1) if turn_s else None,
    }


def model_facts(path: Path) -> dict[str, Any]:
    """File size, shape and the F16 KV cache at N_CTX (llama.cpp's default cache type), from the metadata."""
    from llama_cpp import Llama

    meta = Llama(model_path=str(path), vocab_only=True, verbose=False).metadata
    arch = meta["general.architecture"]
    layers, heads = int(meta[f"{arch}.block_count"]), int(meta[f"{arch}.attention.head_count"])
    kv_heads = int(meta.get(f"{arch}.attention.head_count_kv", heads))
    head_dim = int(meta[f"{arch}.embedding_length"]) // heads
    return {
        "model": str(path), "file_mb": round(path.stat().st_size / 2**20, 1), "name": meta.get("general.name"),
        "layers": layers, "hidden": int(meta[f"{arch}.embedding_length"]), "heads": heads, "kv_heads": kv_heads,
        "kv_cache_mb": round(2 * layers * N_CTX * kv_heads * head_dim * 2 / 2**20, 1),
    }


def main(models: list[Path], runs: int = 10) -> None:
    from helpert.replay.llm.models import default_model_path, default_threads

    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run([str(Path(sys.executable).parent / "helpert"), "--help"], check=True, capture_output=True)
        times.append(time.perf_counter() - t0)
    load = os.getloadavg()[0]
    default = {**model_facts(default_model_path()), **replay_peak([])}
    result: dict[str, Any] = {
        "help_seconds": [round(t, 3) for t in times], "help_median_s": round(statistics.median(times), 3),
        "help_target_s": 0.3, "replay_peak_rss_mb": default["peak_rss_mb"], "rss_target_mb": 600,
        "note": "ru_maxrss of the replay process alone (os.wait4)",
        "met": statistics.median(times) < 0.3 and default["peak_rss_mb"] < 600,
        "replay": {"session": SESSION.name, "max_turns": MAX_TURNS, "n_ctx": N_CTX, "threads": default_threads()},
        "default_model": {**default, "loadavg_1min_before": round(load, 2)},
    }
    if models:
        result["models"] = []
        for path in models:
            load = os.getloadavg()[0]
            row = {**model_facts(path), **replay_peak(["--model", str(path), "--n-ctx", str(N_CTX)])}
            result["models"].append({**row, "loadavg_1min_before": round(load, 2)})
            print(json.dumps(result["models"][-1]), file=sys.stderr, flush=True)  # long runs: show progress
    report("startup_memory", result)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", type=Path, action="append", default=[], help="also replay on this GGUF (repeatable)")
    main(ap.parse_args().model)
