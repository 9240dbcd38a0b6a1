"""Simulated client: a second model plays the client of a profile and talks with the protocol counselor.

Replay feeds the original client's words verbatim, so they cannot react to what a new counselor says.
A simulated client can, at the price of being model-made. The counselor side is exactly replay's: the
same compiled graph, one invocation per counselor turn (:class:`helpert.replay.Counselor`).

The client runs on a *second* model instance (by default another ``Llama`` over the same GGUF): one
instance serving both speakers would swap prompts every turn, and llama.cpp could then reuse almost
nothing of the counselor's cached prefix. Each side's prompt only grows, so each keeps its cache.

How a simulated dialogue goes:

1. The counselor opens when the original did; the client's first words are the original's
   (``profile.opening``, verbatim), so both dialogues start from the same place.
2. Then each client turn is generated from the profile and the dialogue so far, cleaned (role
   prefixes, the model speaking for the counselor, length), checked like the counselor's turns
   (:mod:`helpert.replay.llm.degenerate`: role reversal, copying the counselor, narration, loops; retried with
   the same remedies, a turn still failing kept and flagged ``degenerate``), and answered by one
   counselor turn. The client model sees the counselor's turns
   as "user" messages that start with "Counselor: ". Tried on SmolLM2-135M (4 bundled sessions, 12
   client turns per variant): without the prefix 57 % of the client's I/my-vs-you/your pronouns were
   first person (the model slips into the counselor's voice); with it 75 %; a per-turn reminder
   note instead gave 58 %. A small model still often sounds like a counselor.
3. It stops at the first of: ``max_turns`` counselor turns (default: as many as the original had); the
   client saying goodbye (:func:`ends_conversation`; the counselor still answers it); or the client
   model giving empty output on every attempt of a turn (no counselor turn follows).

Seeds: the counselor's turns use the graph's seeds (as in replay); client turns use a stream of their own
derived from the same run seed, so one seed reproduces the whole dialogue.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from helpert.replay.graph.recovery import DEFAULT_RETRY, RetryPolicy
from helpert.replay.graph.window import fit_window, short_start, window_messages
from helpert.replay.llm.cleaning import Cleaned, clean_turn
from helpert.replay.llm.degenerate import Context
from helpert.replay.profile import ClientProfile, extract_profile
from helpert.replay import Counselor, ReplayResult, aligned_original, turn_from_record
from helpert.session import Session, Turn, slots_of

if TYPE_CHECKING:
    from langchain_core.language_models.chat_models import BaseChatModel

    from helpert.replay.graph.state import Reply
    from helpert.replay.llm import Backend
    from helpert.replay.settings import ReplaySettings

COUNSELOR_PREFIX = "Counselor: "
CLIENT_SEED_OFFSET = 7_777
CLIENT_STOPS = ["\nCounselor:", "\nCounsellor:", "\nTherapist:", "\nAssistant:", "\nYou:", "\nCOUNSELOR:"]

STYLE_NOTES = {
    "plain": "You answer openly and simply.",
    "upset": "You are upset and a little irritable; you sometimes push back or doubt that talking helps.",
    "verbose": "You tend to say a lot and add details.",
    "reserved": "You say little and need to be drawn out; you give short, guarded answers.",
    "tangent": "You sometimes drift to side topics before coming back to your problem.",
    "pleasing": "You want to please the counselor and agree quickly, even when you are not sure.",
}
BELIEF_NOTES = {
    "helpless": "Deep down you believe you are helpless and not good enough to cope.",
    "unlovable": "Deep down you believe you are unlovable and that people will reject you.",
    "worthless": "Deep down you believe you are worthless and a burden.",
}

_COUNSELOR_ROLE = r"(?:counselor|counsellor|therapist|assistant|supporter|helper|system)"
_CLIENT_ROLE = r"(?:client|patient|user|seeker|me)"
_LEADING_COUNSELOR = re.compile(rf"^\s*[\[(*]*\s*{_COUNSELOR_ROLE}\s*[\])*]*\s*[:：]", re.IGNORECASE)
_LEADING_CLIENT = re.compile(rf"^\s*[\[(*]*\s*{_CLIENT_ROLE}\s*[\])*]*\s*[:：-]\s*", re.IGNORECASE)
_LATER_ROLE = re.compile(rf"(?:^|\s)[\[(*]*\s*(?:{_COUNSELOR_ROLE}|{_CLIENT_ROLE})\s*[\])*]*\s*[:：]", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_GOODBYE = re.compile(
    r"\b(good-?bye(?! to)|bye(?! to)|see you|take care|talk (to you )?(soon|later|next (week|time))|"
    r"(that's|that is) all for (now|today)|i (have|need|got) to go|gotta go)\b",
    re.IGNORECASE,
)


def client_system_prompt(profile: ClientProfile) -> str:
    """What the client model is told: the person, the cognitive model, the style, and its role rules."""
    cm = profile.cognitive_model
    parts = [
        "You are role-playing a person who is talking to a counselor. You are the client, never the counselor.",
        f"Your problem: {profile.presenting_problem}",
    ]
    if cm.situation and cm.situation != profile.presenting_problem:
        parts.append(f"A recent situation: {cm.situation}")
    if cm.automatic_thoughts:
        parts.append("Thoughts that go through your mind: " + " ".join(f'"{t}"' for t in cm.automatic_thoughts))
    if cm.emotions:
        parts.append(f"You feel {', '.join(cm.emotions)}.")
    if cm.behaviours:
        parts.append("What you do: " + " ".join(cm.behaviours))
    if cm.core_belief:
        parts.append(BELIEF_NOTES[cm.core_belief] + " You do not say this directly.")
    parts.append(STYLE_NOTES[profile.style])
    length = "up to four sentences" if profile.style == "verbose" else "one to three short sentences"
    parts.append(f"Answer the counselor's last message in the first person, in your own words, in {length}. "
                 "Never give advice, never speak for the counselor. Say goodbye when you want to end.")
    return "\n".join(parts)


def clean_client_reply(raw: str, *, max_sentences: int = 4, max_words: int = 70) -> Cleaned:
    """The client's side of :func:`helpert.replay.llm.cleaning.clean_reply`: the model speaking as the
    counselor yields an empty reply; the client's own role prefix is dropped."""
    return clean_turn(raw, speaks_for_other=_LEADING_COUNSELOR, own_prefix=_LEADING_CLIENT, later_role=_LATER_ROLE,
                      max_words=max_words, max_sentences=max_sentences)


