"""Corpus runs that never lose work: every dialogue of many files, in worker processes, resumable.

Each worker process loads its own model (a ``Llama`` is not thread-safe). With a server backend
(``--backend openai``) one process keeps ``concurrency`` sessions in flight on threads instead (the
work is waiting on the server), each session's turns in order. A session in progress keeps
a LangGraph SQLite checkpoint (routing state) and a journal of finished turns beside its outputs; a
finished session is marked by its ``reconstruction.json``. Running the same command again skips
finished sessions and continues half-done ones from their checkpoint, re-warming the model's cache so
the result is byte-identical to an uninterrupted run. A bad file or a failing session is recorded in
``errors.jsonl`` and the run goes on; a session that later finishes leaves that file.

Several processes may share one run folder (on one machine, or several over a shared filesystem):
each session is claimed with a lease (:mod:`helpert.replay.lease`) before it is touched, so every session is
replayed by one process, and one whose holder died is taken over. A process that finds the remaining
sessions held by others waits for them to finish (or to go stale) before it returns.
"""

from __future__ import annotations

import gc
import multiprocessing as mp
import queue
import sqlite3
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

from helpert.safety.policy import DEFAULT_POLICY
from helpert.replay.runs import ErrorLog, Journal, Manifest, Run
from helpert.session import Session

if TYPE_CHECKING:
    from helpert.io.roles import Speakers
    from helpert.protocols import Protocol
    from helpert.replay.graph.state import Reply
    from helpert.replay.lease import Lease
    from helpert.replay.llm import Backend, Sampling
    from helpert.replay.llm.openai_backend import ServerConfig
    from helpert.replay.settings import ReplaySettings

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
    guidance: str = ""          # rendered text appended to the system prompt (helpert.replay.guidance)
    guidance_name: str = ""
    guidance_sha256: str = ""
    risk_sensitivity: str = DEFAULT_POLICY  # safety policy of the router (helpert.safety.risk.SAFETY_POLICIES)
    base_url: tuple[str, ...] = ()     # --backend openai: server API root(s), one per replica
    served_model: str | None = None
    api_key_env: str | None = None
    request_retries: int = 4
    request_timeout: float = 120.0

    def __post_init__(self) -> None:
        from helpert.replay.llm.models import ModelError

        if self.backend == "openai" and not self.base_url:
            raise ModelError("--backend openai needs --base-url URL (e.g. http://127.0.0.1:8000/v1)")
        if self.backend != "openai" and (self.base_url or self.served_model or self.api_key_env):
            raise ModelError("--base-url, --served-model and --api-key-env need --backend openai")

    @property
    def server(self) -> ServerConfig | None:
        """The server settings of ``--backend openai`` (:class:`helpert.replay.llm.openai_backend.ServerConfig`)."""
        from helpert.replay.llm.openai_backend import ServerConfig

        if self.backend != "openai":
            return None
        return ServerConfig(base_urls=tuple(self.base_url), served_model=self.served_model, api_key_env=self.api_key_env,
                            max_retries=self.request_retries, timeout=self.request_timeout)

    @property
    def guidance_file(self) -> dict[str, str] | None:
        """The manifest's record of a ``--guidance`` file (None without one)."""
        return {"name": self.guidance_name, "sha256": self.guidance_sha256} if self.guidance_name else None

    @property
    def sampling(self) -> Sampling:
        from helpert.replay.llm import Sampling

        return Sampling(temperature=self.temperature, max_tokens=self.max_tokens)

    def replay_settings(self, protocol: Protocol) -> ReplaySettings:
        """What every replay of this run needs besides the model (``n_ctx`` and ``max_tokens`` go to
        the backend: :meth:`load_backend`)."""
        from helpert.replay.settings import ReplaySettings

        return ReplaySettings(protocol=protocol, seed=self.seed, max_turns=self.max_turns, guidance=self.guidance,
                              risk_sensitivity=self.risk_sensitivity)

    def load_backend(self, threads: int | None = None, sampling: Sampling | None = None,
                     model: str | None = None) -> Backend:
        """The model of these options (``sampling`` and ``model`` override this run's, e.g. for a
        simulated client)."""
        from helpert.replay.llm import load_backend

        return load_backend(model or self.model, backend=self.backend, n_ctx=self.n_ctx,
                            n_threads=self.threads if threads is None else threads,
                            sampling=sampling or self.sampling, seed=self.seed, server=self.server)


