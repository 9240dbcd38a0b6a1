"""Replay (the HELPERT method): the client's turns verbatim, in order; each counselor turn generated
by the protocol graph. The original and the reconstruction come out aligned slot by slot.

A *slot* is one counselor turn: after each client block (and an opening one when the original begins
with the counselor). Consecutive same-speaker turns are merged first, so slot k of the original and
slot k of the reconstruction answer the same client words.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable

from helpert.session import Session, Turn, merge_consecutive


@dataclass
class Slot:
    client: Turn | None   # the client block this counselor turn answers (None for an opening turn)
    peer: Turn | None     # the original counselor's turn in this slot (None if the session ended)


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
        return sum(t["wall_ms"] for t in self.timings) / 1000


def slots_of(session: Session, max_turns: int | None = None) -> list[Slot]:
    turns = merge_consecutive(session.turns)
    slots: list[Slot] = []
    i = 0
    if turns and turns[0].role == "counselor":
        slots.append(Slot(client=None, peer=turns[0]))
        i = 1
    while i < len(turns):
        client = turns[i]
        peer = turns[i + 1] if i + 1 < len(turns) else None
        slots.append(Slot(client=client, peer=peer))
        i += 2
    return slots[:max_turns] if max_turns else slots


def aligned_original(session: Session, slots: list[Slot]) -> Session:
    """The original restricted to the replayed slots, each counselor turn tagged with its slot."""
    turns: list[Turn] = []
    for k, slot in enumerate(slots):
        if slot.client is not None:
            turns.append(slot.client.model_copy(update={"idx": len(turns)}))
        if slot.peer is not None:
            turns.append(slot.peer.model_copy(update={"idx": len(turns), "meta": {**slot.peer.meta, "slot": k}}))
    return session.model_copy(update={"turns": turns})


def replay_session(
    session: Session,
    *,
    chat: Any,
    protocol: Any,
    seed: int,
    max_tokens: int,
    n_ctx: int,
    count_tokens: Callable[[list[dict[str, str]]], int],
    guidance: str = "",
    max_turns: int | None = None,
    checkpointer: Any = None,
    on_turn: Callable[[int, int, dict[str, Any]], None] | None = None,
) -> ReplayResult:
    """Replay one session through a freshly compiled graph for ``protocol``.

    ``on_turn(slot, total, reply)`` is called after each generated turn (progress displays).
    """
    from langgraph.checkpoint.memory import InMemorySaver

    from helpert.graph.build import build_graph
    from helpert.graph.prompts import system_prompt
    from helpert.graph.state import TurnContext

    slots = slots_of(session, max_turns)
    if not slots:
        raise ValueError(f"{session.dialogue_id}: no client turn to replay")
    graph = build_graph(protocol, checkpointer=checkpointer or InMemorySaver())
    ctx = TurnContext(chat=chat, protocol=protocol, system_prompt=system_prompt(protocol, guidance), seed=seed,
                      max_tokens=max_tokens, n_ctx=n_ctx, count_tokens=count_tokens)
    config = {"configurable": {"thread_id": f"{session.dialogue_id}:{seed}"}, "recursion_limit": 8}
    turns: list[Turn] = []
    timings: list[dict[str, Any]] = []
    for k, slot in enumerate(slots):
        client_text = slot.client.text if slot.client else ""
        if slot.client is not None:
            turns.append(slot.client.model_copy(update={"idx": len(turns)}))
        t0 = time.perf_counter()
        state = graph.invoke({"slot": k, "total_slots": len(slots), "client_text": client_text}, config, context=ctx)
        wall_ms = (time.perf_counter() - t0) * 1000
        reply = state["reply"]
        ctx.history.append([*reply["messages"], {"role": "assistant", "content": reply["text"]}])
        turns.append(Turn(
            idx=len(turns), role="counselor", text=reply["text"],
            labels={"graph_phase": reply["phase"]},
            meta={"slot": k, "reason": reply["reason"], "flags": reply["flags"], "attempts": reply["attempts"],
                  "risk": reply["risk"], "usage": reply["usage"]},
        ))
        timings.append({"slot": k, "wall_ms": round(wall_ms, 1), **reply["usage"]})
        if on_turn:
            on_turn(k, len(slots), reply)
    original = aligned_original(session, slots)
    reconstruction = Session(
        dialogue_id=session.dialogue_id, turns=turns, dataset=session.dataset, language=session.language,
        source=session.source, meta={**session.meta, "reconstructed_by": "helpert", "protocol": protocol.name, "seed": seed},
    )
    return ReplayResult(original=original, reconstruction=reconstruction, timings=timings)
