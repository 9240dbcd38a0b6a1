"""Backend: any OpenAI-compatible chat-completions server (vLLM, llama.cpp's ``llama-server``,
llama-cpp-python's server, Ollama, LM Studio, hosted APIs), through the maintained ``openai`` client.

The graph, prompts, cleaning and retries are the local backend's; only the call differs:

* **Sampling.** ``temperature``, ``top_p``, ``max_tokens``, ``seed`` (per request: every turn and
  retry has its own, :func:`helpert.replay.graph.build.turn_seed`), ``presence_penalty`` and
  ``frequency_penalty`` are standard fields. ``top_k``, ``min_p`` and the repeat penalty are not; they
  go in ``extra_body`` where the server is known to read them (the *dialect*, found from
  ``GET /models``' ``owned_by``): llama.cpp servers (``repeat_penalty``, and ``cache_prompt: true``),
  vLLM (``repetition_penalty``). Other servers get the standard fields only (a hosted API rejects
  unknown fields), and the manifest says which dialect was used. Replicas are meant to be one kind of
  server: a request is shaped for its session's replica and, on failover, sent unchanged.
* **Retry controls.** A degenerate turn's retry (:mod:`helpert.replay.graph.recovery`) maps its stronger
  repeat/presence penalties as above. Its n-gram and opening bans cannot be said over the API (they are
  a logits processor that looks at the tokens generated so far; ``logit_bias`` is static) and are
  dropped: on a server a retry has a new seed, stronger penalties and, last, the shortened window.
* **Prefix reuse.** Every turn's prompt extends the previous one (the graph only appends; the window
  moves in big steps), which is what server prefix caches need. ``cached_tokens`` is read from
  ``usage.prompt_tokens_details.cached_tokens`` (vLLM with ``--enable-prompt-tokens-details``, hosted
  APIs) or from llama.cpp's ``timings.cache_n``; servers that report neither count 0.
* **Failures.** Connection errors, timeouts, 408/409/429 and 5xx are retried with exponential
  backoff (or the server's ``Retry-After``; each retry counted in :class:`RequestStats`), moving to the
  next replica on a connection
  failure; after ``max_retries`` the turn raises :class:`ServerError` and the session fails cleanly
  (the batch records it and continues; rerunning resumes it). Other 4xx fail at once.
* **Resume.** There is no KV cache to re-warm: a resumed session continues from its journal, and the
  continued turns equal an uninterrupted run's only as far as the server is deterministic for a fixed
  seed (llama.cpp on CPU: yes; batched GPU servers: usually not bit-for-bit).
* **Token counts.** Without the server's tokenizer, prompt length for the context window is estimated
  (characters / 3, generous for English), so ``--n-ctx`` should not exceed the server's context.
"""

from __future__ import annotations

import itertools
import os
import random
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import ConfigDict

from helpert.replay.llm.engine import Controls, Sampling
from helpert.replay.llm.models import ModelError

if TYPE_CHECKING:
    from helpert.replay.llm import Backend

# Cleaning cuts at any later role marker anyway; these stop strings only save tokens. Four at most:
# hosted OpenAI rejects more; servers stop at the chat template's end-of-turn token themselves.
API_STOPS = ("\nClient:", "\nUser:", "\nPatient:", "\nSeeker:")
RETRY_STATUS = frozenset({408, 409, 429})
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
DIALECTS = {"llamacpp": "llama.cpp", "me": "llama.cpp", "vllm": "vllm"}  # GET /models owned_by -> dialect


