"""Plain-text transcripts: ``Counselor: ...`` / ``Client: ...`` lines.

A line without a speaker prefix continues the previous turn; ``# ...`` lines are comments, and a
``# id: NAME`` comment names the dialogue.
"""

from __future__ import annotations

import re
from pathlib import Path

from helpert.io.errors import TranscriptError
from helpert.io.roles import normalize_role
from helpert.io.dialogue_json import MAX_TURN_CHARS
from helpert.session import Session, Turn

_PREFIX = re.compile(r"^\s*\**\s*([A-Za-z][A-Za-z \-]{0,24}?)\s*\**\s*[:：]\s*(.*)$")


def read_text(path: Path, text: str) -> list[Session]:
    turns: list[Turn] = []
    dialogue_id = path.stem
    # Split at "\n" (and lone "\r") only, so line numbers match editors and U+2028 stays inside a turn.
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for lineno, line in enumerate(lines, start=1):
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("#"):
            m = re.match(r"#\s*id\s*:\s*(\S+)", stripped)
            if m:
                dialogue_id = m.group(1)
            continue
        m = _PREFIX.match(stripped)
        role = normalize_role(m.group(1)) if m else None
        if m and role is None and not turns:
            raise TranscriptError(path, f"unknown speaker {m.group(1)!r} (use Counselor: or Client:)", line=lineno, field="speaker")
        if role is None:
            if not turns:
                raise TranscriptError(path, "text before the first 'Counselor:' or 'Client:' prefix", line=lineno, field="speaker")
            last = turns[-1]
            more = " ".join(stripped.split())
            turns[-1] = last.model_copy(update={"text": f"{last.text} {more}" if last.text else more})
        else:
            body = " ".join(m.group(2).split())
            turns.append(Turn(idx=len(turns), role=role, text=body, meta={"line": lineno}))
        if len(turns[-1].text) > MAX_TURN_CHARS:
            raise TranscriptError(path, f"turn exceeds {MAX_TURN_CHARS} characters", line=lineno, field="text")
    turns = [t for t in turns if t.text]
    if not turns:
        raise TranscriptError(path, "no 'Counselor:' / 'Client:' turns found")
    return [Session(dialogue_id=dialogue_id, turns=[t.model_copy(update={"idx": i}) for i, t in enumerate(turns)], source=path.name)]
