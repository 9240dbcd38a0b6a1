"""Read transcripts from disk into :class:`~helpert.session.Session` objects, whatever the format."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterable

from helpert.io.errors import TranscriptError, first_few
from helpert.io.roles import Speakers
from helpert.session import Session

SUFFIXES = (".jsonl", ".json", ".csv", ".txt", ".srt", ".vtt")


def _reader(suffix: str) -> Callable[..., list[Session]]:
    from helpert.io import csv_table, dialogue_json, plain_text, subtitles

    return {
        ".jsonl": dialogue_json.read_jsonl,
        ".json": dialogue_json.read_json,
        ".csv": csv_table.read_csv,
        ".txt": plain_text.read_text,
        ".srt": subtitles.read_subtitles,
        ".vtt": subtitles.read_subtitles,
    }[suffix]


def read_file(path: str | Path, speakers: Speakers | None = None) -> list[Session]:
    """All sessions in one file. Raises :class:`TranscriptError` naming file, line and field. ``speakers``: the
    transcript's own speaker names mapped to roles (:func:`helpert.io.roles.parse_speakers`)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise TranscriptError(path, f"unknown transcript format '{suffix}' (expected one of {', '.join(SUFFIXES)})")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise TranscriptError(path, exc.strerror or str(exc)) from None
    if b"\x00" in raw:
        raise TranscriptError(path, "binary file (NUL bytes), not a transcript")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise TranscriptError(path, f"not UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start})", line=line) from None
    if not text.strip():
        raise TranscriptError(path, "empty file")
    if speakers:
        from helpert.io.roles import speaker_map

        speakers = speaker_map(speakers)  # any case, any role name (a caller in Python may pass {"SPEAKER_00": ...})
    sessions = _reader(suffix)(path, text, speakers=speakers)
    seen: set[str] = set()
    for s in sessions:
        if s.dialogue_id in seen:
            raise TranscriptError(path, f"duplicate dialogue_id {s.dialogue_id!r}", field="dialogue_id")
        seen.add(s.dialogue_id)
    return sessions


def iter_transcript_files(paths: Iterable[str | Path]) -> list[Path]:
    """Files named directly, plus transcript files found (sorted) inside named folders. A named folder that holds no
    transcript file is an error naming what it does hold (an empty table with exit code 0 read as "nothing to
    report", not as "nothing read")."""
    found: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            inside = sorted(f for f in p.rglob("*") if f.suffix.lower() in SUFFIXES and f.is_file())
            if not inside:
                others = sorted(f.name for f in p.rglob("*") if f.is_file())
                held = f"it holds {first_few(others)}" if others else "it is empty"
                raise TranscriptError(p, f"no transcript file in this folder ({held}; helpert reads {' '.join(SUFFIXES)} files)")
            found.extend(inside)
        elif p.exists():
            found.append(p)
        else:
            raise TranscriptError(p, "no such file or folder")
    return found


def read_sessions(*paths: str | Path, dialogue: str | None = None, speakers: Speakers | None = None) -> list[Session]:
    """Every session in the given files and folders; ``dialogue`` keeps only the one with that id; ``speakers`` as
    for :func:`read_file`."""
    sessions = [s for f in iter_transcript_files(paths) for s in read_file(f, speakers)]
    if dialogue is not None:
        picked = [s for s in sessions if s.dialogue_id == dialogue]
        if not picked:
            sample = ", ".join(s.dialogue_id for s in sessions[:5]) or "none found"
            where = ", ".join(map(str, paths)) or "(no paths given)"
            raise TranscriptError(where, f"no dialogue with id {dialogue!r} (ids look like: {sample})", field="dialogue_id")
        return picked
    return sessions


def write_sessions(path: str | Path, sessions: Iterable[Session]) -> None:
    """Write sessions as JSONL in the shared dialogue format, atomically."""
    from helpert.io.atomic import atomic_write_text

    atomic_write_text(Path(path), "".join(s.model_dump_json() + "\n" for s in sessions))


__all__ = ["TranscriptError", "read_file", "read_sessions", "iter_transcript_files", "write_sessions", "SUFFIXES"]
