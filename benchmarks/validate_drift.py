"""Does ``drift.score`` point the right way? Checks on ESConv (../shared/data/esconv) and on sessions/.

1. Outcomes: Spearman rho of drift with the help-seeker's improvement (meta init_intensity -
   final_intensity) and with their mean per-turn feedback (seeker_feedback_1to5). More drift should go
   with less improvement and lower feedback (rho < 0). Reported, not asserted: the outcomes are noisy.
2. Synthetic degradations of every real session, at increasing strength k: replace k counselor turns
   with small talk, inject k advice turns right after the opening, shuffle a growing share of the
   counselor turns. Mean drift must rise strictly with k (asserted; exit 1 otherwise).

Labels: ``--labels gold`` maps ESConv's own strategy annotations onto the helping_skills protocol
(stage_heuristic -> phase; Greeting/Others -> off_protocol), so the check tests the metric and not a
labeller; ``--labels labeller`` runs helpert.label on the text instead (any protocol).

Usage:
  .venv/bin/python benchmarks/validate_drift.py [--labels gold|labeller] [--protocol helping_skills]

Since 2026-12-02 drift also has listening parts read from MI codes (docs/metrics.md); gold-labelled sessions
carry none, so ``--labels gold`` checks the structural parts alone. The quality validation of the whole
score is benchmarks/validate_quality.py; this script's figures are no longer kept in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import spearman_ci, spearman_rows  # noqa: E402

from helpert.compare import N_BOOT, SEED, bootstrap_ci  # noqa: E402
from helpert.io import read_sessions  # noqa: E402
from helpert.metrics import ensure_labelled, measure_labelled  # noqa: E402
from helpert.label.strategy import label_from_annotation  # noqa: E402
from helpert.probe import degrade as probe  # noqa: E402
from helpert.probe.degrade import LEVELS  # noqa: E402
from helpert.protocols import Protocol, load_protocol  # noqa: E402
from helpert.session import Session  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "esconv" / "esconv_valid_195.jsonl"
BUNDLED = Path(__file__).resolve().parents[1] / "sessions"
DRIFTING = "work_conflict"  # the bundled session written to drift (sessions/README.md)
MIN_COUNSELOR_TURNS = 6

SMALL_TALK = (
    "By the way, did you catch the game last night?",
    "The weather has been really nice lately, hasn't it?",
    "I just had a great sandwich for lunch, haha.",
    "I was thinking about getting a new phone this weekend.",
)
ADVICE = (
    "You should just try to exercise more and stop worrying about it.",
    "My advice is to take a break and go for a walk.",
    "I suggest you write a to-do list and stick to it.",
    "You could try to get more sleep, that usually fixes it.",
)


# --- labels and degradations (helpert.probe.degrade) -------------------------------------------------------

def label(sessions: list[Session], protocol: Protocol, mode: str) -> list[Session]:
    if mode == "gold":
        return [label_from_annotation(s) for s in sessions]
    return ensure_labelled(sessions, protocol)


# In gold mode the replaced turns carry the ESConv annotation of what replaced them (helping_skills).
DEGRADATIONS = {
    "small_talk": lambda s, k, gold: probe.small_talk_replacing(s, k, texts=SMALL_TALK, labels={"strategy": "Others"} if gold else None),
    "early_advice": lambda s, k, gold: probe.early_advice(s, k, texts=ADVICE, labels={
        "strategy": "Providing Suggestions or Information", "stage_heuristic": "action"} if gold else None),
    "shuffle": lambda s, k, gold: probe.shuffled(s, k, keep_labels=gold),
}


def degrade(sessions: list[Session], kind: str, k: int, protocol: Protocol, mode: str) -> list[Session]:
    """Degrade raw sessions, then label them (gold mode: from the annotation, replaced turns included)."""
    return label([DEGRADATIONS[kind](s, k, mode == "gold") for s in sessions], protocol, mode)


# --- statistics ----------------------------------------------------------------------------------------

def within_session_rho(table: np.ndarray) -> dict:
    """Mean over sessions of Spearman rho(level, drift) within each session (sessions whose drift does
    not change are left out), with a bootstrap CI over sessions."""
    levels = np.tile(np.array(LEVELS, dtype=float), (len(table), 1))
    rho = spearman_rows(levels, table)
    rho = rho[~np.isnan(rho)]
    low, high = bootstrap_ci(rho, N_BOOT, SEED)
    return {"rho": float(rho.mean()), "ci_low": low, "ci_high": high, "n": int(len(rho))}


def mean_feedback(session: Session) -> float:
    values = [float(t.labels["seeker_feedback_1to5"]) for t in session.client_turns if "seeker_feedback_1to5" in t.labels]
    return float(np.mean(values)) if values else float("nan")


def drift_scores(sessions: list[Session], protocol: Protocol) -> np.ndarray:
    return np.array([v if (v := measure_labelled(s, protocol)["drift.score"]) is not None else np.nan for s in sessions])


# The score's parts as measured keys (sign: +1 = the key itself, -1 = one minus it), for the
# part-by-part rows of the outcome table. They are reported to show where the signal comes from;
# the weights in helpert.metrics.drift are fixed by design and are not fitted to these numbers.
PARTS = {
    "drift.score": "drift.score", "off_protocol_share": "drift.off_protocol_share",
    "missing_required": "adherence.coverage", "premature_action": "adherence.premature_action",
    "disallowed_transitions": "adherence.transitions", "edit_distance": "drift.edit_distance",
}
COMPLEMENT = {"missing_required", "disallowed_transitions"}


def part_values(sessions: list[Session], protocol: Protocol) -> dict[str, np.ndarray]:
    rows = [measure_labelled(s, protocol) for s in sessions]
    out = {}
    for part, key in PARTS.items():
        v = np.array([np.nan if r[key] is None else r[key] for r in rows], dtype=float)
        out[part] = 1 - v if part in COMPLEMENT else v
    return out


# --- report --------------------------------------------------------------------------------------------

def run(data: Path, protocol: Protocol, mode: str) -> tuple[list[str], bool]:
    raw = read_sessions(data)
    labelled = label(raw, protocol, mode)
    parts = part_values(labelled, protocol)
    drift = parts["drift.score"]
    improvement = np.array([s.meta["init_intensity"] - s.meta["final_intensity"] for s in raw], dtype=float)
    feedback = np.array([mean_feedback(s) for s in raw])
    lines = [
        f"Data: `{data.name}` ({len(raw)} sessions), protocol `{protocol.name}`, labels `{mode}`, "
        f"bootstrap {N_BOOT} resamples (seed {SEED}), percentile 95% CI.",
        "",
        f"Mean drift.score {np.nanmean(drift):.3f} (sd {np.nanstd(drift, ddof=1):.3f}).",
        "",
        "Spearman rho with the outcomes (expected < 0: more drift, worse outcome); the score, then each of "
        "its parts alone (n drops where a part is undefined):",
        "",
        "| measure | improvement (init - final intensity) | mean seeker feedback (1-5) |",
        "|---|---|---|",
    ]
    for part, x in parts.items():
        cells = []
        for y in (improvement, feedback):
            r = spearman_ci(x, y)
            cells.append(f"{r['rho']:+.3f} [{r['ci_low']:+.3f}, {r['ci_high']:+.3f}] (n={r['n']})")
        lines.append(f"| {'**' + part + '**' if part == 'drift.score' else part} | {' | '.join(cells)} |")

    usable = [s for s in raw if len(s.counselor_turns) >= MIN_COUNSELOR_TURNS]
    lines += ["", f"Synthetic degradations ({len(usable)} sessions with >= {MIN_COUNSELOR_TURNS} counselor turns; "
              f"level k = {', '.join(map(str, LEVELS))}; shuffle level k = share k/{max(LEVELS)} of counselor turns):", "",
              "| degradation | mean drift.score by level | monotone | sessions never decreasing | pooled rho(level, drift) [95% CI] | mean within-session rho [95% CI] |",
              "|---|---|---|---|---|---|"]
    ok = True
    for kind in DEGRADATIONS:
        table = np.array([drift_scores(degrade(usable, kind, k, protocol, mode), protocol) for k in LEVELS]).T
        means = np.nanmean(table, axis=0)
        monotone = bool(np.all(np.diff(means) > 0))
        ok &= monotone
        never_down = float(np.mean(np.all(np.diff(table, axis=1) >= -1e-12, axis=1)))
        levels = np.tile(np.array(LEVELS, dtype=float), len(usable))
        r = spearman_ci(levels, table.ravel(), len(LEVELS))
        w = within_session_rho(table)
        lines.append(f"| {kind} | {' → '.join(f'{m:.3f}' for m in means)} | {'yes' if monotone else 'NO'} | "
                     f"{never_down:.0%} | {r['rho']:+.3f} [{r['ci_low']:+.3f}, {r['ci_high']:+.3f}] | "
                     f"{w['rho']:+.3f} [{w['ci_low']:+.3f}, {w['ci_high']:+.3f}] |")
    return lines, ok


def bundled_check() -> tuple[list[str], bool]:
    """The hand-written example sessions: the one written to drift from CBT must score the most drift
    under cbt_session (the protocol they were written for, whatever --protocol says)."""
    protocol = load_protocol("cbt_session")
    sessions = ensure_labelled(read_sessions(BUNDLED), protocol)
    scores = {s.dialogue_id: measure_labelled(s, protocol)["drift.score"] for s in sessions}
    ok = max(scores, key=lambda k: scores[k] if scores[k] is not None else -1.0) == DRIFTING
    lines = ["", f"Hand-written example sessions (`sessions/`, labelled by helpert.label): `{DRIFTING}` is written "
             f"to drift from CBT and must score highest under `cbt_session` - {'yes' if ok else 'NO'}.", "", "| session | drift.score |", "|---|---|"]
    lines += [f"| {k} | {v:.3f} |" for k, v in sorted(scores.items(), key=lambda kv: -(kv[1] or 0))]
    return lines, ok


def write_section(readme: Path, body: list[str], key: str) -> None:
    """Put ``body`` between this run's markers inside the '## Drift validation' section (created if
    absent), leaving everything else in the file, including prose in the section, alone."""
    from helpert.io.atomic import atomic_write_text

    heading, start, end = "## Drift validation", f"<!-- {key}: start -->", f"<!-- {key}: end -->"
    block = "\n".join([start, *body, end])
    text = readme.read_text(encoding="utf-8") if readme.exists() else "# Benchmarks\n"
    if start in text and end in text:
        text = text[: text.index(start)] + block + text[text.index(end) + len(end):]
    elif heading in text:
        nxt = text.find("\n## ", text.index(heading) + len(heading))
        cut = len(text) if nxt == -1 else nxt + 1
        text = text[:cut].rstrip() + "\n\n" + block + "\n" + ("\n" + text[cut:] if nxt != -1 else "")
    else:
        text = text.rstrip() + f"\n\n{heading}\n\n{block}\n"
    atomic_write_text(readme, text)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--labels", choices=("gold", "labeller"), default="gold")
    ap.add_argument("--protocol", default="helping_skills")
    ap.add_argument("--readme", type=Path, help="write the result into this file's 'Drift validation' section")
    args = ap.parse_args(argv)
    if not args.data.is_file():
        print(f"skipped: {args.data} not found (needs ../shared/data)", file=sys.stderr)
        return 0
    if args.labels == "gold" and args.protocol != "helping_skills":
        ap.error("--labels gold maps ESConv strategies onto helping_skills only")
    protocol = load_protocol(args.protocol)
    lines, ok = run(args.data, protocol, args.labels)
    print("\n".join(lines))
    print("\nsynthetic degradations monotone:", "PASS" if ok else "FAIL")
    if args.labels == "labeller":
        more, bundled_ok = bundled_check()
        lines += more
        ok &= bundled_ok
        print("\n".join(more))
        print("\ndrifting example scores highest:", "PASS" if bundled_ok else "FAIL")
    if args.readme:
        write_section(args.readme, lines, f"validate_drift --labels {args.labels} --protocol {args.protocol}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