def ends_conversation(text: str) -> bool:
    """True when the client's last two sentences take leave ("Thanks, bye.", "See you next week", "I
    have to go"); "I said goodbye to my old job" does not count."""
    return bool(_GOODBYE.search(" ".join(_SENTENCE_END.split(text.strip())[-2:])))


@dataclass
class SimulatedClient:
    """The client model's side of the dialogue. Its prompt only grows (counselor turns as "user",
    its own as "assistant"), so its own model instance reuses the cached prefix every turn."""

    profile: ClientProfile
    chat: BaseChatModel
    count_tokens: Callable[[list[dict[str, str]]], int]
    seed: int
    n_ctx: int = 4096
    max_tokens: int = 64
    history: list[dict[str, str]] = field(default_factory=list)
    window_start: int = 0
    retry: RetryPolicy = DEFAULT_RETRY

    def __post_init__(self) -> None:
        self.system = client_system_prompt(self.profile)

    def hear(self, counselor_text: str) -> None:
        self.history.append({"role": "user", "content": f"{COUNSELOR_PREFIX}{counselor_text}"})

    def say(self, text: str) -> None:
        self.history.append({"role": "assistant", "content": text})

    def reply(self, turn: int) -> dict[str, Any]:
        """Generate the client's next turn with the counselor's window and retries
        (:func:`helpert.replay.graph.window.fit_window`; :func:`helpert.replay.graph.recovery.generate_with_chat`,
        speaker "client": role reversal, copying the counselor, narration, loops...). The window moves in whole
        exchanges and always shows the counselor's latest words. Returns text ("" if every try was empty),
        flags, attempts, usage and wall_ms."""
        from helpert.replay.graph.build import turn_seed
        from helpert.replay.graph.recovery import generate_with_chat

        t0 = time.perf_counter()
        units = [[m] for m in self.history]  # one message each, two to an exchange
        fits = lambda msgs: self.count_tokens(msgs) + self.max_tokens <= self.n_ctx  # noqa: E731
        messages, self.window_start = fit_window(self.system, units, [], self.window_start, fits, per_exchange=2, keep=1)
        short = short_start(units, self.window_start, self.retry.short_window, per_exchange=2)
        own = tuple(m["content"] for m in self.history if m["role"] == "assistant")
        counselor = tuple(m["content"].removeprefix(COUNSELOR_PREFIX) for m in self.history if m["role"] == "user")

        def clean(raw: str) -> Cleaned:
            return clean_client_reply(raw, max_sentences=4 if self.profile.style == "verbose" else 3)

        checked = generate_with_chat(self.chat, messages, window_messages(self.system, units, short),
                                     seed=lambda attempt: turn_seed(self.seed + CLIENT_SEED_OFFSET, turn, attempt),
                                     clean=clean, context=Context("client", own, counselor), policy=self.retry,
                                     stop=CLIENT_STOPS)
        if checked.text:
            self.say(checked.text)
        return {"text": checked.text, "flags": checked.flags, "attempts": checked.attempts, "usage": checked.usage,
                "wall_ms": round((time.perf_counter() - t0) * 1000, 1)}


