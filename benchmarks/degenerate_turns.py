"""Degenerate counselor turns of the embedded model, per retry remedy (issue #14).

Replays sessions with the embedded SmolLM2-135M (Q4_1) and counts, among the counselor turns written,
those that fail a check of :mod:`helpert.replay.llm.degenerate` (near-copies of an earlier turn, copies of the
client, narration, role words, refusals, off-language, babble) -- checked *after the fact* on the final
transcript, so a turn the retries missed is counted whether it was flagged or not -- and how many of those
carry the ``degenerate`` flag.

Sets (fixed rules, never changed after the first run):
- ``dev``: the 5 bundled sessions + 8 ESConv dialogues (eligible = at least 12 counselor slots, in file
  order; dev = every 4th from the 2nd). The remedies were compared and the defaults chosen on this set.
- ``heldout``: 20 other ESConv dialogues (every 4th from the 4th); never used to choose anything.
- ``dev_long``: three other HOPE transcripts chained (hope_27, hope_75, hope_48), 70 counselor turns: the
  long-session part of the development set.
- ``long``: HOPE transcripts chained (hope_163 then hope_206), replayed for 70 counselor turns; never
  used to choose anything.
- ``simulate``: ``helpert simulate`` on the 5 bundled sessions, 8 counselor turns each; both speakers'
  turns are checked (the client with its own checks, role reversal included).
The ESConv dialogues come from the only ESConv split in ../shared (the phase/MI labellers were trained on
it; the degeneracy checks and the retry defaults were not). Human turns of all 195 ESConv dialogues are
run through the same checks to report the checks' false-alarm rate on real peers and help-seekers.

Variants (``RetryPolicy`` settings, each adding one remedy to the previous):
  raw        one attempt, no retry (what the model writes)
  reseed     up to 3 attempts, each with a new seed, nothing else
  penalties  + repeat penalty 1.3 and presence penalty 0.5 on retries
  ban        + a ban on 4-token n-grams of the counselor's earlier turns and on its latest 2 openings
  default    + the last retry sees only the latest exchange (the shipped default)
  prevent    the default, with the n-gram ban already on the first attempt
  uniform    the default, with a repeated opening retried by the same remedies as any other finding
             (``RetryPolicy(opening_only=False)``)
  before_openings  the default as shipped before 2026-12-07 (f58b0dc): the ``repeated_opening`` check is not
             run while generating (still counted after the fact, like every check)

Usage: python benchmarks/degenerate_turns.py --set dev --variants raw,reseed,penalties,ban,default,prevent
       python benchmarks/degenerate_turns.py --set heldout --variants raw,default [--seed 1]
       python benchmarks/degenerate_turns.py --set long --variants raw,default
       python benchmarks/degenerate_turns.py --readme   (writes the table into benchmarks/README.md)
Results: benchmarks/results/degenerate_turns.json (merged per set, variant and seed).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO, SHARED, machine, update_readme_section  # noqa: E402

RESULTS = REPO / "benchmarks" / "results" / "degenerate_turns.json"
TURNS = 12
LONG_TURNS = 70


def variants() -> dict[str, Any]:
    from helpert.replay.graph.recovery import RetryPolicy

    return {
        "raw": RetryPolicy(max_attempts=1, repeat_penalty=0, presence_penalty=0, ban_ngram=0, ban_openings=0, short_window=0),
        "reseed": RetryPolicy(repeat_penalty=0, presence_penalty=0, ban_ngram=0, ban_openings=0, short_window=0),
        "penalties": RetryPolicy(ban_ngram=0, ban_openings=0, short_window=0),
        "ban": RetryPolicy(short_window=0),
        "default": RetryPolicy(),
        "prevent": RetryPolicy(ban_on_first=True),
        "uniform": RetryPolicy(opening_only=False),
        "before_openings": RetryPolicy(),
    }


# checks a variant leaves out while generating (the after-the-fact count still runs every check)
OFF_WHILE_GENERATING = {"before_openings": ("repeated_opening",)}


@contextmanager
def checks_off(names: tuple[str, ...]):
    """Generate without the checks ``names``: the retry loop's ``find_degenerate`` drops their findings."""
    from helpert.replay.graph import recovery

    full = recovery.find_degenerate
    if names:
        recovery.find_degenerate = lambda text, ctx: [f for f in full(text, ctx) if f not in names]
    try:
        yield
    finally:
        recovery.find_degenerate = full


