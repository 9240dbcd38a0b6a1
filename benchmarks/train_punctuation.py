"""Train the head that puts sentence marks back into unpunctuated transcripts (``helpert/data/punctuation_head.npz``,
read by :mod:`helpert.text.punctuation`), and report how well it does on transcripts it never saw.

**Training text** (``../shared/data``, punctuated by the people who wrote it; marks taken out, the marks' classes
kept as targets: none / "." / "?"): ESConv's 195 sessions (supporters and help-seekers, tokenised text joined again),
MIBot's 106 sessions (one speaker's consecutive utterances joined into a turn), CounselChat's questions and
therapists' answers (distinct texts), EPITOME's Reddit seeker posts and responses (distinct texts). A tenth of the
texts (by a hash of the text) is kept out of training as an in-domain check. Never read: the HOPE transcripts and
``tests/data/expert_cbt`` (the figures below are reported on them), the written rated sets of ``tests/data``, and
the reserved sets of DEVELOPERS.md.

**Model** (:class:`helpert.text.punctuation.Head`): two logistic regressions (scikit-learn, L2, ``C`` fixed at 1, no
search), each over dense encoder features beside sparse cues seen at least :data:`MIN_CUE` times: a sentence end after
a word (at most ``--max-words`` words drawn uniformly, a turn's last word left out: it always ends a sentence), and a
question in a sentence (every sentence as its writer ended it). The two thresholds are chosen on the in-domain tenth
(the best F1 on a grid).

**Reported** (``benchmarks/results/punctuation.json``): per-class precision / recall / F1 of sentence ends and of
questions on (a) the in-domain tenth and (b) the 8 HOPE therapy transcripts and the 2 expert CBT transcripts (spoken
register, never trained on), each turn read as a speech recogniser without marks would write it; the last word's
mark of a turn is forced as at run time.

    .venv/bin/python benchmarks/train_punctuation.py [--max-words 200000] [--no-write] [--features-cache FILE]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import re
import sys
import tempfile
import time
from collections import Counter
from datetime import date
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import REPO, SHARED, head_commit, machine, report  # noqa: E402

from helpert.io import read_sessions  # noqa: E402
from helpert.session import merge_consecutive  # noqa: E402
from helpert.text import encoder  # noqa: E402
from helpert.text import punctuation as P  # noqa: E402

C = 1.0
MIN_CUE = 5  # a cue seen fewer times in training is left out (the head stays small)
_DETOK = [(re.compile(r"(\w) ' (\w)"), r"\1'\2"), (re.compile(r" n't\b"), "n't"), (re.compile(r" '(m|s|re|ve|ll|d)\b"), r"'\1"),
          (re.compile(r" ([.,!?;:])"), r"\1")]
_GLUED = re.compile(r"([a-z][.!?])([A-Z])")  # CounselChat: "hang out with.Seriously"


def detok(text: str) -> str:
    for pat, rep in _DETOK:
        text = pat.sub(rep, text)
    return text


def clean(text: str) -> str:
    return " ".join(_GLUED.sub(r"\1 \2", text).split())


def training_texts() -> dict[str, list[str]]:
    """Source name -> punctuated texts (turns, posts, answers), distinct within each source."""
    out: dict[str, list[str]] = {}
    esconv = read_sessions(SHARED / "esconv" / "esconv_valid_195.jsonl")
    out["esconv"] = [detok(t.text) for s in esconv for t in merge_consecutive(s.turns)]
    mibot = read_sessions(SHARED / "mi" / "mibot_v63a.jsonl")
    out["mibot"] = [t.text for s in mibot for t in merge_consecutive(s.turns)]
    with open(SHARED / "counselchat" / "20200325_counsel_chat.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    out["counselchat"] = [r[k] for r in rows for k in ("questionText", "answerText")]
    epi = []
    for name in ("emotional-reactions-reddit.csv", "explorations-reddit.csv", "interpretations-reddit.csv"):
        with open(SHARED / "epitome" / name, newline="", encoding="utf-8") as f:
            for r in csv.DictReader(f):
                epi += [r["seeker_post"], r["response_post"]]
    out["epitome"] = epi
    for name, texts in out.items():
        seen, keep = set(), []
        for t in map(clean, texts):
            if len(P.bare_words(t)) >= 2 and t not in seen:
                seen.add(t)
                keep.append(t)
        out[name] = keep
    return out


def held_in(text: str) -> bool:
    """The in-domain tenth kept out of training (by a hash of the text, so that a rerun keeps the same)."""
    return hashlib.sha256(text.encode()).digest()[0] < 26  # 26/256 ~ 10%


def featurise(texts: list[str]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    words = [P.bare_words(t) for t in texts]
    feats = P.word_features(words)
    ys = [np.array([P.CLASSES.index(m) for m in P.marks_after(t)], dtype=np.int64) for t in texts]
    for t, f, y in zip(texts, feats, ys):
        assert len(f) == len(y), t
    return feats, ys


def cue_matrix(cue_lists: list[list[str]], vocab: dict[str, int]):
    import scipy.sparse as sp

    rows, cols = [], []
    for r, cues in enumerate(cue_lists):
        for c in cues:
            j = vocab.get(c)
            if j is not None:
                rows.append(r)
                cols.append(j)
    return sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(len(cue_lists), len(vocab)))


def fit(dense: np.ndarray, cues: list[list[str]], y: np.ndarray) -> tuple[np.ndarray, dict[str, float], float]:
    """Logistic regression (scikit-learn, L2, C fixed) over the dense features beside the cues seen at least
    :data:`MIN_CUE` times; returns the dense weights, the cue weights and the bias."""
    import scipy.sparse as sp
    from sklearn.linear_model import LogisticRegression

    counts = Counter(c for cs in cues for c in cs)
    names = sorted(c for c, n in counts.items() if n >= MIN_CUE)
    vocab = {c: i for i, c in enumerate(names)}
    X = sp.hstack([sp.csr_matrix(dense.astype(np.float32)), cue_matrix(cues, vocab)]).tocsr()
    clf = LogisticRegression(C=C, max_iter=5000).fit(X, y)
    w = clf.coef_[0]
    d = dense.shape[1]
    # stored as float16: round here so that the figures are those of the shipped head
    dense_w = w[:d].astype(np.float16).astype(np.float32)
    cue_w = w[d:].astype(np.float16).astype(np.float32)
    return dense_w, {n: float(v) for n, v in zip(names, cue_w) if v != 0}, float(clf.intercept_[0])


def end_examples(texts, feats, ys):
    """Every word but a turn's last (always an end): dense features, cues, 1 when a sentence ends after it."""
    dense, cues, y = [], [], []
    for t, f, yy in zip(texts, feats, ys):
        words = P.bare_words(t)
        dense.append(f[:-1])
        cues += P.word_cues(words)[:-1]
        y.append(yy[:-1] > 0)
    return np.concatenate(dense), cues, np.concatenate(y).astype(int)


