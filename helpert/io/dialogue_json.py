"""JSON and JSONL in the shared dialogue format: one dialogue per line (JSONL) or a list / one object (JSON)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Callable

from helpert.io.errors import TranscriptError
from helpert.io.roles import SKIP, Speakers, speaker_hint, speaker_role
from helpert.session import Session, Turn

MAX_TURN_CHARS = 20_000
MAX_DEPTH = 100  # pydantic cannot serialise labels nested ~250 deep; real records nest a handful of levels
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _parse(path: Path, text: str, line: int | None) -> Any:
    """``json.loads`` whose every failure is a TranscriptError.

    Besides syntax errors, ``json`` raises a bare ValueError for integers over 4300 digits and
    RecursionError for deeply nested arrays; and it accepts nesting and escaped lone surrogates that
    make a session which cannot be written back.
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        where = f" at column {exc.colno}" if line is not None else ""
        raise TranscriptError(path, f"invalid JSON ({exc.msg}{where})", line=line or exc.lineno) from None
    except (ValueError, RecursionError) as exc:
        reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc).split(";")[0]
        raise TranscriptError(path, f"invalid JSON ({reason})", line=line) from None
    if _too_deep(data, MAX_DEPTH):
        raise TranscriptError(path, f"invalid JSON (nested deeper than {MAX_DEPTH} levels)", line=line)
    if _SURROGATE_ESCAPE.search(text):
        try:
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise TranscriptError(path, "invalid JSON (\\u escape of a lone surrogate, not a character)", line=line) from None
    return data


def _too_deep(data: Any, limit: int) -> bool:
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, (dict, list)):
            if depth > limit:
                return True
            stack.extend((child, depth + 1) for child in (value.values() if isinstance(value, dict) else value))
    return False


def read_jsonl(path: Path, text: str, speakers: Speakers | None = None) -> list[Session]:
    sessions = []
    first_line: dict[str, int] = {}
    # Only "\n" ends a record: str.splitlines() would also split at U+2028/U+0085, which JSON allows
    # unescaped inside strings, and would number lines differently from every other tool.
    for lineno, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        record = _parse(path, line, lineno)
        session = session_from_record(record, path, line=lineno, fallback_id=f"{path.stem}_{lineno}", speakers=speakers)
        if session.dialogue_id in first_line:
            raise TranscriptError(path, f"duplicate dialogue_id {session.dialogue_id!r} (first on line "
                                        f"{first_line[session.dialogue_id]})", line=lineno, field="dialogue_id")
        first_line[session.dialogue_id] = lineno
        sessions.append(session)
    if not sessions:
        raise TranscriptError(path, "no dialogues in file")
    return sessions


def read_json(path: Path, text: str, speakers: Speakers | None = None) -> list[Session]:
    data = _parse(path, text, None)
    records = data if isinstance(data, list) else [data]
    if not records:
        raise TranscriptError(path, "no dialogues in file")
    sessions = [
        session_from_record(rec, path, line=None, record_no=i, fallback_id=f"{path.stem}_{i}", speakers=speakers)
        for i, rec in enumerate(records)
    ]
    first: dict[str, int] = {}
    for i, session in enumerate(sessions):
        if session.dialogue_id in first:
            raise TranscriptError(path, f"record {i}: duplicate dialogue_id {session.dialogue_id!r} (first in record "
                                        f"{first[session.dialogue_id]})", field="dialogue_id")
        first.setdefault(session.dialogue_id, i)
    return sessions


def session_from_record(
    record: Any, path: Path, *, line: int | None, fallback_id: str, record_no: int | None = None,
    speakers: Speakers | None = None,
) -> Session:
    """Validate one dialogue record field by field, so the error names the field that is wrong."""
    prefix = "" if record_no is None else f"record {record_no}: "

    def fail(message: str, field: str | None = None) -> TranscriptError:
        return TranscriptError(path, prefix + message, line=line, field=field)

    if not isinstance(record, dict):
        raise fail(f"expected a dialogue object, got {type(record).__name__}")
    raw_turns = record.get("turns", record.get("dialog", record.get("dialogue")))
    if raw_turns is None:
        raise fail("missing", field="turns")
    if not isinstance(raw_turns, list):
        raise fail(f"expected a list, got {type(raw_turns).__name__}", field="turns")
    turns = []
    for i, raw in enumerate(raw_turns):
        where = f"turns[{i}]"
        if not isinstance(raw, dict):
            raise fail(f"expected an object, got {type(raw).__name__}", field=where)
        role_raw = raw.get("role", raw.get("speaker"))
        if role_raw is None:
            raise fail("missing", field=f"{where}.role")
        role = speaker_role(role_raw, speakers)
        if role == SKIP:
            continue
        if role is None:
            raise fail(f"unknown role {str(role_raw)[:40]!r} (use counselor or client, or name its role: "
                       f"{speaker_hint(role_raw)})", field=f"{where}.role")
        text = raw.get("text", raw.get("content"))
        if not isinstance(text, str):
            kind = "missing" if text is None else f"expected a string, got {type(text).__name__}"
            raise fail(kind, field=f"{where}.text")
        text = " ".join(text.split())
        if not text:
            continue  # an empty utterance carries nothing to replay or measure
        if len(text) > MAX_TURN_CHARS:
            raise fail(f"turn of {len(text)} characters exceeds {MAX_TURN_CHARS}", field=f"{where}.text")
        labels = _mapping(raw, "labels", fail, f"{where}.labels")
        meta = _mapping(raw, "meta", fail, f"{where}.meta")
        turns.append(Turn(idx=len(turns), role=role, text=text, labels=labels, meta=meta))
    if not turns:
        raise fail("dialogue has no non-empty turns", field="turns")
    meta = _mapping(record, "meta", fail, "meta")
    dialogue_id = record.get("dialogue_id", record.get("id"))
    if dialogue_id is None:
        dialogue_id = fallback_id
    if isinstance(dialogue_id, bool) or not isinstance(dialogue_id, (str, int)):
        raise fail(f"expected a string, got {type(dialogue_id).__name__}", field="dialogue_id")
    if not str(dialogue_id).strip():
        raise fail("empty", field="dialogue_id")
    return Session(
        dialogue_id=str(dialogue_id),
        turns=turns,
        dataset=_string(record, "dataset", "", fail),
        language=_string(record, "language", "en", fail),
        source=_string(record, "source", path.name, fail),
        meta=meta,
    )


def _mapping(obj: dict[str, Any], key: str, fail: Callable[..., TranscriptError], field: str) -> dict[str, Any]:
    """An optional object field: absent or null is empty; anything else but an object is an error."""
    value = obj.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise fail(f"expected an object, got {type(value).__name__}", field=field)
    return value


def _string(record: dict[str, Any], key: str, default: str, fail: Callable[..., TranscriptError]) -> str:
    """An optional string field: absent or null is ``default`` (never the text "None")."""
    value = record.get(key)
    if value is None:
        return default
    if not isinstance(value, str):
        raise fail(f"expected a string, got {type(value).__name__}", field=key)
    return value
