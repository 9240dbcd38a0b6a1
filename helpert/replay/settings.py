"""What a replay needs besides the model: :class:`ReplaySettings`.

The model side (chat model, tokenizer, context size, generation budget) is the
:class:`helpert.replay.llm.Backend`; ``n_ctx`` and ``max_tokens`` come from there only, so the window
the graph fits and what the model may generate cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from helpert.replay.graph.recovery import DEFAULT_RETRY, RetryPolicy
from helpert.safety.policy import DEFAULT_POLICY

if TYPE_CHECKING:
    from helpert.protocols import Protocol


@dataclass(frozen=True)
class ReplaySettings:
    """The protocol and the run's choices, shared by :func:`helpert.replay.replay_session`,
    :func:`helpert.replay.simulate.simulate_session` and :func:`helpert.probe.fairness.run_fairness_probe`."""

    protocol: Protocol
    seed: int = 0
    max_turns: int | None = None           # counselor turns to replay (None: all)
    guidance: str = ""                     # rendered text appended to the system prompt (helpert.replay.guidance)
    risk_sensitivity: str = DEFAULT_POLICY  # the router's safety policy (helpert.safety.risk.SAFETY_POLICIES)
    retry: RetryPolicy = DEFAULT_RETRY     # how degenerate turns are retried (helpert.replay.graph.recovery)


__all__ = ["ReplaySettings"]
