"""CSV transcripts: a ``speaker,text`` header, optionally a ``dialogue_id`` and a ``time`` column; the names
corpora export under (``role``, ``interlocutor``, ``utterance_text``, ``conversation_id``, ``timestamp`` ...) are
read as these (:data:`COLUMNS`)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from helpert.io.errors import TranscriptError
from helpert.io.roles import SKIP, Speakers, speaker_hint, speaker_role
from helpert.io.dialogue_json import MAX_TURN_CHARS
from helpert.session import Session, Turn


# Each column helpert reads, and the header names it is found under (case-insensitive; the first present wins).
COLUMNS: dict[str, tuple[str, ...]] = {
    "speaker": ("speaker", "role", "interlocutor", "speaker_role", "author", "participant", "party"),
    "text": ("text", "utterance", "utterance_text", "content", "message", "turn_text"),
    "dialogue_id": ("dialogue_id", "dialog_id", "conversation_id", "conv_id", "session_id", "transcript_id"),
    "time": ("time", "timestamp", "start_time", "start", "start_timestamp"),
}


def _names(kind: str) -> str:
    first, *rest = COLUMNS[kind]
    return f"'{first}' (or {', '.join(repr(n) for n in rest)})"


def read_csv(path: Path, text: str, speakers: Speakers | None = None) -> list[Session]:
    # newline="" as the csv module requires: quoted cells keep their line breaks and a bare "\r"
    # ends a row instead of raising csv.Error.
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        return _read_rows(path, reader, speakers)
    except csv.Error as exc:  # e.g. a cell longer than csv.field_size_limit()
        # DictReader.line_num is only updated after a row parses; the inner reader's count is current.
        raise TranscriptError(path, f"malformed CSV ({exc})", line=reader.reader.line_num or 1) from None


def _read_rows(path: Path, reader: csv.DictReader, speakers: Speakers | None = None) -> list[Session]:
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    reader.fieldnames = header
    found = {kind: next((c for c in names if c in header), None) for kind, names in COLUMNS.items()}
    role_col, text_col, id_col, time_col = found["speaker"], found["text"], found["dialogue_id"], found["time"]
    if role_col is None:
        raise TranscriptError(path, f"header needs a {_names('speaker')} column", line=1, field="speaker")
    if text_col is None:
        raise TranscriptError(path, f"header needs a {_names('text')} column", line=1, field="text")
    by_dialogue: dict[str, list[Turn]] = {}
    for row in reader:
        lineno = reader.line_num
        if None in row:
            raise TranscriptError(path, "more cells than header columns (quote text that has commas)", line=lineno)
        role = speaker_role(row.get(role_col), speakers)
        if role == SKIP:
            continue
        if role is None:
            raise TranscriptError(path, f"unknown role {str(row.get(role_col))[:40]!r} (use counselor or client, or name its "
                                        f"role: {speaker_hint(row.get(role_col))})", line=lineno, field=role_col)
        text = " ".join((row.get(text_col) or "").split())
        if not text:
            continue
        if len(text) > MAX_TURN_CHARS:
            raise TranscriptError(path, f"turn of {len(text)} characters exceeds {MAX_TURN_CHARS}", line=lineno, field=text_col)
        did = ((row.get(id_col) if id_col else None) or path.stem).strip() or path.stem
        time = (row.get(time_col) or "").strip() if time_col else ""
        turns = by_dialogue.setdefault(did, [])
        turns.append(Turn(idx=len(turns), role=role, text=text, meta={"time": time} if time else {}))
    if not by_dialogue:
        raise TranscriptError(path, "no turns in file")
    return [Session(dialogue_id=did, turns=turns, source=path.name) for did, turns in by_dialogue.items()]
