"""Corpus runs that never lose work: every dialogue of many files, in worker processes, resumable.

Each worker process loads its own model (a ``Llama`` is not thread-safe). A session in progress keeps
a LangGraph SQLite checkpoint (routing state) and a journal of finished turns beside its outputs; a
finished session is marked by its ``reconstruction.json``. Running the same command again skips
finished sessions and continues half-done ones from their checkpoint, re-warming the model's cache so
the result is byte-identical to an uninterrupted run. A bad file or a failing session is recorded in
``errors.jsonl`` and the run goes on.
"""

from __future__ import annotations

import multiprocessing as mp
import sqlite3
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from helpert.runs import Journal, RunDir, atomic_write_json, build_manifest, read_json
from helpert.session import Session

Event = dict[str, Any]


@dataclass(frozen=True)
class RunOptions:
    model: str | None = None
    backend: str = "llama-cpp"
    protocol: str = "cbt_session"
    seed: int = 0
    max_turns: int | None = None
    n_ctx: int = 4096
    threads: int | None = None
    temperature: float = 0.7
    max_tokens: int = 96
    guidance: str = ""          # rendered text appended to the system prompt (helpert.guidance)
    guidance_name: str = ""
    guidance_sha256: str = ""
    risk_sensitivity: str = "stepped"  # safety policy of the router (helpert.label.risk.SAFETY_POLICIES)

    @property
    def sampling(self) -> Any:
        from helpert.llm import Sampling

        return Sampling(temperature=self.temperature, max_tokens=self.max_tokens)


@dataclass
class BatchSummary:
    total: int = 0
    skipped: int = 0
    replayed: int = 0
    failed: list[dict[str, Any]] = field(default_factory=list)


class ManifestMismatch(ValueError):
    """RUN_DIR was started with other settings: resuming it would mix two experiments."""


FINGERPRINT = ("model_sha256", "backend", "seed", "protocol_sha256", "sampling", "n_ctx", "max_turns", "guidance",
               "risk_sensitivity", "retry")


def fingerprint(manifest: dict[str, Any]) -> dict[str, Any]:
    m = manifest
    return {
        "model_sha256": m["model"]["model_sha256"], "backend": m["model"]["backend"], "seed": m["seed"],
        "protocol_sha256": m["protocol"]["sha256"], "sampling": m["model"]["sampling"], "n_ctx": m["model"]["n_ctx"],
        "max_turns": m["args"].get("max_turns"), "guidance": m.get("guidance", ""),
        "risk_sensitivity": m["args"].get("risk_sensitivity", "lexicon"),
        "retry": m.get("retry"),
    }


def load_corpus(paths: list[str], errors: Journal, dialogue: str | None = None) -> list[Session]:
    """Every dialogue in the given files/folders (or just ``dialogue``); a bad file is recorded and
    skipped, not fatal."""
    from helpert.io import TranscriptError, iter_transcript_files, read_file

    sessions: list[Session] = []
    seen: set[str] = set()
    for f in iter_transcript_files(paths):
        try:
            found = read_file(f)
        except TranscriptError as exc:
            errors.append({"dialogue": None, "file": str(f), "stage": "load", "reason": str(exc)})
            continue
        for s in found:
            if s.dialogue_id in seen:
                errors.append({"dialogue": s.dialogue_id, "file": str(f), "stage": "load",
                               "reason": f"duplicate dialogue_id {s.dialogue_id!r} (first one kept)"})
                continue
            seen.add(s.dialogue_id)
            sessions.append(s)
    if dialogue is not None:
        picked = [s for s in sessions if s.dialogue_id == dialogue]
        if not picked:
            sample = ", ".join(s.dialogue_id for s in sessions[:5])
            raise TranscriptError(paths[0], f"no dialogue with id {dialogue!r} (ids look like: {sample})", field="dialogue_id")
        return picked
    return sessions


# --- worker side -------------------------------------------------------------------------------------

_WORKER: dict[str, Any] = {}


def _init_worker(options: RunOptions, threads: int, run_dir: str, events: Any) -> None:
    from helpert.llm import load_backend
    from helpert.protocol import load_protocol

    _WORKER.update(
        backend=load_backend(options.model, backend=options.backend, n_ctx=options.n_ctx, n_threads=threads,
                             sampling=options.sampling, seed=options.seed),
        protocol=load_protocol(options.protocol), options=options, run=RunDir(run_dir), events=events,
    )


def _emit(event: Event) -> None:
    sink = _WORKER["events"]
    sink(event) if callable(sink) else sink.put(event)


