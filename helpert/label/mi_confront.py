"""A learned reading of MISC 2.5's Confront, beside the MI model and its rules (written for round 103, adopted in round
104 at a threshold that keeps the rules' precision).

Why: the Confront rules of :mod:`helpert.label.mi` (rounds 84-86) name forms - labels, flat contradictions, blame,
doubt, sarcasm - and polite confrontation is worded otherwise: on round 86's fresh set 12 of 50 agreed Confront
utterances were coded Confront, and fresh-user review 10's four ("I wonder, though, whether you really gave it a fair
try.", "... and that's been your choice.", "I'm not sure I agree with how you're seeing this ...", "Someone who built
the spreadsheet shouldn't be this worried, and I think part of you knows that.") none, so a blaming counselor scored
as well as a good one. A phrase list grows without end; this head reads meaning.

The head (``helpert/data/mi_confront.npz``, written by ``benchmarks/train_confront_head.py``): a logistic regression,
Confront against every other code, over the utterance's word 1-2-grams (TF-IDF), the shared sentence encoder's
embedding of it (:mod:`helpert.text.encoder`, the very embeddings the MI model reads, so a labelled corpus pays almost
nothing more) and the MI model's context block (is there a client turn, word overlap with it, cosine of the two
embeddings). Trained on the written spoken sets no MI figure is reported on out of sample (t, x, y, the spent g, h, i,
v, w and the confrontation-weighted r84, r85, r86; both coders' agreed codes), never on the human gold sentences.
Its threshold (``meta["threshold"]``, 0.90) was chosen by leave-one-set-out cross-validation on those sets: the lowest
at which the labeller's Confront precision is at least the rules' own (round 104; round 103's 0.75, the threshold of
the highest F1, coded warm talk about blame and choice Confront). On fresh sets it raised Confront F1 0.459 -> 0.609
(r104) and 0.367 -> 0.537 (r103), yet at this threshold it still codes none of review 10's four sentences Confront.

:func:`helpert.label.mi.finish` codes an utterance Confront where the head's probability reaches the threshold and the
MI model's code is outside the MI-non-adherent group, unless the sentence reassures (round 88's Support).
The head is part of the MI labeller: a copy of helpert without its file cannot code (as without ``mi_model.npz``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:
    import numpy as np
    import scipy.sparse

    from helpert.label.mi import Utterance

CONFRONT_HEAD = Path(__file__).resolve().parent.parent / "data" / "mi_confront.npz"


def vectoriser(vocabulary: dict | None = None):
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2, vocabulary=vocabulary, lowercase=False)


def features(units: Sequence["Utterance"], word_vec) -> "scipy.sparse.csr_matrix":
    """[word TF-IDF | embedding | context block] per utterance (normalised texts, as the MI model reads them)."""
    import scipy.sparse as sp

    from helpert.label.mi import context_block
    from helpert.text.encoder import embed

    emb = embed([u.text for u in units])
    return sp.hstack([word_vec.transform([u.text for u in units]), sp.csr_matrix(emb),
                      sp.csr_matrix(context_block(units, emb))], format="csr")


@dataclass
class ConfrontHead:
    word_vec: object
    w: "np.ndarray"
    b: float
    meta: dict

    @property
    def threshold(self) -> float:
        return float(self.meta["threshold"])

    def proba(self, units: Sequence["Utterance"]) -> "np.ndarray":
        import numpy as np

        if not units:
            return np.zeros(0, dtype=np.float32)
        z = np.asarray(features(units, self.word_vec) @ self.w).ravel() + self.b
        return 1.0 / (1.0 + np.exp(-z))

    def flags(self, units: Sequence["Utterance"]) -> list[bool]:
        """Per utterance: does the head read it as Confront (probability at or above the threshold)?"""
        return [bool(p >= self.threshold) for p in self.proba(units)]


def save_head(path: Path, head: ConfrontHead) -> None:
    """Plain arrays (no pickle): the vocabulary in column order, IDFs, weights, meta JSON; written atomically."""
    import numpy as np

    vec = head.word_vec
    terms = sorted(vec.vocabulary_, key=vec.vocabulary_.__getitem__)
    tmp = path.with_suffix(".tmp.npz")
    np.savez_compressed(tmp, vocab=np.frombuffer("\n".join(terms).encode("utf-8"), dtype=np.uint8),
                        idf=vec.idf_.astype(np.float32), w=head.w.astype(np.float32),
                        b=np.array([head.b], dtype=np.float32),
                        meta=np.frombuffer(json.dumps(head.meta).encode("utf-8"), dtype=np.uint8))
    tmp.replace(path)


@lru_cache(maxsize=2)
def load_head(path: str | None = None) -> ConfrontHead:
    """The shipped head (``helpert/data/mi_confront.npz``) or the one at ``path``."""
    import numpy as np

    with np.load(Path(path) if path else CONFRONT_HEAD, allow_pickle=False) as z:
        vocab = {t: i for i, t in enumerate(bytes(z["vocab"]).decode("utf-8").split("\n"))}
        vec = vectoriser(vocab)
        vec.idf_ = z["idf"].astype(np.float64)
        return ConfrontHead(vec, z["w"].astype(np.float32), float(z["b"][0]),
                            json.loads(bytes(z["meta"]).decode("utf-8")))


__all__ = ["CONFRONT_HEAD", "ConfrontHead", "features", "load_head", "save_head", "vectoriser"]
