"""The README's resume claim, tested the way it is stated: a real ``helpert batch`` process on the embedded
model is killed with SIGKILL in the middle of a session, run again on the same folder, and its files are
compared byte by byte with an uninterrupted run. Both runs go through the CLI under a network guard
(``tests/netguard/sitecustomize.py`` on PYTHONPATH) that refuses and records every connection, send or
name lookup on an internet socket, ``socket.socket()`` with its default family included: a local model
attempts none."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
HELPERT = [sys.executable, "-m", "helpert"]
SETTINGS = ["--seed", "5", "--max-turns", "5", "--max-tokens", "40", "--threads", "2", "--n-ctx", "2048"]
# Files whose bytes may differ between an interrupted and a clean run (README, "Resume"): wall-clock timings.
VOLATILE = {"timings.json"}

GUARD = Path(__file__).resolve().parent / "netguard"  # its sitecustomize.py starts in every child process


def _env(tmp: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(GUARD), str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["HELPERT_TEST_SOCKET_LOG"] = str(tmp / "sockets.log")
    env["COLUMNS"] = "100"
    return env


def _batch(inputs: Path, out: Path, env: dict[str, str], **kw) -> subprocess.Popen:
    return subprocess.Popen([*HELPERT, "batch", str(inputs), "--out", str(out), *SETTINGS], cwd=out.parent, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def _files(run: Path) -> dict[str, bytes]:
    return {str(p.relative_to(run)): p.read_bytes() for p in sorted(run.rglob("*"))
            if p.is_file() and p.name not in VOLATILE}


def _mid_session(run: Path) -> bool:
    """A session has journalled at least two turns and is not finished."""
    for journal in (run / "sessions").glob("*/journal.jsonl"):
        done = (journal.parent / "reconstruction.json").exists()
        if not done and len(journal.read_bytes().splitlines()) >= 2:
            return True
    return False


PROBES = {
    "plain socket.socket()": "socket.socket().connect(('127.0.0.1', 9))",
    "IPv6": "socket.socket(socket.AF_INET6).connect(('::1', 9))",
    "UDP sendto": "socket.socket(type=socket.SOCK_DGRAM).sendto(b'x', ('127.0.0.1', 9))",
    "create_connection": "socket.create_connection(('example.org', 80), timeout=1)",
    "urllib": "import urllib.request; urllib.request.urlopen('http://127.0.0.1:9/', timeout=1)",
}


@pytest.mark.parametrize("code", PROBES.values(), ids=PROBES.keys())
def test_guard_refuses_and_logs(tmp_path, code):
    """The guard itself can fail: each way of reaching a network is refused and logged in a child process."""
    env = _env(tmp_path)
    proc = subprocess.run([sys.executable, "-c", f"import socket\n{code}"], env=env, capture_output=True, text=True)
    assert proc.returncode != 0 and "disabled by the test guard" in proc.stderr
    assert (tmp_path / "sockets.log").read_text().strip()


def test_guard_lets_the_cli_start(tmp_path):
    """``helpert --help`` under the guard: nothing refused (the guard does not break what it watches)."""
    proc = subprocess.run([*HELPERT, "--help"], env=_env(tmp_path), capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert not (tmp_path / "sockets.log").exists()


@pytest.mark.model
def test_sigkill_mid_session_then_resume_equals_clean_run(tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    for name in ("exam_anxiety.txt", "work_conflict.jsonl"):
        shutil.copy(REPO / "sessions" / name, inputs / name)
    env = _env(tmp_path)

    # Both runs write to the same path (the run folder's path is recorded in corpus.json).
    killed = tmp_path / "run"
    clean = _batch(inputs, killed, env)
    out, err = clean.communicate(timeout=600)
    assert clean.returncode == 0, err[-2000:]
    killed.rename(tmp_path / "clean")

    proc = _batch(inputs, killed, env, start_new_session=True)
    deadline = time.monotonic() + 600
    while not _mid_session(killed):
        assert proc.poll() is None, "the run finished before it could be killed mid-session"
        assert time.monotonic() < deadline
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    assert not (killed / "corpus.json").exists()
    half_done = [j.parent.name for j in (killed / "sessions").glob("*/journal.jsonl")
                 if not (j.parent / "reconstruction.json").exists()]
    assert half_done, "no session was left half done by the kill"

    resumed = _batch(inputs, killed, env)
    out, err = resumed.communicate(timeout=600)
    assert resumed.returncode == 0, err[-2000:]

    want, got = _files(tmp_path / "clean"), _files(killed)
    assert sorted(got) == sorted(want)
    differ = [name for name in want if want[name] != got[name]]
    assert differ == [], differ
    assert json.loads((killed / "corpus.json").read_text())["n_sessions"] == 2
    assert not (tmp_path / "sockets.log").exists(), (tmp_path / "sockets.log").read_text()
