"""helpert.text.punctuation: sentence marks put back into transcripts that have almost none, so that the labellers
read their sentences and questions (docs/metrics.md, "Punctuation"; benchmarks/train_punctuation.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from helpert.io import read_sessions
from helpert.metrics import measure_session
from helpert.probe.markup import unpunctuated as without_marks
from helpert.protocols import load_protocol
from helpert.text import punctuation as P
from helpert.text.transcript import speech_view, unpunctuated

REPO = Path(__file__).resolve().parents[1]
SESSIONS = read_sessions(REPO / "sessions")
CBT = load_protocol("cbt_session")


@pytest.mark.parametrize(("text", "words", "marks"), [
    ("How are you? Fine, thanks.", ["How", "are", "you", "Fine", "thanks"], ["none", "none", "?", "none", "."]),
    ("Really?! Yes . ok", ["Really", "Yes", "ok"], ["?", ".", "none"]),
    ("... so, well; I think: maybe…", ["so", "well", "I", "think", "maybe"], ["none", ".", "none", ".", "."]),
    ("I don't know ? ?", ["I", "don't", "know"], ["none", "none", "?"]),
    ("?", [], []),
])
def test_the_targets_align_with_the_words(text, words, marks):
    assert P.bare_words(text) == words
    assert P.marks_after(text) == marks


@pytest.mark.parametrize("n", [1, 5, P.WINDOW - 1, P.WINDOW, P.WINDOW + 1, 57, 100, 333])
def test_windows_cover_every_word_within_the_encoders_reach(n):
    spans = P.windows(n)
    assert spans[0][0] == 0 and spans[-1][1] == n
    assert all(0 < b - a <= P.WINDOW for a, b in spans)
    assert all(a2 <= b1 for (_, b1), (a2, _) in zip(spans, spans[1:]))  # no gap


def test_a_words_features_do_not_depend_on_the_other_texts():
    long = ("i kept thinking about what my sister said and i could not sleep so i got up and walked around the "
            "house for an hour and then i sat in the kitchen " * 3).split()
    short = "what went through your mind right then".split()
    alone = P.word_features([long])[0]
    together = P.word_features([short, long, short])
    assert np.array_equal(alone, together[1]) and np.array_equal(together[0], together[2])
    assert alone.shape == (len(long), 2 * 384) and np.abs(alone).sum(1).min() > 0


def test_the_shipped_head_says_how_it_was_made():
    head = P.load_head()
    meta = head.meta
    assert head.end_dense.shape == (2 * 384,) and head.question_dense.shape == (3 * 384,)
    assert len(head.end_cues) > 1000 and len(head.question_cues) > 1000  # the words around a sentence end
    assert 0 < head.end_threshold < 1 and 0 < head.question_threshold < 1
    assert meta["thresholds_chosen_on"] == "the in-domain tenth (held_in)"
    assert meta["script"] == "benchmarks/train_punctuation.py" and tuple(meta["classes"]) == P.CLASSES
    # trained on ../shared text only; the transcripts its figures are reported on are not among them
    assert set(meta["trained_on"]) == {"esconv", "mibot", "counselchat", "epitome"} and meta["texts_trained"] > 10_000


def test_restore_puts_back_questions_and_sentence_ends():
    text = ("how have you been sleeping since we last met i know last week was hard for you with the move "
            "what went through your mind when you woke up at three")
    out = P.restore([text])[0]
    assert out.startswith("How have you been sleeping") and out[-1] in ".?"
    assert "met?" in out and "move." in out and out.count("?") >= 2  # questions and a statement inside the turn
    assert " I know" in out and P.bare_words(out.lower()) == P.bare_words(text)  # the words themselves as they were
    assert P.restore(["", "   "]) == ["", "   "]  # nothing to read: unchanged


def test_only_a_session_without_marks_is_read_with_restored_marks():
    session = SESSIONS[0]
    assert speech_view(session) is session  # punctuated: untouched
    bare = without_marks(session)
    view = speech_view(bare)
    assert unpunctuated(t.text for t in bare.turns) and not unpunctuated(t.text for t in view.turns)
    assert [t.text for t in bare.turns] == [t.text for t in without_marks(session).turns]  # stored text kept
    assert [P.bare_words(t.text.lower()) for t in view.turns] == [P.bare_words(t.text) for t in bare.turns]


def test_restored_marks_bring_the_measures_back_towards_the_punctuated_session(monkeypatch):
    keys = ("talk.question_ratio", "ctrs.mean", "mi.reflection_share")

    def gap(rows):
        return {k: np.mean([abs(a[k] - b[k]) for a, b in rows]) for k in keys}

    bare = [without_marks(s) for s in SESSIONS]
    plain = [measure_session(s, CBT) for s in SESSIONS]
    restored = gap(list(zip(plain, [measure_session(s, CBT) for s in bare])))
    monkeypatch.setattr(P, "restore", lambda texts: list(texts))  # the measures as they read such text before
    P._cache.clear()
    unrestored = gap(list(zip(plain, [measure_session(s, CBT) for s in bare])))
    assert restored["talk.question_ratio"] < 0.5 * unrestored["talk.question_ratio"]
    assert restored["ctrs.mean"] < unrestored["ctrs.mean"]


def test_a_recognisers_contractions_get_their_apostrophes_back():
    out = P.restore(["lets write down who you can call i dont think youre alone in this im glad you told me "
                     "she lets me stay at hers"])[0]
    assert out.startswith("Let's write down") and "I don't think you're alone" in out and "I'm glad" in out
    assert "she lets me" in out  # "lets" after a subject is the verb
    assert "okay let's write" in P.restore(["okay lets write down who you can call when it gets bad"])[0].lower()
    # words that are words without an apostrophe stay as they are ("well", not "we'll")
    assert P.bare_words(P.restore(["well i were ill its hell"])[0].lower()) == ["well", "i", "were", "ill", "its", "hell"]


def test_the_measures_say_when_the_marks_were_put_back():
    assert measure_session(SESSIONS[0], CBT)["transcript.punctuation_restored"] == 0.0
    assert measure_session(without_marks(SESSIONS[0]), CBT)["transcript.punctuation_restored"] == 1.0