class ServerError(RuntimeError):
    """A request that still failed after its retries (or failed for good: a 4xx other than 408/409/429).
    ``status`` is the HTTP status of the last answer (None: no answer, e.g. connection refused)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class ServerConfig:
    """Where the server(s) are and how patiently to talk to them."""

    base_urls: tuple[str, ...] = ()
    served_model: str | None = None
    api_key_env: str | None = None
    max_retries: int = 4          # per request, after the first try
    timeout: float = 120.0        # seconds per request
    backoff: float = 0.5          # first retry waits this long, doubling (with jitter), at most 8 s


@dataclass
class RequestStats:
    """Counters shared by every thread of a process: what the manifest and the summary report."""

    requests: int = 0
    retries: int = 0
    failures: int = 0
    by_reason: dict[str, int] = field(default_factory=dict)
    fingerprints: set[str] = field(default_factory=set)
    models: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count(self, **changes: int) -> None:
        with self._lock:
            for key, n in changes.items():
                setattr(self, key, getattr(self, key) + n)

    def retried(self, reason: str) -> None:
        with self._lock:
            self.retries += 1
            self.by_reason[reason] = self.by_reason.get(reason, 0) + 1

    def saw(self, fingerprint: str | None, model: str | None) -> None:
        with self._lock:
            if fingerprint:
                self.fingerprints.add(fingerprint)
            if model:
                self.models.add(model)

    def as_dict(self) -> dict[str, Any]:
        with self._lock:
            return {"requests": self.requests, "retries": self.retries, "failures": self.failures,
                    "retry_reasons": dict(sorted(self.by_reason.items())),
                    "system_fingerprints": sorted(self.fingerprints), "response_models": sorted(self.models)}


@dataclass(frozen=True)
class Replica:
    url: str
    client: Any  # openai.OpenAI
    dialect: str


def _api_key(env: str | None) -> str:
    if env is None:
        return os.environ.get("OPENAI_API_KEY") or "none"  # local servers accept any key
    key = os.environ.get(env)
    if not key:
        raise ModelError(f"--api-key-env {env}: that environment variable is not set")
    return key


def connect(config: ServerConfig) -> tuple[list[Replica], str, dict[str, Any]]:
    """Open a client per base URL and ask each for its models; returns the replicas, the served model
    name and what the servers say about themselves. An unreachable server is one clear error."""
    import openai

    if not config.base_urls:
        raise ModelError("--backend openai needs --base-url URL (e.g. http://127.0.0.1:8000/v1)")
    key = _api_key(config.api_key_env)
    replicas, listed = [], {}
    for url in config.base_urls:
        # a server on this machine is reached directly, never through a proxy named in the environment
        local = (urlsplit(url).hostname or "") in LOOPBACK
        client = openai.OpenAI(base_url=url, api_key=key, max_retries=0, timeout=config.timeout,
                               http_client=openai.DefaultHttpxClient(trust_env=False) if local else None)
        try:
            models = list(client.with_options(timeout=min(config.timeout, 15.0)).models.list())
        except openai.APIConnectionError as exc:
            raise ModelError(f"{url}: server unreachable ({exc.__cause__ or exc})") from None
        except openai.APIStatusError as exc:
            raise ModelError(f"{url}: GET /models answered {exc.status_code} ({_short(exc)})") from None
        if not models:
            raise ModelError(f"{url}: the server lists no model")
        owned = models[0].owned_by or ""
        listed[url] = {"models": [m.id for m in models], "owned_by": owned}
        replicas.append(Replica(url=url, client=client, dialect=DIALECTS.get(owned, "generic")))
    name = config.served_model or listed[config.base_urls[0]]["models"][0]
    for url, seen in listed.items():
        if name not in seen["models"]:
            raise ModelError(f"{url}: serves {', '.join(seen['models'])}, not {name!r} (--served-model)")
    return replicas, name, listed


def _short(exc: BaseException) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        msg = body.get("message") or body.get("error") or body
        return str(msg.get("message", msg) if isinstance(msg, dict) else msg)[:200]
    return str(exc)[:200]


def _retry_after(exc: BaseException) -> float:
    """Seconds a 429/503 asks the client to wait (``Retry-After``), at most 60."""
    try:
        return min(60.0, max(0.0, float(exc.response.headers.get("retry-after", 0))))
    except (AttributeError, TypeError, ValueError):
        return 0.0


def estimate_tokens(messages: list[dict[str, str]]) -> int:
    """A generous prompt-length estimate (no tokenizer on this side): 1 token per 3 characters, plus
    the chat template's few tokens per message."""
    return sum(len(m["content"]) for m in messages) // 3 + 8 * len(messages)