@dataclass
class BatchSummary:
    total: int = 0
    skipped: int = 0
    replayed: int = 0
    elsewhere: int = 0          # finished meanwhile by another process sharing the run folder
    failed: list[dict[str, Any]] = field(default_factory=list)
    requests: dict[str, Any] | None = None  # server backend: request/retry counters (RequestStats.as_dict)


class OptionError(ValueError):
    """Options that do not go together (e.g. ``--concurrency`` with a local model)."""


def load_corpus(paths: list[str], errors: Journal, dialogue: "str | Sequence[str] | None" = None,
                speakers: "Speakers | None" = None) -> list[Session]:
    """Every dialogue in the given files/folders (or just ``dialogue``: one id or several, in corpus order); a bad
    file is recorded and skipped, not fatal. ``speakers``: the transcripts' own speaker names mapped to roles
    (``--speaker``)."""
    from helpert.io import TranscriptError, first_few, iter_transcript_files, read_file

    sessions: list[Session] = []
    seen: set[str] = set()
    for f in iter_transcript_files(paths):
        try:
            found = read_file(f, speakers)
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
        wanted = [dialogue] if isinstance(dialogue, str) else list(dialogue)
        missing = [d for d in wanted if d not in seen]
        if missing:
            sample = ", ".join(s.dialogue_id for s in sessions[:5])
            names = first_few(repr(d) for d in missing)
            raise TranscriptError(paths[0], f"no dialogue with id {names} (ids look like: {sample})", field="dialogue_id")
        return [s for s in sessions if s.dialogue_id in set(wanted)]
    return sessions


# --- worker side -------------------------------------------------------------------------------------

_WORKER: dict[str, Any] = {}
POLL_S = 1.0  # how often a process re-checks sessions other processes hold


class Interrupted(RuntimeError):
    """The coordinator is stopping (Ctrl-C): threads end their session at the next turn."""


def _init_worker(options: RunOptions, threads: int, run_dir: str, events: Any, backend: Backend | None = None) -> None:
    """Build this worker's backend (once) and the settings every replay of the run shares."""
    from helpert.protocols import load_protocol
    from helpert.safety.risk import load_detector

    settings = options.replay_settings(load_protocol(options.protocol))
    if backend is None:
        load_detector(settings.risk_sensitivity)  # before the model: its loading's transient memory comes first
        backend = options.load_backend(threads)
    _WORKER.update(backend=backend, settings=settings, run=Run(run_dir), events=events, stop=threading.Event())


def _emit(event: Event) -> None:
    sink = _WORKER["events"]
    sink(event) if callable(sink) else sink.put(event)