def question_examples(texts, feats, ys):
    """Every sentence of the texts as their writers ended them (a turn's end included): features, cues, 1 = "?"."""
    dense, cues, y = [], [], []
    for t, f, yy in zip(texts, feats, ys):
        words = P.bare_words(t)
        ends = (yy > 0).copy()
        ends[-1] = True
        start = 0
        for i in map(int, ends.nonzero()[0]):
            dense.append(P.sentence_features(f, start, i + 1))
            cues.append(P.sentence_cues(words[start:i + 1]))
            y.append(int(yy[i] == 2))
            start = i + 1
    return np.array(dense, dtype=np.float32), cues, np.array(y)


def prf(gold: np.ndarray, got: np.ndarray) -> dict:
    tp = int((gold & got).sum())
    prec, rec = tp / max(1, int(got.sum())), tp / max(1, int(gold.sum()))
    return {"gold": int(gold.sum()), "precision": round(prec, 3), "recall": round(rec, 3),
            "f1": round(2 * prec * rec / max(prec + rec, 1e-12), 3)}


def figures(ys: list[np.ndarray], preds: list[list[int]]) -> dict:
    """Sentence ends inside a turn (a turn's last word, always an end, left out) and questions (every word, the turn's
    last included: a turn whose writer left its end bare counts as "."), precision / recall / F1 over the words;
    the share of turns whose last mark is right."""
    inside_y = np.concatenate([a[:-1] for a in ys])
    inside_p = np.concatenate([np.array(p[:-1], dtype=int) for p in preds])
    all_y = np.concatenate([np.append(a[:-1], a[-1] if a[-1] > 0 else 1) for a in ys])
    all_p = np.concatenate([np.array(p, dtype=int) for p in preds])
    last_y = np.array([a[-1] if a[-1] > 0 else 1 for a in ys])
    last_p = np.array([p[-1] for p in preds])
    return {"turns": len(ys), "words": int(len(all_y)), "end": prf(inside_y > 0, inside_p > 0),
            "question": prf(all_y == 2, all_p == 2),
            "turn_end": {"questions": int((last_y == 2).sum()), "right": round(float((last_y == last_p).mean()), 3),
                         "always_full_stop": round(float((last_y == 1).mean()), 3)}}


