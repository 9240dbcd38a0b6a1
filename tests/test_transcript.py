"""helpert.text.transcript: times, transcribers' notes and a repeated own label are not speech, so no label or measure moves
with them (the crisis detector still reads turns as written: benchmarks/README.md, rounds 62-63)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from helpert.io import read_sessions
from helpert.label import label_sessions
from helpert.metrics import measure_session
from helpert.protocols import load_protocol
from helpert.session import Session
from helpert.text.transcript import speech, speech_view, unpunctuated
from test_measure_cli import helpert

REPO = Path(__file__).resolve().parents[1]
CBT = load_protocol("cbt_session")
SESSIONS = read_sessions(REPO / "sessions")
NOTES = ("[inaudible]", "(laughs)", "[crosstalk]", "(long pause)", "*sighs*", "[inaudible 00:12:03]", "(laughs nervously)")


@pytest.mark.parametrize(("text", "said"), [
    ("[00:01:05] You felt humiliated.", "You felt humiliated."),
    ("That sounds hard. [inaudible] (laughs) What happened at work?", "That sounds hard. What happened at work?"),
    ("So you (long pause) you felt stuck [inaudible 00:12:03] at work .", "So you you felt stuck at work."),
    ("*sighs* I don't know.", "I don't know."),
    ("(12:31) Okay.", "Okay."),
    ("[CROSSTALK] Right, yes.", "Right, yes."),
    # not marks: a bare time, a placeholder in brackets, a chat aside, a note's word starting an aside
    ("10:30 is when I wake up.", "10:30 is when I wake up."),
    ("I talked to [name] yesterday (I know, silly).", "I talked to [name] yesterday (I know, silly)."),
    ("He was (laughing at me) the whole time.", "He was (laughing at me) the whole time."),
    ("[inaudible]", "[inaudible]"),  # nothing but a mark: the turn keeps its text
    # fillers (round 65): with the comma before them, so a phrase reads whole; never an encourager or a word of content
    ("Um, so what, um, went through your mind?", "so what went through your mind?"),
    ("That is right, uh. And then?", "That is right. And then?"),
    ("Mm-hmm.", "Mm-hmm."), ("Uh-huh, yeah.", "Uh-huh, yeah."), ("Mm.", "Mm."), ("um", "um"),
    ("I like it, you know, the summer umbrella.", "I like it, you know, the summer umbrella."),
])
def test_speech_takes_out_only_unambiguous_marks(text, said):
    assert speech(text) == said


def marked(session: Session) -> Session:
    """A time before every turn, a transcriber's note after every third and the speaker's own label repeated in
    every second ("[00:04] Therapist: ...")."""
    label = {"counselor": "Therapist:", "client": "Client:"}
    turns = [t.model_copy(update={"text": f"[{i // 60:02d}:{i % 60:02d}] " + (f"{label[t.role]} " if i % 2 == 0 else "")
                                  + t.text + (f" {NOTES[i % len(NOTES)]}" if i % 3 == 0 else "")})
             for i, t in enumerate(session.turns)]
    return session.model_copy(update={"turns": turns})


@pytest.mark.parametrize("session", SESSIONS, ids=lambda s: s.dialogue_id)
def test_every_metric_is_the_same_with_times_and_notes(session):
    plain, noted = measure_session(session, CBT), measure_session(marked(session), CBT)
    assert set(plain) == set(noted)
    for key, value in plain.items():
        other = noted[key]
        assert (value is None and other is None) or (value is not None and other is not None and math.isclose(value, other)), key


def test_labels_are_the_same_and_the_stored_text_is_kept():
    session = SESSIONS[0]
    plain, noted = label_sessions([session, marked(session)], CBT)
    assert [t.labels for t in plain.turns] == [t.labels for t in noted.turns]
    assert [t.text for t in noted.turns] == [t.text for t in marked(session).turns]  # never rewritten


def test_only_the_speakers_own_label_is_taken_out():
    from helpert.text.transcript import without_own_label

    assert without_own_label("Therapist: So what happened?", "counselor") == "So what happened?"
    assert without_own_label("Patient: It was awful.", "client") == "It was awful."
    assert without_own_label("Client: So what happened?", "counselor") == "Client: So what happened?"
    assert without_own_label("Mom: always the same, she said.", "client") == "Mom: always the same, she said."


def test_a_session_without_marks_is_not_copied():
    assert speech_view(SESSIONS[0]) is SESSIONS[0]


def test_plain_text_with_times_from_a_transcription_service(tmp_path):
    path = tmp_path / "timed.txt"
    path.write_text("[00:00:05] Counselor: Hi, how have you been this week?\n"
                    "00:00:09 Client: Not great, work has been a lot.\n"
                    "10:30 is when I wake up, and I'm already tired.\n"   # a continuation that starts with a time: kept
                    "00:00:15.000 --> 00:00:19.000\n"                      # a subtitle cue's span alone: skipped
                    "Counselor (00:15): Tell me more about work.\n"
                    "Client [00:00:21]: My boss shouts at me.\n", encoding="utf-8")
    turns = read_sessions(path)[0].turns
    assert [(t.role, t.meta.get("time")) for t in turns] == [
        ("counselor", "00:00:05"), ("client", "00:00:09"), ("counselor", "00:15"), ("client", "00:00:21")]
    assert turns[1].text == "Not great, work has been a lot. 10:30 is when I wake up, and I'm already tired."
    assert turns[2].text == "Tell me more about work."


def test_unpunctuated_transcripts_are_named(monkeypatch, capsys, tmp_path):
    from helpert.io import write_sessions
    from helpert.probe.markup import unpunctuated as without_marks

    bare = [without_marks(s) for s in SESSIONS]
    assert not any(unpunctuated(t.text for t in s.turns) for s in SESSIONS)
    assert all(unpunctuated(t.text for t in s.turns) for s in bare)
    assert not unpunctuated(["no marks but only a few words here"])  # too short to tell
    # a short excerpt with no mark at all is one (30 words or more), with one mark it is not
    excerpt = ["so how have you been sleeping since we last talked", "not great i keep waking up at three and then i "
               "lie there going over the whole day again and again until the alarm goes off"]
    assert unpunctuated(excerpt) and not unpunctuated([excerpt[0] + "?", excerpt[1]])
    assert not unpunctuated(["a b c d e f g h i j k l m n o p q r s t u v w x y z aa bb cc"])  # 29 words
    path = tmp_path / "asr.jsonl"
    write_sessions(path, bare[:1])
    rc, _, err = helpert(monkeypatch, capsys, "measure", path, "--json")
    assert rc == 0 and "1 session(s) with almost no sentence punctuation (exam_anxiety)" in err
    rc, _, err = helpert(monkeypatch, capsys, "measure", REPO / "sessions")
    assert rc == 0 and "punctuation" not in err


def one_line_per_sentence(session: Session) -> Session:
    """Every turn cut at its sentence ends into consecutive lines of the same speaker."""
    import re

    lines = [t.model_copy(update={"text": part}) for t in session.turns
             for part in re.split(r"(?<=[.!?])\s+", t.text) if part.strip()]
    return session.model_copy(update={"turns": [t.model_copy(update={"idx": i}) for i, t in enumerate(lines)]})


@pytest.mark.parametrize("session", SESSIONS, ids=lambda s: s.dialogue_id)
def test_a_speakers_talk_over_several_lines_is_one_turn(session):
    cut = one_line_per_sentence(session)
    assert len(cut.turns) > len(session.turns)
    plain, lines = measure_session(session, CBT), measure_session(cut, CBT)
    for key, value in plain.items():
        other = lines[key]
        assert (value is None and other is None) or (value is not None and other is not None and math.isclose(value, other)), key


@pytest.mark.parametrize("session", SESSIONS, ids=lambda s: s.dialogue_id)
def test_every_metric_is_the_same_with_fillers(session):
    from helpert.probe.markup import with_fillers

    filled = with_fillers(session)
    assert filled.turns != session.turns
    plain, noted = measure_session(session, CBT), measure_session(filled, CBT)
    for key, value in plain.items():
        other = noted[key]
        assert (value is None and other is None) or (value is not None and other is not None and math.isclose(value, other)), key
