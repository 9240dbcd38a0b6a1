"""The OpenAI-compatible backend, concurrent sessions and shared run folders, against a scripted
server on 127.0.0.1 (tests/fake_openai.py): the logic of scheduling, retries and leases, not generation."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("openai")

from fake_openai import FakeOpenAI  # noqa: E402

from helpert.replay.batch import RunOptions, run_batch  # noqa: E402
from helpert.replay.graph.build import turn_seed  # noqa: E402
from helpert.replay.lease import LEASE_FILE, Owner, claim  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def _corpus(folder: Path, n: int, turns: int = 3) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    lines = []
    for i in range(n):
        t = []
        for j in range(turns):
            t.append({"role": "client", "text": f"Worry{i} number {j}: I keep thinking about the exam and my sleep."})
            t.append({"role": "counselor", "text": f"Peer reply {j}."})
        lines.append(json.dumps({"dialogue_id": f"s{i:02d}", "turns": t}))
    path = folder / "corpus.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def _leftovers(run: Path) -> list[str]:
    """Files a finished run folder must not hold: checkpoints, WAL side files, journals, leases."""
    bad = ("checkpoint.sqlite", "journal.jsonl", LEASE_FILE)
    return sorted(str(p.relative_to(run)) for p in (run / "sessions").rglob("*") if p.name.startswith(bad))


def _helpert(*args: str, cwd: Path, **kw) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.Popen([sys.executable, "-m", "helpert", *args], cwd=cwd, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)


def test_concurrent_sessions_keep_turn_order_seeds_and_llama_cpp_fields(tmp_path):
    corpus = _corpus(tmp_path / "c", 4)
    with FakeOpenAI(delay=0.05, owned_by="me") as srv:
        opts = RunOptions(backend="openai", base_url=(srv.url,), max_turns=3, seed=5)
        summary = run_batch([str(corpus)], tmp_path / "run", opts, concurrency=3)
    assert summary.replayed == 4 and not summary.failed
    assert 2 <= srv.max_in_flight <= 3  # sessions really overlap, never more than asked
    # each session's requests arrive in slot order, with the per-turn seed of the local backend
    for i in range(4):
        mine = [r for r in srv.requests if any(f"Worry{i} " in m["content"] for m in r["messages"] if m["role"] == "user")]
        firsts = [r for r in mine if r["seed"] in {turn_seed(5, k, 0) for k in range(3)}]
        assert [r["seed"] for r in firsts] == [turn_seed(5, k, 0) for k in range(3)]
        # prefix reuse: each turn's prompt extends the previous turn's
        for a, b in zip(firsts, firsts[1:]):
            assert b["messages"][: len(a["messages"])] == a["messages"]
            assert len(b["messages"]) == len(a["messages"]) + 3  # + the kept reply, the next note and client turn
    body = srv.requests[0]
    assert body["cache_prompt"] is True and body["repeat_penalty"] == 1.1 and body["top_k"] == 40
    run = tmp_path / "run"
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["model"]["served_model"] == "fake-model" and manifest["model"]["endpoints"] == [srv.url]
    assert manifest["model"]["server_reported"]["system_fingerprints"] == ["fp_fake1"]
    assert manifest["args"]["concurrency"] == 3
    timings = json.loads((run / "sessions" / "s00" / "timings.json").read_text())
    assert all(t["cached_tokens"] >= 7 for t in timings)  # usage.prompt_tokens_details.cached_tokens
    rec = json.loads((run / "sessions" / "s00" / "reconstruction.json").read_text())
    assert [t["meta"]["slot"] for t in rec["turns"] if t["role"] == "counselor"] == [0, 1, 2]
    assert _leftovers(run) == []


def test_generic_server_gets_standard_fields_only_and_retry_penalties_map():
    from helpert.replay.llm.engine import Controls
    from helpert.replay.llm.openai_backend import OpenAIChatModel, Replica

    def model(dialect: str) -> OpenAIChatModel:
        return OpenAIChatModel(replicas=[Replica(url="u", client=None, dialect=dialect)], served_model="m")

    controls = Controls(repeat_penalty=1.3, presence_penalty=0.5, avoid=("a b c d e",), ban_ngram=4)
    hosted = model("generic").request([{"role": "user", "content": "hi"}], seed=1, controls=controls)
    assert "extra_body" not in hosted and hosted["presence_penalty"] == 0.5 and hosted["seed"] == 1
    assert model("vllm").request([], seed=1, controls=controls)["extra_body"]["repetition_penalty"] == 1.3
    llama = model("llama.cpp").request([], seed=1, controls=controls)["extra_body"]
    assert llama["repeat_penalty"] == 1.3 and llama["cache_prompt"] is True


def test_transient_failures_are_retried_and_counted(tmp_path):
    corpus = _corpus(tmp_path / "c", 1)
    with FakeOpenAI(failures=[500, 429, 503], owned_by="vllm") as srv:
        opts = RunOptions(backend="openai", base_url=(srv.url,), max_turns=2, request_retries=3)
        summary = run_batch([str(corpus)], tmp_path / "run", opts)
    assert summary.replayed == 1 and not summary.failed
    assert summary.requests["retries"] == 3
    assert summary.requests["retry_reasons"] == {"http_429": 1, "http_500": 1, "http_503": 1}
    assert "cache_prompt" not in srv.requests[0] and srv.requests[0]["repetition_penalty"] == 1.1


def test_timeout_is_retried(tmp_path):
    corpus = _corpus(tmp_path / "c", 1)
    with FakeOpenAI(slow=[3.0]) as srv:
        opts = RunOptions(backend="openai", base_url=(srv.url,), max_turns=1, request_retries=2, request_timeout=0.5)
        summary = run_batch([str(corpus)], tmp_path / "run", opts)
    assert summary.replayed == 1 and summary.requests["retry_reasons"] == {"timeout": 1}


def test_session_failing_after_retries_is_recorded_and_a_rerun_resumes(tmp_path):
    corpus = _corpus(tmp_path / "c", 2)
    run = tmp_path / "run"
    with FakeOpenAI(failures=[503] * 100) as srv:  # a server that stays down
        opts = RunOptions(backend="openai", base_url=(srv.url,), max_turns=2, request_retries=1)
        summary = run_batch([str(corpus)], run, opts, concurrency=2)
    assert summary.replayed == 0 and len(summary.failed) == 2
    errors = [json.loads(x) for x in (run / "errors.jsonl").read_text().splitlines()]
    assert sorted(e["dialogue"] for e in errors) == ["s00", "s01"]
    assert all("HTTP 503" in e["reason"] and "gave up after 2 attempts" in e["reason"] for e in errors)
    with FakeOpenAI() as srv:  # back up (another port: endpoints are not part of the run's identity)
        opts = RunOptions(backend="openai", base_url=(srv.url,), max_turns=2, request_retries=1)
        summary = run_batch([str(corpus)], run, opts, concurrency=2)
    assert summary.replayed == 2 and not summary.failed
    assert (run / "errors.jsonl").read_text() == ""  # finished sessions are no longer listed as failed
    assert _leftovers(run) == []


def test_replicas_share_the_sessions(tmp_path):
    corpus = _corpus(tmp_path / "c", 4)
    with FakeOpenAI(delay=0.02) as a, FakeOpenAI(delay=0.02) as b:
        opts = RunOptions(backend="openai", base_url=(a.url, b.url), max_turns=2)
        summary = run_batch([str(corpus)], tmp_path / "run", opts, concurrency=4)
    assert summary.replayed == 4
    assert a.requests and b.requests
    assert len(a.requests) + len(b.requests) == summary.requests["requests"]


def test_cli_errors_are_one_line(tmp_path):
    corpus = _corpus(tmp_path / "c", 1)
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    down = _helpert("batch", str(corpus), "--out", str(tmp_path / "r"), "--backend", "openai",
                    "--base-url", f"http://127.0.0.1:{port}/v1", cwd=tmp_path)
    out, err = down.communicate(timeout=120)
    assert down.returncode == 2, out + err
    assert err.startswith(f"error: http://127.0.0.1:{port}/v1: server unreachable") and "Traceback" not in err
    local = _helpert("batch", str(corpus), "--out", str(tmp_path / "r2"), "--concurrency", "2", cwd=tmp_path)
    out, err = local.communicate(timeout=120)
    assert local.returncode == 2 and "--concurrency needs --backend openai" in err
    nourl = _helpert("batch", str(corpus), "--out", str(tmp_path / "r3"), "--backend", "openai", cwd=tmp_path)
    out, err = nourl.communicate(timeout=120)
    assert nourl.returncode == 2 and "needs --base-url" in err


# --- leases -------------------------------------------------------------------------------------------

def test_lease_is_exclusive_and_released(tmp_path):
    first, holder = claim(tmp_path / "s")
    assert first is not None and holder is None
    second, holder = claim(tmp_path / "s")
    assert second is None and holder.pid == os.getpid()
    first.release()
    third, _ = claim(tmp_path / "s")
    assert third is not None
    third.release()
    assert not (tmp_path / "s" / LEASE_FILE).exists()


def test_lease_of_a_dead_process_or_an_old_heartbeat_is_taken_over(tmp_path):
    import socket

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    d = tmp_path / "s"
    d.mkdir()
    (d / LEASE_FILE).write_text(Owner(host=socket.gethostname(), pid=dead.pid, token="t1").to_json())
    lease, _ = claim(d)
    assert lease is not None  # holder died (kill -9): taken over at once
    lease.release()
    # a live holder on another host: respected while its heartbeat is fresh, taken over once stale
    (d / LEASE_FILE).write_text(Owner(host="elsewhere", pid=1, token="t2").to_json())
    assert claim(d, ttl=60)[0] is None
    old = time.time() - 120
    os.utime(d / LEASE_FILE, (old, old))
    lease, _ = claim(d, ttl=60)
    assert lease is not None and lease.still_mine()
    # the former holder, were it alive, would see that it lost the lease
    lease.release()


def _shared_batch(corpus: Path, run: Path, url: str, turns: int) -> list[str]:
    """`helpert batch` arguments for one of several processes sharing RUN_DIR on a fake server."""
    return ["batch", str(corpus), "--out", str(run), "--backend", "openai", "--base-url", url,
            "--max-turns", str(turns), "--concurrency", "2"]


def test_two_processes_share_a_run_folder_without_doing_a_session_twice(tmp_path):
    corpus = _corpus(tmp_path / "c", 8, turns=2)
    run = tmp_path / "run"
    with FakeOpenAI(delay=0.1) as srv:
        args = _shared_batch(corpus, run, srv.url, turns=2)
        procs = [_helpert(*args, cwd=tmp_path) for _ in range(2)]
        outs = [p.communicate(timeout=240) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, out + err
    done = [{line.split()[1].rstrip(":") for line in out.splitlines() if line.startswith("✓")} for out, _ in outs]
    assert not (done[0] & done[1]), done  # no session replayed by both
    assert done[0] | done[1] == {f"s{i:02d}" for i in range(8)}
    assert all(len(d) > 0 for d in done), done  # both did a share
    assert (run / "errors.jsonl").read_text() == ""
    assert _leftovers(run) == []
    # the server saw each session's first turn once: 8 sessions x first attempt of slot 0
    firsts = [r for r in srv.requests if r["seed"] == turn_seed(0, 0, 0)]
    assert len(firsts) == 8


def test_killed_process_sessions_are_taken_over_by_the_other(tmp_path):
    corpus = _corpus(tmp_path / "c", 6, turns=3)
    run = tmp_path / "run"
    with FakeOpenAI(delay=0.15) as srv:
        args = _shared_batch(corpus, run, srv.url, turns=3)
        victim = _helpert(*args, cwd=tmp_path, start_new_session=True)
        deadline = time.time() + 60
        while time.time() < deadline and not list(run.glob("sessions/*/journal.jsonl")):
            time.sleep(0.05)
        survivor = _helpert(*args, cwd=tmp_path)
        time.sleep(0.3)
        os.killpg(victim.pid, signal.SIGKILL)  # holds two sessions mid-way
        victim.communicate(timeout=30)
        out, err = survivor.communicate(timeout=240)
    assert survivor.returncode == 0, out + err
    assert sorted(p.parent.name for p in run.glob("sessions/*/reconstruction.json")) == [f"s{i:02d}" for i in range(6)]
    assert (run / "errors.jsonl").read_text() == ""
    assert _leftovers(run) == []