def best_threshold(p: np.ndarray, gold: np.ndarray, grid) -> float:
    return max(grid, key=lambda t: prf(gold == 1, p > t)["f1"])


def unseen_texts() -> dict[str, list[str]]:
    from helpert.metrics import one_line_per_turn
    from helpert.text.transcript import speech_view

    hope = read_sessions(SHARED / "hope" / "hope_sample.jsonl")
    expert = read_sessions(REPO / "tests" / "data" / "expert_cbt")
    # as the measures read them: one turn per speaker's run of lines, transcribers' notes out
    return {name: [t.text for s in ss for t in speech_view(one_line_per_turn(s)).turns if P.bare_words(t.text)]
            for name, ss in (("hope", hope), ("expert_cbt", expert))}


def featurised(cache: Path | None) -> dict:
    """name -> (texts, word features, targets) for train, check and the unseen transcripts (``cache``: a pickle of
    them, written on the first run, for reruns of the fitting alone)."""
    import pickle

    if cache is not None and cache.is_file():
        return pickle.loads(cache.read_bytes())
    sources = training_texts()
    train, check = [], []
    for texts in sources.values():
        for t in texts:
            (check if held_in(t) else train).append(t)
    out = {"sources": {k: len(v) for k, v in sources.items()}}
    for name, texts in (("train", train), ("check", check), *unseen_texts().items()):
        feats, ys = featurise(texts)
        out[name] = (texts, feats, ys)
        print(name, len(texts), flush=True)
    if cache is not None:
        cache.write_bytes(pickle.dumps(out, protocol=4))
    return out


