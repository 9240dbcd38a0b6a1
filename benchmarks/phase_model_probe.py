"""Could a learned model name a CBT turn's phase better than the cue rules? A probe, not the shipped labeller.

The rules (``helpert.label.phase``) give the annotators' phase to 34.8% of the turns of round 76's fresh sessions
(benchmarks/README.md, "Phase labeller"). Here a multinomial logistic regression reads, per counselor turn: word
1-2-grams of the turn and of the client's turn before it, the rules' own cue evidence per phase and the behaviour
code, and (``--encoder``) the shared sentence encoder's embedding of the turn and of the client's turn before
(``helpert.text.encoder``: the model file the MI codes and the crisis detector use). Not read: the turn's position in
the session and the protocol's order, which the adherence measures compare the phases with.

Training data: ``tests/data/phase_train_round76.jsonl``, twelve everyday CBT sessions written by four writer sessions
that saw only the list of phases, each marking its own turns (``writer_phase``). Choices (features, C) by
leave-one-writer-out cross-validation on them; then one model trained on all twelve is scored ONCE on round 76's six
sessions (``tests/data/phase_sessions_round76.jsonl``, two writers and a blind annotator who never wrote training
data), on the turns both annotators agree on, beside the rules.

    .venv/bin/python benchmarks/phase_model_probe.py [--encoder] [--stay 0.5 0.7 0.85]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import REPO, report  # noqa: E402

from helpert.io import read_sessions  # noqa: E402
from helpert.label.phase_model import sticky  # noqa: E402
from helpert.label import label_sessions  # noqa: E402
from helpert.metrics import one_line_per_turn  # noqa: E402
from helpert.protocols import load_protocol  # noqa: E402

DATA = REPO / "tests" / "data"
TRAIN = DATA / "phase_train_round76.jsonl"
TEST = DATA / "phase_sessions_round76.jsonl"
CS = (0.3, 1.0, 3.0, 10.0)


def rows(path: Path, protocol, key: str):
    """Per counselor turn: (writer, text, client turn before, rules' cue evidence, behaviour, rules' phase, label)."""
    from helpert.label.phase import CueMatcher
    from helpert.text.features import normalise

    sessions = read_sessions(path)
    labelled = label_sessions([one_line_per_turn(s) for s in sessions], protocol)
    matcher = CueMatcher(protocol)
    out = []
    for s, lab in zip(sessions, labelled):
        before = ""
        lab_turns = iter(lab.counselor_turns)
        for t in s.turns:
            if t.role == "client":
                before = t.text
                continue
            got = next(lab_turns)
            beh = got.labels.get("behaviour", "")
            out.append({"writer": s.meta.get("writer", s.dialogue_id), "session": s.dialogue_id, "text": t.text,
                        "client": before, "evidence": matcher.evidence(normalise(t.text), beh), "behaviour": beh,
                        "rules": got.labels["phase"], "label": t.labels.get(key), "labels": t.labels})
            before = ""
    return out


def design(train: list[dict], test: list[dict], use_encoder: bool):
    import numpy as np
    import scipy.sparse as sp
    from sklearn.feature_extraction.text import TfidfVectorizer

    turn = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
    client = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
    behaviours = sorted({r["behaviour"] for r in train})

    def dense(rs):
        ev = np.array([r["evidence"] for r in rs], dtype=float)
        beh = np.array([[r["behaviour"] == b for b in behaviours] for r in rs], dtype=float)
        return np.hstack([ev, beh])

    blocks_train = [turn.fit_transform([r["text"] for r in train]), client.fit_transform([r["client"] for r in train]),
                    sp.csr_matrix(dense(train))]
    blocks_test = [turn.transform([r["text"] for r in test]), client.transform([r["client"] for r in test]),
                   sp.csr_matrix(dense(test))]
    if use_encoder:
        from helpert.text.encoder import embed

        for key in ("text", "client"):
            blocks_train.append(sp.csr_matrix(embed([r[key] for r in train])))
            blocks_test.append(sp.csr_matrix(embed([r[key] for r in test])))
    return sp.hstack(blocks_train).tocsr(), sp.hstack(blocks_test).tocsr()


def fit_predict(train, test, c: float, use_encoder: bool, stay: float | None = None) -> list[str]:
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    xtr, xte = design(train, test, use_encoder)
    model = LogisticRegression(C=c, max_iter=3000, class_weight="balanced")
    model.fit(xtr, [r["label"] for r in train])
    if stay is None:
        return list(model.predict(xte))
    logp = np.log(np.clip(model.predict_proba(xte), 1e-9, 1))
    out: list[str] = []
    sessions = [r["session"] for r in test]
    start = 0
    while start < len(test):
        stop = start
        while stop < len(test) and sessions[stop] == sessions[start]:
            stop += 1
        out += [model.classes_[j] for j in sticky(logp[start:stop], stay)]
        start = stop
    return out


def accuracy(pred: list[str], gold: list[str]) -> float:
    return round(sum(p == g for p, g in zip(pred, gold)) / len(gold), 3)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--encoder", action="store_true", help="add the shared encoder's embeddings")
    ap.add_argument("--stay", type=float, nargs="*", default=None,
                    help="decode each session with a phase-continues probability (Viterbi; choices by the same CV)")
    args = ap.parse_args(argv)
    protocol = load_protocol("cbt_session")
    train = rows(TRAIN, protocol, "writer_phase")
    writers = sorted({r["writer"] for r in train})
    cv = {}
    grid = [(c, st) for c in CS for st in (args.stay or [None])]
    for c, st in grid:
        pred, gold = [], []
        for w in writers:
            fold_train = [r for r in train if r["writer"] != w]
            fold_test = [r for r in train if r["writer"] == w]
            pred += fit_predict(fold_train, fold_test, c, args.encoder, st)
            gold += [r["label"] for r in fold_test]
        cv[f"C={c} stay={st}"] = accuracy(pred, gold)
        print("C", c, "stay", st, "leave-one-writer-out accuracy", cv[f"C={c} stay={st}"], flush=True)
    rules_cv = accuracy([r["rules"] for r in train], [r["label"] for r in train])
    best, best_stay = max(grid, key=lambda g: cv[f"C={g[0]} stay={g[1]}"])
    test = rows(TEST, protocol, "writer_phase")
    agreed = [i for i, r in enumerate(test) if r["labels"]["writer_phase"] == r["labels"]["blind_phase"]]
    pred = fit_predict(train, test, best, args.encoder, best_stay)
    gold = [test[i]["labels"]["writer_phase"] for i in agreed]
    result = {"encoder": args.encoder, "train_turns": len(train), "train_sessions": len({r["session"] for r in train}),
              "writers": writers, "cv_accuracy": cv, "rules_accuracy_on_train": rules_cv, "chosen_C": best,
              "chosen_stay": best_stay,
              "test_turns_agreed": len(agreed),
              "test_accuracy_model": accuracy([pred[i] for i in agreed], gold),
              "test_accuracy_rules": accuracy([test[i]["rules"] for i in agreed], gold)}
    report("phase_model_probe" + ("_encoder" if args.encoder else "") + ("_sticky" if args.stay else ""), result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
