"""Do CBT demonstrations written outside the project score as what they are? (issue #13: lower drift and higher
CTRS than at least 90% of ordinary peer sessions.)

``tests/data/expert_cbt`` holds two demonstrations written inside the project for its tests; the folder
``tests/data/expert_cbt_fresh`` holds demonstrations written by assistant sessions that saw nothing of the project,
its metrics or its data (their instructions: ``tests/data/expert_cbt_fresh/INSTRUCTIONS.md``), scored once, as a
report: no rule or weight was changed on them. For each transcript: drift.score, ctrs.mean, the share of the 195
ESConv peer sessions (``../shared/data/esconv/esconv_valid_195.jsonl``) with more drift and with a lower CTRS mean,
and the drift parts and CTRS items, so that a miss can be traced. Beside them, where ../shared has it, the HOPE sample
(8 transcribed real therapy sessions of public videos, not rated for quality): where real sessions fall among the
peers, reported as it is.

    .venv/bin/python benchmarks/expert_demonstrations.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import REPO, SHARED, report  # noqa: E402

FRESH = REPO / "tests" / "data" / "expert_cbt_fresh"
HOPE = SHARED / "hope" / "hope_sample.jsonl"


def main() -> int:
    import validate_quality as vq

    from helpert.io import read_sessions
    from helpert.protocols import load_protocol

    protocol = load_protocol("cbt_session")
    source = SHARED / "esconv" / "esconv_valid_195.jsonl"
    if not source.is_file():
        raise SystemExit(f"needs {source}")
    peers = vq.measure(read_sessions(source), protocol)
    out = {"peers": len(peers), "protocol": protocol.name, "target": "beyond 90% of peers on both", "sets": {}}
    for name, folder in (("in-house (written for the tests)", vq.EXPERT), ("fresh (written outside the project)", FRESH)):
        rows = vq.expert_check(protocol, peers, folder, detail=True)
        for row in rows.values():
            row["met"] = row["peers_with_more_drift"] >= 0.9 and row["peers_with_lower_ctrs"] >= 0.9
        out["sets"][name] = rows
    if HOPE.is_file():  # real sessions, not rated: where they fall among the peers is reported, not held to the bar
        out["sets"]["real therapy transcripts (HOPE sample, not rated for quality)"] = vq.expert_check(protocol, peers, HOPE, detail=True)
    report("expert_demonstrations", out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