def _replay_one(record: dict[str, Any]) -> Event:
    """Replay (or resume) one session in this worker; never raises for a session's own failure."""
    from langgraph.checkpoint.sqlite import SqliteSaver

    from helpert.replay import StaleResume, replay_session

    session = Session.from_record(record)
    run: RunDir = _WORKER["run"]
    opts: RunOptions = _WORKER["options"]
    backend = _WORKER["backend"]
    d = run.session_dir(session.dialogue_id)
    d.mkdir(parents=True, exist_ok=True)
    ckpt, journal = d / "checkpoint.sqlite", Journal(d / "journal.jsonl")

    def on_turn(k: int, n: int, reply: dict[str, Any]) -> None:
        _emit({"kind": "turn", "dialogue": session.dialogue_id, "slot": k, "total": n,
               "tokens": reply["usage"]["completion_tokens"]})

    t0 = time.perf_counter()
    try:
        for attempt in range(2):
            conn = sqlite3.connect(ckpt, check_same_thread=False)
            try:
                backend.reset()
                result = replay_session(
                    session, chat=backend.chat, protocol=_WORKER["protocol"], seed=opts.seed,
                    max_tokens=opts.max_tokens, n_ctx=opts.n_ctx, count_tokens=backend.count_tokens,
                    guidance=opts.guidance, max_turns=opts.max_turns, risk_sensitivity=opts.risk_sensitivity,
                    checkpointer=SqliteSaver(conn),
                    journal=journal, rewarm=backend.rewarm, on_turn=on_turn,
                )
                break
            except StaleResume:
                if attempt:
                    raise
                conn.close()
                ckpt.unlink(missing_ok=True)
                journal.path.unlink(missing_ok=True)
            finally:
                conn.close()
        run.write_replay(result)
        ckpt.unlink(missing_ok=True)
        journal.path.unlink(missing_ok=True)
    except Exception as exc:  # one session's failure must not stop the corpus
        return {"kind": "failed", "dialogue": session.dialogue_id, "stage": "replay",
                "reason": f"{type(exc).__name__}: {exc}"}
    resumed = sum(t["resumed"] for t in result.timings)
    flags = [t.meta.get("flags") or [] for t in result.reconstruction.counselor_turns]
    return {"kind": "done", "dialogue": session.dialogue_id, "turns": len(result.timings), "resumed_turns": resumed,
            "tokens": result.generated_tokens, "seconds": round(time.perf_counter() - t0, 2),
            "retried": sum(any(f.startswith("retry_") for f in fl) for fl in flags),
            "degenerate": sum("degenerate" in fl for fl in flags)}


# --- coordinator side -------------------------------------------------------------------------------

def run_batch(paths: list[str], out: str | Path, options: RunOptions, *, workers: int = 1, dialogue: str | None = None,
              on_event: Callable[[Event], None] = lambda e: None) -> BatchSummary:
    """Replay every dialogue under ``paths`` (or only ``dialogue``) into ``out``; returns what happened.
    Events for progress displays: ``planned``, ``loaded``, ``turn``, ``done``, ``failed``."""
    from helpert.llm import default_threads, describe_model
    from helpert.protocol import load_protocol

    run = RunDir(out)
    run.root.mkdir(parents=True, exist_ok=True)
    errors = Journal(run.root / "errors.jsonl")
    errors.rewrite([])
    protocol = load_protocol(options.protocol)
    threads = options.threads or max(1, default_threads() // workers)
    manifest = build_manifest(
        backend_info=describe_model(options.model, backend=options.backend, n_ctx=options.n_ctx, n_threads=threads,
                                    sampling=options.sampling),
        protocol=protocol, seed=options.seed, guidance=options.guidance,
        args={"paths": paths, "dialogue": dialogue, "max_turns": options.max_turns, "workers": workers,
              "risk_sensitivity": options.risk_sensitivity},
    )
    if options.guidance_name:
        manifest["guidance_file"] = {"name": options.guidance_name, "sha256": options.guidance_sha256}
    if run.manifest.is_file():
        old = fingerprint(read_json(run.manifest))
        new = fingerprint(manifest)
        diff = [k for k in FINGERPRINT if old.get(k) != new.get(k)]
        if diff:
            raise ManifestMismatch(f"{run.root} was started with different {', '.join(diff)}; use another --out")
    atomic_write_json(run.manifest, manifest)

    summary = BatchSummary()
    sessions = load_corpus(paths, errors, dialogue)
    for e in errors.entries():
        summary.failed.append(e)
        on_event({"kind": "failed", **e})
    todo = [s for s in sessions if not run.is_done(s.dialogue_id)]
    summary.total, summary.skipped = len(sessions), len(sessions) - len(todo)
    on_event({"kind": "planned", "total": len(sessions), "skipped": summary.skipped,
              "turns": sum(len(s.client_turns) for s in todo)})

    def record(result: Event) -> None:
        on_event(result)
        if result["kind"] == "failed":
            errors.append({k: result[k] for k in ("dialogue", "stage", "reason")})
            summary.failed.append(result)
        else:
            summary.replayed += 1

    if not todo:
        return summary
    if workers <= 1 or len(todo) <= 1:
        _init_worker(options, threads, str(run.root), on_event)
        on_event({"kind": "loaded"})
        for s in todo:
            record(_replay_one(s.to_record()))
    else:
        _run_pool(todo, options, threads, run, workers, on_event, record)
    return summary


def _run_pool(todo: list[Session], options: RunOptions, threads: int, run: RunDir, workers: int,
              on_event: Callable[[Event], None], record: Callable[[Event], None]) -> None:
    ctx = mp.get_context("spawn")
    with ctx.Manager() as manager:
        queue = manager.Queue()
        with ProcessPoolExecutor(max_workers=min(workers, len(todo)), mp_context=ctx, initializer=_init_worker,
                                 initargs=(options, threads, str(run.root), queue)) as pool:
            pending = {pool.submit(_replay_one, s.to_record()) for s in todo}
            try:
                while pending:
                    finished, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
                    while not queue.empty():
                        on_event(queue.get())
                    for fut in finished:
                        record(fut.result())
                while not queue.empty():
                    on_event(queue.get())
            except BaseException:
                pool.shutdown(wait=False, cancel_futures=True)
                raise
