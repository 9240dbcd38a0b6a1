"""Shared by the speed benchmarks: the machine description and a long real session to replay."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"


def machine() -> dict[str, Any]:
    from importlib import metadata

    cpu = ""
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {"cpu": cpu or platform.processor(), "cores": len(os.sched_getaffinity(0)), "python": platform.python_version(),
            "llama_cpp_python": metadata.version("llama-cpp-python"), "platform": platform.platform()}


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


def report(name: str, result: dict[str, Any]) -> None:
    """Print the figures and keep them in benchmarks/results/<name>.json with the machine."""
    out = REPO / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    doc = {"benchmark": name, "machine": machine(), **result}
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