def cache_shares(timings: list[dict[str, Any]]) -> dict[str, float | None]:
    """Share of prompt tokens found in each model's KV cache, over every turn after its first (the
    first turn of a side has nothing cached). High for both sides means neither evicts the other."""
    out: dict[str, float | None] = {}
    for side in ("counselor", "client"):
        rows = [t if side == "counselor" else t.get("client") for t in timings]
        rows = [r for r in rows if r][1:]
        prompt = sum(r["prompt_tokens"] for r in rows)
        out[side] = sum(r["cached_tokens"] for r in rows) / prompt if prompt else None
    return out


def simulate_session(
    source: Session | ClientProfile,
    counselor: Backend,
    client: Backend,
    settings: ReplaySettings,
    *,
    profile: ClientProfile | None = None,
    on_turn: Callable[[int, int, Reply, dict[str, Any] | None], None] | None = None,
) -> ReplayResult:
    """A dialogue between the protocol counselor and a simulated client (see the module docstring).

    ``source`` is a session (the result's ``original`` is the session cut to the same number of
    counselor turns; the client plays ``profile``, by default the one extracted from the session) or
    a profile (``original`` is then an empty session).
    ``counselor`` and ``client`` are :class:`helpert.replay.llm.Backend` objects (each side's window is
    sized by its own ``n_ctx`` and ``max_tokens``); give two instances, or the client's prompts evict
    the counselor's cache. Both are reset first, so a result does not depend on what ran before.
    ``settings.max_turns`` defaults to the original's number of counselor turns; ``settings.retry`` is how
    degenerate turns of both speakers are retried. ``on_turn(slot, total, reply, client_turn)`` reports progress.
    """
    session = source if isinstance(source, Session) else None
    profile = profile or (extract_profile(source) if session is not None else source)
    dialogue_id = session.dialogue_id if session is not None else profile.dialogue_id
    seed, max_turns = settings.seed, settings.max_turns
    if max_turns is None:
        if session is None:
            raise ValueError("simulating from a profile needs max_turns")
        max_turns = len(slots_of(session))
    if max_turns < 1:
        raise ValueError("max_turns must be at least 1")
    counselor.reset()
    client.reset()
    graph = Counselor.start(f"{dialogue_id}:{seed}:simulate", counselor, settings)
    speaker = SimulatedClient(profile, chat=client.chat, count_tokens=client.count_tokens, seed=seed,
                              n_ctx=client.n_ctx, max_tokens=client.max_tokens, retry=settings.retry)
    turns: list[Turn] = []
    timings: list[dict[str, Any]] = []
    stop = "max_turns"
    opening = profile.opening.strip()
    for k in range(max_turns):
        generated = None
        if k == 0 and profile.counselor_opens:
            client_text = ""
        elif opening:
            client_text, opening = opening, ""
            speaker.say(client_text)
            turns.append(Turn(idx=len(turns), role="client", text=client_text, meta={"source": "original opening"}))
        else:
            generated = speaker.reply(k)
            if not generated["text"]:
                stop = "client_empty"
                break
            client_text = generated["text"]
            turns.append(Turn(idx=len(turns), role="client", text=client_text,
                              meta={"simulated": True, **{key: generated[key] for key in ("flags", "attempts", "usage")}}))
        record = graph.turn(k, max_turns, client_text)
        speaker.hear(record.reply.text)
        turns.append(turn_from_record(record, len(turns)))
        timings.append({"slot": k, "wall_ms": record.wall_ms, "resumed": False, **record.reply.usage,
                        "client": generated and {**generated["usage"], "wall_ms": generated["wall_ms"]}})
        if on_turn:
            on_turn(k, max_turns, record.reply, generated)
        if generated and ends_conversation(client_text):
            stop = "client_ended"
            break
    if session is not None:
        original = aligned_original(session, slots_of(session, max_turns))
        about = session
    else:
        original = Session(dialogue_id=dialogue_id, turns=[], meta={"simulated_from_profile": True})
        about = original
    reconstruction = Session(
        dialogue_id=dialogue_id, turns=turns, dataset=about.dataset, language=about.language, source=about.source,
        meta={**about.meta, "reconstructed_by": "helpert", "mode": "simulate", "protocol": settings.protocol.name,
              "seed": seed, "stop": stop, "client_profile": profile.model_dump(mode="json")},
    )
    return ReplayResult(original=original, reconstruction=reconstruction, timings=timings)
