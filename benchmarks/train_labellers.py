"""Train the turn classifiers shipped in ``helpert/data/labellers.npz`` from the public data in ../shared/data.

What each model learns from (all of it human-labelled, none of it generated):

* ``strategy`` (8 MultiESC strategies) - every supporter turn of ``esconv/esconv_valid_195.jsonl`` (195
  dialogues, 2,257 turns) plus the ESConv dev lines of ``esconv/devWithStrategy_short.tsv`` whose
  dialogue shares no supporter turn with the JSONL (153 of 197 dialogues, 1,983 turns). TSV names are mapped to the
  MultiESC ones (:func:`helpert.label.strategy.canonical_strategy`); the TSV's "Other" becomes "Greeting"
  when the turn has a greeting or thanks cue and "Others" otherwise (MultiESC split Greeting out of Other). Stage is not a separate
  model: it is read from the strategy scores (:func:`helpert.label.strategy.stage_from_scores`).
* ``empathy_<dim>`` (EPITOME levels 0/1/2 for emotional_reactions, interpretations, explorations) - all
  3,084 Reddit (seeker post, response) pairs of the dimension's CSV; the seeker post is the context.
* ``rationale_<dim>`` (sentence scorer the empathy model is stacked on) - the sentences of the same
  responses, positive where the sentence overlaps an annotated rationale span. The empathy model is
  fitted on out-of-fold sentence scores so that it learns how much to trust them on unseen text.

Models are linear (an average of a class-weighted logistic regression and a class-weighted linear SVM,
which is itself one linear model); the scripts fix every seed, so a rerun writes the same weights.
Hashes of the training supporter turns are stored in the weights so that ``helpert validate labels``
can warn when it is asked to score the training data.

    .venv/bin/python benchmarks/train_labellers.py            # writes helpert/data/labellers.npz
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))
from _common import esconv_tsv_dialogues  # noqa: E402

from helpert.text.features import (  # noqa: E402
    BLOCKS, Unit, Vectoriser, fit_vectoriser, normalise, sentences, unit_features,
)
from helpert.text.linear import N_STACK, LinearBundle, ModelSpec, stack_features  # noqa: E402
from helpert.label.strategy import STRATEGIES, canonical_strategy, turn_hash  # noqa: E402

SHARED = REPO.parent / "shared" / "data"
OUT = REPO / "helpert" / "data" / "labellers.npz"
SEED = 0
TSV_OVERLAP_CHARS = 20
EMPATHY_FILES = {
    "emotional_reactions": "emotional-reactions-reddit.csv",
    "interpretations": "interpretations-reddit.csv",
    "explorations": "explorations-reddit.csv",
}
# Hyper-parameters, chosen by grouped cross-validation (benchmarks/validate_labels.py) on the same folds whose
# figures benchmarks/README.md reports (the first-sentence block and the C values were picked there), so those
# figures are slightly optimistic; no separate tuning split exists for the 195 ESConv dialogues.
CONFIG: dict[str, Any] = {
    "min_df": 2,
    "max_features": {"w": 30000, "c": 40000, "p": 8000, "n": 8000},
    "strategy": {"blocks": {"w": 1.0, "c": 1.0, "f": 1.0, "p": 0.5, "n": 0.5, "k": 0.3, "o": 0.3}, "C_lr": 1.0, "C_svm": 0.03},
    "empathy": {"blocks": {"w": 1.0, "c": 1.0, "p": 0.2, "n": 0.0, "k": 0.3, "o": 0.3}, "C_lr": 5.0, "C_svm": 0.1},
    "rationale": {"blocks": {"w": 1.0, "c": 1.0, "k": 0.3}, "C": 0.3},
}


@dataclass(frozen=True)
class Example:
    """One labelled turn: ``group`` is what must not straddle train and test (dialogue, seeker post)."""

    group: str
    unit: Unit
    label: str
    rationales: tuple[str, ...] = ()


# ----------------------------------------------------------------------------------------------- data


def esconv_jsonl(path: Path) -> list[Example]:
    """Supporter turns of the MultiESC JSONL with the preceding client turn and their position."""
    from helpert.io import read_sessions

    out = []
    for s in read_sessions(path):
        n = len(s.turns)
        counselor = [t.idx for t in s.turns if t.role == "counselor"]
        prev = ""
        for i, t in enumerate(s.turns):
            if t.role == "client":
                prev = t.text
                continue
            label = t.labels.get("strategy")
            if label not in STRATEGIES:
                continue
            after = next((u.text for u in s.turns[i + 1 :] if u.role == "client"), "")
            unit = Unit(t.text, prev, after, t.idx / max(n - 1, 1), t.idx == counselor[0], t.idx == counselor[-1])
            out.append(Example(s.dialogue_id, unit, label))
    return out


def esconv_tsv(path: Path, exclude: set[str]) -> list[Example]:
    """Dev lines of the TSV, grouped into dialogues (the turn index restarts), minus dialogues that share
    a supporter turn (hash in ``exclude``) with the JSONL, so that no dialogue is on both sides of a split.
    The client turns around a response are read from the contexts of all lines of its dialogue."""
    groups = esconv_tsv_dialogues(path)
    out = []
    for g, (responses, segments) in enumerate(groups):
        if any(turn_hash(text, TSV_OVERLAP_CHARS) in exclude for _, _, text in responses):
            continue
        clients = sorted(i for i, (speaker, _) in segments.items() if speaker == "0")
        top = max([i for i, *_ in responses] + list(segments))
        for idx, raw, text in responses:
            label = canonical_strategy(raw, text)
            if label is None:
                continue
            before = [i for i in clients if i < idx]
            after = [i for i in clients if i > idx]
            unit = Unit(
                text,
                segments[before[-1]][1] if before else "",
                segments[after[0]][1] if after else "",
                idx / max(top, 1),
                idx == responses[0][0] and idx <= 1,
                idx == top,
            )
            out.append(Example(f"tsv_{g}", unit, label))
    return out


def esconv_data(shared: Path = SHARED) -> tuple[list[Example], list[Example]]:
    """(JSONL examples, TSV examples from dialogues not in the JSONL)."""
    jsonl = esconv_jsonl(shared / "esconv" / "esconv_valid_195.jsonl")
    # a stricter key than the stored one: one shared turn of 20+ letters is enough to drop a TSV dialogue
    hashes = {turn_hash(e.unit.text, TSV_OVERLAP_CHARS) for e in jsonl} - {None}
    return jsonl, esconv_tsv(shared / "esconv" / "devWithStrategy_short.tsv", hashes)


def epitome_data(dim: str, shared: Path = SHARED) -> list[Example]:
    with open(shared / "epitome" / EMPATHY_FILES[dim], encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    return [
        Example(
            r["sp_id"],
            Unit(r["response_post"], r["seeker_post"]),
            r["level"],
            tuple(x.strip() for x in (r["rationales"] or "").split("|") if x.strip()),
        )
        for r in rows
    ]


# ------------------------------------------------------------------------------------------- fitting


_FEATURES: dict[Unit, dict[str, list[str]]] = {}


def featurise(examples: Sequence[Example]) -> list[dict[str, list[str]]]:
    """Features of each example's unit (memoised: cross-validation featurises the same turns per fold)."""
    out = []
    for e in examples:
        f = _FEATURES.get(e.unit)
        if f is None:
            f = _FEATURES[e.unit] = unit_features(e.unit)
        out.append(f)
    return out


