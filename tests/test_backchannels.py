"""Minimal encouragers ("mm-hmm", "right", "i see") that a verbatim transcript gives their own counselor turn: coded
``facilitate`` (MISC 2.5's Facilitate) and left out of every count, so that splicing them into a session changes no
quality measure (round 56; benchmarks/README.md, "Quality validation")."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpert.io import read_sessions
from helpert.label.mi import apply_rules, is_facilitative
from helpert.metrics import measure_labelled
from helpert.metrics.common import coded_turns, is_minimal_encourager
from helpert.metrics.mi import codes_of
from helpert.probe.degrade import BACKCHANNELS, with_backchannels
from helpert.protocols import load_protocol
from helpert.session import Session, Turn
from helpert.text.features import normalise

SESSIONS = Path(__file__).resolve().parents[1] / "sessions"


@pytest.mark.parametrize("text", ["Mm-hmm.", "Right.", "Okay, yeah.", "Oh, I see.", "Go on.", "Uh-huh", "Yeah?",
                                  "Mm hmm, mm hmm.", *BACKCHANNELS])
def test_minimal_encouragers_are_facilitate(text):
    assert is_facilitative(normalise(text))
    assert apply_rules(normalise(text), "reflection_simple") == "facilitate"  # before the model's code


@pytest.mark.parametrize("text", ["I see what you mean.", "Okay, so what happened?", "Right, that sounds hard.",
                                  "Good.", "No.", "Yes, yes, yes, okay, right, sure, mm.", "Go on with the list.", ""])
def test_anything_more_is_left_to_the_model(text):
    assert not is_facilitative(normalise(text))


def test_facilitate_is_outside_every_count():
    turns = [Turn(idx=0, role="counselor", text="Mm-hmm.", labels={"phase": "agenda", "mi": ["facilitate"]}),
             Turn(idx=1, role="client", text="and then"),
             Turn(idx=2, role="counselor", text="Mm-hmm. What then?", labels={"phase": "agenda", "mi": ["facilitate", "question_open"]})]
    s = Session(dialogue_id="f", turns=turns)
    assert is_minimal_encourager(turns[0]) and not is_minimal_encourager(turns[2])
    assert coded_turns(s) == [turns[2]]
    assert codes_of(turns[2]) == ["question_open"]


def test_backchannels_split_client_turns_and_keep_every_word():
    s = read_sessions(SESSIONS / "grief_sleep.jsonl")[0]
    b = with_backchannels(s, 1.0)
    added = [t for t in b.turns if t.role == "counselor" and t.text in BACKCHANNELS and t.text not in {u.text for u in s.turns}]
    assert added, "no client turn was split"
    assert [t.idx for t in b.turns] == list(range(len(b.turns)))
    assert len(b.counselor_turns) == len(s.counselor_turns) + len(added)
    words = lambda sess: " ".join(t.text for t in sess.turns if t.role == "client").split()
    assert words(b) == words(s)
    assert with_backchannels(s, 0.0).turns == s.turns


def test_backchannels_change_no_quality_measure():
    """Every client turn of a bundled session cut by a counselor "mm-hmm": the MI shares are unchanged and drift and
    the CTRS mean move by less than 0.02 (the shipped metrics before round 56 moved the CTRS mean by about 0.3 on
    the HOPE transcripts)."""
    from helpert.label import label_sessions

    cbt = load_protocol("cbt_session")
    s = read_sessions(SESSIONS / "grief_sleep.jsonl")[0]
    before, after = (measure_labelled(x, cbt) for x in label_sessions([s, with_backchannels(s, 1.0)], cbt))
    for key in ("mi.reflection_share", "mi.question_share", "mi.non_adherent_share", "mi.reflection_to_question"):
        assert after[key] == pytest.approx(before[key]), key
    assert after["drift.score"] == pytest.approx(before["drift.score"], abs=0.02)
    assert after["ctrs.mean"] == pytest.approx(before["ctrs.mean"], abs=0.02)


def test_a_counselor_turn_is_cut_only_after_a_statement():
    """The probe of round 57 (validate_quality.py reports it): a client's "yeah" after a question is an answer, so a
    counselor turn is cut only after a sentence that is not a question, and only where more follows."""
    s = Session(dialogue_id="p", turns=[
        Turn(idx=0, role="counselor", text="How was the week? It sounds like it was a long one. Tell me more."),
        Turn(idx=1, role="client", text="It was long, and I barely slept at all."),
        Turn(idx=2, role="counselor", text="What kept you up?"),
        Turn(idx=3, role="client", text="Work, mostly.")])
    cut = with_backchannels(s, 1.0, cut="counselor")
    assert [t.role for t in cut.turns] == ["counselor", "client", "counselor", "client", "counselor", "client"]
    assert cut.turns[0].text == "How was the week? It sounds like it was a long one."
    assert cut.turns[1].text in BACKCHANNELS and cut.turns[2].text == "Tell me more."
    assert [t.idx for t in cut.turns] == list(range(6))


# --- round 61: talk the transcript cut at the client's "mm-hmm" is a lecture when the whole of it is one -------------

def _coded(*pairs, codes):
    return Session(dialogue_id="c", turns=[Turn(idx=i, role=r, text=t, labels={"mi": codes.get(i, []), "phase": "agenda"} if r == "counselor" else {})
                                           for i, (r, t) in enumerate(pairs)])


def test_telling_stretches_go_on_through_the_clients_backchannels_only():
    from helpert.metrics.common import telling_stretches

    s = _coded(
        ("counselor", "Nicotine leaves the body in about three days."), ("client", "Mm-hmm."),        # 0 telling
        ("counselor", "After that the cravings are habit, not chemistry."), ("client", "Yeah."),      # 2 telling: goes on
        ("counselor", "You've tried before."), ("client", "Right."),                                 # 4 reflection
        ("counselor", "Patches work best with a quit date."), ("client", "Okay."),                   # 6 telling, after a reflection
        ("counselor", "Mm-hmm."), ("client", "Sure."),                                               # 8 minimal
        ("counselor", "And gum helps with the peaks."), ("client", "I never liked gum, it made me feel sick."),  # 10 goes on
        ("counselor", "Lozenges are another way."), ("client", "Yeah."),                             # 12 after a real answer
        ("counselor", "Which would suit you?"), ("client", "Yeah."),                                 # 14 a question
        ("counselor", "The patch is simpler to start."),                                             # 16 telling, after a question
        codes={0: ["give_information"], 2: ["give_information"], 4: ["reflection_simple"], 6: ["advise_without_permission"],
               8: ["facilitate"], 10: ["give_information"], 12: ["give_information"], 14: ["question_open"], 16: ["give_information"]})
    stretches = telling_stretches(s)
    assert sorted(stretches) == [0, 2, 6, 10]
    assert stretches[0] == (16, 2, 2) and stretches[6] == stretches[10] == (13, 2, 2)


def test_a_lecture_cut_by_the_clients_backchannels_is_still_read_as_lecturing():
    """A lecture of about 80 words put into a bundled session and cut after each sentence by a client's "mm-hmm": each
    part is a lecture turn (round 56's metrics read the parts as short information turns: drift 0.338 -> 0.180), so
    drift's lecturing part rises. The whole drift score may still fall a little: the parts are turns, and the shares
    of off-protocol talk and premature action are over turns (2026-12-07, the learned phase model: 0.330 -> 0.309,
    off-protocol share 0.25 -> 0.09; under the cue rules 0.338 -> 0.330, where one part was read as off-protocol)."""
    from helpert.label import label_sessions
    from helpert.metrics.drift import is_lecture, lecture_share
    from helpert.probe.degrade import LECTURE

    cbt = load_protocol("cbt_session")
    s = read_sessions(SESSIONS / "grief_sleep.jsonl")[0]
    at = [i for i, t in enumerate(s.turns) if t.role == "counselor"][3]
    whole = s.model_copy(update={"turns": [t if i != at else t.model_copy(update={"text": LECTURE[1]}) for i, t in enumerate(s.turns)]})
    parts = [p.strip() + "." for p in LECTURE[1].split(". ") if p.strip()]
    pieces = [whole.turns[at].model_copy(update={"text": parts[0].rstrip(".") + "."})]
    for p in parts[1:]:
        pieces += [Turn(idx=0, role="client", text="Mm-hmm."), Turn(idx=0, role="counselor", text=p.replace("..", "."))]
    cut = whole.model_copy(update={"turns": [t.model_copy(update={"idx": i}) for i, t in
                                             enumerate(whole.turns[:at] + pieces + whole.turns[at + 1:])]})
    a, b = label_sessions([whole, cut], cbt)
    assert sum(is_lecture(t) for t in coded_turns(a)) == 1 and len(parts) >= 3
    assert sum(is_lecture(t) for t in coded_turns(b)) == len(parts)
    assert lecture_share(coded_turns(b)) > lecture_share(coded_turns(a)) > 0
    from helpert.metrics import drift

    parts_a, parts_b = (drift.score_parts(x, cbt, drift.turn_flags(x, cbt)) for x in (a, b))
    assert parts_b["lecturing"] > parts_a["lecturing"]
    assert measure_labelled(b, cbt)["drift.score"] >= measure_labelled(a, cbt)["drift.score"] - 0.025


def test_the_clients_answer_is_read_through_the_counselors_encouragers_on_both_sides():
    """Round 66: a counselor turn's unit reads the client's whole answer after it, however often the counselor's
    "mm-hmm" cuts it, and its relative position does not count the cuts."""
    from helpert.label import _units, client_between
    from helpert.session import Session, Turn

    def session(turns):
        return Session(dialogue_id="u", turns=[Turn(idx=i, role=r, text=t) for i, (r, t) in enumerate(turns)])

    whole = session([("counselor", "What happened on Sunday?"), ("client", "I went out. It rained the whole day."),
                     ("counselor", "So you got soaked."), ("client", "Yes.")])
    cut = session([("counselor", "What happened on Sunday?"), ("client", "I went out."), ("counselor", "Mm-hmm."),
                   ("client", "It rained the whole day."), ("counselor", "So you got soaked."), ("client", "Yes.")])
    units = {}
    for name, s in (("whole", whole), ("cut", cut)):
        plain, heard = client_between(s), client_between(s, through_encouragers=True)
        units[name] = [u for u in _units(s, plain, heard) if u.text != "Mm-hmm."]
    assert [(u.text, u.prev, u.next, u.rel) for u in units["cut"]] == [(u.text, u.prev, u.next, u.rel) for u in units["whole"]]
    assert units["cut"][0].next == "I went out. It rained the whole day."


@pytest.mark.parametrize("name", ["exam_anxiety.txt", "grief_sleep.jsonl", "loneliness.csv", "low_mood_safety.txt", "work_conflict.jsonl"])
def test_every_client_turn_cut_moves_the_ctrs_mean_by_little(name):
    """Every client turn of each bundled session cut by a counselor "mm-hmm" (round 66: the labellers read the client's
    answer through the cut): the CTRS mean moves by at most 0.01, drift by at most 0.02 (the counselor's "mm-hmm" words
    still count in the client's share of the words)."""
    from helpert.label import label_sessions

    cbt = load_protocol("cbt_session")
    s = read_sessions(SESSIONS / name)[0]
    before, after = (measure_labelled(x, cbt) for x in label_sessions([s, with_backchannels(s, 1.0)], cbt))
    assert after["ctrs.mean"] == pytest.approx(before["ctrs.mean"], abs=0.01)
    assert after["drift.score"] == pytest.approx(before["drift.score"], abs=0.02)
