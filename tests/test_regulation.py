"""Client emotion-regulation labels (helpert/label/regulation.py), on client turns written for these tests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpert.label.regulation import (REGULATION_CUES, STRATEGIES, label_regulation, regulation_cues, regulation_of,
                                      regulation_trajectory)
from helpert.session import Session, Turn

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"

CASES = [
    ("Maybe it's not that bad, at least I learned what I don't want in a job.", "reappraisal"),
    ("Looking at it another way, he was probably just stressed and it wasn't about me.", "reappraisal"),
    ("Failing one exam doesn't mean I'm stupid.", "reappraisal"),
    ("I keep it all inside so nobody at work notices.", "suppression"),
    ("I pretend I'm fine around my kids and cry in the car.", "suppression"),
    ("I just bottle it up and put on a brave face.", "suppression"),
    ("I guess it is what it is. I have to accept that she's gone.", "acceptance"),
    ("I'm trying to let it be and allow myself to feel sad for a while.", "acceptance"),
    ("I can't change what happened, so I'm making peace with it.", "acceptance"),
    ("Last night I called my sister and told her everything.", "seeking_support"),
    ("I reached out to an old friend and we talked for hours.", "seeking_support"),
    ("I joined a support group at the library.", "seeking_support"),
    ("I'm going to make a list and apply to three jobs this week.", "problem_solving"),
    ("I'll ask my manager for a clearer schedule tomorrow.", "problem_solving"),
    ("How did you deal with that when it happened to you?", "problem_solving"),
    ("I keep replaying the argument over and over in my head.", "rumination"),
    ("Why did I say that? Why me? I can't stop thinking about it.", "rumination"),
    ("I lie awake every night going over what happened.", "rumination"),
    ("I've been avoiding my friends and staying in bed all weekend.", "avoidance"),
    ("I just ignore my phone and skip class.", "avoidance"),
    ("I don't want to think about it, so I drink it away.", "avoidance"),
    ("My mom moved to Ohio last year.", "none"),
    ("I feel sad most days.", "none"),
    ("Thank you, have a good evening.", "none"),
]


@pytest.mark.parametrize("text, strategy", CASES, ids=[c[1] + f"-{i}" for i, c in enumerate(CASES)])
def test_handwritten_client_turns(text, strategy):
    assert regulation_of(text) == strategy, regulation_cues(text)


def test_every_strategy_has_cues_and_a_test_case():
    assert set(REGULATION_CUES) | {"none"} == set(STRATEGIES)
    assert {s for _, s in CASES} == set(STRATEGIES)


@pytest.mark.parametrize("text, not_this", [
    ("I can't talk to my parents about any of this.", "seeking_support"),
    ("I don't accept that, it was not my fault at all.", "acceptance"),
    ("I never pretend I'm fine.", "suppression"),
])
def test_negated_cues_do_not_count(text, not_this):
    assert not_this not in regulation_cues(text)


def test_ties_go_to_the_earlier_strategy():
    text = "I keep thinking about it, but at least I know now."  # one rumination cue, one reappraisal cue
    cues = regulation_cues(text)
    assert len(cues["rumination"]) == len(cues["reappraisal"]) == 1
    assert regulation_of(text) == "reappraisal"


def _session(client_texts: list[str]) -> Session:
    turns = []
    for text in client_texts:
        turns.append(Turn(idx=len(turns), role="client", text=text))
        turns.append(Turn(idx=len(turns), role="counselor", text="Tell me more."))
    return Session(dialogue_id="r", turns=turns)


def test_label_regulation_writes_client_turns_only_and_copies():
    s = _session(["I keep replaying it over and over.", "My dog is called Max."])
    labelled = label_regulation(s)
    assert [t.labels.get("regulation") for t in labelled.turns] == ["rumination", None, "none", None]
    assert all("regulation" not in t.labels for t in s.turns)


def test_trajectory_shows_the_move_from_rumination_to_problem_solving():
    s = _session([
        "I keep replaying the argument over and over.",
        "Why did I say that? I can't stop thinking about it.",
        "My sister lives nearby.",                          # middle turn of five: counted in the first half
        "I'll ask him for a coffee and apologise.",
        "I'm going to make a plan for the weekend.",
    ])
    traj = regulation_trajectory(s)
    assert traj["n_first"] == 3 and traj["n_second"] == 2
    assert traj["first"]["rumination"] == pytest.approx(2 / 3) and traj["second"]["rumination"] == 0
    assert traj["second"]["problem_solving"] == 1.0
    assert traj["change"]["problem_solving"] == pytest.approx(1.0)
    assert all(abs(sum(traj[h].values()) - 1) < 1e-9 for h in ("first", "second"))


def test_trajectory_uses_existing_labels_and_handles_one_turn():
    s = label_regulation(_session(["I joined a support group."]))
    s.turns[0].labels["regulation"] = "acceptance"  # an existing label wins over the lexicon
    traj = regulation_trajectory(s)
    assert traj["first"]["acceptance"] == 1.0 and traj["n_second"] == 0
    assert traj["second"]["acceptance"] is None and traj["change"]["acceptance"] is None


@pytest.mark.shared
def test_agreement_with_hand_labels_on_esconv_beats_always_none():
    from helpert.io import read_sessions
    from helpert.label.agreement import accuracy, detection

    text = {(s.dialogue_id, t.idx): t.text for s in read_sessions(SHARED / "esconv" / "esconv_valid_195.jsonl")
            for t in s.client_turns}
    rows = [json.loads(line) for line in (REPO / "tests" / "data" / "regulation_labels.jsonl").read_text().splitlines()]
    gold = [r["regulation"] for r in rows]
    pred = [regulation_of(text[(r["dialogue_id"], r["idx"])]) for r in rows]
    found = detection(gold, pred)
    assert len(gold) == 120
    assert accuracy(gold, pred) >= 0.75 and accuracy(gold, pred) > gold.count("none") / len(gold) + 0.15
    assert found["precision"] >= 0.75 and found["recall"] >= 0.7


def test_regulation_metrics_by_hand():
    from helpert.metrics import measure_session
    from helpert.metrics.regulation import measure
    from helpert.protocols import load_protocol

    s = _session([
        "I keep replaying the argument over and over.",      # rumination (maladaptive)
        "I just stay in bed all day.",                        # avoidance (maladaptive)
        "My sister lives nearby.",                            # none; middle of five: first half
        "I'll ask him for a coffee and apologise.",           # problem_solving (adaptive)
        "I talked to my sister about it.",                    # seeking_support (adaptive)
    ])
    m = measure(s)
    assert m["regulation.maladaptive_first"] == pytest.approx(2 / 3) and m["regulation.maladaptive_second"] == 0
    assert m["regulation.adaptive_first"] == 0 and m["regulation.adaptive_second"] == 1.0
    assert m["regulation.adaptive_change"] == pytest.approx(1.0) and m["regulation.maladaptive_change"] == pytest.approx(-2 / 3)
    assert measure(_session(["I talked to my sister."]))["regulation.adaptive_change"] is None  # one turn: no second half
    assert measure_session(s, load_protocol("cbt_session"))["regulation.adaptive_change"] == pytest.approx(1.0)


@pytest.mark.shared
def test_prefilter_changes_no_regulation_cue_on_esconv_client_turns():
    from helpert.io import read_sessions
    from helpert.text.lexicon import normalise
    from helpert.label.regulation import _PHRASES

    texts = [normalise(t.text) for s in read_sessions(SHARED / "esconv" / "esconv_valid_195.jsonl") for t in s.client_turns]
    key = lambda text, pre: [(k, m.span()) for k, m in _PHRASES.finditer(text, pre)]  # noqa: E731
    assert len(texts) > 2000
    assert [t for t in texts if key(t, True) != key(t, False)] == []
