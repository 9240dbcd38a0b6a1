"""Where the lexicon's phrase hits fall on the learned detector's probability scale (rounds 33 and 34).

``helpert.safety.risk.read_as_idiom`` stands a phrase hit of the suicide, self-harm or harm-to-others kinds down when
the learned detector scores the turn under a cut: rounds 33 to 36 shipped a probability of 0.15 (:data:`ROUND33_CUT`);
round 34 tried the check threshold instead (not adopted), and round 38's candidate, adopted in round 40, uses it. This
probe counts, for the shipped detector, the phrase hits of those kinds that the learned detector scored (finite score)
in three bands: under 0.15, from 0.15 to the check threshold, at or above it; for the
hand-written statement sets (each read alone, less near repeats of trained statements: ``validate_risk
.later_statements``) by risk label, and for the ordinary transcripts (every client turn read alone, no context) as
turns. These sets are the ones the cuts were read off (round 33's development sets: Z15-Z22 and the transcripts of
rounds 24-27; round 34's: Z15-Z24 and those of rounds 24-27 and 33), so the counts are in-sample for the cuts.

    .venv/bin/python benchmarks/phrase_standdown_probe.py                 # every later set
    .venv/bin/python benchmarks/phrase_standdown_probe.py --sets Z23 Z24 --rounds 33 34

Since round 36, Z15-Z22 and the transcripts of rounds 24-27 are trained on: ``--sets`` takes the names of
``validate_risk.LATER_STATEMENTS`` only, and the counts of rounds 33 and 34 (``results/phrase_standdown_probe.json``)
are reproduced from their checkout (85da624), ``--sets Z15 Z16 Z17 Z18 Z19 Z20 Z21 Z22 --rounds 24 25 26 27``.
"""

from __future__ import annotations

import argparse
import math
import sys
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import head_commit, report  # noqa: E402


ROUND33_CUT = 0.15  # the learned probability under which round 33's read_as_idiom stood a phrase hit down


def band(probability: float, check: float) -> str:
    return "under_0.15" if probability < ROUND33_CUT else "to_check" if probability < check else "at_check"


def main(argv: list[str] | None = None) -> None:
    import validate_risk as v

    from helpert.io import read_sessions
    from helpert.safety.risk import IDIOM_KINDS, load_encoder_risk_model, turn_evidence

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sets", nargs="+", default=list(v.LATER_STATEMENTS), help="statement sets (names of LATER_STATEMENTS)")
    ap.add_argument("--rounds", nargs="+", type=int, default=[24, 25, 26, 27, 33, 34],
                    help="ordinary transcript sets by round (tests/data/risk_ordinary_round<N>.jsonl)")
    args = ap.parse_args(argv)
    model = load_encoder_risk_model()
    check = model.probability(model.thresholds["check"])

    def hits(texts: list[str]) -> list[str | None]:
        """Each text's band, or None when it has no phrase of IDIOM_KINDS alone or the learned detector did not score it."""
        return [band(e.probability, check) if e.phrases and set(e.phrases) <= IDIOM_KINDS and math.isfinite(e.score) else None
                for e in turn_evidence(texts)]

    bands = ("under_0.15", "to_check", "at_check")
    statements = {b: {"risk": 0, "no_risk": 0} for b in bands}
    for name in args.sets:
        items = v.later_statements(name)
        for it, b in zip(items, hits([it["text"] for it in items])):
            if b:
                statements[b]["risk" if it["risk"] else "no_risk"] += 1
    turns = [t.text for r in args.rounds for s in read_sessions(v.DATA / f"risk_ordinary_round{r}.jsonl") for t in s.client_turns]
    transcripts = {b: 0 for b in bands}
    for b in hits(turns):
        if b:
            transcripts[b] += 1
    report("phrase_standdown_probe", {
        "date": date.today().isoformat(), "commit": head_commit(), "check_probability": round(check, 3),
        "sets": args.sets, "transcript_rounds": args.rounds, "statements": statements,
        "transcript_turns": {"turns": len(turns), "phrase_hits": transcripts}})


if __name__ == "__main__":
    main()
