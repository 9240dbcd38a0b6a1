"""Plain-text transcripts: ``Counselor: ...`` / ``Client: ...`` lines.

A line without a speaker prefix continues the previous turn. A prefix that misspells a role name ("Clinet:",
:func:`helpert.io.roles.near_role`) or names a person helpert was not told about ("Mum:", "Dr. Lee:",
:func:`helpert.io.roles.looks_like_speaker`) is an error instead, never words joined to the turn before; a heading
("Homework:") or words before a colon ("what I thought was: ...") continue the turn. The lines of a speaker mapped to ``skip`` (``--speaker
Interpreter=skip``) are left out, continuation lines included; ``# ...`` lines are comments, and a
``# id: NAME`` comment names the dialogue. A time before the speaker or after the name, as transcription
services write it ("[00:01:05] Counselor: ...", "Client (00:05): ..."), goes into the turn's ``meta["time"]``; a line
that is only a time or a subtitle cue's span ("00:00:05.000 --> 00:00:09.000") is skipped.
"""

from __future__ import annotations

import re
from pathlib import Path

from helpert.io.errors import TranscriptError
from helpert.io.roles import DIARISED as _DIARISED, SKIP, Speakers, looks_like_speaker, near_role, speaker_hint, speaker_role
from helpert.io.dialogue_json import MAX_TURN_CHARS
from helpert.session import Session, Turn
from helpert.text.transcript import SPEAKER, TIME as _TIME

# A speaker prefix, with the time a transcription service puts before it ("[00:01:05] Counselor:", "00:01:05
# Therapist:") or after the name ("Counselor (00:05):", "Client [00:01:05]:"); the time goes into the turn's meta.
_PREFIX = re.compile(
    rf"^\s*(?:[\[(]\s*(?P<before>{_TIME})\s*[\])]|(?P<bare>{_TIME}))?\s*[-–]?\s*"
    rf"{SPEAKER}\s*(?:[\[(]\s*(?P<after>{_TIME})\s*[\])])?\s*[:：]\s*(?P<body>.*)$"
)
# A line that is only a time or a subtitle cue's span ("00:00:05.000 --> 00:00:09.000"): skipped.
_TIME_LINE = re.compile(rf"^\s*[\[(]?\s*{_TIME}\s*[\])]?\s*(?:-->\s*{_TIME}\s*)?$")


# Any short label before a colon at the start of a line ("SPEAKER_00:", "Dr. Smith:", "[Jane]:"): named in the error
# when a transcript's first line holds no speaker helpert knows.
_LABEL = re.compile(rf"^\s*(?:[\[(]\s*{_TIME}\s*[\])]\s*|{_TIME}\s+)?[\[*]*\s*(?P<name>[^\s\d:\[\]*][^:\[\]*]{{0,30}}?)\s*[\]*]*"
                    rf"\s*(?:[\[(]\s*{_TIME}\s*[\])])?\s*[:：]\s*\S")


def _named_prefix(speakers: Speakers) -> "re.Pattern[str]":
    """A speaker prefix with one of the names a user mapped (any characters: "SPEAKER_00", "Dr. Smith"), in brackets
    or bold or bare, with a time before or after it as :data:`_PREFIX` allows."""
    names = "|".join(re.escape(n) for n in sorted(speakers, key=len, reverse=True))
    return re.compile(
        rf"^\s*(?:[\[(]\s*(?P<before>{_TIME})\s*[\])]|(?P<bare>{_TIME}))?\s*[-–]?\s*[\[*]*\s*(?P<name>{names})\s*[\]*]*"
        rf"\s*(?:[\[(]\s*(?P<after>{_TIME})\s*[\])])?\s*[:：]\s*(?P<body>.*)$", re.IGNORECASE)


def read_text(path: Path, text: str, speakers: Speakers | None = None) -> list[Session]:
    """``speakers``: the transcript's own speaker names mapped to roles (``--speaker NAME=ROLE``), read before the
    role names."""
    named = _named_prefix(speakers) if speakers else None
    turns: list[Turn] = []
    dialogue_id = path.stem
    # Split at "\n" (and lone "\r") only, so line numbers match editors and U+2028 stays inside a turn.
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    skipping = False  # inside the lines of a speaker mapped to skip (its continuation lines are left out too)
    for lineno, line in enumerate(lines, start=1):
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("#"):
            m = re.match(r"#\s*id\s*:\s*(\S+)", stripped)
            if m:
                dialogue_id = m.group(1)
            continue
        if _TIME_LINE.match(stripped):
            continue
        m = (named.match(stripped) if named else None) or _PREFIX.match(stripped)
        role = speaker_role(m.group("name"), speakers) if m else None
        if m:
            skipping = role == SKIP
        if skipping:
            continue
        if m and role is None and not turns:
            raise TranscriptError(path, f"unknown speaker {m.group('name')!r} (use Counselor: or Client:, or name its role: "
                                        f"{speaker_hint(m.group('name'))})", line=lineno, field="speaker")
        label = _LABEL.match(stripped) if role is None else None  # a short label before a colon, any name
        if turns and label and _DIARISED.match(label.group("name")):
            # the user named the speakers, but not this one: its words would silently join the turn before
            raise TranscriptError(path, f"speaker {label.group('name')!r} has no role: add {speaker_hint(label.group('name'))}",
                                  line=lineno, field="speaker")
        if m and role is None and (guess := near_role(m.group("name"))):
            # a misspelled speaker would silently join the turn before: a client's words read as the counselor's,
            # and a crisis statement never screened as the client's
            raise TranscriptError(path, f"unknown speaker {m.group('name')!r}: a misspelling of {guess!r}? Correct it (a heading "
                                        "such as 'Homework:' or other words before a colon continue the turn before)",
                                  line=lineno, field="speaker")
        if turns and label and looks_like_speaker(label.group("name")):
            # a third person ("Mum:", "Dr. Lee:") whose words would silently join the turn before, unscreened
            name = label.group("name")
            raise TranscriptError(path, f"unknown speaker {name!r} (not a role helpert knows): name its role with "
                                        f"{speaker_hint(name)}; if the line is words of the turn before, join it to that "
                                        "turn's line", line=lineno, field="speaker")
        if role is None:
            if not turns:
                if label:  # a speaker helpert does not know: a diarised "SPEAKER_00:", a name with a full stop
                    raise TranscriptError(path, f"unknown speaker {label.group('name')!r} (use Counselor: or Client:, or "
                                                f"name its role: {speaker_hint(label.group('name'))})",
                                          line=lineno, field="speaker")
                raise TranscriptError(path, "text before the first 'Counselor:' or 'Client:' prefix", line=lineno, field="speaker")
            last = turns[-1]
            more = " ".join(stripped.split())
            turns[-1] = last.model_copy(update={"text": f"{last.text} {more}" if last.text else more})
        else:
            body = " ".join(m.group("body").split())
            time = m.group("before") or m.group("bare") or m.group("after")
            turns.append(Turn(idx=len(turns), role=role, text=body, meta={"line": lineno, **({"time": time} if time else {})}))
        if len(turns[-1].text) > MAX_TURN_CHARS:
            raise TranscriptError(path, f"turn exceeds {MAX_TURN_CHARS} characters", line=lineno, field="text")
    turns = [t for t in turns if t.text]
    if not turns:
        raise TranscriptError(path, "no 'Counselor:' / 'Client:' turns found")
    return [Session(dialogue_id=dialogue_id, turns=[t.model_copy(update={"idx": i}) for i, t in enumerate(turns)], source=path.name)]
