"""How do the LLM judge's CTRS items relate to the rule-based ones? On the bundled sessions (and the expert
CBT transcripts of tests/data/expert_cbt), every session is scored by the rules (``ctrs.*``) and by the judge
(``ctrs_judge.*``, :class:`helpert.replay.llm.judge.LlamaJudge`, or :class:`~helpert.replay.llm.judge.ServerJudge`
for a model on a server); reported per item: both means, their mean
absolute difference, and the Spearman rho over sessions of the rule and judge ``mean`` (and per item when
the judge's scores vary at all).

    .venv/bin/python benchmarks/judge_vs_rules.py                       # the embedded 135M model
    .venv/bin/python benchmarks/judge_vs_rules.py --model ~/models/qwen2.5-7b-instruct-q4_k_m.gguf
    .venv/bin/python benchmarks/judge_vs_rules.py --model http://127.0.0.1:8000/v1 --served-model Qwen/Qwen2.5-7B-Instruct
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO, report  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    from scipy.stats import spearmanr

    from helpert.io import read_sessions
    from helpert.replay.llm.judge import open_judge
    from helpert.metrics import measure_sessions
    from helpert.protocols import CTRS_ITEMS, load_protocol

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default=None,
                    help="a chat GGUF, or an OpenAI-compatible server's API root (http://...); default: the embedded model")
    ap.add_argument("--served-model", default=None, help="with a server: the model to request (default: its first)")
    ap.add_argument("--api-key-env", default=None, help="with a server: the variable holding its API key")
    ap.add_argument("--protocol", default="cbt_session")
    args = ap.parse_args(argv)
    sessions = read_sessions(REPO / "sessions") + read_sessions(REPO / "tests" / "data" / "expert_cbt")
    judge = open_judge(args.model, served_model=args.served_model, api_key_env=args.api_key_env)
    frame = measure_sessions(sessions, load_protocol(args.protocol), judge=judge)
    items = {}
    for item in ("mean", *CTRS_ITEMS):
        rule, llm = frame[f"ctrs.{item}"], frame[f"ctrs_judge.{item}"]
        ok = rule.notna() & llm.notna()
        rho = spearmanr(rule[ok], llm[ok]).statistic if ok.sum() > 2 and llm[ok].nunique() > 1 and rule[ok].nunique() > 1 else None
        items[item] = {"rule_mean": round(float(rule.mean()), 2), "judge_mean": round(float(llm.mean()), 2),
                       "mean_abs_diff": round(float((rule[ok] - llm[ok]).abs().mean()), 2),
                       "spearman": None if rho is None or np.isnan(rho) else round(float(rho), 2), "n": int(ok.sum())}
    report("judge_vs_rules", {"date": date.today().isoformat(), "sessions": [s.dialogue_id for s in sessions],
                              **judge.info(), "items": items,
                              "per_session": frame[["ctrs.mean", "ctrs_judge.mean"]].round(2).to_dict(orient="index")})


if __name__ == "__main__":
    main()