def esconv_eligible() -> list[Any]:
    from helpert.io import read_sessions
    from helpert.session import slots_of

    sessions = read_sessions(SHARED / "esconv" / "esconv_valid_195.jsonl")
    return [s for s in sessions if len(slots_of(s)) >= TURNS]


def session_set(name: str) -> tuple[list[Any], int]:
    from helpert.io import read_sessions
    from helpert.session import Session, Turn

    if name == "dev":
        eligible = esconv_eligible()
        return list(read_sessions(REPO / "sessions")) + [s for j, s in enumerate(eligible) if j % 4 == 1][:8], TURNS
    if name == "heldout":
        eligible = esconv_eligible()
        return [s for j, s in enumerate(eligible) if j % 4 == 3][:20], TURNS
    if name == "simulate":
        return list(read_sessions(REPO / "sessions")), 8
    if name in ("long", "dev_long"):
        hope = {s.dialogue_id: s for s in read_sessions(SHARED / "hope" / "hope_sample.jsonl")}
        chain = ("hope_163", "hope_206") if name == "long" else ("hope_27", "hope_75", "hope_48")
        turns: list[Turn] = []
        for sid in chain:
            turns.extend(t.model_copy(update={"idx": len(turns) + i}) for i, t in enumerate(hope[sid].turns))
        return [Session(dialogue_id="+".join(chain), turns=turns, dataset="hope")], LONG_TURNS
    raise SystemExit(f"unknown set {name}")


def after_the_fact(reconstruction: Any) -> list[tuple[str, list[str], list[str]]]:
    """(text, findings, flags) per counselor turn: the checks run on the final transcript
    (:func:`helpert.metrics.quality.findings_after_the_fact`), so a missed turn counts flagged or not."""
    from helpert.metrics.quality import findings_after_the_fact

    found = findings_after_the_fact(reconstruction)
    return [(t.text, found.get(t.idx, []), list(t.meta.get("flags", []))) for t in reconstruction.counselor_turns]


def run_variant(sessions: list[Any], max_turns: int, policy: Any, seed: int, backend: Any) -> dict[str, Any]:
    from helpert.protocols import load_protocol
    from helpert.replay import ReplaySettings, replay_session

    proto = load_protocol("cbt_session")
    per_check: Counter[str] = Counter()
    n = degenerate = flagged_degenerate = flagged = attempts = 0
    examples: list[dict[str, Any]] = []
    t0 = time.perf_counter()
    for session in sessions:
        backend.reset()
        res = replay_session(session, backend, ReplaySettings(proto, seed=seed, max_turns=max_turns, retry=policy))
        for turn in res.reconstruction.counselor_turns:
            attempts += int(turn.meta.get("attempts", 1))
        for text, findings, flags in after_the_fact(res.reconstruction):
            n += 1
            is_flagged = "degenerate" in flags
            flagged += is_flagged
            if findings:
                degenerate += 1
                flagged_degenerate += is_flagged
                per_check.update(findings)
                if len(examples) < 12:
                    examples.append({"dialogue_id": session.dialogue_id, "findings": findings, "text": text[:200]})
    return {"turns": n, "degenerate": degenerate, "degenerate_share": round(degenerate / n, 4) if n else None,
            "degenerate_flagged": flagged_degenerate, "flagged": flagged, "per_check": dict(per_check),
            "attempts_per_turn": round(attempts / n, 3) if n else None, "seconds": round(time.perf_counter() - t0, 1),
            "examples": examples}


