"""Score one version of the MI labeller and the quality metrics for a round's adoption choice (benchmarks/README.md,
round 21): the MI half of what ``risk_round_choice.py`` does for the crisis detector.

It scores the checkout ``--repo`` (its ``helpert`` package, model files and encoder) once on the sets neither version
trained on: the spoken utterances z (``validate_mi_spoken.load``), j (``validate_mi_spoken.later``) k (round 23's
fresh set), m (round 24's) and n (round 25's; all three read from this checkout, less near repeats of training
items, as j), each with group macro-F1, reflection F1 and advise-without-permission F1 (95% bootstrap intervals),
and the written rated sessions b+c and d+e (``validate_quality.written_sessions``): the AUC with which ``drift.score`` and a low
``ctrs.mean`` pick out the low-quality sessions.

Options for a round's fresh material (round 30): ``--spoken NAME=PATH`` scores another spoken set (its agreed items,
no near-repeat filter: nothing was trained on it), ``--rated NAME`` another rated set
(``tests/data/quality_sessions_NAME.jsonl``), ``--demos DIR`` CBT demonstrations against the 195 ESConv peer sessions
(``validate_quality.expert_check``), and ``--coded`` the human MI gold sentences (all 1,681) and MIBot's utterances
with AutoMISC's codes (group macro-F1, and MIBot's session %MIC and R:Q against AutoMISC's): the MI head trained on
most of both, so these are in-sample and say only what a change of the rules does there.

    git worktree add /tmp/shipped <rev>
    .venv/bin/python benchmarks/mi_round_choice.py --repo /tmp/shipped --out /tmp/shipped_mi.json
    .venv/bin/python benchmarks/mi_round_choice.py --compare /tmp/shipped_mi.json /tmp/candidate_mi.json --spoken u=PATH
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repo", type=Path)
    ap.add_argument("--out", type=Path)
    ap.add_argument("--spoken", action="append", default=[], metavar="NAME=PATH", help="another spoken set (agreed items)")
    ap.add_argument("--rated", action="append", default=[], metavar="NAME", help="tests/data/quality_sessions_NAME.jsonl")
    ap.add_argument("--demos", type=Path, default=None, help="a folder of CBT demonstrations to rank against ESConv")
    ap.add_argument("--coded", action="store_true", help="the MI gold sentences and MIBot's AutoMISC codes (in-sample)")
    ap.add_argument("--compare", nargs=2, type=Path, metavar=("SHIPPED", "CANDIDATE"),
                    help="two outputs of this script: the agreed items of each --spoken set they code differently")
    args = ap.parse_args(argv)
    if args.compare:
        result = {name: differences(*args.compare, name, Path(path)) for name, path in (s.split("=", 1) for s in args.spoken)}
        print(json.dumps(result, indent=1))
        return 0
    if not (args.repo and args.out):
        ap.error("--repo and --out are required unless --compare is given")
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
    for spec in args.spoken:
        name, path = spec.split("=", 1)
        rows = spoken.load(Path(path))
        codes = spoken.predict(rows)  # coded once: scored here and kept by id for --compare
        a = spoken.score(rows, pred=codes)["agreed"]
        out[name] = {"n": a["n"], "groups_macro_f1": a["groups_macro_f1"], "reflection": a["group_f1"]["reflection"],
                     "awp": a.get("advise_without_permission_f1"), "group_f1": a["group_f1"],
                     "codes": {d["id"]: c for d, c in zip(rows, codes)}}
    for name in args.rated:
        r = quality.written_sessions(protocol, (name,))[name]
        out[f"rated_{name}"] = {"n": r["n"], "low": r["low"], "auc": {k: r["auc"][k] for k in ("drift.score", "ctrs.mean")}}
    if args.demos:
        from helpert.io import read_sessions

        from _common import SHARED

        peers = quality.measure(read_sessions(SHARED / "esconv" / "esconv_valid_195.jsonl"), protocol)
        out["demos"] = quality.expert_check(protocol, peers, args.demos, detail=True)
    if args.coded:
        out["coded_in_sample"] = coded(spoken.SEED)
    args.out.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(out))
    return 0


def differences(shipped: Path, candidate: Path, name: str, path: Path) -> dict:
    """The agreed items of spoken set ``name`` that two versions code differently, and how many of them each version
    puts in the agreed code's MITI group (the gain clause of the MI rounds: benchmarks/README.md, rounds 32 and 41)."""
    from _common import read_jsonl

    from helpert.label.mi import GROUP, SOURCE_CODES

    a, b = (json.loads(p.read_text(encoding="utf-8"))[name]["codes"] for p in (shipped, candidate))
    items = read_jsonl(path)
    rows = []
    for d in items:
        if d["code"] != d["blind_code"] or a[d["id"]] == b[d["id"]]:
            continue
        group = GROUP[SOURCE_CODES[d["code"]]]
        rows.append({"id": d["id"], "counselor": d["counselor"], "agreed": d["code"], "shipped": a[d["id"]],
                     "candidate": b[d["id"]], "shipped_in_group": GROUP[a[d["id"]]] == group,
                     "candidate_in_group": GROUP[b[d["id"]]] == group})
    return {"differ": len(rows), "shipped_in_group": sum(r["shipped_in_group"] for r in rows),
            "candidate_in_group": sum(r["candidate_in_group"] for r in rows), "items": rows}


def coded(seed: int) -> dict:
    """Group macro-F1 of the shipped labeller on the human gold sentences and on MIBot's AutoMISC codes, and MIBot's
    session %MIC / R:Q agreement (train_mi_labeller's loaders): in-sample for the head."""
    import train_mi_labeller as tm

    from helpert.label.agreement import f1_with_ci
    from helpert.label.mi import GROUP, GROUPS, code_utterances

    gold, _ = tm.load_data()
    pred = code_utterances([u for u, _ in gold])
    g = f1_with_ci([GROUP[c] for _, c in gold], [GROUP[c] for c in pred], list(GROUPS), seed=seed)
    sessions = tm.load_mibot()
    flat = code_utterances([u for _, _, rows in sessions for u, _ in rows])
    groups, k = [], 0
    for _, _, rows in sessions:
        groups.append([GROUP[c] for c in flat[k:k + len(rows)]])
        k += len(rows)
    truth = [gr for _, _, rows in sessions for _, gr in rows]
    m = f1_with_ci(truth, [x for gs in groups for x in gs], list(GROUPS), seed=seed)
    agree = tm.session_agreement(sessions, groups)
    return {"gold": {"n": len(gold), "groups_macro_f1": g["macro_f1"], "group_f1": g["f1"]},
            "mibot": {"n": len(truth), "groups_macro_f1": m["macro_f1"], "group_f1": m["f1"],
                      "%MIC_rho": agree["%MIC"], "R:Q_rho": agree["R:Q"]}}


if __name__ == "__main__":
    raise SystemExit(main())
