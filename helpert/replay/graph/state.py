"""What the graph keeps between counselor turns: a few scalars, never the transcript.

Checkpoints store the whole state at every step, so keeping the growing history here would make them
grow quadratically with session length; the history lives with the driver (``TurnContext.history``),
and each checkpoint holds only the routing state and the latest reply.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, TypedDict

from helpert.replay.graph.recovery import DEFAULT_RETRY, RetryPolicy
from helpert.protocols import Protocol
from helpert.safety.policy import DEFAULT_POLICY


class TurnState(TypedDict, total=False):
    # input of each invocation
    slot: int
    total_slots: int
    client_text: str
    # routing state carried between invocations
    phase: str | None
    phase_turns: int
    resume_phase: str | None
    safety_check_score: float  # risk score of the turn that triggered the last safety question (helpert.replay.graph.router)
    window_start: int
    # output of each invocation
    decision: dict[str, Any]
    reply: dict[str, Any]


@dataclass
class TurnContext:
    """Run-scoped dependencies handed to the nodes: model, protocol and the prompt history."""

    chat: Any  # a LangChain BaseChatModel
    protocol: Protocol
    system_prompt: str
    seed: int
    max_tokens: int
    n_ctx: int
    count_tokens: Callable[[list[dict[str, str]]], int]
    history: list[list[dict[str, str]]] = field(default_factory=list)  # one message list per past slot
    retry: RetryPolicy = DEFAULT_RETRY  # how degenerate output is retried (helpert.replay.graph.recovery)
    risk_sensitivity: str = DEFAULT_POLICY  # the router's safety policy (helpert.safety.risk.SAFETY_POLICIES)