def client_after_the_fact(reconstruction: Any) -> list[tuple[list[str], list[str]]]:
    """(findings, flags) per simulated client turn, the client checks run on the final transcript."""
    from helpert.replay.llm.degenerate import Context, find_degenerate

    out = []
    own: list[str] = []
    other: list[str] = []
    for t in reconstruction.turns:
        if t.role == "client":
            if t.meta.get("simulated"):
                out.append((find_degenerate(t.text, Context("client", tuple(own), tuple(other))), list(t.meta.get("flags", []))))
            own.append(t.text)
        else:
            other.append(t.text)
    return out


def run_simulated(sessions: list[Any], max_turns: int, policy: Any, seed: int, counselor: Any, client: Any) -> dict[str, Any]:
    """helpert simulate on each session: degenerate shares of both speakers, after the fact."""
    from helpert.protocols import load_protocol
    from helpert.replay.settings import ReplaySettings
    from helpert.replay.simulate import simulate_session

    proto = load_protocol("cbt_session")
    sides = {"counselor": Counter(), "client": Counter()}
    checks = {"counselor": Counter(), "client": Counter()}
    examples: list[dict[str, Any]] = []
    t0 = time.perf_counter()
    for session in sessions:
        rec = simulate_session(session, counselor, client,
                               ReplaySettings(proto, seed=seed, max_turns=max_turns, retry=policy)).reconstruction
        rows = {"counselor": [(f, fl) for _, f, fl in after_the_fact(rec)], "client": client_after_the_fact(rec)}
        for side, found in rows.items():
            for findings, flags in found:
                sides[side]["turns"] += 1
                sides[side]["degenerate"] += bool(findings)
                sides[side]["degenerate_flagged"] += bool(findings) and "degenerate" in flags
                checks[side].update(findings)
        for t in rec.client_turns:
            if t.meta.get("simulated") and len(examples) < 12 and t.meta.get("flags") and "degenerate" in t.meta["flags"]:
                examples.append({"dialogue_id": session.dialogue_id, "flags": t.meta["flags"], "text": t.text[:200]})
    out: dict[str, Any] = {"seconds": round(time.perf_counter() - t0, 1), "examples": examples}
    for side, c in sides.items():
        out[side] = {**c, "degenerate_share": round(c["degenerate"] / c["turns"], 4) if c["turns"] else None,
                     "per_check": dict(checks[side])}
    return out


def human_false_alarms() -> dict[str, Any]:
    """The checks on real ESConv turns: how often they would flag a human peer or help-seeker."""
    from helpert.io import read_sessions
    from helpert.replay.llm.degenerate import Context, find_degenerate, session_findings
    from helpert.session import merge_consecutive

    peer: Counter[str] = Counter()
    client: Counter[str] = Counter()
    n_peer = n_client = hit_peer = hit_client = 0
    for s in read_sessions(SHARED / "esconv" / "esconv_valid_195.jsonl"):
        turns = [(t.role, t.text) for t in merge_consecutive(s.turns)]
        for _, f in session_findings(turns):
            n_peer += 1
            hit_peer += bool(f)
            peer.update(f)
        own: list[str] = []
        other: list[str] = []
        for role, text in turns:
            if role == "client":
                f = find_degenerate(text, Context("client", tuple(own), tuple(other)))
                n_client += 1
                hit_client += bool(f)
                client.update(f)
                own.append(text)
            else:
                other.append(text)
    return {"peer_turns": n_peer, "peer_flagged": hit_peer, "peer_share": round(hit_peer / n_peer, 4), "peer_checks": dict(peer),
            "client_turns": n_client, "client_flagged": hit_client, "client_share": round(hit_client / n_client, 4),
            "client_checks": dict(client)}


SECTION = "degenerate-turns"
SETS = {"dev": "development: 5 bundled + 8 ESConv, 12 turns", "dev_long": "development: HOPE chain, 70 turns",
        "heldout": "held out: 20 ESConv, 12 turns", "long": "held out: HOPE chain, 70 turns",
        "simulate": "helpert simulate: 5 bundled, 8 turns"}


