"""The one error every loader raises: it names the file, the line or record, and the field."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path


def first_few(items: Iterable[str], n: int = 5) -> str:
    """What a message shows of a list: its first ``n`` items, comma-separated, and " ..." when there are more."""
    items = list(items)
    return ", ".join(items[:n]) + (" ..." if len(items) > n else "")


class TranscriptError(ValueError):
    """A transcript that cannot be read. ``str()`` is one line a user can act on."""

    def __init__(self, path: str | Path, message: str, *, line: int | None = None, field: str | None = None):
        self.path = str(path)
        self.line = line
        self.field = field
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        what = f"field '{self.field}': " if self.field else ""
        return f"{where}: {what}{self.message}"
