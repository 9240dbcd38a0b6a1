"""On the real embedded model: a protocol YAML outside graphs/ (and outside every search folder)
round-trips through replay -> compare -> report, found by the file and sha256 the manifest records."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.model


def _helpert(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "helpert", *args], cwd=cwd, capture_output=True, text=True, timeout=900)


def test_custom_protocol_file_round_trips_through_replay_compare_and_report(tmp_path):
    text = (REPO / "helpert" / "protocols" / "cbt_session.yaml").read_text(encoding="utf-8")
    custom = tmp_path / "protocols" / "mine.yaml"
    custom.parent.mkdir()
    custom.write_text(text.replace("name: cbt_session\n", "name: my_cbt\n")
                      .replace("title: CBT session (Beck's structure)\n", "title: My CBT session\n"), encoding="utf-8")
    out = tmp_path / "run"
    work = tmp_path / "work"          # another folder: neither graphs/ nor the protocol's folder is searched
    work.mkdir()
    proc = _helpert("replay", str(REPO / "sessions" / "exam_anxiety.txt"), "--protocol", str(custom),
                    "--max-turns", "2", "--max-tokens", "48", "--seed", "1", "--out", str(out), cwd=work)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "my_cbt" in proc.stdout                   # the side-by-side view at the end of replay names it
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["protocol"]["name"] == "my_cbt" and manifest["protocol"]["source"] == str(custom.resolve())

    compared = _helpert("compare", str(out), "--json", cwd=work)
    assert compared.returncode == 0, compared.stderr[-3000:]
    doc = json.loads(compared.stdout)
    assert doc["protocol"] == "my_cbt" and doc["protocol_sha256"] == manifest["protocol"]["sha256"]

    reported = _helpert("report", str(out), cwd=work)
    assert reported.returncode == 0, reported.stderr[-3000:]
    html = Path(reported.stdout.strip()).read_text(encoding="utf-8")
    assert "my_cbt — My CBT session" in html and str(custom.resolve()) in html

    custom.write_text(custom.read_text(encoding="utf-8") + "\n# edited after the run\n", encoding="utf-8")
    refused = _helpert("compare", str(out), cwd=work)
    assert refused.returncode == 2 and "has changed since" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
