"""SubRip and WebVTT files (helpert.io.subtitles): cues of one speaker in a row are one turn, the speaker is named by a
voice tag or a prefix, and every command reads them like the other formats."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpert.io import TranscriptError, iter_transcript_files, read_file
from helpert.io.roles import parse_speakers
from test_measure_cli import helpert

SRT = """1
00:00:01,000 --> 00:00:04,000
SPEAKER_00: hi there how are you
feeling today

2
00:00:04,500 --> 00:00:06,000
SPEAKER_01: not great honestly

3
00:00:06,000 --> 00:00:09,000
i have a job interview on friday

4
00:00:09,500 --> 00:00:12,000
[SPEAKER_00] what worries you most about it
"""
VTT = """WEBVTT - made by a recogniser

NOTE two speakers

00:00:01.000 --> 00:00:04.000
<v Therapist>Hi there, how are you feeling today?</v>

00:00:04.500 --> 00:00:06.000
<v Client>Not great, <i>honestly</i>.

cue-3
00:00:06.000 --> 00:00:09.000 align:start
<v Client>I have a job interview on Friday. Time: 9:30.

01:00:09.500 --> 01:00:12.000
<v.loud Therapist>What worries you most about it?
"""
MAP = parse_speakers(["SPEAKER_00=counselor", "SPEAKER_01=client"])


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_subrip_cues_of_one_speaker_are_one_turn(tmp_path):
    path = write(tmp_path, "call.srt", SRT)
    with pytest.raises(TranscriptError, match=r"call.srt:3: field 'speaker': unknown speaker 'SPEAKER_00' .*--speaker"):
        read_file(path)
    (s,) = read_file(path, MAP)
    assert s.dialogue_id == "call"
    assert [(t.role, t.text, t.meta["time"], t.meta["line"]) for t in s.turns] == [
        ("counselor", "hi there how are you feeling today", "00:00:01,000", 3),
        ("client", "not great honestly i have a job interview on friday", "00:00:04,500", 8),
        ("counselor", "what worries you most about it", "00:00:09,500", 16)]


def test_a_cue_of_a_person_helpert_was_not_told_about_is_an_error_not_the_cue_before(tmp_path):
    text = SRT.replace("i have a job interview on friday", "Mum: she said she wants to kill herself")
    path = write(tmp_path, "third.srt", text)
    with pytest.raises(TranscriptError, match=r"third.srt:12: field 'speaker': unknown speaker 'Mum' .*--speaker"):
        read_file(path, MAP)
    (s,) = read_file(path, parse_speakers(["SPEAKER_00=counselor", "SPEAKER_01=client", "Mum=client"]))
    assert [(t.role, t.text) for t in s.turns][1:] == [
        ("client", "not great honestly"), ("client", "she said she wants to kill herself"),
        ("counselor", "what worries you most about it")]
    # a heading is still text of the cue: "Time: 9:30." in the WebVTT sample below stays the client's words


def test_webvtt_voice_tags_notes_and_formatting(tmp_path):
    (s,) = read_file(write(tmp_path, "call.vtt", VTT))
    assert [(t.role, t.text) for t in s.turns] == [
        ("counselor", "Hi there, how are you feeling today?"),
        ("client", "Not great, honestly. I have a job interview on Friday. Time: 9:30."),
        ("counselor", "What worries you most about it?")]
    assert s.turns[2].meta["time"] == "01:00:09.500"


def test_what_is_not_a_subtitle_file_is_named(tmp_path):
    with pytest.raises(TranscriptError, match=r"x.srt:1: a block without a time span"):
        read_file(write(tmp_path, "x.srt", "Counselor: hello\nClient: hi\n"))
    with pytest.raises(TranscriptError, match=r"y.vtt:4: field 'speaker': a cue before the first one that names"):
        read_file(write(tmp_path, "y.vtt", "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nhello\n"))
    with pytest.raises(TranscriptError, match="z.srt: no subtitle cues with text found"):
        read_file(write(tmp_path, "z.srt", "1\n00:00:01,000 --> 00:00:02,000\n\n"))
    third = SRT + "\n5\n00:00:13,000 --> 00:00:14,000\nSPEAKER_02: sorry wrong room\n"
    with pytest.raises(TranscriptError, match=r"unknown speaker 'SPEAKER_02'"):
        read_file(write(tmp_path, "w.srt", third), MAP)


def test_folders_and_commands_read_them(monkeypatch, capsys, tmp_path):
    write(tmp_path, "a.srt", SRT)
    write(tmp_path, "b.vtt", VTT)
    assert [p.name for p in iter_transcript_files([tmp_path])] == ["a.srt", "b.vtt"]
    rc, out, err = helpert(monkeypatch, capsys, "measure", tmp_path, "--json", "--speaker", "SPEAKER_00=counselor",
                           "--speaker", "SPEAKER_01=client")
    assert rc == 0, err
    assert [s["dialogue_id"] for s in json.loads(out)["sessions"]] == ["a", "b"]
    rc, out, _ = helpert(monkeypatch, capsys, "screen", tmp_path / "b.vtt", "--json")
    assert rc == 0 and [json.loads(line)["idx"] for line in out.splitlines()] == [1]
