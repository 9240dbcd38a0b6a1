"""Shared by the benchmarks: the machine description, a long real session to replay, the README sections
they write, Spearman rho with a bootstrap interval (the validation scripts), and ESConv's dev TSV read as
dialogues (the trainers)."""

from __future__ import annotations

import json
import os
import platform
import re
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
# A benchmark measures the checkout it is run from (a worktree of another version included), not the copy of
# helpert the virtual environment installed: before 2026-12-05 a script run from a worktree imported /work/main's.
if str(REPO) not in sys.path[:1]:
    sys.path.insert(0, str(REPO))
SHARED = REPO.parent / "shared" / "data"


def machine() -> dict[str, Any]:
    from importlib import metadata

    cpu = ""
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    try:
        llama = metadata.version("llama-cpp-python")
    except metadata.PackageNotFoundError:  # probes run in a training environment without it
        llama = "not installed"
    return {"cpu": cpu or platform.processor(), "cores": len(os.sched_getaffinity(0)), "python": platform.python_version(),
            "llama_cpp_python": llama, "platform": platform.platform()}


def measured_checkout() -> dict[str, str]:
    """Which helpert a benchmark measured: the package's folder and that checkout's commit (a worktree scoring a
    candidate puts its own REPO first on sys.path, so this can differ from ``head_commit``'s)."""
    import subprocess

    import helpert

    here = Path(helpert.__file__).resolve().parent
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=here, capture_output=True, text=True).stdout.strip()
    return {"helpert_path": str(here), "helpert_commit": commit}


def head_commit() -> str:
    """The checkout's short commit id, for a result's provenance."""
    import subprocess

    return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip()


def long_session(min_client_turns: int = 30) -> Any:
    """The longest HOPE therapy transcript (real sessions, ~30+ client turns) when ../shared is there,
    else the bundled sessions chained into one long session."""
    from helpert.io import read_sessions
    from helpert.session import Session, Turn, merge_consecutive

    hope = SHARED / "hope" / "hope_sample.jsonl"
    if hope.is_file():
        best = max(read_sessions(hope), key=lambda s: len(merge_consecutive(s.turns)))
        if len(merge_consecutive(best.turns)) >= 2 * min_client_turns:
            return best
    turns: list[Turn] = []
    for s in read_sessions(REPO / "sessions"):
        turns.extend(t.model_copy(update={"idx": len(turns) + i}) for i, t in enumerate(s.turns))
    return Session(dialogue_id="bundled_chain", turns=turns)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """The objects of a JSON Lines file (blank lines skipped)."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def report(name: str, result: dict[str, Any]) -> None:
    """Print the figures and keep them in benchmarks/results/<name>.json with the machine, the date and the commit
    (a script's own ``date`` or ``commit`` in ``result`` wins)."""
    from datetime import date

    out = REPO / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    doc = {"benchmark": name, "machine": machine(), "date": date.today().isoformat(), "commit": head_commit(), **result}
    (out / f"{name}.json").write_text(json.dumps(doc, indent=2) + "\n")
    print(json.dumps(doc, indent=2))


def update_readme_section(path: Path, section: str, body: str) -> None:
    """Replace the text between ``<!-- SECTION: start -->`` and ``<!-- SECTION: end -->`` markers."""
    text = path.read_text(encoding="utf-8")
    start, end = f"<!-- {section}: start -->", f"<!-- {section}: end -->"
    if start not in text:
        raise SystemExit(f"{path}: no '{start}' marker")
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    path.write_text(f"{head}{start}\n{body}{end}{tail}", encoding="utf-8")


def spearman_rows(x: Any, y: Any) -> Any:
    """Spearman rho per row of two (B, n) arrays (average ranks; NaN when a row is constant)."""
    import numpy as np
    from scipy.stats import rankdata

    rx, ry = rankdata(x, axis=1), rankdata(y, axis=1)
    rx -= rx.mean(axis=1, keepdims=True)
    ry -= ry.mean(axis=1, keepdims=True)
    den = np.sqrt((rx**2).sum(axis=1) * (ry**2).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return (rx * ry).sum(axis=1) / den


def spearman_ci(x: Any, y: Any, group_size: int = 1) -> dict:
    """rho with a percentile bootstrap 95% CI (helpert.compare's resamples and seed). Points come in
    consecutive groups of ``group_size`` (one session's degradation levels); whole groups are resampled,
    and groups with a NaN are dropped."""
    import numpy as np

    from helpert.compare import N_BOOT, SEED

    x, y = x.reshape(-1, group_size), y.reshape(-1, group_size)
    keep = ~(np.isnan(x) | np.isnan(y)).any(axis=1)
    x, y = x[keep], y[keep]
    n = len(x)
    picks = np.random.default_rng(SEED).integers(0, n, size=(N_BOOT, n))
    boots = spearman_rows(x[picks].reshape(N_BOOT, -1), y[picks].reshape(N_BOOT, -1))
    rho = float(spearman_rows(x.reshape(1, -1), y.reshape(1, -1))[0])
    low, high = np.nanpercentile(boots, [2.5, 97.5])
    return {"rho": rho, "ci_low": float(low), "ci_high": float(high), "n": int(n)}


ESCONV_TSV_SEGMENT = re.compile(r"^(\S+) ([01]) (\d+) (.*)$")  # score, speaker (0 help-seeker, 1 supporter), index, text


def esconv_tsv_dialogues(path: Path) -> list[tuple[list[tuple[int, str, str]], dict[int, tuple[str, str]]]]:
    """ESConv's ``devWithStrategy_short.tsv`` (one line per supporter response: the turns before it, then
    "[strategy] response", joined by " EOS ") grouped into dialogues; a dialogue starts where the response
    index restarts. Per dialogue: its responses (index, strategy, text) and every turn its lines show before a
    response (index -> (speaker, text))."""
    groups: list[tuple[list[tuple[int, str, str]], dict[int, tuple[str, str]]]] = []
    last_idx = None
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        parts = [m for p in line.split(" EOS ") if (m := ESCONV_TSV_SEGMENT.match(p.strip()))]
        response = parts[-1]
        idx = int(response.group(3))
        m = re.match(r"\[([^\]]+)\]\s*(.*)$", response.group(4))
        if m is None:
            continue
        if last_idx is None or idx <= last_idx:
            groups.append(([], {}))
        responses, segments = groups[-1]
        responses.append((idx, m.group(1), m.group(2).strip()))
        for p in parts[:-1]:
            segments[int(p.group(3))] = (p.group(2), p.group(4).strip())
        last_idx = idx
    return groups
