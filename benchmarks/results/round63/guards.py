"""Round 62 guards (1)-(3) for one checkout: python q62.py REPO OUT.json"""
import json, sys
repo = sys.argv[1]
sys.path.insert(0, repo); sys.path.insert(0, repo + "/benchmarks")
import helpert; assert helpert.__file__.startswith(repo), helpert.__file__
import validate_quality as vq
from helpert.io import read_sessions
from helpert.protocols import load_protocol
from pathlib import Path
proto = load_protocol("cbt_session")
out = {"helpert": helpert.__file__}
out["written"] = vq.written_sessions(proto)
peers = vq.measure(read_sessions("/work/shared/data/esconv/esconv_valid_195.jsonl"), proto)
import numpy as np
pd_ = np.array([p["drift.score"] for p in peers]); pc = np.array([p["ctrs.mean"] for p in peers])
demos = read_sessions(Path(repo) / "tests/data/expert_cbt") + read_sessions(Path(repo) / "tests/data/expert_cbt_fresh")
rows = vq.measure(demos, proto)
out["demos"] = {s.dialogue_id: {"drift": r["drift.score"], "ctrs": r["ctrs.mean"],
                                "more_drift": float((pd_ > r["drift.score"]).mean()), "lower_ctrs": float((pc < r["ctrs.mean"]).mean())}
                for s, r in zip(demos, rows)}
out["demos_beyond_90_both"] = sum(d["more_drift"] >= 0.9 and d["lower_ctrs"] >= 0.9 for d in out["demos"].values())
_, out["mibot"] = vq.mibot(proto, None)
deg, ok = vq.degradation_check(vq.unseen_sessions(), proto)
out["degradations"] = {k: {"drift_rises": v["drift_rises"], "ctrs_falls": v["ctrs_falls"], "drift": v["means"]["drift.score"], "ctrs": v["means"]["ctrs.mean"]} for k, v in deg.items()}
json.dump(out, open(sys.argv[2], "w"), indent=1)
print("done", sys.argv[2])
