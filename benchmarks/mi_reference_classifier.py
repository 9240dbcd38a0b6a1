"""A reference point for issue #13's MI targets: how the gold set's own authors' classifier scores on it.

The MI gold file in ../shared (``mi/boosting_mi_gold_test.jsonl``, Welivita & Pu) carries, beside each human
code, ``classifier_prediction``: the output of the authors' own MI classifier (a RoBERTa-base fine-tuned on the
gold set's *training* split, which is not in ../shared; see ../shared/data/README.md). It is not gold and helpert
trains on nothing of it. Scored here the same way as helpert's labeller (``train_mi_labeller.py``): MITI groups
(:data:`helpert.label.mi.GROUP`), macro-F1 and per-group F1 with bootstrap intervals, the reflection group and
advise without permission, on all 1,681 sentences and on fold 1 alone (the fold helpert's shipped encoder and MI
model never saw, ``--only-fold 1``).

What it tells a reader: the target of the issue (reflection F1 >= 0.75, advise-without-permission F1 >= 0.75,
group macro-F1 >= 0.70) set against what a larger model trained on in-distribution human codes reaches on these
context-free sentences. No figure here is helpert's.

    .venv/bin/python benchmarks/mi_reference_classifier.py
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import train_mi_labeller as mi  # noqa: E402
from _common import REPO, report  # noqa: E402


def rows() -> list[tuple[str, str]]:
    """(human code, the authors' classifier's code), helpert's code names, in file order (``load_data``'s order)."""
    from helpert.label.mi import SOURCE_CODES

    out = []
    for line in open(mi.MI / "boosting_mi_gold_test.jsonl", encoding="utf-8"):
        labels = json.loads(line)["turns"][0]["labels"]
        out.append((SOURCE_CODES[labels["mi_code"]], SOURCE_CODES[labels["classifier_prediction"]]))
    return out


def figures(pairs: list[tuple[str, str]]) -> dict:
    from helpert.label.mi import GROUP, GROUPS

    gold = [GROUP[g] for g, _ in pairs]
    pred = [GROUP[p] for _, p in pairs]
    groups = mi.with_ci(gold, pred, list(GROUPS))
    awp = mi.with_ci([g == "advise_without_permission" for g, _ in pairs],
                     [p == "advise_without_permission" for _, p in pairs], [True])
    return {"n": len(pairs), "groups_macro_f1": groups["macro_f1"], "groups_f1": groups["f1"],
            "advise_without_permission_f1": awp["f1"][True]}


def main() -> None:
    import numpy as np
    from sklearn.model_selection import StratifiedKFold

    if not (mi.MI / "boosting_mi_gold_test.jsonl").is_file():
        raise SystemExit(f"{mi.MI}: the MI gold file is not there (../shared/data/mi)")
    pairs = rows()
    gold, _ = mi.load_data()  # the same order and codes as the labeller's folds
    if [c for _, c in gold] != [g for g, _ in pairs]:
        raise SystemExit("the gold file's codes differ from train_mi_labeller.load_data's: folds would not match")
    codes = np.array([g for g, _ in pairs])
    _, test = list(StratifiedKFold(mi.FOLDS, shuffle=True, random_state=mi.SEED).split(np.zeros(len(codes)), codes))[0]
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip()
    report("mi_reference_classifier", {
        "date": date.today().isoformat(), "commit": commit,
        "what": "the gold file's classifier_prediction (Welivita & Pu's own RoBERTa, trained on the gold training "
                "split) scored against the human codes; not helpert's labeller",
        "all_sentences": figures(pairs),
        "fold_1": figures([pairs[i] for i in test]),
        "targets_issue_13": {"groups_macro_f1": 0.70, "reflection_f1": 0.75, "advise_without_permission_f1": 0.75},
    })


if __name__ == "__main__":
    main()
