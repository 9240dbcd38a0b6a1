"""Does the phase labeller name the phase a CBT therapist is in? Agreement with people who marked each turn's phase.

Annotated sessions (``cbt_session`` phases, ``off_protocol`` for a turn that serves none):

* ``tests/data/cbt_phase_sample.jsonl``: 23 counselor turns of two short sessions, one annotator (``gold_phase``),
  written by hand for the labeller's tests (development: the labeller's rules were read against it).
* ``tests/data/phase_sessions_round76.jsonl`` (round 76, 2026-12-07): six everyday CBT sessions written by two writer
  sessions that saw nothing of the project but the list of phases (titles and goals, no cue; the list is
  ``tests/data/round76_phases.md``), each marking the phase of its own counselor turns (``writer_phase``), and marked
  again by a third session, blind to the writers' marks (``blind_phase``). Every annotator's labels are kept.
* ``tests/data/phase_sessions_round78.jsonl``, ``phase_sessions_round80.jsonl`` and ``phase_sessions_round81.jsonl``
  (rounds 78, 80 and 81): six sessions each, the same way, by other writer and annotator sessions (rounds 80 and 81:
  one writer asked for verbatim speech with backchannels, each writer for one looser counselor among its three
  sessions; round 81 also for small talk in mid-session). Rounds 76, 78 and 80's sets are the learned phase model's
  training data since round 81 (in-sample for it).
* ``tests/data/phase_sessions_round91.jsonl`` (round 91): six more, one writer in the verbatim register of spoken US
  sessions, one in the typed register of an online chat service (clients in Australia, India and Canada), each asked
  for small talk in mid-session and one looser counselor.
* ``tests/data/phase_sessions_round100.jsonl`` (round 100): six more, one writer in the verbatim register of spoken UK
  and Irish talking-therapy sessions, one in the typed register of a text-chat service (clients in New Zealand, South
  Africa, Singapore or the US), each asked for capsule and final summaries where a therapist would make them, phrased
  in everyday ways, and one looser counselor. Per phase, the recall on the turns both annotators agree on; the summary
  phases pooled (round 100's gain).
* ``tests/data/phase_sessions_round102.jsonl`` (round 102): six more, one writer in the verbatim register of spoken
  sessions in US clinics, one in lightly cleaned transcripts of an online video or phone service (clients in Canada,
  Ireland, India or Kenya), each asked for small talk in mid-session and one looser counselor.

Per set: the labeller's agreement with each annotator and with the turns both annotators agree on, Cohen's kappa
between the annotators, and the backward jumps (``helpert.metrics.drift``) of the labeller's phase sequence per
scored counselor turn against those of the annotators' own sequences - a backward jump the labeller makes where the
therapist went forward is drift that was never there. With ``--guards`` also the checks a change of the labeller
must pass (benchmarks/README.md, "Phase labeller"): the written rated sets' AUCs and the degradations of
``validate_quality.py``, and the expert demonstrations' percentiles among the ESConv peers.

    .venv/bin/python benchmarks/validate_phases.py [--guards] [--name NAME] [--phase-labeller rules|model|auto]

A benchmark measures the checkout it is run from (``_common``): to score another commit's labeller, copy this script
and the annotated files into a worktree of that commit and run it there (what round 76 did).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import REPO, measured_checkout, report  # noqa: E402

from helpert.io import read_sessions  # noqa: E402
from helpert.label import label_sessions  # noqa: E402
from helpert.metrics import one_line_per_turn  # noqa: E402
from helpert.metrics.common import is_backward_jump  # noqa: E402
from helpert.protocols import OFF_PROTOCOL, load_protocol  # noqa: E402

DATA = REPO / "tests" / "data"
SETS = {"hand": (DATA / "cbt_phase_sample.jsonl", ("gold_phase",)),
        "round76": (DATA / "phase_sessions_round76.jsonl", ("writer_phase", "blind_phase")),
        "round78": (DATA / "phase_sessions_round78.jsonl", ("writer_phase", "blind_phase")),
        "round80": (DATA / "phase_sessions_round80.jsonl", ("writer_phase", "blind_phase")),
        "round81": (DATA / "phase_sessions_round81.jsonl", ("writer_phase", "blind_phase")),
        "round91": (DATA / "phase_sessions_round91.jsonl", ("writer_phase", "blind_phase")),
        "round100": (DATA / "phase_sessions_round100.jsonl", ("writer_phase", "blind_phase")),
        "round102": (DATA / "phase_sessions_round102.jsonl", ("writer_phase", "blind_phase"))}
SUMMARIES = ("capsule_summary", "final_summary")  # one-turn phases, pooled for round 100's gain


def kappa(a: list[str], b: list[str]) -> float:
    """Cohen's kappa of two annotators' labels of the same items."""
    n = len(a)
    observed = sum(x == y for x, y in zip(a, b)) / n
    ca, cb = Counter(a), Counter(b)
    expected = sum(ca[k] * cb[k] for k in ca) / (n * n)
    return round((observed - expected) / (1 - expected), 3) if expected < 1 else 1.0


def backward_jumps(phases: list[str], protocol) -> int:
    """Backward jumps in a sequence of counselor-turn phases, off-protocol turns left out (as drift reads them)."""
    seq = [p for p in phases if p != OFF_PROTOCOL]
    return sum(is_backward_jump(protocol, a, b) for a, b in zip(seq, seq[1:]) if a != b)


def agreement(name: str, protocol, labeller: str = "rules") -> dict:
    path, keys = SETS[name]
    if not path.is_file():
        return {"missing": str(path.relative_to(REPO))}
    sessions = read_sessions(path)
    labelled = label_sessions([one_line_per_turn(s) for s in sessions], protocol, phase_labeller=labeller)
    marks: dict[str, list[str]] = {k: [] for k in keys}
    pred: list[str] = []
    jumps = {"labeller": 0, **{k: 0 for k in keys}}
    per_session = {}
    for s, lab in zip(sessions, labelled):
        turns = s.counselor_turns
        got = [t.labels["phase"] for t in lab.counselor_turns]
        if len(got) != len(turns):
            raise SystemExit(f"{s.dialogue_id}: {len(turns)} counselor turns, {len(got)} labelled (consecutive turns joined?)")
        pred += got
        jumps["labeller"] += backward_jumps(got, protocol)
        for k in keys:
            marks[k] += [t.labels[k] for t in turns]
            jumps[k] += backward_jumps([t.labels[k] for t in turns], protocol)
        per_session[s.dialogue_id] = {
            "turns": len(turns), "labeller_backward_jumps": backward_jumps(got, protocol),
            **{f"agree_{k}": round(sum(g == t.labels[k] for g, t in zip(got, turns)) / len(turns), 3) for k in keys}}
    n = len(pred)
    out: dict = {"sessions": len(sessions), "counselor_turns": n,
                 "agreement": {k: round(sum(p == g for p, g in zip(pred, marks[k])) / n, 3) for k in keys},
                 "backward_jumps": jumps, "per_session": per_session}
    if len(keys) == 2:
        a, b = (marks[k] for k in keys)
        both = [i for i in range(n) if a[i] == b[i]]
        out["annotators"] = {"agree": round(len(both) / n, 3), "kappa": kappa(a, b), "turns_agreed": len(both)}
        out["agreement"]["where_annotators_agree"] = round(sum(pred[i] == a[i] for i in both) / len(both), 3)
        confusions = Counter((a[i], pred[i]) for i in both if pred[i] != a[i])
        out["confusions_where_annotators_agree"] = [f"{g} -> {p}: {c}" for (g, p), c in confusions.most_common(12)]
        out["recall_where_annotators_agree"] = {
            ph: f"{sum(pred[i] == ph for i in both if a[i] == ph)}/{sum(a[i] == ph for i in both)}"
            for ph in sorted({a[i] for i in both})}
        summaries = [i for i in both if a[i] in SUMMARIES]
        out["summary_recall_where_annotators_agree"] = (
            f"{sum(pred[i] == a[i] for i in summaries)}/{len(summaries)}" if summaries else None)
    return out


def guards(protocol) -> dict:
    """The checks of benchmarks/README.md's "Phase labeller" rule, from validate_quality.py's functions."""
    import validate_quality as vq

    written = vq.written_sessions(protocol)
    degradations, ok = vq.degradation_check(vq.unseen_sessions(), protocol)
    peers, _ = vq.esconv(protocol, None)
    experts = {**vq.expert_check(protocol, peers), **vq.expert_check(protocol, peers, folder=DATA / "expert_cbt_fresh")}
    return {"written_auc": {k: v["auc"] for k, v in written.items()},
            "degradations": {k: {"a_check": v["a_check"], "drift_rises": v["drift_rises"], "ctrs_falls": v["ctrs_falls"],
                                 "drift": v["means"]["drift.score"], "ctrs": v["means"]["ctrs.mean"]}
                             for k, v in degradations.items()},
            "all_degradations_monotone": ok,
            "experts_beyond_90pct": {k: v["peers_with_more_drift"] >= 0.9 or v["peers_with_lower_ctrs"] >= 0.9
                                     for k, v in experts.items()},
            "experts": experts}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--name", default="validate_phases", help="results/NAME.json")
    ap.add_argument("--guards", action="store_true", help="also the written sets, degradations and expert demonstrations")
    ap.add_argument("--phase-labeller", default="rules", choices=("rules", "model", "auto"),
                    help="the agreement of this phase labeller (the guards read the default, as the measures do)")
    args = ap.parse_args(argv)
    protocol = load_protocol("cbt_session")
    result: dict = {**measured_checkout(),
                    "phase_labeller": args.phase_labeller,
                    "sets": {name: agreement(name, protocol, args.phase_labeller) for name in SETS}}
    if args.guards:
        result["guards"] = guards(protocol)
    report(args.name, result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
