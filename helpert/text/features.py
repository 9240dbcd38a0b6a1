"""Text normalisation and sparse features shared by every turn classifier.

One extractor serves training (``benchmarks/train_labellers.py``, which hands the arrays to scikit-learn)
and inference (numpy only), so the two can never disagree about what a feature is. A turn becomes named
features in blocks: ``w`` word 1-2-grams, ``c`` character 2-5-grams inside words, ``f`` word 1-2-grams of
the first sentence (a merged turn is labelled by its first utterance), ``p`` words of the preceding
client turn and ``n`` of the following one (context: a transcript is labelled after the fact, and the
client's answer tells a question or a goodbye from a statement), ``k`` hand-written cue flags (on the whole turn and on its first sentence: a merged turn is
labelled by its first utterance) and ``o`` position/length flags. Text blocks are
sublinear TF-IDF, L2-normalised per block; flag blocks are binary.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable, Sequence

if TYPE_CHECKING:
    import numpy as np

TFIDF_BLOCKS = ("w", "c", "f", "p", "n")
FLAG_BLOCKS = ("k", "o")
BLOCKS = TFIDF_BLOCKS + FLAG_BLOCKS

_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"', "`": "'"})
# MultiESC ships tokenised text: "don ' t", "you ' re", "sad ." -> "don't", "you're", "sad."
_SPLIT_APOS = re.compile(r"(\w) ' (?=(?:s|t|re|ve|ll|d|m)\b)")
_SPACE_PUNCT = re.compile(r"\s+([,.!?;:)])")
_WORD = re.compile(r"[a-z0-9']+|[?!]")
_SENT_END = re.compile(r"(?<=[.!?])\s+")

# Cue flags: phrases that mark a helping skill and that bag-of-words features see only weakly.
CUES: dict[str, str] = {
    "question": r"\?",
    "wh_start": r"^(?:what|how|why|when|where|who|which|tell me|can you tell|could you tell|describe)\b",
    "aux_start": r"^(?:do|does|did|are|is|was|were|have|has|had|can|could|would|will|should|may|might|shall)\b",
    "understand": r"\bi (?:understand|get it|can see|hear you|know how|can relate|can imagine)\b",
    "i_have_been": r"\bi(?:'ve| have) (?:been|had|gone|felt|experienced|dealt|struggled|seen|done)\b",
    "first_person_story": (
        r"\b(?:i was|i had|i used to|when i was|i went through|happened to me|me too|i also|same here|"
        r"my (?:wife|husband|son|daughter|mom|mother|dad|father|friend|kids|family|sister|brother|partner))\b"
    ),
    "you_could": (
        r"\b(?:you could|you can|you might|you should|maybe you|perhaps you|try to|have you tried|"
        r"have you thought about|have you considered|why don't you|how about|what about|i suggest|"
        r"i recommend|i would suggest|it might help|it may help|it could help|a good idea)\b"
    ),
    "information": r"\b(?:studies|research|website|resources|hotline|www|http|\.com|\.org|according to|called)\b",
    "sympathy": r"\b(?:sorry|that must|must be|must feel|sounds (?:hard|difficult|tough|frustrating|awful|terrible|stressful|painful|scary)|i can imagine)\b",
    "you_feel": r"\b(?:you (?:feel|are feeling|seem|sound|must feel)|you're feeling|you felt)\b",
    "restate_start": r"^(?:so|it sounds like|it seems|if i understand|you mentioned|you said|you are saying|you're saying|what i'm hearing)\b",
    "affirm": (
        r"\b(?:you are (?:doing|strong|brave|not alone)|you're (?:doing|strong|brave|not alone)|good for you|"
        r"proud of you|well done|you can do|will get better|i'm sure|i am sure|don't worry|it's okay|"
        r"it is okay|it's normal|that's great|that is great|great idea|good idea)\b"
    ),
    "greeting": (
        r"\b(?:hello|hi|hey|howdy|bye|goodbye|take care|good luck|have a (?:nice|good|great|wonderful|lovely)|"
        r"good (?:morning|afternoon|evening|night)|goodnight|nice (?:talking|chatting|to meet)|happy holidays|"
        r"merry christmas)\b"
    ),
    "thanks": r"\b(?:thanks|thank you|you're welcome|you are welcome|no problem|my pleasure)\b",
    "exclaim": r"!",
}
_CUE_RES = [(name, re.compile(pattern)) for name, pattern in CUES.items()]


@dataclass(frozen=True)
class Unit:
    """One counselor turn to classify: its text, the client turn before it and where it sits.

    ``prev``/``next`` are the client turns before and after it ("" where there is none); ``rel`` is the turn's position in the session (0 = start, 1 = end); ``None`` where the data has no
    session (EPITOME's single Reddit replies), which switches the position flags off.
    """

    text: str
    prev: str = ""
    next: str = ""
    rel: float | None = None
    first: bool = False
    last: bool = False


def normalise(text: str) -> str:
    """Lower-case, straight quotes, undo MultiESC tokenisation, single spaces."""
    t = text.translate(_QUOTES)
    t = _SPLIT_APOS.sub(r"\1'", t)
    t = _SPACE_PUNCT.sub(r"\1", t)
    return " ".join(t.lower().split())


def sentences(text: str) -> list[str]:
    """Split normalised text after . ! ? (good enough for chat turns; never returns an empty list)."""
    parts = [s for s in _SENT_END.split(text) if s.strip()]
    return parts or [text]


def words(text: str) -> list[str]:
    return _WORD.findall(text)


def cue_flags(text: str) -> list[str]:
    """Names of the cue flags that fire on normalised text."""
    return [name for name, rx in _CUE_RES if rx.search(text)]


def _ngrams(tokens: list[str]) -> list[str]:
    return tokens + [f"{a} {b}" for a, b in zip(tokens, tokens[1:])]


def _char_ngrams(token: str) -> list[str]:
    padded = f" {token} "
    n_chars = len(padded)
    return [padded[i : i + n] for n in range(2, 6) for i in range(n_chars - n + 1)]


def unit_tokens(unit: Unit) -> dict[str, list[str]]:
    """The raw material of each block: word tokens (``w``, ``f``, ``p``, ``n``) and flag names (``k``, ``o``).
    ``c`` is derived from the ``w`` tokens and n-grams are added by :func:`expand`."""
    text = normalise(unit.text)
    toks = words(text)
    first = sentences(text)[0]
    flags = cue_flags(text) + [f"first_{name}" for name in cue_flags(first)]
    n_words = len(toks)
    pos = ["len_short" if n_words <= 6 else "len_mid" if n_words <= 20 else "len_long"]
    if unit.rel is not None:
        pos.append(f"rel_{min(int(unit.rel * 5), 4)}")
        if unit.first:
            pos.append("first_turn")
        if unit.last:
            pos.append("last_turn")
    return {
        "w": toks,
        "f": words(first),
        "p": words(normalise(unit.prev)) if unit.prev else [],
        "n": words(normalise(unit.next)) if unit.next else [],
        "k": flags,
        "o": pos,
    }


def expand(tokens: dict[str, list[str]]) -> dict[str, list[str]]:
    """Feature names per block (repeats count as term frequency): the definition of every feature."""
    return {
        "w": _ngrams(tokens["w"]),
        "c": [g for t in tokens["w"] for g in _char_ngrams(t)],
        "f": _ngrams(tokens["f"]),
        "p": tokens["p"],
        "n": tokens["n"],
        "k": tokens["k"],
        "o": tokens["o"],
    }


def unit_features(unit: Unit) -> dict[str, list[str]]:
    """Named features of one unit, per block."""
    return expand(unit_tokens(unit))


def block_of(feature: str) -> str:
    return feature.split(":", 1)[0]


class Vectoriser:
    """A frozen vocabulary with IDF weights: maps units to a CSR matrix as plain numpy arrays.

    Fitted by :func:`fit_vectoriser` at training time; loaded from the shipped weights at run time.
    Transforming is the hot path of labelling, so it looks up per-block dictionaries, memoises the
    character n-gram columns of each word and leaves the arithmetic to numpy; it computes exactly the
    features that :func:`expand` names.
    """

    def __init__(self, vocab: Sequence[str], idf: "np.ndarray") -> None:
        import numpy as np

        self.vocab = list(vocab)
        self.idf = np.asarray(idf, dtype=np.float32)
        self.by_block: dict[str, dict[str, int]] = {b: {} for b in BLOCKS}
        for i, name in enumerate(self.vocab):
            block, feature = name.split(":", 1)
            self.by_block[block][feature] = i
        self.block_ids = np.array([BLOCKS.index(block_of(v)) for v in self.vocab], dtype=np.int64)
        self.tfidf = np.isin(self.block_ids, [BLOCKS.index(b) for b in TFIDF_BLOCKS])
        self._char_cols: dict[str, list[int]] = {}

    def __len__(self) -> int:
        return len(self.vocab)

    def _chars(self, token: str) -> list[int]:
        cols = self._char_cols.get(token)
        if cols is None:
            index = self.by_block["c"]
            cols = [j for g in _char_ngrams(token) if (j := index.get(g)) is not None]
            self._char_cols[token] = cols
        return cols

    def _columns(self, tokens: dict[str, list[str]], blocks: Iterable[str]) -> list[int]:
        cols: list[int] = []
        get = {b: self.by_block[b].get for b in blocks}
        for block in blocks:
            if block == "c":
                for t in tokens["w"]:
                    cols.extend(self._chars(t))
                continue
            g = get[block]
            names = _ngrams(tokens[block]) if block in ("w", "f") else tokens[block]
            cols.extend(j for name in names if (j := g(name)) is not None)
        return cols

    def text_columns(self, text: str, blocks: Iterable[str] = ("w", "c")) -> list[int]:
        """Columns (one per occurrence) of the word-derived blocks ``w``/``c`` of a bare text: the cheap path
        for a model that reads only the turn's own words (no cue flags, no context, no numpy)."""
        assert set(blocks) <= {"w", "c"}, blocks
        return self._columns({"w": words(normalise(text))}, tuple(blocks))

    def transform(
        self, units: Sequence[Unit], blocks: Iterable[str] = BLOCKS
    ) -> tuple["np.ndarray", "np.ndarray", "np.ndarray"]:
        """CSR arrays (indptr, indices, data) for ``units`` (only ``blocks``; the others stay empty).

        Text blocks: (1 + log tf) * idf, L2-normalised within the block; flag blocks: 1.
        """
        import numpy as np

        blocks = tuple(blocks)
        rows: list[int] = []
        cols: list[int] = []
        for r, u in enumerate(units):
            c = self._columns(unit_tokens(u), blocks)
            cols.extend(c)
            rows.extend([r] * len(c))
        n_rows, n_cols = len(units), len(self.vocab)
        key = np.asarray(rows, dtype=np.int64) * n_cols + np.asarray(cols, dtype=np.int64)
        key, tf = np.unique(key, return_counts=True)  # sorted by row, then column: CSR order
        row, col = key // n_cols, key % n_cols
        data = np.where(self.tfidf[col], (1.0 + np.log(tf)) * self.idf[col], 1.0).astype(np.float64)
        group = row * len(BLOCKS) + self.block_ids[col]
        sq = np.bincount(group, weights=np.where(self.tfidf[col], data * data, 0.0), minlength=n_rows * len(BLOCKS))
        norm = np.sqrt(sq[group])
        data = np.where(self.tfidf[col] & (norm > 0), data / np.where(norm > 0, norm, 1.0), data)
        indptr = np.zeros(n_rows + 1, dtype=np.int64)
        np.cumsum(np.bincount(row, minlength=n_rows), out=indptr[1:])
        return indptr, col, data.astype(np.float32)


def fit_vectoriser(
    feats: Sequence[dict[str, list[str]]], min_df: int = 2, max_features: dict[str, int] | None = None
) -> Vectoriser:
    """Vocabulary of features seen in at least ``min_df`` units, capped per block by frequency; smooth IDF."""
    import numpy as np

    df: dict[str, int] = {}
    for f in feats:
        for block, names in f.items():
            for name in set(names):
                key = f"{block}:{name}"
                df[key] = df.get(key, 0) + 1
    caps = max_features or {}
    vocab: list[str] = []
    for block in BLOCKS:
        kept = [(n, c) for n, c in df.items() if block_of(n) == block and (c >= min_df or block in FLAG_BLOCKS)]
        kept.sort(key=lambda nc: (-nc[1], nc[0]))
        if block in caps:
            kept = kept[: caps[block]]
        vocab.extend(sorted(n for n, _ in kept))
    n_docs = len(feats)
    idf = np.array([math.log((1 + n_docs) / (1 + df[n])) + 1.0 for n in vocab], dtype=np.float32)
    return Vectoriser(vocab, idf)