class OpenAIChatModel(BaseChatModel):
    """One generated turn per ``chat.completions`` request. ``home`` is the replica this session's
    requests go to (keeping a session on one server keeps its prefix cache warm); a connection failure
    moves the retries on to the next one."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    replicas: list[Any]
    served_model: str
    sampling: Sampling = Sampling()
    config: ServerConfig = ServerConfig()
    stats: Any = None  # RequestStats
    home: int = 0
    accepts_controls: bool = True  # penalties map; n-gram/opening bans are dropped (see the module doc)

    @property
    def _llm_type(self) -> str:
        return "helpert-openai"

    def for_session(self, k: int) -> "OpenAIChatModel":
        return self.model_copy(update={"home": k % len(self.replicas)})

    def request(self, messages: list[dict[str, str]], *, seed: int, controls: Controls | None = None,
                stop: tuple[str, ...] = API_STOPS) -> dict[str, Any]:
        """The request body's fields for one turn (also what the benchmark's raw client sends)."""
        s, c = self.sampling, controls or Controls()
        repeat = c.repeat_penalty or s.repeat_penalty
        body: dict[str, Any] = {
            "model": self.served_model, "messages": messages, "max_tokens": s.max_tokens, "temperature": s.temperature,
            "top_p": s.top_p, "seed": seed, **({"stop": list(stop)} if stop else {}),
        }
        if c.presence_penalty:
            body["presence_penalty"] = c.presence_penalty
        if c.frequency_penalty:
            body["frequency_penalty"] = c.frequency_penalty
        dialect = self.replicas[self.home].dialect
        extra: dict[str, Any] = {}
        if dialect == "llama.cpp":
            extra = {"top_k": s.top_k, "min_p": s.min_p, "repeat_penalty": repeat, "cache_prompt": True}
        elif dialect == "vllm":
            extra = {"top_k": s.top_k, "min_p": s.min_p, "repetition_penalty": repeat}
        if extra:
            body["extra_body"] = extra
        return body

    def complete(self, body: dict[str, Any]) -> tuple[Any, float]:
        """Send one request with retries; returns the response and its wall time in ms."""
        import openai

        stats = self.stats or RequestStats()
        n = len(self.replicas)
        at = self.home
        for attempt in itertools.count():
            replica = self.replicas[at]
            stats.count(requests=1)
            t0 = time.perf_counter()
            try:
                out = replica.client.chat.completions.create(**body)
                return out, (time.perf_counter() - t0) * 1000
            except openai.APIConnectionError as exc:  # refused, reset, timeout (APITimeoutError)
                reason = "timeout" if isinstance(exc, openai.APITimeoutError) else "connection"
                detail = f"{reason} ({exc.__cause__ or exc})"
                move, asked, status = True, 0.0, None
            except openai.APIStatusError as exc:
                if exc.status_code not in RETRY_STATUS and exc.status_code < 500:
                    stats.count(failures=1)
                    raise ServerError(f"{replica.url}: HTTP {exc.status_code}: {_short(exc)}", exc.status_code) from None
                reason, detail, move = f"http_{exc.status_code}", f"HTTP {exc.status_code}: {_short(exc)}", False
                asked, status = _retry_after(exc), exc.status_code
            if attempt >= self.config.max_retries:
                stats.count(failures=1)
                raise ServerError(f"{replica.url}: {detail}; gave up after {attempt + 1} attempts", status) from None
            stats.retried(reason)
            if move and n > 1:
                at = (at + 1) % n
            wait = min(8.0, self.config.backoff * 2**attempt) * (0.75 + 0.5 * random.random())
            time.sleep(max(wait, asked))
        raise AssertionError("unreachable")

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None, run_manager: Any = None,
                  **kwargs: Any) -> ChatResult:
        from helpert.replay.llm.chat import to_dicts

        body = self.request(to_dicts(messages), seed=int(kwargs.get("seed", 0)), controls=kwargs.get("controls"),
                            stop=tuple(stop) if stop else API_STOPS)
        out, ms = self.complete(body)
        if self.stats is not None:
            self.stats.saw(getattr(out, "system_fingerprint", None), getattr(out, "model", None))
        choice = out.choices[0]
        usage = out.usage
        meta = {
            "prompt_tokens": getattr(usage, "prompt_tokens", 0) or 0,
            "cached_tokens": cached_tokens(out),
            "completion_tokens": getattr(usage, "completion_tokens", 0) or 0,
            "request_ms": round(ms, 2), "finish": choice.finish_reason,
            "system_fingerprint": getattr(out, "system_fingerprint", None),
        }
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=choice.message.content or "",
                                                                         response_metadata=meta))])


def cached_tokens(out: Any) -> int:
    """Prompt tokens the server found in its prefix cache, where it says so."""
    details = getattr(getattr(out, "usage", None), "prompt_tokens_details", None)
    if details is not None and getattr(details, "cached_tokens", None) is not None:
        return int(details.cached_tokens)
    timings = (getattr(out, "model_extra", None) or {}).get("timings")  # llama.cpp's llama-server
    if isinstance(timings, dict) and timings.get("cache_n") is not None:
        return int(timings["cache_n"])
    return 0


def load_openai_backend(config: ServerConfig, *, n_ctx: int, sampling: Sampling) -> Backend:
    """A :class:`helpert.replay.llm.Backend` over the server(s)."""
    from importlib import metadata

    from helpert.replay.llm import Backend

    replicas, name, listed = connect(config)
    stats = RequestStats()
    chat = OpenAIChatModel(replicas=replicas, served_model=name, sampling=sampling, config=config, stats=stats)
    info = {
        "backend": "openai", "served_model": name, "endpoints": list(config.base_urls),
        "dialects": {r.url: r.dialect for r in replicas}, "servers": listed, "model_sha256": None,
        "openai": metadata.version("openai"), "n_ctx": n_ctx, "sampling": sampling.as_dict(),
        "request_retries": config.max_retries, "request_timeout_s": config.timeout,
        "dropped_controls": ["ban_ngram", "avoid_openings"],
    }
    return Backend(chat=chat, count_tokens=estimate_tokens, info=info, n_ctx=n_ctx, max_tokens=sampling.max_tokens,
                   stats=stats, for_session=chat.for_session)
