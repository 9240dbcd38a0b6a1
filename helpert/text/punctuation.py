"""Sentence marks put back into a transcript that has almost none, so that the labellers read its sentences.

Some speech recognisers write turns without ". ! ?" (:func:`helpert.text.transcript.unpunctuated` finds them). The
labellers find questions and sentences by their marks (the MI codes are one per sentence), so such a transcript was
measured with a bias: on the ten unseen sessions of ``benchmarks/transcript_markup.py``, taking the marks out lowered
the CTRS mean by about 0.8. The measures' view of such a session (:func:`helpert.text.transcript.speech_view`) now
reads each turn with the marks this module predicts; the stored transcript never changes.

How: every word of a turn gets one of three marks - none, the end of a statement ("."), the end of a question ("?") -
from two logistic models (:class:`Head`). The first decides whether a sentence ends after a word, from the shared
sentence encoder's token states (:mod:`helpert.text.encoder`, the same model file as the MI codes and the crisis
detector: the state of the word's last word piece beside that of the next word's first piece, or of [SEP]) and the
words around it (:func:`word_cues`); the second whether the sentence that ends there is a question, from how it
begins and ends (:func:`sentence_cues`) and its states (:func:`sentence_features`). A long turn is read in windows of
:data:`WINDOW` words, :data:`STRIDE` apart, and each word takes its states from the window in which it sits most
centrally, so that every word sees words on both sides. A turn's last word always ends a sentence. Marks already in
the text are dropped and predicted again, commas included (the labellers cut sentences at ". ! ?" only); the next
word after a mark and a lone "i" are capitalised, and a recogniser's contractions without apostrophes get them back
(:data:`APOSTROPHE`: "dont", "im"; not "ill" or "well").

The head (``helpert/data/punctuation_head.npz``: weights, cue weights, biases, thresholds and provenance) is trained
by ``benchmarks/train_punctuation.py`` on punctuated counseling text of ``../shared`` with its marks taken out
(ESConv, MIBot, CounselChat, EPITOME's Reddit posts), its thresholds chosen on a held-in tenth of that text; the
HOPE transcripts and the expert CBT transcripts, on which its figures are reported (``benchmarks/README.md``,
"Punctuation"), are never trained on. It is modest (sentence ends inside a HOPE turn at F1 0.44, questions 0.53):
it corrects the level of the measures much more than it restores a transcriber's sentences.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:
    import numpy as np

HEAD = Path(__file__).resolve().parent.parent / "data" / "punctuation_head.npz"
CLASSES = ("none", ".", "?")
WINDOW = 40  # words per window: about 55 word pieces, well inside the encoder's 128
STRIDE = 20
# a run of sentence marks (and commas), at either end of a word: taken out before the head reads the words
_MARKS = re.compile(r"[.,!?;:…]+")
_LONE_I = re.compile(r"^i(?=$|['’](?:m|ve|ll|d|s)$)")
# Contractions a speech recogniser writes without the apostrophe, where the bare word is no other word ("dont", "im",
# "youre"; not "ill", "id", "were", "its", "well", "hell"): the labellers' cues are written with it ("let's write down
# ..." is structuring, "lets write down ..." read as advice). "lets" only where a sentence starts or after a discourse
# word ("okay lets ...": :data:`_BEFORE_LETS`), never after a subject ("she lets me").
_BEFORE_LETS = frozenset({"okay", "ok", "so", "well", "now", "alright", "right", "then", "maybe", "perhaps", "just",
                          "um", "uh", "yeah", "yes", "good", "great"})
APOSTROPHE = {w.replace("'", "").lower(): w for w in (
    "don't", "doesn't", "didn't", "can't", "won't", "wouldn't", "couldn't", "shouldn't", "isn't", "aren't", "wasn't",
    "weren't", "haven't", "hasn't", "hadn't", "mustn't", "needn't", "I'm", "I've", "you're", "you've", "you'll", "you'd",
    "they're", "they've", "they'll", "they'd", "we've", "that's", "what's", "there's", "here's", "where's",
    "who's", "how's", "he's", "she's", "it'll", "that'll", "y'all", "ain't")}
CACHE_SIZE = 20_000
_cache: dict[str, str] = {}


def bare_words(text: str) -> list[str]:
    """The words of ``text`` without sentence marks (what the head reads; a token of marks alone is dropped)."""
    return [w for w in (_MARKS.sub("", tok) for tok in text.split()) if w]


def marks_after(text: str) -> list[str]:
    """The training target of :func:`bare_words`' words: the class of the marks after each word ("?" when a "?" is
    among them, "." for ". ! ; : …", else "none": commas are not sentence ends). Aligned with :func:`bare_words`."""
    out: list[str] = []
    for tok in text.split():
        core = _MARKS.sub("", tok)
        tail = tok[len(tok.rstrip(".,!?;:…")):]
        if core:
            out.append("none")
        elif not out:
            continue
        if "?" in tail:
            out[-1] = "?"
        elif any(c in tail for c in ".!;:…") and out[-1] != "?":
            out[-1] = "."
    return out


def windows(n: int) -> list[tuple[int, int]]:
    """(start, stop) word windows covering ``n`` words, :data:`STRIDE` apart, each at most :data:`WINDOW` long."""
    if n <= WINDOW:
        return [(0, n)]
    starts = list(range(0, n - WINDOW, STRIDE)) + [n - WINDOW]
    return [(s, s + WINDOW) for s in starts]


def word_features(word_lists: Sequence[Sequence[str]]) -> "list[np.ndarray]":
    """One ``[words, 2 * DIM]`` float32 array per list of words: the encoder's state of each word's last piece beside
    that of the next word's first piece ([SEP] after a window's last word), each word read in its most central
    window. A word the encoder cut off (more than 128 pieces in a window) has a row of zeros."""
    import numpy as np

    from helpert.text import encoder

    jobs: list[tuple[int, int, int]] = []  # (list index, start, stop)
    texts: list[str] = []
    for li, words in enumerate(word_lists):
        for start, stop in windows(len(words)):
            jobs.append((li, start, stop))
            texts.append(" ".join(words[start:stop]))
    states = encoder.token_states(texts) if texts else []
    offsets = encoder.piece_offsets(texts) if texts else []
    out = [np.zeros((len(w), 2 * encoder.DIM), dtype=np.float32) for w in word_lists]
    best = [np.full(len(w), -1, dtype=np.int64) for w in word_lists]  # how central each word's chosen window is
    for (li, start, stop), text, st, offs in zip(jobs, texts, states, offsets):
        words = word_lists[li][start:stop]
        starts, pos = [], 0
        for w in words:
            starts.append(pos)
            pos += len(w) + 1
        first = [-1] * len(words)
        last = [-1] * len(words)
        wi = 0
        for k, (a, b) in enumerate(offs[: len(st)]):
            if b <= a:  # [CLS], [SEP]
                continue
            while wi + 1 < len(words) and a >= starts[wi + 1]:
                wi += 1
            if first[wi] < 0:
                first[wi] = k
            last[wi] = k
        sep = len(st) - 1
        n_all = len(word_lists[li])
        for j in range(len(words)):
            g = start + j
            # distance to the nearer edge of the window that is not an edge of the text itself
            centre = min(g - start if start > 0 else n_all, stop - 1 - g if stop < n_all else n_all)
            if centre <= best[li][g] or last[j] < 0:
                continue
            best[li][g] = centre
            nxt = first[j + 1] if j + 1 < len(words) and first[j + 1] >= 0 else sep
            out[li][g, : encoder.DIM] = st[last[j]]
            out[li][g, encoder.DIM:] = st[nxt]
    return out


def word_cues(words: Sequence[str]) -> "list[list[str]]":
    """The lexical cues of a sentence end after each word: the word, its neighbours and their pairs (lower case)."""
    w = [x.lower() for x in words]
    n = len(w)
    out = []
    for i in range(n):
        nx = w[i + 1] if i + 1 < n else "</s>"
        nx2 = w[i + 2] if i + 2 < n else "</s>"
        pv = w[i - 1] if i > 0 else "<s>"
        out.append([f"c={w[i]}", f"n={nx}", f"n2={nx2}", f"p={pv}", f"cn={w[i]}|{nx}", f"nn={nx}|{nx2}"])
    return out


def sentence_cues(words: Sequence[str]) -> list[str]:
    """The lexical cues of a question in one sentence's words: how it begins and ends, an "or", its length."""
    s = [x.lower() for x in words]
    return ["f=" + s[0], "f2=" + "|".join(s[:2]), "s=" + (s[1] if len(s) > 1 else "</s>"), "l=" + s[-1],
            "l2=" + "|".join(s[-2:]), "or" if "or" in s else "no_or", f"len={min(len(s), 12)}"]


