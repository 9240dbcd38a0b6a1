"""A learned phase labeller for one protocol: which phase a counselor turn serves, read from the turn, the client's
talk before it and the cue rules' own evidence, decoded over the session so that a phase tends to continue.

The default for ``cbt_session`` since round 91 (``label_sessions(..., phase_labeller="auto")``; benchmarks/README.md,
"Phase labeller"): trained since round 81 on 1,171 annotated turns, it agrees with annotators on 75.1%, 80.0%, 73.8% and 79.5% of
the turns of four fresh sets of everyday CBT sessions (rounds 81, 91, 100 and 102), the cue rules on 31.6-42.9%, and
raised every pooled written-set AUC. Rounds 77-81 kept it experimental because small talk that *replaced* counselor turns
raised the CTRS mean at a step of the degradation check; round 91 put the small talk in beside the turns instead (a
replaced turn takes its own behaviour out too) and adopted it: no degradation the rules pass fails with it.
:func:`helpert.label.label_sessions` leaves minimal encouragers out of the sequence it decodes (round 92) and lets
crisis language and the off-topic rule overrule it (round 93).

Why: the cue rules (:mod:`helpert.label.phase`) give the annotators' phase to 34.8% of the counselor turns of fresh
everyday CBT sessions (benchmarks/README.md, "Phase labeller"): everyday talk paraphrases the cues, and a turn
without a cue keeps the last phase.

The model (``helpert/data/phase_model.npz``, written by ``benchmarks/train_phase_model.py``): one multinomial logistic
regression over, per counselor turn,

* word 1-2-grams (TF-IDF) of the turn and of the client's talk since the counselor last spoke (normalised text, as
  the MI labeller reads it);
* the rules' cue evidence for each phase of the protocol and the turn's behaviour code (:mod:`helpert.label.behaviour`);
* the shared sentence encoder's embeddings (:mod:`helpert.text.encoder`, the model file of the MI codes and the crisis
  detector): the mean of the turn's sentence embeddings and the embedding of the client's talk, the very texts the MI
  labeller embeds, so a labelled corpus pays almost nothing more for them.

Decoding: the most likely sequence of phases of a session (Viterbi, :func:`sticky`) under the model's probabilities
and a transition that only says how often a phase continues (``meta["stay"]``): any change of phase is as likely as any
other. Without ``stay`` each turn gets its own most likely phase (round 78: then what one turn says never relabels
another, but the phases flip between neighbours, 42 backward jumps on a fresh set where the annotators have 12-13).
Nothing of the protocol's order or allowed transitions - which the adherence measures compare the phases with - is
read, nor a turn's position in the session. The model serves only the protocol it was trained for (``meta["protocol"]`` and
its phase ids); every other protocol keeps the rules.
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

    from helpert.protocols import Protocol

PHASE_MODEL = Path(__file__).resolve().parent.parent / "data" / "phase_model.npz"


def vectoriser(vocabulary: dict | None = None):
    """The TF-IDF vectoriser of both text blocks (fixed settings; the vocabulary given at run time)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1 if vocabulary else 2, vocabulary=vocabulary)


def turn_embeddings(texts: Sequence[str]) -> "np.ndarray":
    """Per counselor turn, the mean of its sentences' embeddings (normalised text, the MI labeller's sentences)."""
    import numpy as np

    from helpert.text.encoder import DIM, embed
    from helpert.text.features import normalise, sentences

    parts = [[s for s in sentences(normalise(t)) if s.strip()] for t in texts]
    flat = embed([s for ss in parts for s in ss])
    out, k = np.zeros((len(texts), DIM), dtype=np.float32), 0
    for i, ss in enumerate(parts):
        if ss:
            out[i] = flat[k:k + len(ss)].mean(0)
        k += len(ss)
    return out


def dense_block(evidence: Sequence[Sequence[float]], behaviours: Sequence[str], known: Sequence[str]) -> "np.ndarray":
    """The rules' cue evidence per phase beside a one-hot of the behaviour code (``known`` behaviours)."""
    import numpy as np

    ev = np.asarray(evidence, dtype=np.float32).reshape(len(behaviours), -1)
    beh = np.array([[b == k for k in known] for b in behaviours], dtype=np.float32).reshape(len(behaviours), len(known))
    return np.hstack([ev, beh])


def features(turn_vec, client_vec, texts: Sequence[str], clients: Sequence[str], evidence: Sequence[Sequence[float]],
             behaviours: Sequence[str], known: Sequence[str]) -> "scipy.sparse.csr_matrix":
    """The model's input rows (module docstring); training fits the two vectorisers first."""
    import scipy.sparse as sp

    from helpert.text.encoder import embed
    from helpert.text.features import normalise

    norm_texts, norm_clients = [normalise(t) for t in texts], [normalise(c) for c in clients]
    return sp.hstack([turn_vec.transform(norm_texts), client_vec.transform(norm_clients),
                      sp.csr_matrix(dense_block(evidence, behaviours, known)), sp.csr_matrix(turn_embeddings(texts)),
                      sp.csr_matrix(embed(norm_clients))], format="csr")


