"""Do the CTRS structure items see a session without new homework, without any homework, or with a late agenda?
Sessions written outside the project for round 95 (``tests/data/homework_agenda_round95.jsonl``: 8 CBT follow-up
sessions, each as ``full`` - agenda early, last week's homework reviewed, a new task agreed -, ``review_only`` (no new
task), ``none`` (no homework reviewed or set) and ``late_agenda`` (the agenda set only after about half the session);
turns the change does not touch are word for word the same), measured as `helpert measure` measures them (helpert's
default labellers). Reports every version's KEYS and, per variant and key, the number of sessions in which ``full``
scores higher (for drift: lower).

    .venv/bin/python benchmarks/validate_structure_items.py [--data FILE] [--name NAME]

A benchmark measures the checkout it is run from (``_common``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import REPO, measured_checkout, report  # noqa: E402

DATA = REPO / "tests" / "data" / "homework_agenda_round95.jsonl"
KEYS = ("ctrs.homework", "ctrs.agenda", "ctrs.mean", "drift.score")
VARIANTS = ("review_only", "none", "late_agenda")


def measure_sessions(path: Path = DATA) -> dict:
    """Per session: each version's KEYS; per variant and key, the sessions where ``full`` is better."""
    from validate_quality import measure_versions

    by = measure_versions(path, KEYS)
    pairs = sorted({p for p, _ in by})

    def better(full: float | None, other: float | None, key: str) -> bool:
        full, other = full or 0.0, other or 0.0
        return full < other if key == "drift.score" else full > other

    variants = [v for v in VARIANTS if any(version == v for _, version in by)]  # round 96's set has no late_agenda
    full_better = {v: {k: sum(better(by[(p, "full")][k], by[(p, v)][k], k) for p in pairs) for k in KEYS}
                   for v in variants}
    return {"sessions": len(pairs), "full_better": full_better,
            "per_session": {p: {v: by[(p, v)] for v in ("full", *variants)} for p in pairs}}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--name", default="validate_structure_items", help="results/NAME.json")
    args = ap.parse_args(argv)
    report(args.name, {**measured_checkout(), "data": str(args.data), **measure_sessions(args.data)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
