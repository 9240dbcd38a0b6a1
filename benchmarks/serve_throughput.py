"""Throughput of helpert on an OpenAI-compatible server: sessions/hour and aggregate generated tokens/s
against the number of sessions in flight, with one or several server replicas, and the ratio of
helpert's tokens/s to a raw client firing the very same requests (bodies recorded from helpert's run:
same prompts, seeds and sampling) at the same concurrency. The ratio says what helpert's own work
(graph, checkpoints, journal, cleaning, checks) costs on top of the server; goal >= 0.9.

Against servers you run (vLLM on a GPU, llama.cpp, Ollama...):

    python benchmarks/serve_throughput.py --base-url http://gpu-host:8000/v1 [--base-url http://gpu-host:8001/v1] \\
        --served-model meta-llama/Llama-3.1-8B-Instruct --sessions 64 --concurrency 1 2 4 8 16 32 --max-turns 6

On this machine, starting llama-cpp-python servers on the embedded model itself (one replica, then
two, each with --server-threads threads; llama.cpp collapses when its threads outnumber the free cores,
so on a shared 2-core machine keep 1):

    python benchmarks/serve_throughput.py --launch-local --readme benchmarks/README.md

Results go to benchmarks/results/serve_throughput.json (and, with --readme, a table in that file).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO, SHARED, report, update_readme_section  # noqa: E402


def corpus(n: int) -> list[Any]:
    """n sessions: ESConv validation dialogues where ../shared is there, else the bundled ones (repeated)."""
    from helpert.io import read_sessions

    esconv = SHARED / "esconv" / "esconv_valid_195.jsonl"
    if esconv.is_file():
        return read_sessions(esconv)[:n]
    bundled = read_sessions(REPO / "sessions")
    return [bundled[i % len(bundled)].model_copy(update={"dialogue_id": f"{bundled[i % len(bundled)].dialogue_id}-{i}"})
            for i in range(n)]


def write_corpus(sessions: list[Any], folder: Path) -> Path:
    import json

    path = folder / "corpus.jsonl"
    path.write_text("".join(json.dumps(s.to_record()) + "\n" for s in sessions))
    return path


class Recorder:
    """Wraps :meth:`OpenAIChatModel.complete` to keep every request body helpert sent."""

    def __init__(self) -> None:
        from helpert.replay.llm.openai_backend import OpenAIChatModel

        self.cls, self.orig, self.bodies = OpenAIChatModel, OpenAIChatModel.complete, []
        self.lock = threading.Lock()
        recorder = self

        def complete(model: Any, body: dict[str, Any]) -> Any:
            with recorder.lock:
                recorder.bodies.append((model.home, body))
            return recorder.orig(model, body)

        OpenAIChatModel.complete = complete  # type: ignore[method-assign]

    def close(self) -> None:
        self.cls.complete = self.orig  # type: ignore[method-assign]


def run_helpert(paths: list[str], urls: list[str], args: argparse.Namespace, concurrency: int) -> dict[str, Any]:
    from helpert.replay.batch import RunOptions, run_batch

    out = Path(tempfile.mkdtemp(prefix="serve-bench-"))
    recorder = Recorder()
    try:
        opts = RunOptions(backend="openai", base_url=tuple(urls), served_model=args.served_model, max_turns=args.max_turns,
                          max_tokens=args.max_tokens, n_ctx=args.n_ctx, seed=args.seed)
        t0 = time.perf_counter()
        summary = run_batch(paths, out, opts, concurrency=concurrency)
        wall = time.perf_counter() - t0
    finally:
        recorder.close()
        shutil.rmtree(out, ignore_errors=True)
    if summary.failed:
        raise SystemExit(f"helpert run failed: {summary.failed[:2]}")
    return {"wall_s": wall, "sessions": summary.replayed, "requests": summary.requests, "bodies": recorder.bodies}


def run_raw(bodies: list[tuple[int, dict[str, Any]]], urls: list[str], concurrency: int) -> dict[str, Any]:
    """The same request bodies, fired with the plain openai client, ``concurrency`` at a time, each to
    the replica helpert sent it to."""
    import openai

    clients = [openai.OpenAI(base_url=u, api_key="none", max_retries=3, timeout=600,
                             http_client=openai.DefaultHttpxClient(trust_env=False)) for u in urls]
    tokens = [0] * len(bodies)

    def fire(i: int) -> None:
        home, body = bodies[i]
        out = clients[home % len(clients)].chat.completions.create(**body)
        tokens[i] = out.usage.completion_tokens

    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(fire, range(len(bodies))))
    return {"wall_s": time.perf_counter() - t0, "completion_tokens": sum(tokens)}


def warm_up(urls: list[str], args: argparse.Namespace, workdir: Path) -> None:
    """One short unmeasured run that reaches every replica: imports, lazy models and the servers' first
    requests are not timed."""
    folder = workdir / "warm"
    folder.mkdir(exist_ok=True)
    path = write_corpus(corpus(len(urls)), folder)
    run_helpert([str(path)], urls, argparse.Namespace(**{**vars(args), "max_turns": 1}), len(urls))


def measure(paths: list[str], urls: list[str], args: argparse.Namespace, concurrency: int, replicas_label: str) -> dict[str, Any]:
    load = os.getloadavg()[0]  # other work on the machine: this benchmark's figures move with it
    h = run_helpert(paths, urls, args, concurrency)
    raw = run_raw(h["bodies"], urls, concurrency)
    # tokens generated by helpert's requests: the same bodies, so the same count where the server is
    # deterministic; the raw run's own count is used for both rates so that they compare like with like
    tokens = raw["completion_tokens"]
    row = {
        "replicas": replicas_label, "concurrency": concurrency, "sessions": h["sessions"], "requests": len(h["bodies"]),
        "helpert_wall_s": round(h["wall_s"], 2), "raw_wall_s": round(raw["wall_s"], 2),
        "sessions_per_hour": round(h["sessions"] / h["wall_s"] * 3600, 1),
        "helpert_tokens_per_s": round(tokens / h["wall_s"], 2), "raw_tokens_per_s": round(tokens / raw["wall_s"], 2),
        "ratio": round(raw["wall_s"] / h["wall_s"], 3), "completion_tokens": tokens,
        "request_retries": h["requests"]["retries"] if h["requests"] else None,
        "loadavg_1min_before": round(load, 2),
    }
    print(f"{replicas_label} c={concurrency}: {row['sessions_per_hour']} sessions/h, helpert {row['helpert_tokens_per_s']} tok/s, "
          f"raw {row['raw_tokens_per_s']} tok/s, ratio {row['ratio']}", flush=True)
    return row


# --- local llama-cpp-python servers (--launch-local) ----------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch(n: int, threads: int, log_dir: Path) -> tuple[list[str], list[subprocess.Popen]]:
    from helpert.replay.llm.models import resolve_model_path

    model = str(resolve_model_path(None))
    urls, procs = [], []
    for i in range(n):
        port = _free_port()
        log = (log_dir / f"server{i}.log").open("w")
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "llama_cpp.server", "--model", model, "--model_alias", "smollm2-135m", "--host", "127.0.0.1",
             "--port", str(port), "--n_ctx", "4096", "--n_threads", str(threads), "--n_threads_batch", str(threads),
             "--verbose", "false"], stdout=log, stderr=subprocess.STDOUT, start_new_session=True))
        urls.append(f"http://127.0.0.1:{port}/v1")
    for url, proc in zip(urls, procs):
        deadline = time.time() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{url}/models", timeout=2):
                    break
            except OSError:
                if proc.poll() is not None or time.time() > deadline:
                    stop(procs)
                    raise SystemExit(f"server at {url} did not start (see {log_dir})")
                time.sleep(0.3)
    return urls, procs


def stop(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()


def table(rows: list[dict[str, Any]]) -> str:
    lines = ["| replicas | in flight | sessions/hour | helpert tokens/s | raw client tokens/s | ratio | requests | load avg before |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['replicas']} | {r['concurrency']} | {r['sessions_per_hour']:.0f} | {r['helpert_tokens_per_s']:.1f} | "
                     f"{r['raw_tokens_per_s']:.1f} | {r['ratio']:.2f} | {r['requests']} | {r['loadavg_1min_before']:.1f} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base-url", action="append", default=[], help="server API root; repeat for replicas")
    ap.add_argument("--launch-local", action="store_true", help="start llama-cpp-python servers on the embedded model here")
    ap.add_argument("--server-threads", type=int, default=1, help="--launch-local: threads of each server")
    ap.add_argument("--served-model", default=None)
    ap.add_argument("--sessions", type=int, default=8)
    ap.add_argument("--concurrency", type=int, nargs="+", default=[1, 2, 4, 8])
    ap.add_argument("--max-turns", type=int, default=2)
    ap.add_argument("--max-tokens", type=int, default=24)
    ap.add_argument("--n-ctx", type=int, default=4096)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--readme", type=Path, default=None)
    args = ap.parse_args()
    if bool(args.base_url) == args.launch_local:
        ap.error("give --base-url URL (repeatable) or --launch-local")

    workdir = Path(tempfile.mkdtemp(prefix="serve-bench-corpus-"))
    paths = [str(write_corpus(corpus(args.sessions), workdir))]
    rows: list[dict[str, Any]] = []
    cores = len(os.sched_getaffinity(0))
    try:
        if args.launch_local:
            for n, threads in [(1, args.server_threads), (2, args.server_threads)]:
                urls, procs = launch(n, threads, workdir)
                try:
                    warm_up(urls, args, workdir)
                    label = f"{n} llama-cpp-python ({threads} thread{'s' if threads > 1 else ''} each)"
                    rows += [measure(paths, urls, args, c, label) for c in args.concurrency]
                finally:
                    stop(procs)
        else:
            warm_up(args.base_url, args, workdir)
            rows += [measure(paths, args.base_url[:1], args, c, "1") for c in args.concurrency]
            if len(args.base_url) > 1:
                rows += [measure(paths, args.base_url, args, c, str(len(args.base_url))) for c in args.concurrency]
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip()
    date = time.strftime("%Y-%m-%d")
    result = {"date": date, "commit": commit, "sessions": args.sessions, "max_turns": args.max_turns,
              "max_tokens": args.max_tokens, "servers": "launched locally" if args.launch_local else args.base_url,
              "rows": rows}
    report("serve_throughput", result)
    if args.readme:
        import statistics

        best = max(rows, key=lambda r: r["helpert_tokens_per_s"])
        worst_ratio = min(r["ratio"] for r in rows)
        median_ratio = statistics.median(r["ratio"] for r in rows)
        body = (f"## Throughput on an inference server\n\n"
                f"Measured {date} (commit {commit}) on {cores} cores with `benchmarks/serve_throughput.py "
                f"{'--launch-local' if args.launch_local else '--base-url ...'}`: {args.sessions} sessions, "
                f"{args.max_turns} counselor turns each, max {args.max_tokens} tokens per turn, "
                f"{'llama-cpp-python servers on the embedded SmolLM2-135M' if args.launch_local else 'servers ' + ', '.join(args.base_url)}. "
                f"*raw client*: the same request bodies (recorded from helpert's run) fired by the plain `openai` client at the "
                f"same concurrency; *ratio* = helpert tokens/s ÷ raw tokens/s (goal ≥ 0.9).\n\n{table(rows)}\n\n"
                f"Best: {best['helpert_tokens_per_s']:.1f} tokens/s ({best['replicas']}, {best['concurrency']} in flight); "
                f"ratio median {median_ratio:.2f}, lowest {worst_ratio:.2f} (goal ≥ 0.9 "
                f"{'met in every row' if worst_ratio >= 0.9 else '**not met in every row**'}). *load avg before*: the machine's "
                f"1-minute load average when the row started ({cores} cores): other work on a shared machine moves these figures.\n")
        update_readme_section(args.readme, "serve_throughput", body)


if __name__ == "__main__":
    main()