def remove_checkpoint(ckpt: Path) -> None:
    """The SQLite checkpoint and its WAL side files (left by a killed process)."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{ckpt}{suffix}").unlink(missing_ok=True)


def _replay_one(record: dict[str, Any], k: int = 0) -> Event:
    """Claim, then replay (or resume) one session in this worker; never raises for a session's own
    failure. ``k`` (the session's place in the corpus) picks a server replica."""
    from helpert.replay.lease import LeaseLost, claim

    session = Session.from_record(record)
    run: Run = _WORKER["run"]
    d = run.session_dir(session.dialogue_id)
    if run.is_done(session.dialogue_id):
        return {"kind": "elsewhere", "dialogue": session.dialogue_id}
    lease, holder = claim(d)
    if lease is None:
        who = f"{holder.host}:{holder.pid}" if holder else "?"
        return {"kind": "held", "dialogue": session.dialogue_id, "holder": who}
    try:
        if run.is_done(session.dialogue_id):  # finished by another process since we listed it
            return {"kind": "elsewhere", "dialogue": session.dialogue_id}
        return _replay_claimed(session, d, lease, k)
    except LeaseLost:
        return {"kind": "held", "dialogue": session.dialogue_id, "holder": "taken over"}
    finally:
        lease.release()


def _replay_claimed(session: Session, d: Path, lease: Lease, k: int) -> Event:
    from langgraph.checkpoint.sqlite import SqliteSaver

    from helpert.replay.lease import LeaseLost
    from helpert.replay import StaleResume, replay_session

    run: Run = _WORKER["run"]
    settings: ReplaySettings = _WORKER["settings"]
    backend: Backend = _WORKER["backend"]
    stop: threading.Event = _WORKER["stop"]
    ckpt, journal = d / "checkpoint.sqlite", Journal(d / "journal.jsonl")

    def on_turn(k: int, n: int, reply: Reply) -> None:
        _emit({"kind": "turn", "dialogue": session.dialogue_id, "slot": k, "total": n,
               "tokens": reply.usage["completion_tokens"]})
        if lease.lost:
            raise LeaseLost(session.dialogue_id)
        if stop.is_set():
            raise Interrupted(session.dialogue_id)

    session_backend = replace(backend, chat=backend.chat_for(k))  # a server backend: the session's replica
    t0 = time.perf_counter()
    try:
        for attempt in range(2):
            conn = sqlite3.connect(ckpt, check_same_thread=False)
            try:
                backend.reset()
                result = replay_session(session, session_backend, settings, checkpointer=SqliteSaver(conn),
                                        journal=journal, on_turn=on_turn)
                break
            except StaleResume:
                if attempt:
                    raise
                conn.close()
                remove_checkpoint(ckpt)
                journal.path.unlink(missing_ok=True)
            finally:
                conn.close()
        if lease.lost:
            raise LeaseLost(session.dialogue_id)
        run.write_replay(result)
        remove_checkpoint(ckpt)
        journal.path.unlink(missing_ok=True)
    except (LeaseLost, Interrupted):
        raise
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

class _LoadErrors:
    """What :func:`load_corpus` reports, recorded in errors.jsonl and kept for the summary."""

    def __init__(self, log: ErrorLog):
        self.log, self.items = log, []

    def append(self, entry: dict[str, Any]) -> None:
        self.items.append(entry)
        self.log.record(entry)


def run_batch(paths: list[str], out: str | Path, options: RunOptions, *, workers: int = 1, concurrency: int = 1,
              dialogue: "str | Sequence[str] | None" = None, speakers: "Speakers | None" = None,
              on_event: Callable[[Event], None] = lambda e: None) -> BatchSummary:
    """Replay every dialogue under ``paths`` (or only ``dialogue``) into ``out``; returns what happened.
    Events for progress displays: ``planned``, ``loaded``, ``turn``, ``done``, ``failed``, ``elsewhere``
    (finished by another process), ``waiting`` (the rest is held by other processes)."""
    from helpert.replay.llm import default_threads, describe_model
    from helpert.protocols import load_protocol

    server = options.backend == "openai"
    if server and workers > 1:
        raise OptionError("--backend openai runs sessions on threads: use --concurrency N, not --workers")
    if not server and concurrency > 1:
        raise OptionError("--concurrency needs --backend openai (a local model runs one session at a time per "
                          "process: use --workers N)")
    protocol = load_protocol(options.protocol)
    threads = options.threads or max(1, default_threads() // workers)
    backend = None
    if server:
        backend = options.load_backend(threads)
        info = backend.info
    else:
        info = describe_model(options.model, backend=options.backend, n_ctx=options.n_ctx, n_threads=threads,
                              sampling=options.sampling)
    manifest = Manifest.build(
        backend_info=info, protocol=protocol, seed=options.seed, guidance=options.guidance,
        args={"paths": paths, "dialogue": dialogue, "max_turns": options.max_turns, "workers": workers,
              "concurrency": concurrency, "risk_sensitivity": options.risk_sensitivity,
              **({"speakers": dict(speakers)} if speakers else {})},
        guidance_file=options.guidance_file,
    )
    run = Run.create(out, manifest)
    errors = ErrorLog(run.root / "errors.jsonl")

    summary = BatchSummary()
    # load errors are found again below; a session finished since its failure is no longer failing
    errors.prune(lambda e: e.get("stage") == "load" or bool(e.get("dialogue") and run.is_done(e["dialogue"])))
    load_errors = _LoadErrors(errors)
    sessions = load_corpus(paths, load_errors, dialogue, speakers)  # type: ignore[arg-type]
    for e in load_errors.items:
        summary.failed.append(e)
        on_event({"kind": "failed", **e})
    todo = [s for s in sessions if not run.is_done(s.dialogue_id)]
    summary.total, summary.skipped = len(sessions), len(sessions) - len(todo)
    on_event({"kind": "planned", "total": len(sessions), "skipped": summary.skipped,
              "turns": sum(len(s.client_turns) for s in todo)})
    index = {s.dialogue_id: k for k, s in enumerate(sessions)}
    held: list[Event] = []

    def record(result: Event) -> None:
        kind = result["kind"]
        if kind == "held":
            held.append(result)
            return
        on_event(result)
        if kind == "failed":
            errors.record({k: result[k] for k in ("dialogue", "stage", "reason")})
            summary.failed.append(result)
        elif kind == "elsewhere":
            summary.elsewhere += 1
        else:
            errors.prune(lambda e: e.get("dialogue") == result["dialogue"])
            summary.replayed += 1

    loaded = False
    try:
        while todo:
            held.clear()
            if server:
                if not loaded:
                    _init_worker(options, threads, str(run.root), queue.Queue(), backend=backend)
                    on_event({"kind": "loaded"})
                _run_threads(todo, index, concurrency, on_event, record)
            elif workers <= 1 or len(todo) <= 1:
                if not loaded:
                    _init_worker(options, threads, str(run.root), on_event)
                    on_event({"kind": "loaded"})
                for s in todo:
                    record(_replay_one(s.to_record(), index[s.dialogue_id]))
            else:
                _run_pool(todo, options, threads, run, workers, on_event, record)
            loaded = True
            waiting = {h["dialogue"]: h["holder"] for h in held}
            todo = [s for s in todo if s.dialogue_id in waiting]
            for s in [s for s in todo if run.is_done(s.dialogue_id)]:
                record({"kind": "elsewhere", "dialogue": s.dialogue_id})
            todo = [s for s in todo if not run.is_done(s.dialogue_id)]
            if todo:
                on_event({"kind": "waiting", "sessions": len(todo), "holders": sorted(set(waiting.values()))})
                time.sleep(POLL_S)
    finally:
        if backend is not None and backend.stats is not None:
            summary.requests = backend.stats.as_dict()
            run.record_server_report(summary.requests)
        # the in-process worker's model goes with the run: what follows (`helpert replay` labels and compares) runs
        # without the chat model's weights and KV cache in memory (benchmarks/startup_memory.py)
        _WORKER.clear()
        gc.collect()  # the model's wrappers hold reference cycles: free its memory now, not at the next collection
    return summary


def _run_threads(todo: list[Session], index: dict[str, int], concurrency: int, on_event: Callable[[Event], None],
                 record: Callable[[Event], None]) -> None:
    """Sessions on threads against a server: ``concurrency`` in flight, each one's turns in order."""
    events: queue.Queue = _WORKER["events"]

    def drain() -> None:
        while True:
            try:
                on_event(events.get_nowait())
            except queue.Empty:
                return

    pool = ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(todo))), thread_name_prefix="session")
    pending = {pool.submit(_replay_one, s.to_record(), index[s.dialogue_id]) for s in todo}
    try:
        while pending:
            finished, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
            drain()
            for fut in finished:
                record(fut.result())
        drain()
    except BaseException:
        _WORKER["stop"].set()  # running sessions stop after their current turn (resumable)
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


def _run_pool(todo: list[Session], options: RunOptions, threads: int, run: Run, workers: int,
              on_event: Callable[[Event], None], record: Callable[[Event], None]) -> None:
    ctx = mp.get_context("spawn")
    with ctx.Manager() as manager:
        queue_ = manager.Queue()
        with ProcessPoolExecutor(max_workers=min(workers, len(todo)), mp_context=ctx, initializer=_init_worker,
                                 initargs=(options, threads, str(run.root), queue_)) as pool:
            pending = {pool.submit(_replay_one, s.to_record()) for s in todo}
            try:
                while pending:
                    finished, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
                    while not queue_.empty():
                        on_event(queue_.get())
                    for fut in finished:
                        record(fut.result())
                while not queue_.empty():
                    on_event(queue_.get())
            except BaseException:
                pool.shutdown(wait=False, cancel_futures=True)
                raise
