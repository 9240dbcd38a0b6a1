"""CSV transcripts: a ``speaker,text`` header (``role`` also accepted), optionally a ``dialogue_id`` column."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from helpert.io.errors import TranscriptError
from helpert.io.roles import normalize_role
from helpert.io.dialogue_json import MAX_TURN_CHARS
from helpert.session import Session, Turn


def read_csv(path: Path, text: str) -> list[Session]:
    # newline="" as the csv module requires: quoted cells keep their line breaks and a bare "\r"
    # ends a row instead of raising csv.Error.
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        return _read_rows(path, reader)
    except csv.Error as exc:  # e.g. a cell longer than csv.field_size_limit()
        # DictReader.line_num is only updated after a row parses; the inner reader's count is current.
        raise TranscriptError(path, f"malformed CSV ({exc})", line=reader.reader.line_num or 1) from None


def _read_rows(path: Path, reader: csv.DictReader) -> list[Session]:
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    reader.fieldnames = header
    role_col = next((c for c in ("speaker", "role") if c in header), None)
    if role_col is None:
        raise TranscriptError(path, "header needs a 'speaker' (or 'role') column", line=1, field="speaker")
    if "text" not in header:
        raise TranscriptError(path, "header needs a 'text' column", line=1, field="text")
    by_dialogue: dict[str, list[Turn]] = {}
    for row in reader:
        lineno = reader.line_num
        if None in row:
            raise TranscriptError(path, "more cells than header columns (quote text that has commas)", line=lineno)
        role = normalize_role(row.get(role_col))
        if role is None:
            raise TranscriptError(path, f"unknown role {str(row.get(role_col))[:40]!r}", line=lineno, field=role_col)
        text = " ".join((row.get("text") or "").split())
        if not text:
            continue
        if len(text) > MAX_TURN_CHARS:
            raise TranscriptError(path, f"turn of {len(text)} characters exceeds {MAX_TURN_CHARS}", line=lineno, field="text")
        did = (row.get("dialogue_id") or path.stem).strip() or path.stem
        turns = by_dialogue.setdefault(did, [])
        turns.append(Turn(idx=len(turns), role=role, text=text))
    if not by_dialogue:
        raise TranscriptError(path, "no turns in file")
    return [Session(dialogue_id=did, turns=turns, source=path.name) for did, turns in by_dialogue.items()]