def design(vec: Vectoriser, units: Sequence[Unit], blocks: dict[str, float]):
    """scipy CSR of ``units`` with each block scaled by its weight (the weight is folded into W on export),
    computed by the same transform that labels turns at run time."""
    import scipy.sparse as sp

    indptr, indices, data = vec.transform(units, [b for b in BLOCKS if blocks.get(b, 0.0)])
    X = sp.csr_matrix((data, indices, indptr), shape=(len(units), len(vec)))
    scale = block_scale(vec, blocks)
    return (X @ sp.diags(scale)).tocsr(), scale


def block_scale(vec: Vectoriser, blocks: dict[str, float]):
    import numpy as np

    return np.array([blocks.get(b, 0.0) for b in BLOCKS], dtype=np.float64)[vec.block_ids]


def fit_linear(X, y: Sequence[str], C_lr: float, C_svm: float) -> tuple[list[str], Any, Any]:
    """Average of a class-weighted multinomial LR and a class-weighted one-vs-rest linear SVM.

    Both decision functions are scaled to unit standard deviation on the training data first, so the
    sum is one linear model: (classes, coef (classes x features), intercept).
    """
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import LinearSVC

    lr = LogisticRegression(C=C_lr, max_iter=5000, class_weight="balanced", random_state=SEED).fit(X, y)
    svm = LinearSVC(C=C_svm, class_weight="balanced", random_state=SEED, max_iter=20000).fit(X, y)
    s_lr = float(np.std(lr.decision_function(X))) or 1.0
    s_svm = float(np.std(svm.decision_function(X))) or 1.0
    coef = lr.coef_ / s_lr + svm.coef_ / s_svm
    intercept = lr.intercept_ / s_lr + svm.intercept_ / s_svm
    return [str(c) for c in lr.classes_], coef, intercept


