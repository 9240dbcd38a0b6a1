"""Against a real inference server: llama-cpp-python's OpenAI-compatible server on the embedded model,
on 127.0.0.1 at a free port, torn down in every case. Skipped where the server extras are absent
(``make install`` installs them)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("openai")
try:
    import llama_cpp.server.app  # noqa: F401
except ImportError as exc:  # the server's extras (fastapi, uvicorn, sse-starlette, ...) are not installed
    pytest.skip(f"llama_cpp.server cannot be imported ({exc})", allow_module_level=True)

pytestmark = [pytest.mark.model, pytest.mark.server]

REPO = Path(__file__).resolve().parents[1]
SESSIONS = REPO / "sessions"
START_TIMEOUT_S = 90


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LlamaServer:
    """``python -m llama_cpp.server`` on the embedded GGUF, in its own process group."""

    def __init__(self, port: int, log: Path):
        from helpert.replay.llm.models import resolve_model_path

        self.port, self.log = port, log
        self.model = str(resolve_model_path(None))
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> "LlamaServer":
        with self.log.open("a") as fh:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "llama_cpp.server", "--model", self.model, "--model_alias", "smollm2-135m",
                 "--host", "127.0.0.1", "--port", str(self.port), "--n_ctx", "2048", "--n_threads", "1",
                 "--n_threads_batch", "1", "--verbose", "false"],
                stdout=fh, stderr=subprocess.STDOUT, start_new_session=True,
            )
        import urllib.request

        deadline = time.time() + START_TIMEOUT_S
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"llama_cpp.server exited with {self.proc.returncode}: {self.log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/models", timeout=2) as r:
                    if r.status == 200:
                        return self
            except OSError:
                time.sleep(0.3)
        self.kill()
        raise RuntimeError(f"llama_cpp.server did not answer within {START_TIMEOUT_S} s")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(timeout=30)


@pytest.fixture
def llama_server(tmp_path):
    server = LlamaServer(free_port(), tmp_path / "server.log")
    try:
        yield server.start()
    finally:
        server.kill()


def _batch(out: Path, url: str, *extra: str, wait: bool = True) -> subprocess.Popen | subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    files = [str(SESSIONS / f) for f in ("exam_anxiety.txt", "work_conflict.jsonl", "loneliness.csv")]
    cmd = [sys.executable, "-m", "helpert", "batch", *files, "--out", str(out), "--backend", "openai",
           "--base-url", url, "--concurrency", "3", "--max-turns", "3", "--max-tokens", "24", "--n-ctx", "2048",
           "--request-timeout", "60", *extra]
    if wait:
        return subprocess.run(cmd, env=env, cwd=out.parent, text=True, capture_output=True, timeout=600)
    return subprocess.Popen(cmd, env=env, cwd=out.parent, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _leftovers(run: Path) -> list[str]:
    bad = ("checkpoint.sqlite", "journal.jsonl", "lease")
    return sorted(str(p.relative_to(run)) for p in (run / "sessions").rglob("*") if p.name.startswith(bad))


def test_batch_with_three_in_flight_completes_on_a_real_server(llama_server, tmp_path):
    out = tmp_path / "run"
    proc = _batch(out, llama_server.url)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert sorted(p.parent.name for p in out.glob("sessions/*/reconstruction.json")) == [
        "exam_anxiety", "loneliness", "work_conflict"]
    manifest = json.loads((out / "manifest.json").read_text())
    model = manifest["model"]
    assert model["backend"] == "openai" and model["served_model"] == "smollm2-135m"
    assert model["endpoints"] == [llama_server.url] and model["dialects"][llama_server.url] == "llama.cpp"
    assert model["server_reported"]["response_models"] == ["smollm2-135m"]
    rec = json.loads((out / "sessions" / "exam_anxiety" / "reconstruction.json").read_text())
    replies = [t for t in rec["turns"] if t["role"] == "counselor"]
    assert len(replies) == 3 and all(t["text"] for t in replies)
    timings = json.loads((out / "sessions" / "exam_anxiety" / "timings.json").read_text())
    assert all(t["prompt_tokens"] > 100 and t["completion_tokens"] > 0 for t in timings)
    assert _leftovers(out) == []


def test_server_killed_mid_run_leaves_a_resumable_folder_and_a_restart_finishes_it(llama_server, tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    first = _batch(out, llama_server.url, "--request-retries", "2", wait=False)
    try:
        deadline = time.time() + 300
        while time.time() < deadline and not list(out.glob("sessions/*/journal.jsonl")):
            if first.poll() is not None:
                break
            time.sleep(0.05)
        journaled = {p.parent.name for p in out.glob("sessions/*/journal.jsonl")}
        assert journaled, "no turn finished before the deadline"
        llama_server.kill()  # mid-run: some turns journaled, others in flight
        stdout, stderr = first.communicate(timeout=300)
    finally:
        if first.poll() is None:
            first.kill()
    assert first.returncode == 1, stdout + stderr
    assert "Traceback" not in stderr + stdout
    errors = [json.loads(x) for x in (out / "errors.jsonl").read_text().splitlines()]
    assert errors and all(e["stage"] == "replay" and llama_server.url in e["reason"] for e in errors)
    assert all("connection" in e["reason"] for e in errors), errors
    assert not list(out.glob("sessions/*/lease"))
    unfinished = {e["dialogue"] for e in errors}
    assert not any((out / "sessions" / d / "reconstruction.json").exists() for d in unfinished)

    llama_server.start()  # same port: the run folder resumes against the restarted server
    second = _batch(out, llama_server.url)
    assert second.returncode == 0, second.stdout + second.stderr
    assert sorted(p.parent.name for p in out.glob("sessions/*/reconstruction.json")) == [
        "exam_anxiety", "loneliness", "work_conflict"]
    assert (out / "errors.jsonl").read_text() == ""
    for name in journaled & unfinished:  # the journaled turns were kept, not regenerated
        assert any(line.startswith(f"✓ {name}:") and "resumed" in line for line in second.stdout.splitlines()), second.stdout
    assert _leftovers(out) == []


# --- an LLM judge on the server (`helpert measure --judge-model URL`) ------------------------------------

def test_a_judge_on_a_server_answers_as_the_same_model_does_in_process(llama_server):
    """Greedy, seeded, grammar-constrained: the server's verdicts are the in-process judge's, word for word."""
    from helpert.io import read_sessions
    from helpert.label.judge import instructions, label_schema, turn_prompt
    from helpert.metrics.ctrs import JUDGE_SCHEMA, judge_prompt
    from helpert.protocols import load_protocol
    from helpert.replay.llm.judge import LlamaJudge, ServerJudge
    from helpert.replay.llm.openai_backend import ServerConfig

    cbt = load_protocol("cbt_session")
    session = read_sessions(SESSIONS / "exam_anxiety.txt")[0]
    turn = next(i for i, t in enumerate(session.turns) if t.role == "counselor" and i > 2)
    asks = [(judge_prompt(session, "understanding"), JUDGE_SCHEMA),
            (turn_prompt(instructions(cbt), session, turn), label_schema(cbt))]
    served = ServerJudge(ServerConfig(base_urls=(llama_server.url,)))
    local = LlamaJudge(None, n_ctx=2048, n_threads=1)
    replies = [(served(p, s), local(p, s)) for p, s in asks]
    assert all(a is not None and a == b for a, b in replies), replies
    info = served.info()
    assert info["judge_backend"] == "openai" and info["judge_model"] == "smollm2-135m"
    # llama-cpp-python's server takes llama.cpp's json_object form and refuses OpenAI's json_schema one (HTTP 500):
    # the probe finds the form that is answered whichever it tries first
    assert info["judge_response_format"] == "json_object"
    assert served._probe(["json_schema", "json_object"]) == "json_object"
    # a prompt longer than the server's context (2048) is answered HTTP 400: counted, not fatal, and the next is judged
    assert served("word " * 3000, JUDGE_SCHEMA) is None
    assert served.info()["judge_rejected_prompts"]["count"] == 1 and "400" in served.info()["judge_rejected_prompts"]["first"]
    assert served(*asks[0]) == replies[0][0]
    assert (served.calls, served.failures) == (4, 1)


def test_measure_with_a_judge_on_a_server_scores_the_ctrs_items(llama_server, tmp_path):
    session = {"dialogue_id": "j", "turns": [
        {"idx": 0, "role": "counselor", "text": "Hi, how have you been feeling since we last met?"},
        {"idx": 1, "role": "client", "text": "Pretty low, to be honest. Work has been awful."},
        {"idx": 2, "role": "counselor", "text": "What would you like to work on today?"},
        {"idx": 3, "role": "client", "text": "The deadline stress, I think."},
        {"idx": 4, "role": "counselor", "text": "What went through your mind when your boss moved the deadline?"}]}
    path = tmp_path / "s.jsonl"  # the same conversation twice: the same prompts, judged two at a time
    path.write_text("".join(json.dumps({**session, "dialogue_id": d}) + "\n" for d in ("j1", "j2")))
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.run([sys.executable, "-m", "helpert", "measure", str(path), "--judge-model", llama_server.url,
                           "--judge", "ctrs", "--judge-concurrency", "2", "--judge-cache", "cache.jsonl", "--json"],
                          capture_output=True, text=True, timeout=600, cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    doc = json.loads(proc.stdout)
    (first, second), judge = [s["metrics"] for s in doc["sessions"]], doc["judge"]
    judged = [first[k] for k in first if k.startswith("ctrs_judge.") and k != "ctrs_judge.mean"]
    assert len(judged) == 11 and judge["judge_calls"] == 22 and judge["judge_backend"] == "openai"
    assert first == second  # greedy and seeded: each verdict does not depend on what else is in flight
    assert first["ctrs_judge_failures"] == sum(v is None for v in judged) == judge["judge_failures"] / 2
    assert all(v is None or v in range(7) for v in judged)
    # the format probe and a request per item asked; the two sessions' prompts are the same, so what the second
    # thread found in the cache was not asked again
    assert judge["judge_asked"] + judge["judge_cache_hits"] == 22 and judge["judge_requests"]["requests"] == 1 + judge["judge_asked"]

    # helpert compare: the judge's CTRS items of both sides, with their paired statistics
    pushy = {**session, "turns": [dict(t, text="You should just quit that job, honestly.") if t["idx"] == 2 else t
                                  for t in session["turns"]]}
    (tmp_path / "o.jsonl").write_text(json.dumps(session) + "\n")
    (tmp_path / "r.jsonl").write_text(json.dumps(pushy) + "\n")
    cmp = subprocess.run([sys.executable, "-m", "helpert", "compare", "o.jsonl", "r.jsonl", "--judge-model", llama_server.url,
                          "--judge", "both", "--judge-cache", "cache.jsonl", "--json"], capture_output=True, text=True, timeout=600,
                         cwd=tmp_path, env=env)
    assert cmp.returncode == 0, cmp.stderr[-2000:]
    doc = json.loads(cmp.stdout)
    rows = {r["metric"]: r for r in doc["metrics"]}
    # 11 CTRS items and 3 counselor turns' labels per side; found in the cache: the peer side's CTRS items (judged by
    # measure) and the LLM side's first turn, whose prompt (the turn, nothing before it) the peer side's had been
    assert doc["judge"]["judge_calls"] == 28 and doc["judge"]["judge_backend"] == "openai"
    assert (doc["judge"]["judge_cache_hits"], doc["judge"]["judge_asked"]) == (12, 16)
    assert rows["label_judge_failures"]["n"] == 1 and 0 <= rows["label_judge_failures"]["peer_mean"] <= 3
    judged = [r for m, r in rows.items() if m.startswith("ctrs_judge.") and m != "ctrs_judge.mean"]
    assert len(judged) == 11 and all(r["n"] == 1 or r["peer_mean"] is None or r["llm_mean"] is None for r in judged)
    assert rows["ctrs_judge.understanding"]["peer_mean"] == first["ctrs_judge.understanding"]  # the same prompt, same verdict

    llama_server.kill()  # a server that is gone: one clear line, exit 2, no traceback
    gone = subprocess.run([sys.executable, "-m", "helpert", "measure", str(path), "--judge-model", llama_server.url,
                           "--judge", "ctrs"], capture_output=True, text=True, timeout=120, cwd=tmp_path, env=env)
    assert gone.returncode == 2 and "Traceback" not in gone.stderr
    assert gone.stderr.startswith("error: ") and "unreachable" in gone.stderr, gone.stderr
