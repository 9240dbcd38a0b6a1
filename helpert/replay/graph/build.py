"""Compile a :class:`~helpert.protocols.Protocol` into a LangGraph ``StateGraph``.

One invocation = one counselor turn: ``route`` decides the phase, then exactly one phase node (or
the safety node, whose words are scripted: :mod:`helpert.replay.graph.safety`) writes the reply. The graph is
built from the protocol data alone, so a new YAML file is a new graph.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from langgraph.runtime import Runtime

from helpert.replay.graph.prompts import phase_note, turn_messages
from helpert.replay.graph.recovery import Checked, generate_with_chat
from helpert.replay.graph.router import ClientTurn, Decision, RouterState, recent_context, step
from helpert.replay.graph.safety import scripted_reply
from helpert.replay.graph.window import fit_window, short_start, window_messages
from helpert.safety.templates import SAFETY_CHECK_NOTE, safety_note
from helpert.replay.graph.state import Reply, TurnContext, TurnState
from helpert.replay.llm.cleaning import clean_reply
from helpert.replay.llm.degenerate import Context
from helpert.protocols import SAFETY, Protocol

if TYPE_CHECKING:
    from langgraph.checkpoint.base import BaseCheckpointSaver
    from langgraph.graph.state import CompiledStateGraph

ROUTER = "route"
FALLBACK_REPLY = "Could you tell me a little more about that?"


def turn_seed(seed: int, slot: int, attempt: int) -> int:
    """Distinct, reproducible seed per (run seed, counselor turn, retry)."""
    return (seed * 1_000_003 + slot * 7_919 + attempt * 104_729) % (2**31 - 1)


def _route_node(state: TurnState, runtime: Runtime[TurnContext]) -> dict[str, Any]:
    ctx: TurnContext = runtime.context
    # the router's state: the checkpointed scalars, and the client's latest words from the driver's history
    before = RouterState(phase=state.get("phase"), phase_turns=state.get("phase_turns", 0),
                         resume_phase=state.get("resume_phase"), safety_check_score=state.get("safety_check_score"),
                         client_context=recent_context(ctx.client_said))
    turn = ClientTurn(slot=state["slot"], total_slots=state["total_slots"], text=state.get("client_text", ""))
    decision, after = step(ctx.protocol, before, turn, ctx.risk_sensitivity)
    update: dict[str, Any] = {"decision": decision, "phase": after.phase, "phase_turns": after.phase_turns}
    for key in ("resume_phase", "safety_check_score"):  # written when they change: smaller checkpoints
        if getattr(after, key) != getattr(before, key):
            update[key] = getattr(after, key)
    return update


def _generate(ctx: TurnContext, current: list[dict[str, str]], slot: int, start: int) -> tuple[Checked, int, list[dict[str, str]]]:
    """Generate, clean and check one counselor turn in the window that fits, retrying degenerate output
    (:func:`helpert.replay.graph.recovery.generate_with_chat`); the last retry may see a shortened window.
    Returns the kept attempt, the window's first exchange and the shortened window's."""
    fits = lambda msgs: ctx.count_tokens(msgs) + ctx.max_tokens <= ctx.n_ctx  # noqa: E731
    messages, start = fit_window(ctx.system_prompt, ctx.history, current, start, fits)
    short = short_start(ctx.history, start, ctx.retry.short_window)
    own = tuple(m["content"] for ex in ctx.history for m in ex if m["role"] == "assistant")
    other = tuple(ctx.client_said) + tuple(m["content"] for m in current if m["role"] == "user")
    checked = generate_with_chat(ctx.chat, messages, window_messages(ctx.system_prompt, ctx.history, short, current),
                                 seed=lambda attempt: turn_seed(ctx.seed, slot, attempt), clean=clean_reply,
                                 context=Context("counselor", own, other), policy=ctx.retry)
    return checked, start, short


def _make_phase_node(phase_id: str) -> Callable[..., dict[str, Any]]:
    def node(state: TurnState, runtime: Runtime[TurnContext]) -> dict[str, Any]:
        ctx: TurnContext = runtime.context
        decision: Decision = state["decision"]
        crisis = phase_id == SAFETY and decision.tier == "crisis"
        if phase_id == SAFETY:
            note = safety_note(decision.risk) if crisis else SAFETY_CHECK_NOTE
        else:
            note = phase_note(ctx.protocol.by_id[phase_id])
        current = turn_messages(state.get("client_text", ""), note)
        checked, start, short = _generate(ctx, current, state["slot"], state.get("window_start", 0))
        text, flags = checked.text, checked.flags
        if not text:
            text, flags = FALLBACK_REPLY, [*flags, "fallback"]
        if phase_id == SAFETY:  # vetted, scripted words; the model's sentence only when it passes the check
            text, flags = scripted_reply(text, flags, "crisis" if crisis else "check", decision.risk, state["slot"])
        reply = Reply(text=text, flags=flags, attempts=checked.attempts, usage=checked.usage, evaluated=checked.evaluated,
                      short_window=[short if w else None for w in checked.windows], slot=state["slot"], phase=phase_id,
                      reason=decision.reason, risk=decision.risk, tier=decision.tier, messages=current, window_start=start)
        return {"reply": reply, "window_start": start}

    node.__name__ = f"phase_{phase_id}"
    return node


def _with_graph_types(checkpointer: "BaseCheckpointSaver | None") -> "BaseCheckpointSaver | None":
    """The checkpointer, its serializer told the graph's own types (:class:`Decision`, :class:`Reply`):
    otherwise LangGraph reads them back with a warning that it means to block such types."""
    import copy

    from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

    if checkpointer is None or type(checkpointer.serde) is not JsonPlusSerializer:
        return checkpointer
    clone = copy.copy(checkpointer)
    clone.serde = JsonPlusSerializer(allowed_msgpack_modules=[(t.__module__, t.__name__) for t in (Decision, Reply)])
    return clone


def build_graph(proto: Protocol, checkpointer: "BaseCheckpointSaver | None" = None) -> "CompiledStateGraph":
    """The compiled graph: ``route`` → one of the phase nodes or ``safety`` → end."""
    from langgraph.graph import END, START, StateGraph

    builder = StateGraph(TurnState, context_schema=TurnContext)
    builder.add_node(ROUTER, _route_node)
    targets = [p.id for p in proto.phases] + [SAFETY]
    for target in targets:
        builder.add_node(target, _make_phase_node(target))
        builder.add_edge(target, END)
    builder.add_edge(START, ROUTER)
    builder.add_conditional_edges(ROUTER, lambda s: s["decision"].phase, {t: t for t in targets})
    return builder.compile(checkpointer=_with_graph_types(checkpointer), name=f"helpert:{proto.name}")
