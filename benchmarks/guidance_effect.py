"""Does a counselor style (``--guidance``) change what the LLM counselor does?

Replays the bundled sessions (``sessions/*``) with no guidance, ``reappraisal`` and ``empathic``, with the
same seeds, model and settings; labels every generated counselor turn with helpert's labellers
(helpert.label.label_session: behaviour code, EPITOME empathy levels 0-2) and compares each style with
no guidance, paired by (session, seed): the behaviour mix (share of each behaviour code), the three
empathy scores, words per turn and the share of turns that ask a question. Paired differences come with a
bootstrap 95% CI over the (session, seed) pairs (2,000 resamples, seed 0) and the number of pairs whose
difference is positive. Raw per-turn labels go to ``benchmarks/results/guidance_effect.json``.

    .venv/bin/python benchmarks/guidance_effect.py --max-turns 8 --seeds 0 1 --readme benchmarks/README.md
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))
from _common import update_readme_section  # noqa: E402

from helpert.compare import bootstrap_ci  # noqa: E402
from helpert.label.behaviour import BEHAVIOURS  # noqa: E402
from helpert.label.empathy import DIMENSIONS as EMPATHY  # noqa: E402

RESULTS = REPO / "benchmarks" / "results" / "guidance_effect.json"
SECTION = "guidance_effect"
CONDITIONS = ("none", "reappraisal", "empathic")


# The figures in benchmarks/README.md were measured before the stepped safety path became the default; the
# lexicon policy keeps them reproducible and keeps safety questions out of the behaviour mix compared here.
SAFETY_POLICY = "lexicon"

def replay_all(files: list[Path], seeds: list[int], max_turns: int, max_tokens: int, threads: int | None,
               meta: dict[str, Any]) -> list[dict[str, Any]]:
    """One record per generated counselor turn: file, dialogue, seed, condition, slot, phase, text, labels.
    The results file is rewritten after every replay, so an interrupted run keeps what it finished."""
    import helpert
    from helpert.replay.guidance import load_guidance
    from helpert.label import label_session

    proto = helpert.load_protocol("cbt_session")
    backend = helpert.load_backend(n_threads=threads, sampling=helpert.Sampling(max_tokens=max_tokens))
    texts = {"none": ""} | {c: load_guidance(c).text for c in CONDITIONS[1:]}
    rows = []
    for f in files:
        for session in helpert.read_sessions(f):
            for seed in seeds:
                for cond in CONDITIONS:
                    backend.reset()
                    t0 = time.perf_counter()
                    settings = helpert.ReplaySettings(proto, seed=seed, max_turns=max_turns, guidance=texts[cond],
                                                      risk_sensitivity=SAFETY_POLICY)
                    res = helpert.replay_session(session, backend, settings)
                    labelled = label_session(res.reconstruction, proto)
                    for t in labelled.counselor_turns:
                        rows.append({"file": f.name, "dialogue": session.dialogue_id, "seed": seed, "condition": cond,
                                     "slot": t.meta["slot"], "graph_phase": t.labels["graph_phase"], "text": t.text,
                                     "behaviour": t.labels["behaviour"], "empathy": t.labels["empathy"]})
                    print(f"{f.name} seed {seed} {cond}: {len(labelled.counselor_turns)} turns, "
                          f"{time.perf_counter() - t0:.0f} s", file=sys.stderr)
                    RESULTS.write_text(json.dumps({"meta": meta, "turns": rows}, indent=1))
    return rows


def unit_metrics(turns: list[dict[str, Any]]) -> dict[str, float]:
    """Per (session, seed, condition): behaviour shares, mean empathy per dimension, words, questions."""
    n = len(turns)
    out = {f"behaviour.{b}": sum(t["behaviour"] == b for t in turns) / n for b in BEHAVIOURS}
    out |= {f"empathy.{d}": sum(t["empathy"][d] for t in turns) / n for d in EMPATHY}
    out["words_per_turn"] = sum(len(t["text"].split()) for t in turns) / n
    out["question_share"] = sum("?" in t["text"] for t in turns) / n
    return out


def paired(rows: list[dict[str, Any]], boot: int = 2000) -> dict[str, Any]:
    import numpy as np

    units: dict[tuple[str, int], dict[str, dict[str, float]]] = {}
    for key in sorted({(r["dialogue"], r["seed"]) for r in rows}):
        units[key] = {c: unit_metrics([r for r in rows if (r["dialogue"], r["seed"]) == key and r["condition"] == c])
                      for c in CONDITIONS}
    metrics = list(next(iter(units.values()))["none"])
    keys = list(units)
    summary: dict[str, Any] = {"pairs": len(keys), "means": {}, "diffs": {}}
    for c in CONDITIONS:
        summary["means"][c] = {m: float(np.mean([units[k][c][m] for k in keys])) for m in metrics}
    for c in CONDITIONS[1:]:
        summary["diffs"][c] = {}
        for m in metrics:
            d = np.array([units[k][c][m] - units[k]["none"][m] for k in keys])
            lo, hi = bootstrap_ci(d, boot, seed=0)
            summary["diffs"][c][m] = {"mean": float(d.mean()), "lo": float(lo), "hi": float(hi), "positive": int((d > 0).sum()),
                                      "negative": int((d < 0).sum())}
    return summary


def markdown(summary: dict[str, Any], meta: dict[str, Any]) -> str:
    def row(m: str, pct: bool) -> str:
        f = (lambda x: f"{100 * x:.1f}%") if pct else (lambda x: f"{x:.2f}")
        g = (lambda x: f"{100 * x:+.1f}") if pct else (lambda x: f"{x:+.2f}")
        cells = [f(summary["means"][c][m]) for c in CONDITIONS]
        for c in CONDITIONS[1:]:
            d = summary["diffs"][c][m]
            cells.append(f"{g(d['mean'])} [{g(d['lo'])}, {g(d['hi'])}] ({d['positive']}+/{d['negative']}-)")
        return f"| {m.split('.', 1)[-1]} | " + " | ".join(cells) + " |"

    head = ("| measure | none | reappraisal | empathic | reappraisal - none [95% CI] (pairs +/-) | empathic - none [95% CI] (pairs +/-) |\n"
            "|---|---|---|---|---|---|")
    behaviour = [row(f"behaviour.{b}", True) for b in BEHAVIOURS
                 if any(summary["means"][c][f"behaviour.{b}"] for c in CONDITIONS)]
    rest = [row(f"empathy.{d}", False) for d in EMPATHY] + [row("words_per_turn", False), row("question_share", True)]
    when = f"Measured {meta['date']} (commit {meta['commit']}). " if meta.get("date") else "Measured 2026-11-23 (commit 42a25ac). "
    return (when + f"{meta['pairs']} (session, seed) pairs: {meta['sessions']} bundled sessions x seeds {meta['seeds']}, "
            f"{meta['max_turns']} counselor turns each, {meta['turns']} generated turns per condition; model {meta['model']}, "
            f"temperature 0.7, max {meta['max_tokens']} tokens. Behaviour shares in percentage points; empathy levels 0-2.\n\n"
            f"{head}\n" + "\n".join(behaviour) + "\n|  |  |  |  |  |  |\n" + "\n".join(rest) + "\n")


def update_readme(path: Path, body: str) -> None:
    update_readme_section(path, SECTION, body)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sessions", nargs="*", type=Path, default=sorted(p for p in (REPO / "sessions").glob("*.*") if p.suffix != ".md"))
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    ap.add_argument("--max-turns", type=int, default=8)
    ap.add_argument("--max-tokens", type=int, default=96)
    ap.add_argument("--threads", type=int, default=None, help="model threads (default: all cores)")
    ap.add_argument("--from-results", action="store_true", help=f"re-analyse {RESULTS.name} instead of replaying")
    ap.add_argument("--readme", type=Path)
    args = ap.parse_args(argv)
    if args.from_results:
        data = json.loads(RESULTS.read_text())
        rows, meta = data["turns"], data["meta"]
    else:
        from helpert.replay.llm import resolve_model_path

        import subprocess
        from datetime import date

        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip()
        meta = {"seeds": args.seeds, "max_turns": args.max_turns, "max_tokens": args.max_tokens,
                "model": Path(resolve_model_path(None)).name, "date": date.today().isoformat(), "commit": commit}
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        rows = replay_all(args.sessions, args.seeds, args.max_turns, args.max_tokens, args.threads, meta)
    complete = {(r["dialogue"], r["seed"]) for r in rows if r["condition"] == CONDITIONS[-1]}
    rows = [r for r in rows if (r["dialogue"], r["seed"]) in complete]  # pairs with every condition replayed
    meta |= {"sessions": len({r["dialogue"] for r in rows}), "turns": sum(r["condition"] == "none" for r in rows)}
    summary = paired(rows)
    meta["pairs"] = summary["pairs"]
    table = markdown(summary, meta)
    print(table)
    if args.readme:
        update_readme(args.readme, table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