def sticky(logp: "np.ndarray", stay: float) -> list[int]:
    """Viterbi over one session's turns: the model's log-probabilities plus a transition that only says how often a
    phase continues (``stay``; any change equally likely, whatever the phases)."""
    import numpy as np

    n, k = logp.shape
    if n == 0:
        return []
    trans = np.full((k, k), np.log((1 - stay) / (k - 1)))
    np.fill_diagonal(trans, np.log(stay))
    score, back = logp[0].copy(), np.zeros((n, k), dtype=int)
    for i in range(1, n):
        cand = score[:, None] + trans
        back[i] = cand.argmax(0)
        score = cand.max(0) + logp[i]
    path = [int(score.argmax())]
    for i in range(n - 1, 0, -1):
        path.append(int(back[i][path[-1]]))
    return path[::-1]


@dataclass
class PhaseModel:
    classes: list[str]
    behaviours: list[str]
    turn_vec: object
    client_vec: object
    W: "np.ndarray"
    b: "np.ndarray"
    meta: dict

    def applies(self, protocol: "Protocol") -> bool:
        """Whether this model was trained for ``protocol``'s phases."""
        return not self.refusal(protocol)

    def refusal(self, protocol: "Protocol") -> str:
        """Why this model cannot label ``protocol`` ("" when it can): another protocol, or the same name with other
        phases (a user's edited copy)."""
        trained = self.meta.get("protocol")
        if protocol.name != trained:
            return f"it was trained for protocol {trained!r}"
        if [p.id for p in protocol.phases] != self.meta.get("phases"):
            return (f"this copy's phases differ from the ones it was trained for: "
                    f"{', '.join(self.meta.get('phases', []))}, in that order")
        return ""

    def log_proba(self, texts, clients, evidence, behaviours) -> "np.ndarray":
        import numpy as np

        x = features(self.turn_vec, self.client_vec, texts, clients, evidence, behaviours, self.behaviours)
        z = np.asarray(x @ self.W) + self.b
        z -= z.max(1, keepdims=True)
        return z - np.log(np.exp(z).sum(1, keepdims=True))

    def decode(self, logp: "np.ndarray") -> list[str]:
        """One session's phases from its turns' rows of :meth:`log_proba` (one batch may hold many sessions): each
        turn's most likely phase, or with ``meta["stay"]`` the most likely sequence (:func:`sticky`)."""
        stay = self.meta.get("stay")
        return [self.classes[j] for j in (sticky(logp, stay) if stay else logp.argmax(1).tolist())]

    def phases(self, texts: Sequence[str], clients: Sequence[str], evidence: Sequence[Sequence[float]],
               behaviours: Sequence[str]) -> list[str]:
        """One session's counselor turns, in order: their phases."""
        if not texts:
            return []
        return self.decode(self.log_proba(texts, clients, evidence, behaviours))


def save_model(path: Path, model: PhaseModel) -> None:
    """Plain arrays (no pickle): vocabularies in column order, IDFs, weights, class and behaviour names, meta JSON."""
    import numpy as np

    def lines(items) -> "np.ndarray":
        return np.frombuffer("\n".join(items).encode("utf-8"), dtype=np.uint8)

    def vocab(vec) -> "np.ndarray":
        return lines(sorted(vec.vocabulary_, key=vec.vocabulary_.__getitem__))

    tmp = path.with_suffix(".tmp.npz")
    np.savez_compressed(tmp, turn_vocab=vocab(model.turn_vec), client_vocab=vocab(model.client_vec),
                        turn_idf=model.turn_vec.idf_.astype(np.float32), client_idf=model.client_vec.idf_.astype(np.float32),
                        W=model.W.astype(np.float16), b=model.b.astype(np.float32), classes=lines(model.classes),
                        behaviours=lines(model.behaviours), meta=lines([json.dumps(model.meta)]))
    tmp.replace(path)


@lru_cache(maxsize=2)
def load_phase_model(path: str | None = None) -> PhaseModel | None:
    """The shipped model (None when the file is absent: the rules serve every protocol)."""
    import numpy as np

    where = Path(path) if path else PHASE_MODEL
    if not where.is_file():
        return None
    with np.load(where, allow_pickle=False) as z:
        def text(key: str) -> list[str]:
            return bytes(z[key]).decode("utf-8").split("\n") if len(z[key]) else []

        vecs = []
        for name in ("turn", "client"):
            vec = vectoriser({t: i for i, t in enumerate(text(f"{name}_vocab"))})
            vec.idf_ = z[f"{name}_idf"].astype(np.float64)
            vecs.append(vec)
        return PhaseModel(text("classes"), text("behaviours"), vecs[0], vecs[1], z["W"].astype(np.float32),
                          z["b"].astype(np.float32), json.loads(text("meta")[0]))


__all__ = ["PHASE_MODEL", "PhaseModel", "features", "load_phase_model", "save_model", "sticky", "vectoriser"]