def readme_section() -> str:
    """The benchmarks/README.md table, from the results file only."""
    doc = json.loads(RESULTS.read_text())
    lines = ["| set | variant | seed | counselor turns | degenerate | share | flagged | attempts/turn | checks | date, commit |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for key, r in doc["runs"].items():
        which, variant, seed = key.split("/")
        if which == "simulate":
            c, k = r["counselor"], r["client"]
            lines.append(f"| {SETS[which]} | {variant} | {seed[4:]} | {c['turns']} (client {k['turns']}) | {c['degenerate']} "
                         f"(client {k['degenerate']}) | {c['degenerate_share']:.1%} (client {k['degenerate_share']:.1%}) | "
                         f"{c['degenerate_flagged']} (client {k['degenerate_flagged']}) | - | "
                         f"{c['per_check']} / client {k['per_check']} | {r['date']}, {r['commit']} |")
            continue
        lines.append(f"| {SETS[which]} | {variant} | {seed[4:]} | {r['turns']} | {r['degenerate']} | {r['degenerate_share']:.1%} | "
                     f"{r['degenerate_flagged']} | {r['attempts_per_turn']} | {r['per_check'] or '-'} | {r['date']}, {r['commit']} |")
    h = doc["human_false_alarms"]
    lines.append("")
    lines.append(f"The same checks on the human turns of all 195 ESConv dialogues: {h['peer_flagged']} of {h['peer_turns']} peer "
                 f"turns ({h['peer_share']:.1%}) and {h['client_flagged']} of {h['client_turns']} help-seeker turns "
                 f"({h['client_share']:.1%}) flagged ({h['peer_checks']}; {h['client_checks']}).")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", dest="which", choices=("dev", "dev_long", "heldout", "long", "simulate"))
    parser.add_argument("--readme", action="store_true", help="only write the table into benchmarks/README.md")
    parser.add_argument("--variants", default="raw,default")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    if args.readme:
        update_readme_section(REPO / "benchmarks" / "README.md", SECTION, readme_section())
        return
    if not args.which:
        parser.error("--set is required")
    if not SHARED.is_dir():
        raise SystemExit(f"{SHARED} is absent: this benchmark needs the shared ESConv and HOPE data")
    from helpert.replay.llm import load_backend

    backend = load_backend(None, n_ctx=4096, n_threads=args.threads)
    client = None
    if args.which == "simulate":
        from helpert.replay.llm import Sampling

        client = load_backend(None, n_ctx=4096, n_threads=args.threads, sampling=Sampling(max_tokens=64))
    sessions, max_turns = session_set(args.which)
    table = variants()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip()
    false_alarms = human_false_alarms()
    for name in args.variants.split(","):
        if client is not None:
            result = run_simulated(sessions, max_turns, table[name], args.seed, backend, client)
        else:
            with checks_off(OFF_WHILE_GENERATING.get(name, ())):
                result = run_variant(sessions, max_turns, table[name], args.seed, backend)
        key = f"{args.which}/{name}/seed{args.seed}"
        print(key, {k: v for k, v in result.items() if k != "examples"}, flush=True)
        save(key, {"date": time.strftime("%Y-%m-%d"), "commit": commit, "sessions": [s.dialogue_id for s in sessions],
                   "max_turns": max_turns, "policy": table[name].as_dict(), **result}, false_alarms)


def save(key: str, run: dict[str, Any], false_alarms: dict[str, Any]) -> None:
    """Merge one run into the results file under a lock: several sets may run at once (one per core)."""
    import fcntl

    RESULTS.parent.mkdir(exist_ok=True)
    with open(RESULTS.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        doc: dict[str, Any] = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {}
        doc.update(benchmark="degenerate_turns", machine=machine(), human_false_alarms=false_alarms)
        doc.setdefault("runs", {})[key] = run
        tmp = RESULTS.with_suffix(".tmp")
        tmp.write_text(json.dumps(doc, indent=2) + "\n")
        tmp.replace(RESULTS)


if __name__ == "__main__":
    main()
