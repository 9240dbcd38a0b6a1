"""Generate one turn, check it, and retry what comes out degenerate: one loop for both speakers.

The counselor's phase nodes (:mod:`helpert.replay.graph.build`) and the simulated client
(:mod:`helpert.replay.simulate`) both call :func:`generate_with_chat` (:func:`generate_checked` over a chat
model). Each attempt is cleaned
(:mod:`helpert.replay.llm.cleaning`) and checked (:mod:`helpert.replay.llm.degenerate`); a failing attempt is tried
again with the remedies of :class:`RetryPolicy`, escalating:

1. a new seed (every attempt has its own);
2. from the second attempt, stronger repetition controls: repeat / presence penalty, and a ban on
   every 4-token n-gram of the speaker's own earlier turns and on the openings of its latest turns
   (llama.cpp's penalties only see the last 64 tokens, i.e. the other speaker's words; the ban reaches
   the loops);
3. on the last attempt, a shortened window: only the latest exchange of the history is shown, for when
   the history itself has become the attractor.

A turn whose only problem is a repeated opening (``repeated_opening``: the same first words as one of the
speaker's latest turns, the rest new) is retried with a new seed and the latest openings banned, nothing else:
the penalties of step 2 also act on the client's words and the note (llama.cpp's last 64 tokens), and on the
embedded 135M model they pushed the reply off "you" into "they" and "the client" (the demo, 2026-12-07).

The attempt kept is the first clean one; if none is clean, the one with the fewest findings (the
later one on a tie, since it had the stronger remedies). It is then flagged ``degenerate`` and
``degenerate:<check>`` in ``meta.flags``, never hidden. ``benchmarks/degenerate_turns.py`` measures
each remedy on a development set; the defaults below are what that measurement supports.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from helpert.replay.llm.cleaning import Cleaned
from helpert.replay.llm.degenerate import Context, degenerate_flags, find_degenerate
from helpert.replay.llm.engine import Controls

if TYPE_CHECKING:
    from langchain_core.language_models.chat_models import BaseChatModel


@dataclass(frozen=True)
class RetryPolicy:
    """How degenerate attempts are retried; recorded in every run manifest."""

    max_attempts: int = 3
    repeat_penalty: float = 1.3        # on retries (the first attempt uses the run's sampling)
    presence_penalty: float = 0.5      # on retries
    ban_ngram: int = 4                 # on retries: no n-gram of this many tokens from earlier own turns (0: off)
    ban_openings: int = 2              # on retries: nor the first token of the latest N own turns (0: off)
    ban_on_first: bool = False         # apply the n-gram ban on the first attempt too (prevention)
    short_window: int = 1              # last attempt: show only the latest N exchanges (0: off)
    opening_only: bool = True          # a retry for a repeated opening alone bans the latest openings, nothing else

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def controls(self, attempt: int, own_earlier: tuple[str, ...], before: tuple[str, ...] = ()) -> Controls | None:
        """The engine controls of one attempt (None: the run's sampling as it is); ``before``: the problems
        of the attempt before it."""
        retry = attempt > 0
        if retry and self._opening_only(before):
            return Controls(avoid_openings=tuple(own_earlier[-self.ban_openings:]))
        ban = self.ban_ngram if (retry or self.ban_on_first) else 0
        if not retry and not ban:
            return None
        openings = own_earlier[-self.ban_openings:] if retry and self.ban_openings else ()
        return Controls(
            repeat_penalty=(self.repeat_penalty or None) if retry else None,
            presence_penalty=self.presence_penalty if retry else 0.0,
            avoid=own_earlier if ban else (), ban_ngram=ban, avoid_openings=tuple(openings),
        )

    def _opening_only(self, before: tuple[str, ...]) -> bool:
        """Whether the attempt after one whose only problem was a repeated opening gets the light retry."""
        return self.opening_only and bool(self.ban_openings) and set(before) == {"repeated_opening"}

    def shortened(self, attempt: int, before: tuple[str, ...] = ()) -> bool:
        if self._opening_only(before):
            return False
        return bool(self.short_window) and attempt == self.max_attempts - 1 and attempt > 0


DEFAULT_RETRY = RetryPolicy()


@dataclass
class Checked:
    """The kept attempt of one turn and what happened on the way."""

    text: str
    flags: list[str]             # the kept text's cleaning flags, retry_<problem> per problem retried, gave_up, degenerate
    attempts: int
    findings: list[str]          # checks the kept text fails ([] when clean)
    usage: dict[str, int]
    evaluated: list[list[int]]   # per attempt: generated tokens that entered the KV cache (exact resume)
    windows: list[bool] = field(default_factory=list)  # per attempt: whether it used the shortened window


def generate_checked(
    invoke: Callable[[int, Controls | None, bool], tuple[str, dict[str, Any]]],
    clean: Callable[[str], Cleaned],
    context: Context,
    policy: RetryPolicy = DEFAULT_RETRY,
) -> Checked:
    """Run up to ``policy.max_attempts`` attempts. ``invoke(attempt, controls, shortened)`` generates
    one raw reply and returns (text, response metadata); the caller owns seeds and messages."""
    retries: list[str] = []
    evaluated: list[list[int]] = []
    windows: list[bool] = []
    usage = {"prompt_tokens": 0, "cached_tokens": 0, "completion_tokens": 0}
    kept: tuple[int, Cleaned, list[str]] | None = None  # (rank, cleaned, findings)
    gave_up = True
    before: tuple[str, ...] = ()  # the problems of the attempt before
    for attempt in range(policy.max_attempts):
        short = policy.shortened(attempt, before)
        raw, meta = invoke(attempt, policy.controls(attempt, context.own_earlier, before), short)
        windows.append(short)
        evaluated.append(list(meta.get("evaluated_tokens", [])))
        for key in usage:
            usage[key] += int(meta.get(key, 0) or 0)
        cleaned = clean(raw)
        findings = find_degenerate(cleaned.text, context)
        problems = findings if cleaned.text else ["empty"]
        # rank: clean < degenerate < empty; fewer findings first; later attempts win ties (stronger remedies)
        rank = 0 if not problems else (2 if not cleaned.text else 1)
        if kept is None or (rank, len(findings)) <= (kept[0], len(kept[2])):
            kept = (rank, cleaned, findings)
        if not problems:
            gave_up = False
            break
        retries.extend(f"retry_{p}" for p in problems if f"retry_{p}" not in retries)
        before = tuple(problems)
    assert kept is not None
    _, cleaned, findings = kept
    # the kept text's cleaning flags, then what was retried, then the verdict
    flags = [*cleaned.flags, *retries, *(["gave_up"] if gave_up else []), *degenerate_flags(findings)]
    text = cleaned.text
    return Checked(text=text, flags=flags, attempts=len(evaluated), findings=findings, usage=usage,
                   evaluated=evaluated, windows=windows)


def generate_with_chat(
    chat: "BaseChatModel",
    messages: list[dict[str, str]],
    short: list[dict[str, str]],
    *,
    seed: Callable[[int], int],
    clean: Callable[[str], Cleaned],
    context: Context,
    policy: RetryPolicy = DEFAULT_RETRY,
    stop: list[str] | None = None,
) -> Checked:
    """:func:`generate_checked` over a LangChain chat model, for both speakers: attempt ``a`` sends
    ``messages`` (``short``, the shortened window, when the policy shortens it) with seed ``seed(a)``,
    the attempt's controls when the model accepts them, and ``stop`` when given."""
    from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

    types = {"system": SystemMessage, "user": HumanMessage, "assistant": AIMessage}

    def invoke(attempt: int, controls: Controls | None, shortened: bool) -> tuple[str, dict[str, Any]]:
        kwargs: dict[str, Any] = {"stop": stop} if stop is not None else {}
        if controls is not None and getattr(chat, "accepts_controls", False):
            kwargs["controls"] = controls
        out = chat.invoke([types[m["role"]](m["content"]) for m in (short if shortened else messages)],
                          seed=seed(attempt), **kwargs)
        return str(out.content), out.response_metadata or {}

    return generate_checked(invoke, clean, context, policy)
