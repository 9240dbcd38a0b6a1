"""Does a counselor who confronts the client score worse than the same session without it?

``tests/data/quality_pairs_p.jsonl`` (round 87, 2026-12-07; ``tests/data/round87_instructions.md``): 8 good CBT
sessions in an MI-consistent style, each with two variants that keep every client turn and replace the same 4-6
counselor turns - *confront*: mostly polite confrontation (doubting the client's account, sarcasm, arguing from facts,
moralising, discounting a success, comparing with others) that still does the moment's task; *control*: other wording
of equally good practice. Written by an assistant session that saw nothing of the project (fiction; AI-written, a
floor check, not expert-rated sessions).

Per base: the change of each key from the base to each variant; per variant kind: how many variants move the way
their name says (confront: ``ctrs.*`` lower, ``drift.score`` higher), the mean paired change and, for the controls,
the mean absolute change; and confront against control (the same turns replaced): how many confront variants score
worse than their control, and the mean difference.

    .venv/bin/python benchmarks/validate_confront_pairs.py [--name NAME] [--phase-labeller rules|model]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import REPO, report  # noqa: E402

PAIRS = REPO / "tests" / "data" / "quality_pairs_p.jsonl"
KEYS = ("ctrs.mean", "drift.score", "ctrs.understanding", "ctrs.interpersonal_effectiveness", "ctrs.homework",
        "mi.non_adherent_share")
WORSE_IS_HIGHER = {"drift.score", "mi.non_adherent_share"}


def measure_pairs(phase_labeller: str | None = None) -> tuple[list[dict], list[dict]]:
    """The set's records (base, variant, ...) and each session's metrics, as `helpert measure` gives them."""
    from validate_quality import measure

    from helpert.io import read_sessions
    from helpert.protocols import load_protocol

    meta = [json.loads(line) for line in PAIRS.read_text(encoding="utf-8").splitlines() if line.strip()]
    return meta, measure(read_sessions(PAIRS), load_protocol("cbt_session"), phase_labeller)


def summarise(meta: list[dict], rows: list[dict]) -> dict:
    """Per base, each variant's change from the base; per contrast (confront and control against the base, confront
    against control) and key, how many variants are worse, the mean change and the mean absolute change."""
    by = {(m["base"], m["variant"]): r for m, r in zip(meta, rows)}
    bases = sorted({m["base"] for m in meta})
    per_base = {b: {v: {k: _diff(by[(b, v)].get(k), by[(b, "base")].get(k)) for k in KEYS} for v in ("confront", "control")}
                for b in bases}
    # confront against control is the cleanest contrast: the same turns replaced, by confrontation or by good practice
    contrasts = {"confront": ("confront", "base"), "control": ("control", "base"), "confront_vs_control": ("confront", "control")}
    summary = {name: {k: _contrast([_diff(by[(b, v)].get(k), by[(b, other)].get(k)) for b in bases], k) for k in KEYS}
               for name, (v, other) in contrasts.items()}
    return {"summary": summary, "base_scores": {b: {k: by[(b, "base")].get(k) for k in KEYS} for b in bases},
            "per_base": per_base}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--name", default="validate_confront_pairs", help="results/<NAME>.json")
    ap.add_argument("--phase-labeller", default=None, choices=("auto", "rules", "model"),
                    help="the phase labeller (default: helpert's default)")
    args = ap.parse_args()
    report(args.name, {"data": str(PAIRS.relative_to(REPO)), "phase_labeller": args.phase_labeller,
                       **summarise(*measure_pairs(args.phase_labeller))})


def _contrast(changes: list[float | None], key: str) -> dict:
    d = [x for x in changes if x is not None]
    worse = sum((x > 0) if key in WORSE_IS_HIGHER else (x < 0) for x in d)
    return {"n": len(d), "worse": worse, "mean_change": _r(sum(d) / len(d)) if d else None,
            "mean_abs_change": _r(sum(abs(x) for x in d) / len(d)) if d else None}


def _diff(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else _r(a - b)


def _r(x: float) -> float:
    return round(float(x), 4)


if __name__ == "__main__":
    main()
