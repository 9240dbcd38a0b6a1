"""Compile a :class:`~helpert.protocols.Protocol` into a LangGraph ``StateGraph``.

One invocation = one counselor turn: ``route`` decides the phase, then exactly one phase node (or
the safety node, whose words are scripted: :mod:`helpert.replay.graph.safety`) writes the reply. The graph is
built from the protocol data alone, so a new YAML file is a new graph.
"""

from __future__ import annotations

from typing import Any, Callable

from langgraph.runtime import Runtime

from helpert.replay.graph.prompts import phase_note, turn_messages
from helpert.replay.graph.recovery import generate_checked
from helpert.replay.graph.router import RouteInput, route
from helpert.replay.graph.safety import scripted_reply
from helpert.safety.templates import SAFETY_CHECK_NOTE, safety_note
from helpert.replay.graph.state import TurnContext, TurnState
from helpert.safety.risk import CONTEXT_TURNS
from helpert.replay.llm.cleaning import clean_reply
from helpert.replay.llm.degenerate import Context
from helpert.protocols import SAFETY, Protocol

ROUTER = "route"
FALLBACK_REPLY = "Could you tell me a little more about that?"


def turn_seed(seed: int, slot: int, attempt: int) -> int:
    """Distinct, reproducible seed per (run seed, counselor turn, retry)."""
    return (seed * 1_000_003 + slot * 7_919 + attempt * 104_729) % (2**31 - 1)


def _route_node(state: TurnState, runtime: Runtime[TurnContext]) -> dict[str, Any]:
    ctx: TurnContext = runtime.context
    prev = state.get("phase")
    # the client's earlier turns come from the driver's history (nothing more in the checkpoints)
    earlier = [m["content"] for exchange in ctx.history for m in exchange if m["role"] == "user"]
    decision = route(
        ctx.protocol,
        RouteInput(
            phase=prev, phase_turns=state.get("phase_turns", 0), resume_phase=state.get("resume_phase"),
            slot=state["slot"], total_slots=state["total_slots"], client_text=state.get("client_text", ""),
            risk_sensitivity=ctx.risk_sensitivity, safety_check_score=state.get("safety_check_score"),
            client_context=tuple(earlier[max(0, len(earlier) - CONTEXT_TURNS):]),
        ),
    )
    update: dict[str, Any] = {
        "decision": {"phase": decision.phase, "reason": decision.reason, "risk": list(decision.risk), "tier": decision.tier},
        "phase": decision.phase,
        "phase_turns": state.get("phase_turns", 0) + 1 if decision.phase == prev else 1,
    }
    if decision.phase == SAFETY:
        if decision.tier == "check":
            update["safety_check_score"] = decision.score
        if prev != SAFETY:
            update["resume_phase"] = prev
    return update


def _fit_window(ctx: TurnContext, current: list[dict[str, str]], start: int) -> tuple[list[dict[str, str]], int]:
    """Drop the oldest half of the visible history until the prompt fits; moving the window in big
    steps keeps the cached prefix valid for many turns between moves."""
    system = [{"role": "system", "content": ctx.system_prompt}]
    while True:
        visible = [m for exchange in ctx.history[start:] for m in exchange]
        messages = system + visible + current
        if ctx.count_tokens(messages) + ctx.max_tokens <= ctx.n_ctx or start >= len(ctx.history):
            return messages, start
        start += max(1, (len(ctx.history) - start) // 2)


def _generate(ctx: TurnContext, messages: list[dict[str, str]], current: list[dict[str, str]], slot: int,
              start: int) -> dict[str, Any]:
    """Generate, clean and check one counselor turn, retrying degenerate output
    (:func:`helpert.replay.graph.recovery.generate_checked`); the last retry may see a shortened window."""
    from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

    types = {"system": SystemMessage, "user": HumanMessage, "assistant": AIMessage}
    own = tuple(m["content"] for ex in ctx.history for m in ex if m["role"] == "assistant")
    other = tuple(m["content"] for ex in ctx.history for m in ex if m["role"] == "user")
    client_now = tuple(m["content"] for m in current if m["role"] == "user")
    short_start = max(start, len(ctx.history) - ctx.retry.short_window)

    def invoke(attempt: int, controls: Any, shortened: bool) -> tuple[str, dict[str, Any]]:
        msgs = messages
        if shortened:
            visible = [m for exchange in ctx.history[short_start:] for m in exchange]
            msgs = [messages[0], *visible, *current]
        lc = [types[m["role"]](m["content"]) for m in msgs]
        kwargs = {"controls": controls} if controls is not None and getattr(ctx.chat, "accepts_controls", False) else {}
        out = ctx.chat.invoke(lc, seed=turn_seed(ctx.seed, slot, attempt), **kwargs)
        return str(out.content), out.response_metadata or {}

    checked = generate_checked(invoke, clean_reply, Context("counselor", own, other + client_now), ctx.retry)
    text, flags = checked.text, checked.flags
    if not text:
        text = FALLBACK_REPLY
        flags.append("fallback")
    return {"text": text, "flags": flags, "attempts": checked.attempts, "usage": checked.usage,
            "evaluated": checked.evaluated, "short_window": [short_start if w else None for w in checked.windows]}


def _make_phase_node(phase_id: str) -> Callable[..., dict[str, Any]]:
    def node(state: TurnState, runtime: Runtime[TurnContext]) -> dict[str, Any]:
        ctx: TurnContext = runtime.context
        decision = state["decision"]
        crisis = phase_id == SAFETY and decision.get("tier", "crisis") == "crisis"
        if phase_id == SAFETY:
            note = safety_note(tuple(decision.get("risk", ()))) if crisis else SAFETY_CHECK_NOTE
        else:
            note = phase_note(ctx.protocol.by_id[phase_id])
        current = turn_messages(state.get("client_text", ""), note)
        messages, start = _fit_window(ctx, current, state.get("window_start", 0))
        reply = _generate(ctx, messages, current, state["slot"], start)
        if phase_id == SAFETY:  # vetted, scripted words; the model's sentence only when it passes the check
            reply["text"], reply["flags"] = scripted_reply(reply["text"], reply["flags"], "crisis" if crisis else "check",
                                                           decision.get("risk", ()), state["slot"])
        reply.update(slot=state["slot"], phase=phase_id, reason=decision["reason"], risk=decision.get("risk", []), tier=decision.get("tier", ""),
                     messages=current, window_start=start)
        return {"reply": reply, "window_start": start}

    node.__name__ = f"phase_{phase_id}"
    return node


def build_graph(proto: Protocol, checkpointer: Any = None) -> Any:
    """The compiled graph: ``route`` → one of the phase nodes or ``safety`` → end."""
    from langgraph.graph import END, START, StateGraph

    builder = StateGraph(TurnState, context_schema=TurnContext)
    builder.add_node(ROUTER, _route_node)
    targets = [p.id for p in proto.phases] + [SAFETY]
    for target in targets:
        builder.add_node(target, _make_phase_node(target))
        builder.add_edge(target, END)
    builder.add_edge(START, ROUTER)
    builder.add_conditional_edges(ROUTER, lambda s: s["decision"]["phase"], {t: t for t in targets})
    return builder.compile(checkpointer=checkpointer, name=f"helpert:{proto.name}")