def sentence_features(feats: "np.ndarray", start: int, stop: int) -> "np.ndarray":
    """The dense input of the question model for words ``start:stop`` of a turn: the last word's end features beside
    the mean of the sentence's word states."""
    import numpy as np

    return np.concatenate([feats[stop - 1], feats[start:stop, : feats.shape[1] // 2].mean(0)])


@dataclass
class Head:
    """Two linear models (logistic): is there a sentence end after this word, and is this sentence a question."""

    end_dense: "np.ndarray"
    end_cues: "dict[str, float]"
    end_bias: float
    end_threshold: float
    question_dense: "np.ndarray"
    question_cues: "dict[str, float]"
    question_bias: float
    question_threshold: float
    meta: dict

    def end_logits(self, feats: "np.ndarray", cues: "list[list[str]]") -> "np.ndarray":
        lex = [sum(self.end_cues.get(c, 0.0) for c in cs) for cs in cues]
        return feats @ self.end_dense + lex + self.end_bias

    def question_logit(self, dense: "np.ndarray", cues: list[str]) -> float:
        return float(dense @ self.question_dense + sum(self.question_cues.get(c, 0.0) for c in cues) + self.question_bias)


def _logit(p: float) -> float:
    import math

    return math.log(p / (1 - p))


@lru_cache(maxsize=1)
def load_head() -> Head:
    """The shipped head (``helpert/data/punctuation_head.npz``)."""
    import numpy as np

    with np.load(HEAD, allow_pickle=False) as z:
        meta = json.loads(bytes(z["meta"]).decode())

        def cues(name):
            names = bytes(z[f"{name}_cues"]).decode().split("\n") if len(z[f"{name}_cues"]) else []
            return dict(zip(names, z[f"{name}_cue_weights"].astype(float).tolist()))

        return Head(z["end_dense"].astype(np.float32), cues("end"), float(meta["end_bias"]), float(meta["end_threshold"]),
                    z["question_dense"].astype(np.float32), cues("question"), float(meta["question_bias"]),
                    float(meta["question_threshold"]), meta)


def predict(word_lists: Sequence[Sequence[str]], feats: "Sequence[np.ndarray] | None" = None) -> "list[list[int]]":
    """The mark after each word, as an index of :data:`CLASSES` (0 none, 1 ".", 2 "?"); a list's last word always ends
    a sentence. ``feats``: :func:`word_features` of the lists, when already at hand (the trainer)."""
    head = load_head()
    feats = word_features(word_lists) if feats is None else feats
    t_end, t_q = _logit(head.end_threshold), _logit(head.question_threshold)
    out = []
    for words, f in zip(word_lists, feats):
        if not len(words):
            out.append([])
            continue
        ends = head.end_logits(f, word_cues(words)) > t_end
        ends[-1] = True
        marks, start = [0] * len(words), 0
        for i in map(int, ends.nonzero()[0]):
            q = head.question_logit(sentence_features(f, start, i + 1), sentence_cues(words[start:i + 1])) > t_q
            marks[i] = 2 if q else 1
            start = i + 1
        out.append(marks)
    return out


def _capital(word: str) -> str:
    return word[:1].upper() + word[1:]


def restore(texts: Sequence[str]) -> list[str]:
    """Each text with its sentence marks predicted afresh (see the module docstring); a text with no word stays."""
    todo = [t for t in dict.fromkeys(texts) if t not in _cache and bare_words(t)]
    if todo:
        words = [bare_words(t) for t in todo]
        for text, ws, marks in zip(todo, words, predict(words)):
            out, new_sentence, before = [], True, ""
            for w, mark in zip(ws, marks):
                w = _LONE_I.sub("I", APOSTROPHE.get(w.lower(), w) if w.islower() or w.lower() == "im" else w)
                if w.lower() == "lets" and (new_sentence or before in _BEFORE_LETS):
                    w = "let's"
                before = w.lower()
                if new_sentence:
                    w = _capital(w)
                out.append(w + ("" if mark == 0 else CLASSES[mark]))
                new_sentence = mark != 0
            _cache[text] = " ".join(out)
        while len(_cache) > CACHE_SIZE:
            _cache.pop(next(iter(_cache)))
    return [_cache.get(t, t) for t in texts]


__all__ = ["CLASSES", "HEAD", "Head", "STRIDE", "WINDOW", "bare_words", "load_head", "marks_after", "predict", "restore",
           "sentence_cues", "sentence_features", "windows", "word_cues", "word_features"]
