"""The prompt window, one rule for both speakers: the system prompt, the visible part of the history, the
current messages. The counselor's phase nodes (:mod:`helpert.replay.graph.build`) and the simulated client
(:mod:`helpert.replay.simulate`) both use it.

The history is a list of units: the counselor's holds one unit per past exchange (note, client words, reply);
the simulated client's one unit per message, two to an exchange. When the prompt would not fit, the window
drops the oldest half of the visible history, in whole exchanges: moving it in big steps keeps the cached
prefix valid for many turns between moves. The last retry of a degenerate turn may see a shortened window:
only the latest exchanges (:meth:`helpert.replay.graph.recovery.RetryPolicy.shortened`).
"""

from __future__ import annotations

from typing import Callable, Sequence

Message = dict[str, str]


def window_messages(system: str, units: Sequence[Sequence[Message]], start: int, current: Sequence[Message] = ()) -> list[Message]:
    """The prompt: the system prompt, the history's units from ``start`` on, the current messages."""
    return [{"role": "system", "content": system}, *(m for unit in units[start:] for m in unit), *current]


def fit_window(system: str, units: Sequence[Sequence[Message]], current: Sequence[Message], start: int,
               fits: Callable[[list[Message]], bool], *, per_exchange: int = 1, keep: int = 0) -> tuple[list[Message], int]:
    """The prompt and its window's first unit, at or after ``start``: the oldest half of the visible units is
    dropped (``per_exchange`` units at a time) until ``fits(prompt)`` or only ``keep`` units are left."""
    while True:
        messages = window_messages(system, units, start, current)
        if fits(messages) or start >= len(units) - keep:
            return messages, start
        n = max(per_exchange, (len(units) - start) // 2)
        start += n - n % per_exchange


def short_start(units: Sequence[Sequence[Message]], start: int, exchanges: int, *, per_exchange: int = 1) -> int:
    """First unit of the shortened window: the latest ``exchanges`` exchanges, within the window."""
    return max(start, len(units) - per_exchange * exchanges)
