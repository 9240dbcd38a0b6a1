"""Score one version of the crisis detector for a round's adoption choice (benchmarks/README.md, rounds 19-20).

A choice scores the candidate and the shipped version once each, on the same items: the fresh statement sets
(read alone, as ``validate_risk --tiers`` reads them) less every statement that nearly repeats one either version
could have trained on (``--trained``; :func:`validate_risk.near_duplicate`), and fresh ordinary transcripts (how
many sessions get any safety turn, and the full response). ``--repo`` is the checkout whose detector is scored
(its ``helpert`` package and model files); the data are read from this checkout (the sets by their names in
``validate_risk.STATEMENT_FILES``).

    git worktree add /tmp/shipped <rev>
    .venv/bin/python benchmarks/risk_round_choice.py --repo /tmp/shipped --sets z7 z8 --trained t k l ... z6 \
        --transcripts tests/data/risk_ordinary_fresh.jsonl --out /tmp/shipped.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repo", type=Path, required=True)
    ap.add_argument("--sets", nargs="+", required=True)
    ap.add_argument("--trained", nargs="+", required=True)
    ap.add_argument("--transcripts", nargs="+", type=Path, required=True)
    ap.add_argument("--policy", default="stepped")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    sys.path.insert(0, str(args.repo.resolve()))
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import helpert
    import validate_risk as v

    if Path(helpert.__file__).resolve().parents[1] != args.repo.resolve():
        raise SystemExit(f"helpert imported from {helpert.__file__}, not from {args.repo}")
    unknown = sorted({*args.sets, *args.trained} - v.STATEMENT_FILES.keys())
    if unknown:
        raise SystemExit(f"not registered in validate_risk (STATEMENT_FILES): {', '.join(unknown)}")
    trained = v.NearRepeats(it["text"] for name in args.trained for it in v.read_jsonl(v.STATEMENT_FILES[name]))
    out = {"repo": str(args.repo), "policy": args.policy, "sets": {}}
    for name in args.sets:
        items = [it for it in v.read_jsonl(v.STATEMENT_FILES[name]) if it["text"] not in trained]
        out["sets"][name] = v.tier_rows(name, items, args.policy)
    out["transcripts"] = v.written_transcripts(args.policy, tuple(p.resolve() for p in args.transcripts))
    args.out.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
