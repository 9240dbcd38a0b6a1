"""Run folders: :class:`Run`, the one reader and writer of a replay's output folder, its typed
:class:`Manifest`, and the bookkeeping that never loses work (atomic writes, append-only journals)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, fields, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from helpert.io.atomic import atomic_write_json, atomic_write_text, read_json
from helpert.io.digest import file_sha256

if TYPE_CHECKING:
    from helpert.protocols import Protocol
    from helpert.replay import ReplayResult
    from helpert.replay.graph.recovery import RetryPolicy
    from helpert.session import Session


def run_folder_of(path: str | Path) -> Path | None:
    """The run folder that ``path`` is, or holds a part of (its ``sessions`` folder or one session's folder), else
    None. A run folder is a folder with ``manifest.json`` and a ``sessions`` folder (what :class:`Run` writes)."""
    path = Path(path)
    for root in (path, path.parent, path.parent.parent):
        if (root / "manifest.json").is_file() and (root / "sessions").is_dir() and (
                root == path or path.resolve().is_relative_to((root / "sessions").resolve())):
            return root
    return None


class NoPairsError(ValueError):
    """A run folder without a single complete (original, reconstruction) pair."""


class ManifestMismatch(ValueError):
    """RUN_DIR was started with other settings: resuming it would mix two experiments."""


@dataclass(frozen=True)
class ProtocolRef:
    """The protocol a run used: its name, the YAML it was read from (an absolute path) and that file's
    sha256, so a run finds its own protocol again rather than another one of the same name."""

    name: str = ""
    source: str = ""
    sha256: str = ""

    @classmethod
    def of(cls, protocol: "Protocol") -> "ProtocolRef":
        return cls(protocol.name, str(Path(protocol.source).resolve()) if protocol.source else "", protocol.sha256)

    @classmethod
    def from_json(cls, value: Any) -> "ProtocolRef | None":
        """``{"name", "source", "sha256"}`` as written today, or an old manifest's bare name."""
        if isinstance(value, str) and value:
            return cls(name=value)
        if isinstance(value, dict):
            return cls(**{k: str(value.get(k) or "") for k in ("name", "source", "sha256")})
        return None

    def to_json(self) -> dict[str, str]:
        return {"name": self.name, "source": self.source, "sha256": self.sha256}


# What must match for a run folder to be continued: one check for replay, batch, simulate and the probe.
FINGERPRINT = ("model_sha256", "served_model", "backend", "seed", "protocol_sha256", "sampling", "n_ctx", "max_turns",
               "guidance", "risk_sensitivity", "safety_detector", "retry", "client_model_sha256", "probe")


@dataclass(frozen=True)
class Manifest:
    """``manifest.json``: everything needed to reproduce a run. ``model`` is the backend's own
    description (model file and sha256, sampling, n_ctx, ...); ``mode`` is ``replay`` (also the probe's
    group folders) or ``simulate``; ``safety`` the crisis detector the router read client turns with
    (:func:`helpert.safety.identity.detector_identity`). Keys this version does not know are kept in ``extra``."""

    helpert: str | None = None
    model: dict[str, Any] = field(default_factory=dict)
    seed: int | None = None
    protocol: ProtocolRef | None = None
    guidance: str = ""
    retry: dict[str, Any] | None = None
    libraries: dict[str, Any] = field(default_factory=dict)
    python: str | None = None
    platform: str | None = None
    args: dict[str, Any] = field(default_factory=dict)
    guidance_file: dict[str, Any] | None = None
    mode: str = "replay"
    client_model: dict[str, Any] | None = None
    probe: dict[str, Any] | None = None
    safety: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def build(cls, *, backend_info: dict[str, Any], protocol: "Protocol", seed: int, args: dict[str, Any],
              guidance: str = "", retry: "RetryPolicy | None" = None, **rest: Any) -> "Manifest":
        """This machine's versions, the model, seed, protocol, crisis detector, retry policy (default: the graph's)
        and arguments; ``rest`` sets the optional fields (``guidance_file``, ``mode``, ``client_model``, ``probe``)."""
        import platform
        from importlib import metadata

        from helpert.replay.graph.recovery import DEFAULT_RETRY
        from helpert.safety.identity import detector_identity

        def version(pkg: str) -> str | None:
            try:
                return metadata.version(pkg)
            except metadata.PackageNotFoundError:
                return None

        return cls(helpert=version("helpert"), model=backend_info, seed=seed, protocol=ProtocolRef.of(protocol),
                   guidance=guidance, retry=(retry or DEFAULT_RETRY).as_dict(),
                   libraries={p: version(p) for p in ("llama-cpp-python", "langgraph", "langchain-core", "langchain-community")},
                   python=platform.python_version(), platform=platform.platform(), args=args, safety=detector_identity(),
                   **rest)

    @classmethod
    def from_json(cls, data: Any) -> "Manifest":
        if not isinstance(data, dict):
            raise ValueError("manifest.json: expected a JSON object")
        known = {f.name for f in fields(cls)} - {"extra", "protocol"}
        return cls(**{k: v for k, v in data.items() if k in known and v is not None},
                   protocol=ProtocolRef.from_json(data.get("protocol")),
                   extra={k: v for k, v in data.items() if k not in known and k != "protocol"})

    @classmethod
    def read(cls, path: Path) -> "Manifest":
        return cls.from_json(read_json(path))

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"helpert": self.helpert, "model": self.model, "seed": self.seed,
                               "protocol": self.protocol.to_json() if self.protocol else None, "guidance": self.guidance,
                               "retry": self.retry, "libraries": self.libraries, "python": self.python,
                               "platform": self.platform, "args": self.args}
        if self.guidance_file is not None:
            out["guidance_file"] = self.guidance_file
        if self.mode != "replay":
            out["mode"] = self.mode
        for key in ("client_model", "probe", "safety"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        return {**out, **self.extra}

    def fingerprint(self) -> dict[str, Any]:
        m = self.model
        return {
            "model_sha256": m.get("model_sha256"), "served_model": m.get("served_model"), "backend": m.get("backend"),
            "seed": self.seed, "protocol_sha256": self.protocol.sha256 if self.protocol else None,
            "sampling": m.get("sampling"), "n_ctx": m.get("n_ctx"), "max_turns": self.args.get("max_turns"),
            "guidance": self.guidance, "risk_sensitivity": self.args.get("risk_sensitivity", "lexicon"),
            "safety_detector": (self.safety or {}).get("sha256"), "retry": self.retry,
            "client_model_sha256": (self.client_model or {}).get("model_sha256"), "probe": self.probe,
        }

    def refuse_other_mode(self, mode: str, where: Path) -> None:
        if self.mode != mode:
            raise ManifestMismatch(f"{where} holds a {self.mode} run; use another --out")

    def check_continues(self, new: "Manifest", where: Path) -> None:
        """Raise :class:`ManifestMismatch` (one line naming what differs) unless ``new`` may continue
        the run this manifest describes."""
        self.refuse_other_mode(new.mode, where)
        old, now = self.fingerprint(), new.fingerprint()
        diff = [k for k in FINGERPRINT if old[k] != now[k]]
        if diff == ["safety_detector"] and old["safety_detector"] is None:
            raise ManifestMismatch(f"{where} was started by a helpert that did not record its crisis detector, so its "
                                   "replays cannot be shown to match this one's; use another --out")
        if diff:
            def shown(value: object) -> str:  # hashes and long settings cut to what a reader can compare
                text = json.dumps(value, sort_keys=True) if isinstance(value, (dict, list)) else repr(value)
                return text if len(text) <= 40 else text[:37] + "..."

            changes = ", ".join(f"{k} (run: {shown(old[k])}, now: {shown(now[k])})" for k in diff)
            raise ManifestMismatch(f"{where} was started with different {changes}; use another --out")


class Run:
    """The one reader and writer of a run folder::

        RUN_DIR/manifest.json                 how to reproduce the run (:class:`Manifest`)
        RUN_DIR/sessions/<id>/original.json   the peer session, aligned to the replayed slots
        RUN_DIR/sessions/<id>/reconstruction.json
        RUN_DIR/sessions/<id>/timings.json    per-turn token counts and milliseconds (not reproducible)
        RUN_DIR/comparison.csv, corpus.json   the comparison (:meth:`helpert.compare.ComparedRun.comparison`)

    Writers start with :meth:`create` (which refuses a folder begun with other settings); readers
    with :meth:`open`. A reader's session pairs and protocol are read once and kept on the object; its
    labelled pairs and comparison belong to the compare stage (:class:`helpert.compare.ComparedRun`, a
    :class:`Run` that computes them once, so one command labels a run once however many views it draws).
    """

    def __init__(self, root: str | Path, protocol: "Protocol | None" = None):
        self.root = Path(root)
        self._protocol = protocol

    @classmethod
    def create(cls, root: str | Path, manifest: Manifest, protocol: "Protocol | None" = None) -> "Run":
        """Start (or continue) a run in ``root``: an existing manifest must describe the same settings."""
        run = cls(root, protocol)
        run.root.mkdir(parents=True, exist_ok=True)
        if run.manifest_path.is_file():
            Manifest.read(run.manifest_path).check_continues(manifest, run.root)
        run._write_manifest(manifest)
        return run

    @classmethod
    def open(cls, root: "str | Path | Run", protocol: "Protocol | None" = None) -> "Run":
        """A run folder to read; ``protocol`` overrides the one the manifest records. A :class:`Run`
        is returned as it is (with its cached results) unless another protocol is asked for."""
        if isinstance(root, cls):
            return root if protocol is None else cls(root.root, protocol)
        if isinstance(root, Run):  # a plain Run opened as a subclass (helpert.compare.ComparedRun)
            return cls(root.root, protocol or root._protocol)
        return cls(root, protocol)

    # --- layout and writing -------------------------------------------------------------------------

    @property
    def manifest_path(self) -> Path:
        return self.root / "manifest.json"

    @cached_property
    def manifest(self) -> Manifest:
        """The recorded manifest (an empty one when the folder has none)."""
        return Manifest.read(self.manifest_path) if self.manifest_path.is_file() else Manifest()

    def _write_manifest(self, manifest: Manifest) -> None:
        atomic_write_json(self.manifest_path, manifest.to_json())
        self.__dict__["manifest"] = manifest

    def record_server_report(self, stats: dict[str, Any]) -> None:
        """What the server said about itself and how many requests were retried, into the manifest
        (the last process to finish writes it)."""
        try:
            manifest = Manifest.read(self.manifest_path)
        except (OSError, ValueError):
            return
        self._write_manifest(replace(manifest, model={**manifest.model, "server_reported": stats}))

    def session_dir(self, dialogue_id: str) -> Path:
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in dialogue_id)
        return self.root / "sessions" / safe

    def slug(self, dialogue_id: str) -> str:
        """The session's folder name (safe as a file name and an HTML id)."""
        return self.session_dir(dialogue_id).name

    def write_replay(self, result: "ReplayResult") -> Path:
        """Write one replayed session; reconstruction.json last, so its presence means 'done'."""
        d = self.session_dir(result.original.dialogue_id)
        atomic_write_json(d / "timings.json", result.timings)
        atomic_write_json(d / "original.json", result.original.to_record())
        atomic_write_json(d / "reconstruction.json", result.reconstruction.to_record())
        return d

    def is_done(self, dialogue_id: str) -> bool:
        return (self.session_dir(dialogue_id) / "reconstruction.json").is_file()

    # --- reading ------------------------------------------------------------------------------------

    @cached_property
    def _sessions(self) -> tuple[list[tuple[Session, Session]], list[str]]:
        pairs, skipped = [], []
        base = self.root / "sessions"
        for folder in sorted(p for p in base.iterdir() if p.is_dir()) if base.is_dir() else []:
            orig, recon = folder / "original.json", folder / "reconstruction.json"
            if orig.is_file() and recon.is_file():
                pairs.append((_one_session(orig), _one_session(recon)))
            else:
                skipped.append(folder.name)
        return pairs, skipped

    def pairs(self) -> list[tuple[Session, Session]]:
        """(original, reconstruction) of every finished session, in folder order, as written.
        Raises :class:`NoPairsError` when there is none."""
        pairs = self._sessions[0]
        if not pairs:
            raise NoPairsError(f"{self.root}: no session folder with both original.json and reconstruction.json")
        return pairs

    @property
    def skipped(self) -> list[str]:
        """Session folders lacking original.json or reconstruction.json (unfinished)."""
        return self._sessions[1]

    def protocol(self) -> "Protocol":
        """The protocol the run used: the file the manifest names, if its sha256 still matches; when
        that file is gone, a protocol of the same name whose file has that sha256 (the shipped one, or
        one in the search folders). Anything else is a :class:`ProtocolError` (one line). Manifests
        without a sha256 (older, hand-written) name their protocol only: it is loaded by that name."""
        if self._protocol is None:
            self._protocol = self._recorded_protocol()
        return self._protocol

    def _recorded_protocol(self) -> "Protocol":
        from helpert.protocols import ProtocolError, load_protocol, protocol_dirs

        ref = self.manifest.protocol
        if ref is None or not ref.name:
            pairs = self._sessions[0]
            name = pairs[0][1].meta.get("protocol") if pairs else None
            return load_protocol(name if isinstance(name, str) and name else "cbt_session")
        if not ref.sha256:
            return load_protocol(ref.source if ref.source and Path(ref.source).is_file() else ref.name)
        if ref.source and Path(ref.source).is_file():
            protocol = load_protocol(ref.source)
            if protocol.sha256 != ref.sha256:
                raise ProtocolError(f"{self.root}: the run's protocol {ref.source} has changed since (sha256 "
                                    f"{protocol.sha256[:12]}…, the run used {ref.sha256[:12]}…); restore it or pass --protocol")
            return protocol
        for candidate in (d / f"{ref.name}.yaml" for d in protocol_dirs()):
            if candidate.is_file() and file_sha256(candidate) == ref.sha256:
                return load_protocol(candidate)
        where = f"not at {ref.source}" if ref.source else "recorded without its file"
        raise ProtocolError(f"{self.root}: the run's protocol '{ref.name}' (sha256 {ref.sha256[:12]}…) is {where}, and "
                            f"no protocol of that name has that sha256; pass --protocol")


def _one_session(path: Path) -> Session:
    from helpert.io import TranscriptError, read_file

    sessions = read_file(path)
    if len(sessions) != 1:
        raise TranscriptError(path, f"expected one session, found {len(sessions)}")
    return sessions[0]


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
    share it (see :mod:`helpert.replay.lease`), so every change holds an exclusive ``flock`` on a lock file
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
