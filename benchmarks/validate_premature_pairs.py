"""Does `adherence.premature_action` see advice given before the problem was explored? Pairs of session openings
(``tests/data/premature_pairs_round94.jsonl``, written outside the project for round 94: the same mood check with
reflections and agenda, then the same two advice turns either at once, ``early``, or after the counselor explored the
problem for 4-6 turns, ``explored``; or round 98's ``premature_round98.jsonl``, ``good`` and ``early``), measured as
`helpert measure` measures them (helpert's default labellers).
Reports, per pair, premature action and drift of both versions, and the pairs in which the early version scores
higher.

    .venv/bin/python benchmarks/validate_premature_pairs.py [--data FILE] [--name NAME]

A benchmark measures the checkout it is run from (``_common``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import REPO, measured_checkout, report  # noqa: E402

DATA = REPO / "tests" / "data" / "premature_pairs_round94.jsonl"
KEYS = ("adherence.premature_action", "drift.score", "ctrs.mean")


def measure_pairs(path: Path = DATA) -> dict:
    """Per pair: each version's KEYS; and per key the number of pairs where early > explored."""
    from validate_quality import measure_versions

    by = measure_versions(path, KEYS)
    pairs = sorted({p for p, _ in by})
    # the version without early advice: "explored" in round 94's pairs, "good" in round 98's
    other = next(v for _, v in by if v != "early")
    higher = {k: sum((by[(p, "early")][k] or 0) > (by[(p, other)][k] or 0) for p in pairs) for k in KEYS}
    means = {v: {k: round(sum(by[(p, v)][k] or 0 for p in pairs) / len(pairs), 4) for k in KEYS} for v in ("early", other)}
    return {"pairs": len(pairs), "early_higher": higher, "means": means,
            "per_pair": {p: {v: by[(p, v)] for v in ("early", other)} for p in pairs}}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--name", default="validate_premature_pairs", help="results/NAME.json")
    args = ap.parse_args(argv)
    report(args.name, {**measured_checkout(), "data": str(args.data), **measure_pairs(args.data)})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