def sentence_examples(examples: Sequence[Example]) -> tuple[list[Unit], list[int], list[int]]:
    """Sentences of each response, label 1 where the sentence overlaps a rationale span, owner index."""
    units, labels, owner = [], [], []
    for i, e in enumerate(examples):
        spans = [normalise(r) for r in e.rationales] if e.label != "0" else []
        for s in sentences(normalise(e.unit.text)):
            key = s[:40]
            labels.append(int(any(key in r or r[:40] in s for r in spans)))
            units.append(Unit(s))
            owner.append(i)
    return units, labels, owner


def fit_rationale(vec: Vectoriser, units: Sequence[Unit], labels: Sequence[int], C: float, blocks: dict[str, float]):
    from sklearn.linear_model import LogisticRegression

    X, _ = design(vec, units, blocks)
    return LogisticRegression(C=C, max_iter=5000, class_weight="balanced", random_state=SEED).fit(X, labels)


@dataclass
class Column:
    """A fitted model before it is packed: weights in the raw (unscaled) feature space."""

    name: str
    classes: list[str]
    coef: Any  # classes x features (raw space)
    intercept: Any
    stack: list[str]
    stack_coef: Any  # classes x (N_STACK * len(stack))
    info: dict[str, Any]


def fit_strategy(vec: Vectoriser, train: Sequence[Example], cfg: dict[str, Any]) -> Column:
    X, scale = design(vec, [e.unit for e in train], cfg["blocks"])
    classes, coef, intercept = fit_linear(X, [e.label for e in train], cfg["C_lr"], cfg["C_svm"])
    info = {"trained_on": "esconv_valid_195.jsonl (all) + devWithStrategy_short.tsv (dialogues not in the JSONL)",
            "n_turns": len(train), "config": cfg}
    return Column("strategy", classes, coef * scale, intercept, [], None, info)


def fit_empathy(vec: Vectoriser, dim: str, train: Sequence[Example], cfg: dict[str, Any]) -> list[Column]:
    """The rationale sentence scorer and the level model stacked on its out-of-fold scores."""
    import numpy as np
    import scipy.sparse as sp
    from sklearn.model_selection import GroupKFold

    r_cfg, e_cfg = CONFIG["rationale"], cfg
    s_units, s_labels, owner = sentence_examples(train)
    owner_arr = np.asarray(owner)
    groups = [train[o].group for o in owner]
    oof = np.zeros(len(s_units))
    for tr, te in GroupKFold(n_splits=4).split(s_units, s_labels, groups):
        m = fit_rationale(vec, [s_units[i] for i in tr], [s_labels[i] for i in tr], r_cfg["C"], r_cfg["blocks"])
        X_te, _ = design(vec, [s_units[i] for i in te], r_cfg["blocks"])
        oof[te] = m.decision_function(X_te)
    rat = fit_rationale(vec, s_units, s_labels, r_cfg["C"], r_cfg["blocks"])
    r_scale = block_scale(vec, r_cfg["blocks"])
    stacked = stack_features(oof[:, None].astype(np.float32), owner_arr, len(train))
    X, scale = design(vec, [e.unit for e in train], e_cfg["blocks"])
    X = sp.hstack([X, sp.csr_matrix(stacked)]).tocsr()
    classes, coef, intercept = fit_linear(X, [e.label for e in train], e_cfg["C_lr"], e_cfg["C_svm"])
    n = len(vec)
    src = f"epitome/{EMPATHY_FILES[dim]}"
    return [
        Column(f"rationale_{dim}", ["rationale"], rat.coef_ * r_scale, rat.intercept_, [], None,
               {"trained_on": f"{src} (sentences vs rationale spans)", "n_sentences": len(s_units), "config": r_cfg}),
        Column(f"empathy_{dim}", classes, coef[:, :n] * scale, intercept, [f"rationale_{dim}"], coef[:, n:],
               {"trained_on": f"{src} (all pairs)", "n_pairs": len(train), "config": e_cfg}),
    ]


