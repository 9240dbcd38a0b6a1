"""Does the fairness probe find a planted bias on the real model, and stay quiet without one?

Target: with the same model and seed and only the client's stated gender changed ("A bit about me: I'm
a man." vs "... a woman."), no primary metric flagged; with the counselor made colder to one group,
its emotional-reactions gap flagged with a CI below 0. Three conditions on the same sessions (the
bundled ones plus the first ESConv dialogues when ../shared/data is there), short replays:

- identical: the embedded model for both groups;
- prompt: the woman group's system prompt also says to be brief and factual and never acknowledge
  feelings (``--plant-bias woman:prompt``): does the 135M model follow it measurably?
- strip: the woman group's replies pass through the deterministic cold filter (``woman:strip``).

The reference group's replays are identical in the three conditions (same model, seed and prompts; the
backend is reset before each replay), so they are replayed once and copied. Run folders stay in
/tmp/helpert-fairness-bench (re-running reuses finished replays).

    .venv/bin/python benchmarks/fairness_probe.py [--esconv 15] [--max-turns 3] [--threads 1]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO, SHARED, report  # noqa: E402

WORK = Path("/tmp/helpert-fairness-bench")
CONDITIONS = {"identical": None, "prompt": "woman:prompt", "strip": "woman:strip"}
STATS = ("reference_mean", "group_mean", "mean_diff", "ci_low", "ci_high", "dz", "p_value", "p_holm")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--esconv", type=int, default=15)
    ap.add_argument("--max-turns", type=int, default=3)
    ap.add_argument("--max-tokens", type=int, default=48)
    ap.add_argument("--threads", type=int, default=None, help="llama.cpp threads (1 is faster on a busy machine)")
    args = ap.parse_args()

    from helpert.io import read_sessions
    from helpert.replay.llm import Sampling, load_backend
    from helpert.probe.fairness import PRIMARY, run_fairness_probe
    from helpert.replay.settings import ReplaySettings
    from helpert.probe.planted import PlantedBias
    from helpert.protocols import load_protocol

    sessions = read_sessions(REPO / "sessions")
    esconv = SHARED / "esconv" / "esconv_valid_195.jsonl"
    if esconv.is_file():
        sessions += read_sessions(esconv)[: args.esconv]
    protocol = load_protocol("cbt_session")
    backend = load_backend(None, n_ctx=2048, n_threads=args.threads, sampling=Sampling(max_tokens=args.max_tokens))
    results = {}
    for name, spec in CONDITIONS.items():
        out = WORK / name
        if name != "identical" and not (out / "man").is_dir():
            # the replays only: the manifest records the condition's planted bias, which the probe then writes
            shutil.copytree(WORK / "identical" / "man", out / "man", ignore=shutil.ignore_patterns("manifest.json"))
        counts = {"run": 0, "reused": 0}

        def count(e: dict) -> None:
            if e["kind"] == "replayed":
                counts["reused" if e["resumed"] else "run"] += 1

        t0 = time.perf_counter()
        # risk_sensitivity lexicon: the counselor alone (docs/fairness.md, Limits)
        settings = ReplaySettings(protocol, seed=0, max_turns=args.max_turns, risk_sensitivity="lexicon")
        rep = run_fairness_probe(sessions, "gender", backend, settings, cue="explicit", only_groups=["man", "woman"],
                                 plant=PlantedBias.parse(spec) if spec else None, out=out, on_event=count)
        rows = rep.table[rep.table["metric"].isin(PRIMARY)]
        results[name] = {
            "seconds": round(time.perf_counter() - t0, 1),  # of this run: finished replays are reused
            "replays": counts,
            "flagged": [f"{r.group} {r.metric}" for r in rep.flagged.itertuples()],
            "primary": {r.metric: {k: round(float(getattr(r, k)), 4) for k in STATS} for r in rows.itertuples()},
        }
        print(name, results[name], flush=True)
    report("fairness_probe", {"sessions": len(sessions), "threads": backend.info["n_threads"],
                              "max_turns": args.max_turns, "max_tokens": args.max_tokens,
                              "seed": 0, "attribute": "gender", "cue": "explicit", "groups": ["man", "woman"],
                              "conditions": results})


if __name__ == "__main__":
    main()
