"""Run-directory bookkeeping: atomic writes, so a crash never leaves a half-written result."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, BinaryIO, Callable


def atomic_write(path: Path, write: Callable[[BinaryIO], None]) -> Path:
    """Write through ``write(fh)`` to a temporary file in the same folder, fsync, then rename over
    ``path``: a reader never sees half a file. Permissions follow the umask, like an ordinary file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write(path, lambda fh: fh.write(text.encode("utf-8")))


def atomic_write_json(path: Path, data: Any) -> None:
    atomic_write_text(path, json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False) + "\n")


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


class RunDir:
    """Layout of a replay's output folder::

        RUN_DIR/manifest.json                 how to reproduce the run
        RUN_DIR/sessions/<id>/original.json   the peer session, aligned to the replayed slots
        RUN_DIR/sessions/<id>/reconstruction.json
        RUN_DIR/sessions/<id>/timings.json    per-turn token counts and milliseconds (not reproducible)
    """

    def __init__(self, root: str | Path):
        self.root = Path(root)

    @property
    def manifest(self) -> Path:
        return self.root / "manifest.json"

    def session_dir(self, dialogue_id: str) -> Path:
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in dialogue_id)
        return self.root / "sessions" / safe

    def write_replay(self, result: Any) -> Path:
        """Write one replayed session; reconstruction.json last, so its presence means 'done'."""
        d = self.session_dir(result.original.dialogue_id)
        atomic_write_json(d / "timings.json", result.timings)
        atomic_write_json(d / "original.json", result.original.to_record())
        atomic_write_json(d / "reconstruction.json", result.reconstruction.to_record())
        return d

    def is_done(self, dialogue_id: str) -> bool:
        return (self.session_dir(dialogue_id) / "reconstruction.json").is_file()


def build_manifest(*, backend_info: dict[str, Any], protocol: Any, seed: int, args: dict[str, Any],
                   guidance: str = "") -> dict[str, Any]:
    """Everything needed to reproduce a run: model file and hash, library versions, seed, sampling, protocol."""
    import platform
    from importlib import metadata

    from helpert.graph.recovery import DEFAULT_RETRY

    def version(pkg: str) -> str | None:
        try:
            return metadata.version(pkg)
        except metadata.PackageNotFoundError:
            return None

    return {
        "helpert": version("helpert"),
        "model": backend_info,
        "seed": seed,
        "protocol": {"name": protocol.name, "source": protocol.source, "sha256": protocol.sha256},
        "guidance": guidance,
        "retry": DEFAULT_RETRY.as_dict(),
        "libraries": {p: version(p) for p in ("llama-cpp-python", "langgraph", "langchain-core", "langchain-community")},
        "python": platform.python_version(),
        "platform": platform.platform(),
        "args": args,
    }


class Journal:
    """Append-only record of a session's finished turns: one JSON line each, fsync'd, so a crash or
    Ctrl-C loses at most the turn in flight. A torn last line (killed mid-write) is ignored."""

    def __init__(self, path: Path):
        self.path = path

    def entries(self) -> list[dict[str, Any]]:
        if not self.path.is_file():
            return []
        out = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                break
        return out

    def append(self, entry: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(entry, ensure_ascii=False) + "\n")
            fh.flush()
            os.fsync(fh.fileno())

    def rewrite(self, entries: list[dict[str, Any]]) -> None:
        atomic_write_text(self.path, "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in entries))


class ErrorLog(Journal):
    """``errors.jsonl``: the run folder's current failures, one JSON line each. Several processes may
    share it (see :mod:`helpert.lease`), so every change holds an exclusive ``flock`` on a lock file
    beside it, and the same failure is never listed twice."""

    KEY = ("dialogue", "file", "stage")

    def _locked(self) -> Any:
        import fcntl
        from contextlib import contextmanager

        @contextmanager
        def lock() -> Any:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path.with_name(f".{self.path.name}.lock"), "a") as fh:
                fcntl.flock(fh, fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(fh, fcntl.LOCK_UN)

        return lock()

    def record(self, entry: dict[str, Any]) -> None:
        """Add a failure, replacing an earlier one for the same dialogue, file and stage."""
        key = tuple(entry.get(k) for k in self.KEY)
        with self._locked():
            kept = [e for e in self.entries() if tuple(e.get(k) for k in self.KEY) != key]
            self.rewrite([*kept, entry])

    def prune(self, drop: Callable[[dict[str, Any]], bool]) -> None:
        """Remove the entries ``drop`` says no longer hold (a session since finished; load errors a
        new run will find again)."""
        with self._locked():
            entries = self.entries()
            kept = [e for e in entries if not drop(e)]
            if kept != entries or not self.path.is_file():
                self.rewrite(kept)