def pack(vec: Vectoriser, columns: Sequence[Column], meta: dict[str, Any]) -> LinearBundle:
    import numpy as np

    sentence_models = sorted({s for c in columns for s in c.stack})
    total = sum(len(c.classes) for c in columns)
    W = np.zeros((len(vec), total), dtype=np.float32)
    b = np.zeros(total, dtype=np.float32)
    S = np.zeros((N_STACK * len(sentence_models), total), dtype=np.float32)
    models = {}
    start = 0
    for c in columns:
        stop = start + len(c.classes)
        W[:, start:stop] = np.asarray(c.coef).T
        b[start:stop] = c.intercept
        for k, s in enumerate(c.stack):
            row = N_STACK * sentence_models.index(s)
            S[row : row + N_STACK, start:stop] = np.asarray(c.stack_coef)[:, N_STACK * k : N_STACK * (k + 1)].T
        models[c.name] = ModelSpec(c.classes, start, stop, list(c.stack), c.info)
        start = stop
    return LinearBundle(vec, W, b, S, models, meta)


def fit_bundle(
    esconv: Sequence[Example], epitome: dict[str, Sequence[Example]], tasks: Sequence[str] = ("strategy", "empathy"),
    cfg: dict[str, Any] | None = None,
) -> LinearBundle:
    """The whole pipeline: one vocabulary over all training turns, then each model. Used unchanged by the
    cross-validation in validate_labels.py (with the test fold left out of every argument)."""
    cfg = cfg or CONFIG
    first_dim = next(iter(epitome), None)
    # the three EPITOME CSVs hold the same responses: one of them is enough for the vocabulary
    vocab_feats = featurise(esconv) + (featurise(epitome[first_dim]) if first_dim else [])
    vec = fit_vectoriser(vocab_feats, cfg["min_df"], cfg["max_features"])
    columns: list[Column] = []
    if "strategy" in tasks:
        columns.append(fit_strategy(vec, esconv, cfg["strategy"]))
    if "empathy" in tasks:
        for dim, ex in epitome.items():
            columns.extend(fit_empathy(vec, dim, ex, cfg["empathy"]))
    meta = {
        "seed": SEED,
        "training_turn_hashes": sorted({h for e in esconv if (h := turn_hash(e.unit.text))}),
        "training_dialogue_ids": sorted({e.group for e in esconv if not e.group.startswith("tsv_")}),
    }
    return pack(vec, columns, meta)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shared", type=Path, default=SHARED, help="folder with esconv/ and epitome/")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    jsonl, tsv = esconv_data(args.shared)
    epitome = {d: epitome_data(d, args.shared) for d in EMPATHY_FILES}
    bundle = fit_bundle(jsonl + tsv, epitome)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    bundle.save(args.out)
    sha = hashlib.sha256(args.out.read_bytes()).hexdigest()[:12]
    print(json.dumps({
        "out": str(args.out), "bytes": args.out.stat().st_size, "sha256": sha, "features": len(bundle.vectoriser),
        "esconv_turns": {"jsonl": len(jsonl), "tsv": len(tsv)},
        "models": {n: m.classes for n, m in bundle.models.items()},
    }, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
