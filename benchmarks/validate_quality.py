"""Do the session measures track counseling quality? Checks on sessions no labeller was trained on.

1. **Synthetic degradations** (asserted: exit 1 when one fails). Sessions no labeller was trained on - the 8
   HOPE therapy transcripts (``../shared/data/hope``, real sessions, 236 therapist turns) and the two expert
   CBT transcripts of ``tests/data/expert_cbt/`` - and, reported beside them, 60 ESConv chats (the MI
   labeller never saw ESConv; the strategy labeller was trained on it), degraded at strength k = 0..4
   (nested across k):
   ``early_advice`` (k advice-without-permission turns right after the opening), ``questions_for_reflections``
   (k reflective counselor turns replaced by closed questions), ``lecture`` (k counselor turns replaced by
   long information-giving lectures), ``small_talk`` (k turns replaced by small talk), ``shuffle`` (a share
   k/4 of the counselor turns permuted). Every session is labelled by ``helpert.label`` after degrading.
   Mean ``drift.score`` must rise and mean ``ctrs.mean`` fall strictly at every step, for every degradation
   (the CTRS general items are reported too). The texts put in were written for this script.
2. **MIBot** (106 chats of a GPT-4o MI counselor with real smokers, ``../shared/data/mi/mibot_v63a.jsonl``;
   consecutive utterances merged into turns): drift, CTRS and MI metrics against the smokers' outcomes - the
   change in confidence to quit (post - pre, and week later - pre) and their CARE empathy rating of the
   counselor (sum of 10 items) - with 95% bootstrap CIs, whatever they show. The MI labeller's group head was
   trained on these sessions' AutoMISC codes (never on the outcomes), so the agreement of ``mi.adherent_pct``
   and ``mi.reflection_to_question`` with AutoMISC's %MIC and R:Q printed here is in-sample; the
   out-of-fold agreement is in ``benchmarks/results/validate_mi.json``.
3. **ESConv** (195 sessions; the ESConv strategy labeller *was* trained on them, the MI labeller was not):
   rho of drift and CTRS with the help-seeker's improvement (init - final intensity) and mean feedback.
4. **Expert demonstrations**: percentile of the expert CBT transcripts' drift (lower) and CTRS (higher)
   among the ESConv peer sessions (goal: beyond 90% of them).

    .venv/bin/python benchmarks/validate_quality.py [--protocol cbt_session] [--limit N] [--readme benchmarks/README.md]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import zlib
from datetime import date
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import REPO, SHARED, report, spearman_ci, update_readme_section  # noqa: E402

from helpert.io import read_sessions  # noqa: E402
from helpert.label import label_sessions  # noqa: E402
from helpert.metrics import measure_labelled  # noqa: E402
from helpert.protocols import Protocol, load_protocol  # noqa: E402
from helpert.session import Session, merge_consecutive  # noqa: E402

EXPERT = REPO / "tests" / "data" / "expert_cbt"
LEVELS = (0, 1, 2, 3, 4)
CTRS_GENERAL = ("ctrs.understanding", "ctrs.interpersonal_effectiveness", "ctrs.collaboration", "ctrs.guided_discovery")

# Written for this script (not taken from any dataset, never used to train or tune a labeller).
ADVICE = (
    "You need to stop buying cigarettes altogether and throw out the ones you have at home.",
    "What you should do is go to bed at the same time every night and stop using your phone in bed.",
    "The best thing for you is to tell your boss exactly how you feel tomorrow morning.",
    "Just start exercising every day, that will fix most of this for you.",
    "You have to cut those friends off, they are clearly bad for you.",
)
CLOSED_QUESTIONS = (
    "Did that happen more than once?",
    "Is that something you talked about with anyone?",
    "Was it on a weekday?",
    "Do you live alone?",
    "Have you been there before?",
)
LECTURE = (
    "There is a lot of research on this. Stress raises cortisol, and cortisol affects sleep, appetite and mood. "
    "Most people underestimate how much their habits matter here. Regular routines, daylight in the morning, "
    "limiting caffeine after noon and keeping screens out of the bedroom are the standard recommendations, and "
    "they work for the majority of people who actually follow them consistently for several weeks.",
    "Let me explain how this works. Anxiety is the body's alarm system, and when it fires too often the brain "
    "learns that ordinary situations are dangerous. Avoidance makes it worse because you never learn otherwise. "
    "The treatment that has the best evidence is gradual exposure, which means facing the situation step by step "
    "until the alarm settles, and people usually need several weeks of practice for it to stick.",
    "Nicotine is one of the most addictive substances there is. Withdrawal peaks in the first three days and "
    "mostly fades within a month. Nicotine replacement doubles the chance of quitting, and combining a patch "
    "with gum or a lozenge is more effective than either alone. Medications such as varenicline help even more, "
    "and a quit date set about two weeks ahead gives you time to prepare properly.",
)
SMALL_TALK = (
    "By the way, did you watch the match last night?",
    "I had the best coffee this morning at a new place near the station.",
    "The weather has been lovely this week, hasn't it?",
    "I'm thinking about repainting my kitchen this weekend.",
)


def _rng(session: Session, kind: str) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(f"{session.dialogue_id}:{kind}".encode()))


def _counselor(session: Session) -> list[int]:
    return [i for i, t in enumerate(session.turns) if t.role == "counselor"]


def _replace(session: Session, positions: list[int], texts: tuple[str, ...]) -> Session:
    counselor = _counselor(session)
    turns = list(session.turns)
    for j, pos in enumerate(positions):
        i = counselor[pos]
        turns[i] = turns[i].model_copy(update={"text": texts[j % len(texts)], "labels": {}})
    return session.model_copy(update={"turns": turns})


def _random_positions(session: Session, kind: str, k: int) -> list[int]:
    n = len(_counselor(session))
    return sorted((1 + _rng(session, kind).permutation(n - 1))[:k].tolist())


def early_advice(session: Session, k: int, reflective: list[int]) -> Session:
    return _replace(session, list(range(1, k + 1)), ADVICE)


def questions_for_reflections(session: Session, k: int, reflective: list[int]) -> Session:
    """The first k reflective turns (by the labeller, on the original) become closed questions; where a
    session has fewer, random other turns follow (nested across k)."""
    rest = [p for p in _random_positions(session, "q4r", len(_counselor(session))) if p not in reflective]
    return _replace(session, sorted((reflective + rest)[:k]), CLOSED_QUESTIONS)


def lecture(session: Session, k: int, reflective: list[int]) -> Session:
    return _replace(session, _random_positions(session, "lecture", k), LECTURE)


def small_talk(session: Session, k: int, reflective: list[int]) -> Session:
    return _replace(session, _random_positions(session, "small_talk", k), SMALL_TALK)


def shuffled(session: Session, k: int, reflective: list[int]) -> Session:
    rng = _rng(session, "shuffle")
    counselor = _counselor(session)
    chosen = sorted(rng.permutation(len(counselor))[: round(len(counselor) * k / max(LEVELS))].tolist())
    perm = rng.permutation(len(chosen))
    turns = list(session.turns)
    for dst, src in zip(chosen, (chosen[p] for p in perm)):
        turns[counselor[dst]] = turns[counselor[dst]].model_copy(update={"text": session.turns[counselor[src]].text, "labels": {}})
    return session.model_copy(update={"turns": turns})


DEGRADATIONS = {"early_advice": early_advice, "questions_for_reflections": questions_for_reflections,
                "lecture": lecture, "small_talk": small_talk, "shuffle": shuffled}


def reflective_positions(labelled: Session) -> list[int]:
    from helpert.label.mi import REFLECTION

    return [j for j, t in enumerate(labelled.counselor_turns) if any(c in REFLECTION for c in t.labels.get("mi", []))]


def measure(sessions: list[Session], protocol: Protocol) -> list[dict]:
    return [measure_labelled(s, protocol) for s in label_sessions(sessions, protocol)]


def column(rows: list[dict], key: str) -> np.ndarray:
    return np.array([np.nan if r.get(key) is None else r[key] for r in rows], dtype=float)


def degradation_check(sessions: list[Session], protocol: Protocol) -> tuple[dict, bool]:
    base = label_sessions(sessions, protocol)
    reflective = [reflective_positions(s) for s in base]
    out, ok = {}, True
    for kind, fn in DEGRADATIONS.items():
        means: dict[str, list[float]] = {k: [] for k in ("drift.score", "ctrs.mean", *CTRS_GENERAL)}
        for k in LEVELS:
            rows = measure([fn(s, k, r) for s, r in zip(sessions, reflective)], protocol)
            for key in means:
                means[key].append(round(float(np.nanmean(column(rows, key))), 4))
        rises = all(a < b for a, b in zip(means["drift.score"], means["drift.score"][1:]))
        falls = all(a > b for a, b in zip(means["ctrs.mean"], means["ctrs.mean"][1:]))
        ok &= rises and falls
        out[kind] = {"means": means, "drift_rises": rises, "ctrs_falls": falls}
        print(kind, json.dumps(out[kind]), flush=True)
    return out, ok


def mibot(protocol: Protocol, limit: int | None) -> tuple[list[Session], dict]:
    raw = read_sessions(SHARED / "mi" / "mibot_v63a.jsonl")[:limit]
    sessions = [s.model_copy(update={"turns": merge_consecutive(s.turns)}) for s in raw]
    rows = measure(sessions, protocol)
    meta = [s.meta for s in raw]
    summary = {
        "%MIC vs mi.adherent_pct (in-sample)": spearman_ci(column(rows, "mi.adherent_pct"), np.array([m["AutoMISC_%MIC"] for m in meta], float)),
        "R:Q vs mi.reflection_to_question (in-sample)": spearman_ci(column(rows, "mi.reflection_to_question"), np.array([m["AutoMISC_R:Q"] for m in meta], float)),
        "R share vs mi.reflection_share (in-sample)": spearman_ci(column(rows, "mi.reflection_share"),
                                                      np.array([m["AutoMISC_R"] / max(1, m["AutoMISC_R"] + m["AutoMISC_Q"] + m["AutoMISC_MICO"] + m["AutoMISC_MIIN"] + m["AutoMISC_Other"]) for m in meta], float)),
    }
    outcomes = {
        "confidence_post_minus_pre": np.array([m["PostRulerConfidence"] - m["PreRulerConfidence"] for m in meta], float),
        "confidence_week_minus_pre": np.array([m["WeekLaterRulerConfidence"] - m["PreRulerConfidence"] for m in meta], float),
        "care_total": np.array([sum(m[f"CAREQ{i}"] for i in range(1, 11)) for m in meta], float),
    }
    keys = ("drift.score", "ctrs.mean", *CTRS_GENERAL, "mi.reflection_to_question", "mi.adherent_pct", "mi.reflection_share")
    corr = {f"{k} ~ {o}": spearman_ci(column(rows, k), v) for k in keys for o, v in outcomes.items()}
    return sessions, {"n": len(sessions), "agreement_with_automisc": summary, "outcomes": corr}


def esconv(protocol: Protocol, limit: int | None) -> tuple[list[dict], dict]:
    sessions = read_sessions(SHARED / "esconv" / "esconv_valid_195.jsonl")[:limit]
    rows = measure(sessions, protocol)
    improvement = np.array([float(s.meta.get("init_intensity", np.nan)) - float(s.meta.get("final_intensity", np.nan)) for s in sessions])
    feedback = np.array([np.mean([float(t.labels["seeker_feedback_1to5"]) for t in s.client_turns if "seeker_feedback_1to5" in t.labels] or [np.nan])
                         for s in sessions])
    corr = {f"{k} ~ {o}": spearman_ci(column(rows, k), v) for k in ("drift.score", "ctrs.mean", "mi.reflection_share")
            for o, v in (("improvement", improvement), ("feedback", feedback))}
    return rows, {"n": len(sessions), "outcomes": corr}


def expert_check(protocol: Protocol, peers: list[dict]) -> dict:
    experts = read_sessions(EXPERT)
    out = {}
    drift, ctrs = column(peers, "drift.score"), column(peers, "ctrs.mean")
    for s, r in zip(experts, measure(experts, protocol)):
        out[s.dialogue_id] = {
            "drift.score": round(r["drift.score"], 3), "ctrs.mean": round(r["ctrs.mean"], 3),
            "peers_with_more_drift": round(float(np.nanmean(drift > r["drift.score"])), 3),
            "peers_with_lower_ctrs": round(float(np.nanmean(ctrs < r["ctrs.mean"])), 3),
        }
    return out


def _ci(r: dict) -> str:
    return f"{r['rho']:+.2f} ({r['ci_low']:+.2f} to {r['ci_high']:+.2f})"


def markdown(result: dict) -> str:
    """The README section: degradations, expert percentiles, outcome correlations."""
    lines = [f"Measured {result['date']} (commit {result['commit']}, protocol `{result['protocol']}`) with "
             "`benchmarks/validate_quality.py`; 95% bootstrap intervals over sessions.", ""]
    for key, title in (("degradations", f"sessions no labeller saw (HOPE + expert transcripts, n = {result['degradations_sessions']})"),
                       ("degradations_esconv", "60 ESConv chats (reported, not asserted)")):
        lines += [f"**Synthetic degradations, {title}** - mean drift.score / mean ctrs.mean at k = 0..4:", "",
                  "| degradation | drift.score | rises | ctrs.mean | falls |", "|---|---|---|---|---|"]
        for kind, r in result[key].items():
            m = r["means"]
            lines.append(f"| {kind} | {' → '.join(f'{v:.3f}' for v in m['drift.score'])} | {'yes' if r['drift_rises'] else '**no**'} | "
                         f"{' → '.join(f'{v:.2f}' for v in m['ctrs.mean'])} | {'yes' if r['ctrs_falls'] else '**no**'} |")
        lines.append("")
    lines += ["**Expert CBT transcripts** (`tests/data/expert_cbt`) against the 195 ESConv peer sessions:", "",
              "| transcript | drift.score | peers with more drift | ctrs.mean | peers with lower CTRS |", "|---|---|---|---|---|"]
    for name, r in result["expert"].items():
        lines.append(f"| {name} | {r['drift.score']:.3f} | {r['peers_with_more_drift']:.0%} | {r['ctrs.mean']:.2f} | {r['peers_with_lower_ctrs']:.0%} |")
    lines += ["", f"**MIBot outcomes** (n = {result['mibot']['n']}), Spearman rho:", "",
              "| metric | confidence change (post - pre) | confidence change (week - pre) | CARE empathy |", "|---|---|---|---|"]
    outs = result["mibot"]["outcomes"]
    for metric in dict.fromkeys(k.split(" ~ ")[0] for k in outs):
        cells = [outs[f"{metric} ~ {o}"] for o in ("confidence_post_minus_pre", "confidence_week_minus_pre", "care_total")]
        lines.append(f"| {metric} | " + " | ".join(_ci(c) if c["rho"] == c["rho"] else "constant" for c in cells) + " |")
    lines += ["", f"**ESConv outcomes** (n = {result['esconv']['n']}), Spearman rho:", "",
              "| metric | improvement (init - final intensity) | mean feedback |", "|---|---|---|"]
    outs = result["esconv"]["outcomes"]
    for metric in dict.fromkeys(k.split(" ~ ")[0] for k in outs):
        lines.append(f"| {metric} | {_ci(outs[metric + ' ~ improvement'])} | {_ci(outs[metric + ' ~ feedback'])} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--protocol", default="cbt_session")
    ap.add_argument("--limit", type=int, default=None, help="at most N sessions per corpus (a quick run)")
    ap.add_argument("--readme", type=Path, default=None, help="write the figures into this file's validate_quality section")
    args = ap.parse_args(argv)
    protocol = load_protocol(args.protocol)
    result: dict = {"date": date.today().isoformat(), "protocol": protocol.name,
                    "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip()}
    mibot_sessions, result["mibot"] = mibot(protocol, args.limit)
    print(json.dumps(result["mibot"]["agreement_with_automisc"]), flush=True)
    hope = read_sessions(SHARED / "hope" / "hope_sample.jsonl")
    unseen = [s for s in hope + read_sessions(EXPERT) if len(s.counselor_turns) >= 6]
    result["degradations"], ok = degradation_check(unseen, protocol)
    result["degradations_sessions"] = len(unseen)
    chats = [s for s in read_sessions(SHARED / "esconv" / "esconv_valid_195.jsonl") if len(s.counselor_turns) >= 6][:60]
    result["degradations_esconv"], esconv_ok = degradation_check(chats, protocol)
    result["degradations_esconv_all_monotone"] = esconv_ok
    peers, result["esconv"] = esconv(protocol, args.limit)
    result["expert"] = expert_check(protocol, peers)
    result["all_degradations_monotone"] = ok
    report(f"validate_quality_{protocol.name}", result)
    if args.readme:
        update_readme_section(args.readme, "validate_quality", markdown(result))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