def evaluate() -> None:
    """The figures of the shipped head (helpert/data/punctuation_head.npz) as the table of benchmarks/README.md gives
    them, without training: for a rerun when the encoder's arithmetic changes under a head that does not."""
    t0 = time.time()
    check = [t for texts in training_texts().values() for t in texts if held_in(t)]
    data = {name: (texts, *featurise(texts)) for name, texts in (("check", check), *unseen_texts().items())}
    meta = P.load_head().meta
    result = {"head": {k: meta.get(k) for k in ("date", "commit", "end_threshold", "question_threshold")}}
    for name in ("check", "hope", "expert_cbt"):
        texts, feats, ys = data[name]
        result[name] = figures(ys, P.predict([P.bare_words(t) for t in texts], feats))
    result["total_s"] = round(time.time() - t0, 1)
    report("punctuation_shipped", result)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--max-words", type=int, default=200_000)
    ap.add_argument("--features-cache", type=Path, help="a pickle of the word features (written if missing)")
    ap.add_argument("--no-write", action="store_true", help="report only; leave helpert/data/punctuation_head.npz as it is")
    ap.add_argument("--evaluate", action="store_true",
                    help="no training: the shipped head's figures on the in-domain tenth and the unseen transcripts, "
                         "with this machine's encoder (results/punctuation_shipped.json)")
    args = ap.parse_args()
    if args.evaluate:
        evaluate()
        return
    t0 = time.time()
    data = featurised(args.features_cache)
    texts, feats, ys = data["train"]
    dense, cues, y = end_examples(texts, feats, ys)
    rng = np.random.default_rng(0)
    if len(y) > args.max_words:
        pick = np.sort(rng.choice(len(y), args.max_words, replace=False))
        dense, cues, y = dense[pick], [cues[i] for i in pick], y[pick]
    end_dense, end_cues, end_bias = fit(dense, cues, y)
    q_dense, q_cues, q_y = question_examples(texts, feats, ys)
    question_dense, question_cues, question_bias = fit(q_dense, q_cues, q_y)

    # thresholds on the in-domain tenth (never on the transcripts the figures are reported on)
    def sig(z):
        return 1 / (1 + np.exp(-z))

    head = P.Head(end_dense, end_cues, end_bias, 0.5, question_dense, question_cues, question_bias, 0.5, {})
    c_texts, c_feats, c_ys = data["check"]
    cd, cc, cy = end_examples(c_texts, c_feats, c_ys)
    end_threshold = best_threshold(sig(head.end_logits(cd, cc)), cy, np.arange(0.15, 0.55, 0.05).round(2))
    qd, qc, qy = question_examples(c_texts, c_feats, c_ys)
    q_p = sig(np.array([head.question_logit(d, c) for d, c in zip(qd, qc)]))
    question_threshold = best_threshold(q_p, qy, np.arange(0.3, 0.65, 0.05).round(2))
    result = {"date": date.today().isoformat(), "commit": head_commit(), "machine": machine(), "C": C, "min_cue": MIN_CUE,
              "training": {"sources": data["sources"], "texts": len(texts), "end_words_fitted": int(len(y)),
                           "sentence_ends": int(y.sum()), "sentences": int(len(q_y)), "questions": int(q_y.sum()),
                           "end_cues": len(end_cues), "question_cues": len(question_cues)},
              "end_threshold": float(end_threshold), "question_threshold": float(question_threshold)}
    meta = {"classes": list(P.CLASSES), "script": "benchmarks/train_punctuation.py", "date": result["date"],
            "commit": result["commit"], "C": C, "min_cue": MIN_CUE, "window": P.WINDOW, "stride": P.STRIDE,
            "end_bias": end_bias, "end_threshold": float(end_threshold), "question_bias": question_bias,
            "question_threshold": float(question_threshold), "trained_on": data["sources"], "texts_trained": len(texts),
            "training_texts_sha256": hashlib.sha256("\n".join(texts).encode()).hexdigest(),
            "thresholds_chosen_on": "the in-domain tenth (held_in)",
            "encoder_files": [p.name for p in encoder.files()]}

    def arrays(name, weights):
        names = list(weights)
        return {f"{name}_cues": np.frombuffer("\n".join(names).encode(), dtype=np.uint8),
                f"{name}_cue_weights": np.array([weights[n] for n in names], dtype=np.float16)}

    target = P.HEAD if not args.no_write else Path(tempfile.mkdtemp()) / P.HEAD.name
    tmp = target.with_name(target.stem + ".tmp.npz")
    np.savez_compressed(tmp, end_dense=end_dense.astype(np.float16), question_dense=question_dense.astype(np.float16),
                        meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8),
                        **arrays("end", end_cues), **arrays("question", question_cues))
    tmp.replace(target)
    P.HEAD = target
    P.load_head.cache_clear()
    for name in ("check", "hope", "expert_cbt"):
        n_texts, n_feats, n_ys = data[name]
        result[name] = figures(n_ys, P.predict([P.bare_words(t) for t in n_texts], n_feats))
    result["training"]["total_s"] = round(time.time() - t0, 1)
    print("wrote" if not args.no_write else "tried (not written)", target, f"{target.stat().st_size} bytes")
    report("punctuation", result)


if __name__ == "__main__":
    main()
