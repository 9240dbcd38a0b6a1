"""Replay (the HELPERT method): the client's turns verbatim, in order; each counselor turn generated
by the protocol graph. The original and the reconstruction come out aligned slot by slot.

A *slot* is one counselor turn: after each client block (and an opening one when the original begins
with the counselor). Consecutive same-speaker turns are merged first, so slot k of the original and
slot k of the reconstruction answer the same client words (:func:`helpert.session.slots_of`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from helpert.replay.settings import ReplaySettings
from helpert.session import Session, Slot, Turn, merge_consecutive, slots_of

if TYPE_CHECKING:
    from langgraph.checkpoint.base import BaseCheckpointSaver
    from langgraph.graph.state import CompiledStateGraph

    from helpert.replay.graph.state import Reply, TurnContext, TurnRecord
    from helpert.replay.llm import Backend
    from helpert.replay.runs import Journal


@dataclass
class ReplayResult:
    original: Session        # merged and, with max_turns, truncated to the replayed slots
    reconstruction: Session
    timings: list[dict[str, Any]] = field(default_factory=list)  # per slot; kept apart: not reproducible

    @property
    def generated_tokens(self) -> int:
        return sum(t["completion_tokens"] for t in self.timings)

    @property
    def seconds(self) -> float:
        return sum(t["wall_ms"] or 0 for t in self.timings) / 1000




def aligned_original(session: Session, slots: list[Slot]) -> Session:
    """The original restricted to the replayed slots, each counselor turn tagged with its slot."""
    turns: list[Turn] = []
    for k, slot in enumerate(slots):
        if slot.client is not None:
            turns.append(slot.client.model_copy(update={"idx": len(turns)}))
        if slot.peer is not None:
            turns.append(slot.peer.model_copy(update={"idx": len(turns), "meta": {**slot.peer.meta, "slot": k}}))
    return session.model_copy(update={"turns": turns})


def turn_from_record(record: TurnRecord, idx: int) -> Turn:
    """The reconstruction's counselor turn for one finished graph invocation."""
    reply = record.reply
    return Turn(
        idx=idx, role="counselor", text=reply.text, labels={"graph_phase": reply.phase},
        meta={"slot": record.slot, "reason": reply.reason, "flags": list(reply.flags), "attempts": reply.attempts,
              "risk": list(reply.risk), "safety_tier": reply.tier, "usage": dict(reply.usage)},
    )


def rewarm_cache(rewarm: Callable[[list[dict[str, str]], list[int]], None], system: str, records: list[TurnRecord]) -> None:
    """Rebuild the model's KV cache for resumed turns by re-running exactly the evaluations the
    original run made (every attempt of every turn, each with the window it saw), so the next turn
    sees identical state."""
    from helpert.replay.graph.window import window_messages

    history = [r.reply.exchange for r in records]
    for j, record in enumerate(records):
        reply = record.reply
        for evaluated, short_start in zip(reply.evaluated, reply.short_window):
            start = reply.window_start if short_start is None else short_start
            rewarm(window_messages(system, history[:j], start, reply.messages), list(evaluated))


def _resumable(graph: CompiledStateGraph, config: dict[str, Any], journal: Journal | None) -> tuple[list[TurnRecord], dict[str, Any]]:
    """Finished turns to resume from, and the config of the checkpoint that ends the last of them.

    LangGraph checkpoints after every node, so a kill can leave a checkpoint in the middle of a turn
    (routed, not answered); resuming from that would route the turn twice. We fork instead from the
    newest checkpoint that ends a turn. The journal is reconciled with it: the turn the checkpoint
    holds but the journal missed (killed between the two writes) is added; turns journaled after that
    checkpoint are dropped and regenerated (identically, from the same seed and cache state).
    """
    from helpert.replay.graph.state import Reply, TurnRecord

    done = [TurnRecord.from_json(e) for e in journal.entries()] if journal else []
    history = list(graph.get_state_history(config))
    snap = next((h for h in history if not h.next and h.values.get("reply")), None)
    if snap is None:
        if history or done:
            raise StaleResume("a turn was interrupted before any turn finished")
        return [], config
    reply = snap.values["reply"]
    if isinstance(reply, dict):  # a checkpoint written before replies were typed
        reply = Reply.from_json(reply)
    slot = reply.slot
    if slot > len(done):
        raise StaleResume(f"checkpoint at turn {slot}, journal at {len(done) - 1}")
    if slot == len(done):
        record = TurnRecord(slot=slot, reply=reply, wall_ms=None)
        journal.append(record.to_json())
        done.append(record)
    elif slot < len(done) - 1:
        done = done[: slot + 1]
        journal.rewrite([r.to_json() for r in done])
    return done, {**config, "configurable": {**config["configurable"], **snap.config["configurable"]}}


