"""Do the session measures track counseling quality? Checks on sessions no labeller was trained on.

1. **Synthetic degradations** (asserted: exit 1 when one fails). Sessions no labeller was trained on - the 8
   HOPE therapy transcripts (``../shared/data/hope``, real sessions, 236 therapist turns) and the two expert
   CBT transcripts of ``tests/data/expert_cbt/`` - and, reported beside them, 60 ESConv chats (the MI
   labeller never saw ESConv; the strategy labeller was trained on it), degraded at strength k = 0..4
   (nested across k):
   ``early_advice`` (k advice-without-permission turns right after the opening), ``questions_for_reflections``
   (k reflective counselor turns replaced by closed questions), ``lecture`` (k counselor turns replaced by
   long information-giving lectures), ``small_talk`` (k small-talk exchanges put in beside the turns; since
   round 91 - until then k turns replaced by small talk, which is still reported as ``small_talk_replacing`` but
   is no check, since each step also takes the replaced turn's own behaviour out), ``shuffle`` (a share
   k/4 of the counselor turns permuted). Every session is labelled by ``helpert.label`` after degrading.
   Each session is degraded in ``DRAWS`` independent random draws (other turns replaced or shuffled; nested
   across k within a draw), so that a mean is the expected effect rather than one draw's luck.
   Mean ``drift.score`` must rise and mean ``ctrs.mean`` fall strictly at every step, for every degradation
   that is a check (the CTRS general items are reported too). The degradations and the texts put in (written for this
   script) are helpert.probe.degrade.
2. **MIBot** (106 chats of a GPT-4o MI counselor with real smokers, ``../shared/data/mi/mibot_v63a.jsonl``;
   consecutive utterances merged into turns): drift, CTRS and MI metrics against the smokers' outcomes - the
   change in confidence to quit (post - pre, and week later - pre) and their CARE empathy rating of the
   counselor (sum of 10 items) - with 95% bootstrap CIs, whatever they show. The MI labeller's group head was
   trained on these sessions' AutoMISC codes (never on the outcomes), so the agreement of ``mi.adherent_pct``
   and ``mi.reflection_to_question`` with AutoMISC's %MIC and R:Q printed here is in-sample; the
   out-of-fold agreement is in ``benchmarks/results/validate_mi.json``.
3. **ESConv** (195 sessions; the ESConv strategy labeller *was* trained on them, the MI labeller was not):
   rho of drift and CTRS with the help-seeker's improvement (init - final intensity) and mean feedback.
4. **Written transcripts rated high or low** (``tests/data/quality_sessions_{a,b,c}.jsonl``: 30 sessions in
   the register of transcribed recordings, 10 per set, 5 high and 5 low quality, written on 2026-12-03 by
   three assistant sessions that saw nothing of the project and rated blind by a fourth; both labels are in
   the files): the AUC with which ``drift.score`` (higher = worse) and a low ``ctrs.mean`` pick out the low
   sessions, with 95% bootstrap intervals. Set ``a`` was read while changing the metrics (development: the
   "explored" rule of docs/metrics.md), ``b`` and ``c`` were scored once, after the change was committed.
   Written sessions are cleaner contrasts than real ones; the figure is a floor check, not the expert-rated
   AUC of issue #13.
5. **Expert demonstrations**: percentile of the expert CBT transcripts' drift (lower) and CTRS (higher)
   among the ESConv peer sessions (goal: beyond 90% of them).

    .venv/bin/python benchmarks/validate_quality.py [--protocol cbt_session] [--limit N] [--readme benchmarks/README.md]
    PYTHONPATH=<checkout of an earlier commit> .venv/bin/python benchmarks/validate_quality.py --written-only NAME
    .venv/bin/python benchmarks/validate_quality.py --written-only NAME --rewrite unpunctuated   (the written sets as a
        speech recogniser without sentence marks would write them)
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import REPO, SHARED, measured_checkout, report, spearman_ci, update_readme_section  # noqa: E402

from helpert.io import read_sessions  # noqa: E402
from helpert.label import label_sessions  # noqa: E402
from helpert.metrics import measure_labelled, one_line_per_turn  # noqa: E402
from helpert.probe.degrade import DEGRADATIONS, LEVELS, REPORTED_ONLY, reflective_positions  # noqa: E402
from helpert.protocols import CTRS_ITEMS, Protocol, load_protocol  # noqa: E402
from helpert.session import Session, merge_consecutive  # noqa: E402

EXPERT = REPO / "tests" / "data" / "expert_cbt"
# tests/data/quality_sessions_<set>.jsonl: a was read while changing the metrics; b and c were scored once after the
# change of 12ab306; d and e were written and rated later (2026-12-03, two more writers and a blind rater) and scored
# once, with the metrics as shipped then, no choice made on them (benchmarks/README.md, "Quality validation").
# h and i (round 56, 2026-12-06) are verbatim transcripts, the counselor's minimal encouragers as turns of their own; j
# and k (round 57) the client's too, l and m (round 58) as well; each scored once before its round's choice and
# reported since.
WRITTEN = {"a": "development", "b": "held out", "c": "held out", "d": "held out (new)", "e": "held out (new)",
           "h": "held out (verbatim)", "i": "held out (verbatim)",
           "j": "held out (verbatim, both speakers)", "k": "held out (verbatim, both speakers)",
           "l": "held out (verbatim, round 58)", "m": "held out (verbatim, round 58)",
           "n": "held out (verbatim, round 61)", "o": "held out (verbatim, round 61)"}
AUC_KEYS = (("drift.score", 1), ("ctrs.mean", -1), ("mi.reflection_share", -1), ("words_per_counselor_turn", 1))
DRAWS = 5  # random draws of the degraded turns per session and level; the means are over sessions and draws
CTRS_GENERAL = ("ctrs.understanding", "ctrs.interpersonal_effectiveness", "ctrs.collaboration", "ctrs.guided_discovery")

def unseen_sessions() -> list[Session]:
    """The sessions no labeller saw, for the degradations: the HOPE sample and the expert transcripts (6+ turns)."""
    hope = read_sessions(SHARED / "hope" / "hope_sample.jsonl")
    # one speaker's consecutive lines are one turn, as `helpert measure` reads them (round 64), before any turn is
    # degraded (2 HOPE sessions have such lines)
    return [one_line_per_turn(s) for s in hope + read_sessions(EXPERT) if len(s.counselor_turns) >= 6]


def measure(sessions: list[Session], protocol: Protocol, phase_labeller: str | None = None) -> list[dict]:
    """Every metric of each session as `helpert measure` gives it: consecutive lines of one speaker joined
    (``one_line_per_turn``), labelled (``phase_labeller`` as `helpert measure --phase-labeller`; None: helpert's
    default, so that a benchmark measures what a user gets), measured."""
    joined = [one_line_per_turn(s) for s in sessions]
    options = {} if phase_labeller is None else {"phase_labeller": phase_labeller}
    return [measure_labelled(s, protocol) for s in label_sessions(joined, protocol, **options)]


def measure_versions(path: Path, keys: tuple[str, ...], protocol: str = "cbt_session") -> dict[tuple[str, str], dict]:
    """A fresh set of session versions (a JSONL file whose lines carry ``pair`` and ``version``: rounds 94-98's),
    measured as :func:`measure` does: per (pair, version), the given keys."""
    meta = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    rows = measure(read_sessions(path), load_protocol(protocol))
    return {(m["pair"], m["version"]): {k: r.get(k) for k in keys} for m, r in zip(meta, rows)}


def column(rows: list[dict], key: str) -> np.ndarray:
    return np.array([np.nan if r.get(key) is None else r[key] for r in rows], dtype=float)


def degradation_check(sessions: list[Session], protocol: Protocol, draws: int = DRAWS,
                      texts: dict[str, dict] | None = None) -> tuple[dict, bool]:
    """``texts``: per degradation, the options that put other texts in (``--texts``: ``{"texts": (...)}``, and for
    the small talk its client ``replies``; the shuffle puts in none). The bool: every degradation that is a check
    (not :data:`helpert.probe.degrade.REPORTED_ONLY`) raises drift and lowers the CTRS mean at every step."""
    texts = texts or {}
    base = label_sessions(sessions, protocol)
    reflective = [reflective_positions(s) for s in base]
    out, ok = {}, True
    for kind, fn in DEGRADATIONS.items():
        # every CTRS item, so that a failure can be traced to the item that moved the wrong way
        means: dict[str, list[float]] = {k: [] for k in ("drift.score", "ctrs.mean", *(f"ctrs.{i}" for i in CTRS_ITEMS))}
        for k in LEVELS:
            extra = texts.get(kind, {})
            rows = [row for d in range(draws) for row in measure([fn(s, k, r, draw=d, **extra) for s, r in zip(sessions, reflective)], protocol)]
            for key in means:
                means[key].append(round(float(np.nanmean(column(rows, key))), 4))
        rises = all(a < b for a, b in zip(means["drift.score"], means["drift.score"][1:]))
        falls = all(a > b for a, b in zip(means["ctrs.mean"], means["ctrs.mean"][1:]))
        checked = kind not in REPORTED_ONLY
        ok &= (rises and falls) or not checked
        out[kind] = {"means": means, "drift_rises": rises, "ctrs_falls": falls, "a_check": checked}
        print(kind, json.dumps(out[kind]), flush=True)
    return out, ok


def backchannel_check(sessions: list[Session], protocol: Protocol, shares: tuple[float, ...] = (0.5, 1.0),
                      draws: int = 3) -> dict:
    """Invariance, not a degradation (rounds 56 and 57): a share of one speaker's turns cut by the other's "mm-hmm"
    (``helpert.probe.degrade.with_backchannels``: client turns cut by the counselor, counselor turns cut after a
    statement by the client); the mean and mean absolute change of drift, the CTRS mean and the reflection share,
    over the sessions and ``draws`` random draws. The counselor's minimal encouragers count nowhere (round 56), so
    those changes should be near 0; a counselor turn cut by the client's is still two turns (round 57 not adopted)."""
    from helpert.probe.degrade import with_backchannels

    base = measure(sessions, protocol)
    out = {}
    for cut in ("client", "counselor"):
        for share in shares:
            rows = [r for d in range(draws) for r in measure([with_backchannels(s, share, d, cut=cut) for s in sessions], protocol)]
            key_out = out[f"{cut} {share}"] = {}
            for key in ("drift.score", "ctrs.mean", "mi.reflection_share"):
                diff = column(rows, key) - np.tile(column(base, key), draws)
                key_out[key] = {"mean": round(float(np.nanmean(diff)), 4), "mean_abs": round(float(np.nanmean(np.abs(diff))), 4)}
    return out


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


def expert_check(protocol: Protocol, peers: list[dict], folder: Path = EXPERT, detail: bool = False) -> dict:
    """Per transcript in ``folder``: drift.score, ctrs.mean and the share of ``peers`` it beats on each; with ``detail``,
    also the drift parts and CTRS items behind them (each transcript labelled once)."""
    from helpert.metrics.drift import score_parts, turn_flags
    from helpert.text.transcript import speech_view

    out = {}
    drift, ctrs = column(peers, "drift.score"), column(peers, "ctrs.mean")
    for s in label_sessions([one_line_per_turn(x) for x in read_sessions(folder)], protocol):  # as `helpert measure`
        r = measure_labelled(s, protocol)
        out[s.dialogue_id] = {
            "drift.score": round(r["drift.score"], 3), "ctrs.mean": round(r["ctrs.mean"], 3),
            "peers_with_more_drift": round(float(np.nanmean(drift > r["drift.score"])), 3),
            "peers_with_lower_ctrs": round(float(np.nanmean(ctrs < r["ctrs.mean"])), 3),
        }
        if detail:
            said = speech_view(s)  # the text the measures read (round 63)
            parts = score_parts(said, protocol, turn_flags(said, protocol))
            out[s.dialogue_id] |= {
                "drift_parts": {k: None if v is None else round(v, 3) for k, v in parts.items()},
                "ctrs_items": {k: None if v is None else round(v, 2) for k, v in r.items()
                               if k.startswith("ctrs.") and k not in ("ctrs.mean", "ctrs.total")},
                "counselor_turns": len(s.counselor_turns)}
    return out


def auc_ci(low: np.ndarray, score: np.ndarray, resamples: int = 2000, seed: int = 20261203) -> list[float]:
    """AUC of ``score`` (higher = more likely low quality) for the ``low`` sessions, with a 95% bootstrap
    interval (resampling the low and the high sessions separately). The AUC is the Mann-Whitney form (a tie counts
    half: what ``sklearn.metrics.roc_auc_score`` computes, here exactly, in whole half-pairs), read for every resample
    from one table of low-high pairs: the same draws as a loop over ``roc_auc_score`` in a fiftieth of the time
    (tests/test_quality_data.py)."""
    ok = ~np.isnan(score)
    low, score = low[ok], score[ok]
    pos, neg = score[low], score[~low]
    halves = 2 * (pos[:, None] > neg[None, :]) + (pos[:, None] == neg[None, :])  # low session above high: 2, tie: 1
    point = halves.sum() / (2 * halves.size)
    rng = np.random.default_rng(seed)
    boot = [halves[np.ix_(rng.choice(len(pos), len(pos)), rng.choice(len(neg), len(neg)))].sum() / (2 * halves.size)
            for _ in range(resamples)]
    return [round(float(point), 3), *(round(float(v), 3) for v in np.percentile(boot, [2.5, 97.5]))]


def written_sessions(protocol: Protocol, sets: tuple[str, ...] = tuple(WRITTEN), rewrite: str | None = None) -> dict:
    """Per set and for the held-out sets pooled: AUC of each key of AUC_KEYS for the low-quality sessions.
    ``rewrite``: a transcript convention of ``helpert.probe.markup`` applied to every session first (``--rewrite``)."""
    from helpert.probe.markup import REWRITES

    rows, low, where = [], [], []
    for name in sets:
        path = REPO / "tests" / "data" / f"quality_sessions_{name}.jsonl"
        quality = [json.loads(line)["quality"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        sessions = read_sessions(path)
        if rewrite:
            sessions = [REWRITES[rewrite](s) for s in sessions]
        for s, r in zip(sessions, measure(sessions, protocol)):
            r["words_per_counselor_turn"] = float(np.mean([len(t.text.split()) for t in s.counselor_turns]))
            rows.append(r)
        low += [q == "low" for q in quality]
        where += [name] * len(quality)
    low_arr, where_arr = np.array(low), np.array(where)
    out = {}
    groups = {name: where_arr == name for name in sets}
    for role in dict.fromkeys(WRITTEN.get(n, "held out") for n in sets):  # the sets of one role pooled, then all held-out ones
        same = [n for n in sets if WRITTEN.get(n, "held out") == role]
        if len(same) > 1 and role.startswith("held out"):
            groups["+".join(same)] = np.isin(where_arr, same)
    held = [n for n in sets if WRITTEN.get(n, "held out").startswith("held out")]
    if len(held) > 1 and "+".join(held) not in groups:
        groups["+".join(held)] = np.isin(where_arr, held)
    for name, mask in groups.items():
        out[name] = {"role": WRITTEN.get(name, "held out") if name in WRITTEN else "pooled", "n": int(mask.sum()), "low": int(low_arr[mask].sum()),
                     "auc": {k: auc_ci(low_arr[mask], sign * column(rows, k)[mask]) for k, sign in AUC_KEYS}}
    return out


def _ci(r: dict) -> str:
    return f"{r['rho']:+.2f} ({r['ci_low']:+.2f} to {r['ci_high']:+.2f})"


def markdown(result: dict) -> str:
    """The README section: degradations, expert percentiles, outcome correlations."""
    lines = [f"Measured {result['date']} (commit {result['commit']}, protocol `{result['protocol']}`) with "
             "`benchmarks/validate_quality.py`; 95% bootstrap intervals over sessions.", ""]
    for key, title in (("degradations", f"sessions no labeller saw (HOPE + expert transcripts, n = {result['degradations_sessions']})"),
                       ("degradations_esconv", "60 ESConv chats (reported, not asserted)")):
        lines += [f"**Synthetic degradations, {title}** - mean drift.score / mean ctrs.mean at k = 0..4, over the "
                  f"sessions and {result.get('degradation_draws', 1)} random draws of the degraded turns each:", "",
                  "| degradation | drift.score | rises | ctrs.mean | falls |", "|---|---|---|---|---|"]
        for kind, r in result[key].items():
            m = r["means"]
            name = kind if r.get("a_check", True) else f"{kind} (reported, not a check)"
            lines.append(f"| {name} | {' → '.join(f'{v:.3f}' for v in m['drift.score'])} | {'yes' if r['drift_rises'] else '**no**'} | "
                         f"{' → '.join(f'{v:.2f}' for v in m['ctrs.mean'])} | {'yes' if r['ctrs_falls'] else '**no**'} |")
        lines.append("")
    if "backchannels" in result:
        lines += ["**Backchannels (invariance, rounds 56-57)** - a share of one speaker's turns of the same sessions cut by the "
                  "other's \"mm-hmm\" (`helpert.probe.degrade.with_backchannels`, 3 draws; counselor turns only after a statement): "
                  "mean change (mean absolute change). The counselor's minimal encouragers count nowhere (round 56), so near 0 is "
                  "right for client turns cut; a counselor turn cut by the client's is still read as two turns (round 57 not adopted):", "",
                  "| turns cut | drift.score | ctrs.mean | mi.reflection_share |", "|---|---|---|---|"]
        for name, r in result["backchannels"].items():
            cut, share = name.split()
            lines.append(f"| {float(share):.0%} of the {cut}'s | " + " | ".join(f"{r[k]['mean']:+.3f} ({r[k]['mean_abs']:.3f})"
                                                                      for k in ("drift.score", "ctrs.mean", "mi.reflection_share")) + " |")
        lines.append("")
    lines += ["**Written transcripts rated high or low** (`tests/data/quality_sessions_*.jsonl`; set a was read while "
              "changing the metrics, b and c were scored once; h and i are verbatim transcripts with the counselor's minimal "
              "encouragers as turns of their own, round 56; j and k the client's too, round 57) - AUC for picking out the low-quality sessions "
              "(drift.score high, ctrs.mean low; reflection share low and counselor words per turn high for reference):", "",
              "| set | role | sessions (low) | drift.score | ctrs.mean | mi.reflection_share | words per counselor turn |",
              "|---|---|---|---|---|---|---|"]
    for name, r in result["written"].items():
        cells = [f"{v[0]:.2f} ({v[1]:.2f}-{v[2]:.2f})" for v in r["auc"].values()]
        lines.append(f"| {name} | {r['role']} | {r['n']} ({r['low']}) | " + " | ".join(cells) + " |")
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
    ap.add_argument("--written-only", metavar="NAME", default=None,
                    help="only section 4 (written transcripts), into results/NAME.json; with PYTHONPATH set to a checkout of "
                         "an earlier commit it scores that commit's helpert on the same files")
    ap.add_argument("--rewrite", default=None, choices=("times", "notes", "labels", "fillers", "unpunctuated"),
                    help="with --written-only: every written session rewritten first (helpert.probe.markup), e.g. "
                         "without its sentence marks, as a speech recogniser writes")
    ap.add_argument("--texts", type=Path, default=None,
                    help="only the degradations of the unseen sessions, with the texts of this JSON file put in (keys advice, "
                         "closed_questions, lectures, small_talk, optionally client_backchannels), into "
                         "results/validate_quality_texts_<file stem>.json")
    args = ap.parse_args(argv)
    protocol = load_protocol(args.protocol)
    result: dict = {"date": date.today().isoformat(), "protocol": protocol.name,
                    "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip()}
    if args.written_only:
        result.update(measured_checkout())
        result["rewrite"] = args.rewrite
        result["written"] = written_sessions(protocol, rewrite=args.rewrite)
        report(args.written_only, result)
        return 0
    if args.texts:
        raw = json.loads(args.texts.read_text(encoding="utf-8"))
        keys = {"early_advice": "advice", "questions_for_reflections": "closed_questions", "lecture": "lectures",
                "small_talk": "small_talk", "small_talk_replacing": "small_talk"}
        texts = {kind: {"texts": tuple(raw[key])} for kind, key in keys.items()}
        if "client_backchannels" in raw:  # the client's replies to the small talk put in (round 91's texts on)
            texts["small_talk"]["replies"] = tuple(raw["client_backchannels"])
        unseen = unseen_sessions()
        path = args.texts.resolve()
        result["texts"] = str(path.relative_to(REPO) if path.is_relative_to(REPO) else path)
        result["degradations"], ok = degradation_check(unseen, protocol, texts=texts)
        result["all_degradations_monotone"] = ok
        report(f"validate_quality_texts_{args.texts.stem}", result)
        return 0 if ok else 1
    mibot_sessions, result["mibot"] = mibot(protocol, args.limit)
    print(json.dumps(result["mibot"]["agreement_with_automisc"]), flush=True)
    unseen = unseen_sessions()
    result["degradation_draws"] = DRAWS
    result["degradations"], ok = degradation_check(unseen, protocol)
    result["degradations_sessions"] = len(unseen)
    result["backchannels"] = backchannel_check(unseen, protocol)
    chats = [s for s in read_sessions(SHARED / "esconv" / "esconv_valid_195.jsonl") if len(s.counselor_turns) >= 6][:60]
    result["degradations_esconv"], esconv_ok = degradation_check(chats, protocol)
    result["degradations_esconv_all_monotone"] = esconv_ok
    peers, result["esconv"] = esconv(protocol, args.limit)
    result["expert"] = expert_check(protocol, peers)
    result["written"] = written_sessions(protocol)
    print(json.dumps(result["written"]), flush=True)
    result["all_degradations_monotone"] = ok
    report(f"validate_quality_{protocol.name}", result)
    if args.readme:
        update_readme_section(args.readme, "validate_quality", markdown(result))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
