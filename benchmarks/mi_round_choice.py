"""Score one version of the MI labeller and the quality metrics for a round's adoption choice (benchmarks/README.md,
round 21): the MI half of what ``risk_round_choice.py`` does for the crisis detector.

It scores the checkout ``--repo`` (its ``helpert`` package, model files and encoder) once on the sets neither version
trained on: the spoken utterances z (``validate_mi_spoken.load``), j (``validate_mi_spoken.later``) k (round 23's
fresh set), m (round 24's) and n (round 25's; all three read from this checkout, less near repeats of training
items, as j), each with group macro-F1, reflection F1 and advise-without-permission F1 (95% bootstrap intervals),
and the written rated sessions b+c and d+e (``validate_quality.written_sessions``): the AUC with which ``drift.score`` and a low
``ctrs.mean`` pick out the low-quality sessions.

    git worktree add /tmp/shipped <rev>
    .venv/bin/python benchmarks/mi_round_choice.py --repo /tmp/shipped --out /tmp/shipped_mi.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repo", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    repo = args.repo.resolve()
    sys.path.insert(0, str(repo / "benchmarks"))
    sys.path.insert(0, str(repo))
    import helpert

    if Path(helpert.__file__).resolve().parents[1] != repo:
        raise SystemExit(f"helpert imported from {helpert.__file__}, not from {repo}")
    import validate_mi_spoken as spoken
    import validate_quality as quality

    from helpert.protocols import load_protocol
    from helpert.text.encoder import model_path

    out: dict = {"repo": str(repo), "encoder": model_path().name}
    data = Path(__file__).resolve().parents[1] / "tests" / "data"  # this checkout's: the fresh sets of rounds 23-25
    for name, rows in (("z", spoken.load()), ("j", spoken.later()), ("k", spoken.later(data / "mi_spoken_k.jsonl")),
                       ("m", spoken.later(data / "mi_spoken_m.jsonl")), ("n", spoken.later(data / "mi_spoken_n.jsonl"))):
        a = spoken.score(rows)["agreed"]
        out[name] = {"n": a["n"], "groups_macro_f1": a["groups_macro_f1"], "reflection": a["group_f1"]["reflection"],
                     "awp": a.get("advise_without_permission_f1")}
    protocol = load_protocol("cbt_session")
    for sets in (("b", "c"), ("d", "e")):
        r = quality.written_sessions(protocol, sets)["+".join(sets)]
        out["+".join(sets)] = {"n": r["n"], "low": r["low"], "auc": {k: r["auc"][k] for k in ("drift.score", "ctrs.mean")}}
    args.out.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
