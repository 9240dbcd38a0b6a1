"""Subtitle files as speech recognisers and diarisers write them: SubRip (``.srt``) and WebVTT (``.vtt``).

A cue is a number (SubRip; optional in WebVTT), a time span ``00:00:01,000 --> 00:00:04,000`` and one or more lines
of text. The speaker is named in the text, as diarisers write it: a WebVTT voice tag (``<v SPEAKER_00>hello``, the
first one of the cue), or a prefix ``SPEAKER_00: hello`` / ``[SPEAKER_00] hello`` / ``[SPEAKER_00]: hello``. Names are
read as roles like every format's (``Counselor``, ``Therapist``, ``Client`` ...; the transcript's own names with
``--speaker NAME=ROLE``). A cue is a unit of display, not a turn: the cues of one speaker in a row are one turn, and a
cue that names nobody continues the turn before. The turn's ``meta`` holds the start of its first cue (``time``) and
its line. WebVTT's header, ``NOTE``, ``STYLE`` and ``REGION`` blocks are skipped, and so are formatting tags
(``<i>``, ``<c.yellow>``, inline times).
"""

from __future__ import annotations

import re
from pathlib import Path

from helpert.io.dialogue_json import MAX_TURN_CHARS
from helpert.io.errors import TranscriptError
from helpert.io.roles import DIARISED as _DIARISED, SKIP, Speakers, looks_like_speaker, speaker_hint, speaker_role
from helpert.session import Session, Turn

_TIMING = re.compile(r"^\s*(?P<start>(?:\d+:)?\d{1,2}:\d{2}[.,]\d{1,3})\s*-->\s*(?:\d+:)?\d{1,2}:\d{2}[.,]\d{1,3}")
_VOICE = re.compile(r"<v(?:\.[\w.-]+)?\s+(?P<name>[^>]+)>", re.IGNORECASE)
_TAG = re.compile(r"</?[^>\s][^>]*>")  # <i>, </v>, <c.yellow>, <00:00:01.500>
# a name before a colon, or in brackets with or without a colon: "SPEAKER_00: ...", "[Dr. Smith] ...", "(Client): ..."
_PREFIX = re.compile(r"^\s*(?:[\[(](?P<bracketed>[^\])]{1,40})[\])]\s*:?|(?P<name>[^\s:\[\]()][^:\[\]()]{0,39}?)\s*:)\s*(?P<body>.*)$")


def _blocks(text: str) -> list[tuple[int, list[str]]]:
    """(first line number, lines) of each block of non-blank lines."""
    out: list[tuple[int, list[str]]] = []
    current: list[str] = []
    start = 0
    for lineno, line in enumerate(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"), start=1):
        if line.strip():
            if not current:
                start = lineno
            current.append(line.rstrip())
        elif current:
            out.append((start, current))
            current = []
    if current:
        out.append((start, current))
    return out


def read_subtitles(path: Path, text: str, speakers: Speakers | None = None) -> list[Session]:
    turns: list[Turn] = []
    last_name: str | None = None
    skipping = False
    for start, lines in _blocks(text):
        timing = next((i for i, line in enumerate(lines) if "-->" in line), None)
        if timing is None:  # the WEBVTT header, NOTE / STYLE / REGION blocks, a stray line
            head = lines[0].strip().split(" ")[0].upper()
            if head in ("WEBVTT", "NOTE", "STYLE", "REGION") or head.startswith("WEBVTT"):
                continue
            raise TranscriptError(path, "a block without a time span ('00:00:01,000 --> 00:00:04,000'): not a subtitle cue",
                                  line=start)
        m = _TIMING.match(lines[timing])
        if m is None:
            raise TranscriptError(path, f"unreadable time span {lines[timing].strip()[:60]!r}", line=start + timing)
        lineno = start + timing + 1
        raw = " ".join(line.strip() for line in lines[timing + 1:])
        voice = _VOICE.search(raw)
        name = voice.group("name").strip() if voice else None
        body = " ".join(_TAG.sub("", raw).split())
        if name is None and (p := _PREFIX.match(body)) is not None:
            candidate = (p.group("bracketed") or p.group("name") or "").strip()
            # a person's name ("Mum:", "Dr. Lee:") is a speaker, whose words never join the cue before unasked
            if (speaker_role(candidate, speakers) is not None or p.group("bracketed") or not turns
                    or _DIARISED.match(candidate) or looks_like_speaker(candidate)):
                name, body = candidate, p.group("body").strip()
        role = speaker_role(name, speakers) if name is not None else None
        if name is not None:
            skipping = role == SKIP
        if not body or skipping:  # a cue of a speaker mapped to skip, and the unnamed cues that continue it
            continue
        if name is not None:
            if role is None:
                raise TranscriptError(path, f"unknown speaker {name[:40]!r} (use Counselor or Client, or name its role: "
                                            f"{speaker_hint(name)})", line=lineno, field="speaker")
        elif not turns:
            raise TranscriptError(path, "a cue before the first one that names its speaker (a voice tag '<v NAME>' or "
                                        "'NAME: ...')", line=lineno, field="speaker")
        if name is None or (turns and name.lower() == (last_name or "").lower()):
            last = turns[-1]
            turns[-1] = last.model_copy(update={"text": f"{last.text} {body}"})
        else:
            turns.append(Turn(idx=len(turns), role=role, text=body, meta={"line": lineno, "time": m.group("start")}))
            last_name = name
        if len(turns[-1].text) > MAX_TURN_CHARS:
            raise TranscriptError(path, f"turn exceeds {MAX_TURN_CHARS} characters", line=lineno, field="text")
    if not turns:
        raise TranscriptError(path, "no subtitle cues with text found")
    return [Session(dialogue_id=path.stem, turns=turns, source=path.name)]
