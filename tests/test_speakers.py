"""A transcript's own speaker names (a diariser's "SPEAKER_00", a person's name) read as roles when the user names
them (``--speaker NAME=ROLE``: helpert.io.roles.parse_speakers), in every transcript format; an unknown one is a clear
error that says how to name it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpert.io import TranscriptError, read_file, read_sessions
from helpert.io.roles import SKIP, parse_speakers, speaker_role
from helpert.replay.batch import load_corpus
from test_measure_cli import helpert

DIARISED = ("[00:00:01] SPEAKER_00: hi how are you doing today\n"
            "SPEAKER_01: not great i have been stressed about work\n"
            "and i cannot sleep\n"                       # a line without a prefix continues the turn
            "SPEAKER_00 (00:12): tell me more about that\n"
            "**SPEAKER_01**: it started in may\n")
MAP = parse_speakers(["SPEAKER_00=counselor", "speaker_01=Client"])


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_parse_speakers_takes_any_role_name_and_refuses_what_it_cannot_read():
    assert MAP == {"speaker_00": "counselor", "speaker_01": "client"}
    assert parse_speakers(["Dr. Smith = therapist", "Jane=patient"]) == {"dr. smith": "counselor", "jane": "client"}
    assert parse_speakers(["Mr = Jones=client"]) == {"mr = jones": "client"}  # the role is after the last "="
    for bad, why in (("SPEAKER_00", "expected NAME=ROLE"), ("=client", "expected NAME=ROLE"),
                     ("A=robot", "unknown role 'robot' \\(use counselor, client or skip\\)"), ("A=client", "already mapped")):
        with pytest.raises(ValueError, match=why):
            parse_speakers(["a=counselor", bad] if bad == "A=client" else [bad])


def test_speaker_role_is_what_every_reader_asks():
    speakers = parse_speakers(["SPEAKER_00=therapist", "Interpreter=skip"])
    assert speaker_role("SPEAKER_00:", speakers) == "counselor"
    assert speaker_role(" interpreter ", speakers) == SKIP
    assert speaker_role("Client", speakers) == "client"  # the role names still read beside the user's names
    assert speaker_role("Interpreter") is None  # skip only when the user asks for it
    assert speaker_role("SPEAKER_01", speakers) is None
    assert speaker_role(None, speakers) is None


def test_a_diarised_plain_text_transcript(tmp_path):
    path = write(tmp_path, "diarised.txt", DIARISED)
    with pytest.raises(TranscriptError) as info:
        read_file(path)
    assert str(info.value) == (f"{path}:1: field 'speaker': unknown speaker 'SPEAKER_00' (use Counselor: or Client:, or "
                               "name its role: --speaker SPEAKER_00=counselor (or =client, or =skip to leave its lines out))")
    (s,) = read_file(path, MAP)
    assert [(t.role, t.text, t.meta.get("time")) for t in s.turns] == [
        ("counselor", "hi how are you doing today", "00:00:01"),
        ("client", "not great i have been stressed about work and i cannot sleep", None),
        ("counselor", "tell me more about that", "00:12"), ("client", "it started in may", None)]


def test_a_third_diarised_speaker_without_a_role_is_an_error_not_a_merged_turn(tmp_path):
    path = write(tmp_path, "three.txt", DIARISED + "SPEAKER_02: sorry, wrong room\n")
    with pytest.raises(TranscriptError, match=r":6: field 'speaker': speaker 'SPEAKER_02' has no role: add --speaker "):
        read_file(path, MAP)
    # also among the role names helpert knows
    path = write(tmp_path, "known.txt", "Counselor: Hi.\nClient: Hello.\nSpeaker 3: Is this the queue?\n")
    with pytest.raises(TranscriptError, match="speaker 'Speaker 3' has no role"):
        read_file(path)


def test_a_speaker_mapped_to_skip_is_left_out_in_every_format(tmp_path):
    """Found in review: a third speaker (an interpreter, a note-taker) had to be called counselor or client."""
    skip = parse_speakers(["SPEAKER_00=counselor", "SPEAKER_01=client", "SPEAKER_02=skip", "Interpreter=ignore"])
    assert skip["speaker_02"] == skip["interpreter"] == "skip"
    text = DIARISED + "SPEAKER_02: sorry, wrong room\nI was looking for the clinic\nSPEAKER_00: no problem\n"
    (s,) = read_file(write(tmp_path, "three.txt", text), skip)
    assert [(t.role, t.text) for t in s.turns][-2:] == [("client", "it started in may"), ("counselor", "no problem")]
    assert not any("clinic" in t.text or "wrong room" in t.text for t in s.turns)  # its continuation line too
    csv_path = write(tmp_path, "t.csv", "speaker,text\nSPEAKER_00,How was your week?\nInterpreter,She asks how the week "
                                        "was.\nSPEAKER_01,Long.\n")
    assert [t.text for t in read_file(csv_path, skip)[0].turns] == ["How was your week?", "Long."]
    record = {"dialogue_id": "j", "turns": [{"role": "SPEAKER_00", "text": "Hi."}, {"role": "interpreter", "text": "Hola."},
                                            {"role": "SPEAKER_01", "text": "Hey."}]}
    json_path = write(tmp_path, "t.jsonl", json.dumps(record) + "\n")
    assert [t.text for t in read_sessions(json_path, speakers=skip)[0].turns] == ["Hi.", "Hey."]
    srt = write(tmp_path, "t.srt", "1\n00:00:01,000 --> 00:00:03,000\nSPEAKER_00: How was your week?\n\n"
                                  "2\n00:00:03,000 --> 00:00:05,000\nInterpreter: She asks how your week was.\n\n"
                                  "3\n00:00:05,000 --> 00:00:06,000\nand whether you slept\n\n"
                                  "4\n00:00:06,000 --> 00:00:08,000\nSPEAKER_01: Long.\n")
    assert [(t.role, t.text) for t in read_file(srt, skip)[0].turns] == [("counselor", "How was your week?"),
                                                                          ("client", "Long.")]
    # a transcript of nothing but skipped lines has no turns: the usual error
    with pytest.raises(TranscriptError, match="no 'Counselor:' / 'Client:' turns"):
        read_file(write(tmp_path, "only.txt", "Interpreter: hello\n"), skip)


def test_names_with_full_stops_and_spaces(tmp_path):
    path = write(tmp_path, "named.txt", "Dr. Smith: What brings you here today?\nJane Doe: My sleep.\nDr. Smith: Tell me.\n")
    with pytest.raises(TranscriptError, match=r"unknown speaker 'Dr. Smith' .*--speaker 'Dr. Smith=counselor'"):
        read_file(path)
    (s,) = read_file(path, parse_speakers(["Dr. Smith=counselor", "Jane Doe=client"]))
    assert [t.role for t in s.turns] == ["counselor", "client", "counselor"]
    assert s.turns[1].text == "My sleep."


def test_csv_and_json_roles_read_through_the_same_names(tmp_path):
    csv_path = write(tmp_path, "t.csv", "speaker,text\nSPEAKER_00,How was your week?\nSPEAKER_01,Long.\n")
    with pytest.raises(TranscriptError, match="unknown role 'SPEAKER_00' .*--speaker SPEAKER_00=counselor"):
        read_file(csv_path)
    assert [t.role for t in read_file(csv_path, MAP)[0].turns] == ["counselor", "client"]
    record = {"dialogue_id": "j", "turns": [{"role": "SPEAKER_00", "text": "Hi."}, {"role": "SPEAKER_01", "text": "Hey."}]}
    json_path = write(tmp_path, "t.jsonl", json.dumps(record) + "\n")
    with pytest.raises(TranscriptError, match=r"field 'turns\[0\].role': unknown role 'SPEAKER_00'"):
        read_file(json_path)
    assert [t.role for t in read_sessions(json_path, speakers=MAP)[0].turns] == ["counselor", "client"]
    # the role names helpert knows still read as before beside the mapped names
    mixed = write(tmp_path, "m.csv", "speaker,text\nTherapist,Hi.\nSPEAKER_01,Hello.\n")
    assert [t.role for t in read_file(mixed, MAP)[0].turns] == ["counselor", "client"]


def test_the_commands_take_speaker(monkeypatch, capsys, tmp_path):
    path = write(tmp_path, "diarised.txt", DIARISED)
    rc, _, err = helpert(monkeypatch, capsys, "measure", path, "--json")
    assert rc == 2 and "--speaker SPEAKER_00=counselor" in err
    rc, out, err = helpert(monkeypatch, capsys, "measure", path, "--json", "--speaker", "SPEAKER_00=counselor",
                           "--speaker", "SPEAKER_01=client")
    assert rc == 0, err
    assert json.loads(out)["sessions"][0]["metrics"]["talk.counselor_turns"] == 2
    rc, out, _ = helpert(monkeypatch, capsys, "screen", path, "--json", "--speaker", "SPEAKER_00=counselor",
                         "--speaker", "SPEAKER_01=client")
    assert rc == 0 and [json.loads(line)["idx"] for line in out.splitlines()] == [1, 3]  # the client's turns
    rc, _, err = helpert(monkeypatch, capsys, "measure", path, "--speaker", "SPEAKER_00=robot")
    assert rc == 2 and "unknown role 'robot'" in err


def test_batch_loads_with_the_names(tmp_path):
    path = write(tmp_path, "diarised.txt", DIARISED)
    failed: list = []

    class Errors:
        def append(self, entry):
            failed.append(entry)

    assert load_corpus([str(path)], Errors()) == [] and "unknown speaker 'SPEAKER_00'" in failed[0]["reason"]
    (s,) = load_corpus([str(path)], Errors(), speakers=MAP)
    assert [t.role for t in s.turns] == ["counselor", "client", "counselor", "client"]


def test_python_callers_may_name_speakers_in_any_case(tmp_path):
    path = write(tmp_path, "diarised.txt", DIARISED)
    (s,) = read_sessions(path, speakers={"SPEAKER_00": "therapist", "Speaker_01": "client"})
    assert [t.role for t in s.turns] == ["counselor", "client", "counselor", "client"]
    with pytest.raises(ValueError, match="unknown role 'narrator'"):
        read_sessions(path, speakers={"SPEAKER_00": "narrator"})