class StaleResume(RuntimeError):
    """A checkpoint and a journal that do not belong together: the caller clears both and starts over."""


@dataclass
class Counselor:
    """The compiled protocol graph of one session with its prompt history: :meth:`turn` is one
    counselor turn (one graph invocation). Replay feeds it the transcript's client words;
    :mod:`helpert.replay.simulate` feeds it a client model's."""

    graph: CompiledStateGraph
    ctx: TurnContext
    config: dict[str, Any]

    @classmethod
    def start(cls, thread_id: str, backend: Backend, settings: ReplaySettings, *,
              checkpointer: BaseCheckpointSaver | None = None) -> "Counselor":
        """A counselor on ``backend``'s chat model, its window sized by the backend's ``n_ctx`` and ``max_tokens``."""
        from langgraph.checkpoint.memory import InMemorySaver

        from helpert.replay.graph.build import build_graph
        from helpert.replay.graph.prompts import system_prompt
        from helpert.replay.graph.state import TurnContext

        protocol = settings.protocol
        graph = build_graph(protocol, checkpointer=checkpointer or InMemorySaver())
        ctx = TurnContext(chat=backend.chat, protocol=protocol, system_prompt=system_prompt(protocol, settings.guidance),
                          seed=settings.seed, max_tokens=backend.max_tokens, n_ctx=backend.n_ctx,
                          count_tokens=backend.count_tokens, risk_sensitivity=settings.risk_sensitivity,
                          retry=settings.retry)
        return cls(graph=graph, ctx=ctx, config={"configurable": {"thread_id": thread_id}, "recursion_limit": 8})

    def turn(self, slot: int, total: int, client_text: str, config: dict[str, Any] | None = None) -> TurnRecord:
        """Route and answer ``client_text`` ("" for an opening turn); returns the turn's journal record."""
        from helpert.replay.graph.state import TurnRecord

        t0 = time.perf_counter()
        state = self.graph.invoke({"slot": slot, "total_slots": total, "client_text": client_text},
                                  config or self.config, context=self.ctx, durability="sync")
        record = TurnRecord(slot=slot, reply=state["reply"], wall_ms=round((time.perf_counter() - t0) * 1000, 1))
        self.ctx.history.append(record.reply.exchange)
        return record


def replay_session(
    session: Session,
    backend: Backend,
    settings: ReplaySettings,
    *,
    checkpointer: BaseCheckpointSaver | None = None,
    journal: Journal | None = None,
    on_turn: Callable[[int, int, Reply], None] | None = None,
) -> ReplayResult:
    """Replay one session through a freshly compiled graph for ``settings.protocol`` on ``backend``
    (its chat model, tokenizer, ``n_ctx`` and ``max_tokens``; not reset here).

    With a ``checkpointer`` (LangGraph) and a ``journal`` (:class:`helpert.replay.runs.Journal`) a session
    interrupted at any point continues where it stopped; with the backend's ``rewarm`` (llama-cpp) the
    continued turns are byte-identical to an uninterrupted run. ``on_turn(slot, total, reply)`` reports progress.
    """
    slots = slots_of(session, settings.max_turns)
    if not slots:
        raise ValueError(f"{session.dialogue_id}: no client turn to replay")
    counselor = Counselor.start(f"{session.dialogue_id}:{settings.seed}", backend, settings, checkpointer=checkpointer)
    config = counselor.config
    done, resume_config = _resumable(counselor.graph, config, journal) if checkpointer is not None else ([], config)
    if done and backend.rewarm:
        rewarm_cache(backend.rewarm, counselor.ctx.system_prompt, done)
    counselor.ctx.history = [r.reply.exchange for r in done]
    turns: list[Turn] = []
    timings: list[dict[str, Any]] = []
    for k, slot in enumerate(slots):
        if slot.client is not None:
            turns.append(slot.client.model_copy(update={"idx": len(turns)}))
        if k < len(done):
            record = done[k]
        else:
            record = counselor.turn(k, len(slots), slot.client.text if slot.client else "",
                                    resume_config if k == len(done) else None)
            if journal is not None:
                journal.append(record.to_json())
            if on_turn:
                on_turn(k, len(slots), record.reply)
        turns.append(turn_from_record(record, len(turns)))
        timings.append({"slot": k, "wall_ms": record.wall_ms, "resumed": k < len(done), **record.reply.usage})
    original = aligned_original(session, slots)
    reconstruction = Session(
        dialogue_id=session.dialogue_id, turns=turns, dataset=session.dataset, language=session.language,
        source=session.source,
        meta={**session.meta, "reconstructed_by": "helpert", "protocol": settings.protocol.name, "seed": settings.seed},
    )
    return ReplayResult(original=original, reconstruction=reconstruction, timings=timings)
