"""SHA-256 of files, for the run manifest's record of what made a run (model, protocol, crisis detector)."""

from __future__ import annotations

import hashlib
from pathlib import Path

_cache: dict[tuple[str, int, int], str] = {}


def file_sha256(path: str | Path) -> str:
    """The file's SHA-256 (hex), cached per path, size and modification time: model files are big and a
    corpus run asks once per session."""
    path = Path(path)
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _cache:
        h = hashlib.sha256()
        with path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        _cache[key] = h.hexdigest()
    return _cache[key]
