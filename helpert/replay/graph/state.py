"""What the graph keeps between counselor turns: a few scalars, never the transcript; and what one turn
returns (:class:`Reply`) and leaves in the session's journal (:class:`TurnRecord`).

Checkpoints store the whole state at every step, so keeping the growing history here would make them
grow quadratically with session length; the history lives with the driver (``TurnContext.history``),
and each checkpoint holds only the routing state and the latest reply.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, Callable, TypedDict

from helpert.replay.graph.recovery import DEFAULT_RETRY, RetryPolicy
from helpert.replay.graph.router import Decision
from helpert.protocols import Protocol
from helpert.safety.policy import DEFAULT_POLICY


def _plain(value: Any) -> Any:
    """Tuples as JSON lists, recursively."""
    return [_plain(v) for v in value] if isinstance(value, (tuple, list)) else value


@dataclass(frozen=True)
class Reply:
    """One counselor turn as the graph answered it. :meth:`to_json` is its form in the journal (field
    order included, so a journal line is the same bytes as before this type existed)."""

    text: str
    flags: tuple[str, ...]
    attempts: int
    usage: dict[str, int]                  # prompt_tokens, cached_tokens, completion_tokens over all attempts
    evaluated: tuple[tuple[int, ...], ...]  # per attempt: generated tokens that entered the KV cache (exact resume)
    short_window: tuple[int | None, ...]   # per attempt: first exchange of its shortened window (None: the full one)
    slot: int
    phase: str
    reason: str                            # the router's Decision.reason
    risk: tuple[str, ...]                  # the router's Decision.risk
    tier: str                              # the router's Decision.tier ("" off the safety node)
    messages: tuple[dict[str, str], ...]   # what the turn adds to the prompt: the phase note, then the client's words
    window_start: int                      # first exchange of the history the prompt showed

    def __post_init__(self) -> None:  # JSON and checkpoints give lists back
        for name in ("flags", "short_window", "risk", "messages"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        object.__setattr__(self, "evaluated", tuple(tuple(e) for e in self.evaluated))

    @property
    def exchange(self) -> list[dict[str, str]]:
        """The messages this turn adds to the prompt history."""
        return [*self.messages, {"role": "assistant", "content": self.text}]

    def to_json(self) -> dict[str, Any]:
        return {f.name: _plain(getattr(self, f.name)) for f in fields(self)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Reply":
        return cls(**{**data, "short_window": data.get("short_window") or [None] * len(data["evaluated"])})


@dataclass(frozen=True)
class TurnRecord:
    """A finished counselor turn: one line of the session's journal (:class:`helpert.replay.runs.Journal`)."""

    slot: int
    reply: Reply
    wall_ms: float | None  # None: recovered from a checkpoint

    def to_json(self) -> dict[str, Any]:
        return {"slot": self.slot, "reply": self.reply.to_json(), "wall_ms": self.wall_ms}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "TurnRecord":
        return cls(slot=data["slot"], reply=Reply.from_json(data["reply"]), wall_ms=data["wall_ms"])


class TurnState(TypedDict, total=False):
    # input of each invocation
    slot: int
    total_slots: int
    client_text: str
    # routing state carried between invocations (helpert.replay.graph.router.RouterState, less the client's words)
    phase: str | None
    phase_turns: int
    resume_phase: str | None
    safety_check_score: float | None  # risk score of the turn that triggered the last safety question
    window_start: int
    # output of each invocation
    decision: Decision
    reply: Reply


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

    @property
    def client_said(self) -> list[str]:
        """The client's words of every past slot, in order (openings have none)."""
        return [m["content"] for exchange in self.history for m in exchange if m["role"] == "user"]
