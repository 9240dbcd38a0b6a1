"""An LLM judge: one prompt in, one JSON object out, constrained by a JSON schema.

Two judges take the same ``judge(prompt, schema) -> dict | None`` call (the CTRS and turn-label judges):

* :class:`LlamaJudge` loads a GGUF in a model instance of its own, never the counselor's: llama-cpp-python
  reuses only the prompt prefix of its *last* call, so a judge prompt between counselor turns would evict
  the counselor's cache. The schema goes in as ``response_format={"type": "json_object", "schema": ...}``,
  which llama-cpp-python turns into a grammar (its ``json_schema`` form is silently ignored).
* :class:`ServerJudge` asks a model on an OpenAI-compatible server (vLLM, llama.cpp, Ollama, a hosted API:
  the capable model a lab already serves), through the replay's server client
  (:mod:`helpert.replay.llm.openai_backend`: the same retries, back-off and clear errors). The schema goes
  in as OpenAI's ``{"type": "json_schema", ...}``, or as llama.cpp's ``json_object`` form on llama.cpp
  servers: one small request at the start finds the form the server takes (the other is tried where the
  first is refused), which is kept for the run and recorded.

Either way a reply is valid JSON of the schema's shape unless it was cut off by ``max_tokens`` or the
server does not enforce schemas; a reply that is cut off, not JSON or not an object is counted as a
failure, never guessed at (the callers check the values: a score outside 0-6, a phase not in the
protocol). A prompt the model cannot take (longer than the local context; an HTTP 400, 413 or 422 from a
server, e.g. its context length) is a failure too, so one long session does not stop a corpus. Decoding
is greedy with a fixed seed, so on a deterministic engine the same prompts give the same verdicts.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from helpert.replay.llm.models import ModelError, default_threads, resolve_model_path

if TYPE_CHECKING:
    from helpert.replay.llm.openai_backend import ServerConfig

MAX_TOKENS = 128
REJECTED_PROMPT = frozenset({400, 413, 422})  # a server's answer to a request it cannot take (e.g. too long)


def read_reply(content: str | None, finish_reason: str | None) -> dict[str, Any] | None:
    """The JSON object of a reply, or None when it was cut off, is not JSON or is not an object."""
    if finish_reason == "length":
        return None
    try:
        value = json.loads(content or "")
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


class _CountedJudge:
    """``judge(prompt, schema) -> dict | None``, counting calls and unreadable replies; callable from several
    threads at once (``measure_sessions(..., judge_concurrency=N)``)."""

    calls: int = 0
    failures: int = 0
    _count_lock = threading.Lock()  # the counters of every judge of the process: a few increments per request

    def __call__(self, prompt: str, schema: dict[str, Any]) -> dict[str, Any] | None:
        with self._count_lock:
            self.calls += 1
        reply = self._ask(prompt, schema)
        with self._count_lock:
            self.failures += reply is None
        return reply

    def _ask(self, prompt: str, schema: dict[str, Any]) -> dict[str, Any] | None:
        raise NotImplementedError


class LlamaJudge(_CountedJudge):
    """A GGUF judge in a llama.cpp instance of its own."""

    def __init__(self, model: str | Path | None = None, *, n_ctx: int = 4096, n_threads: int | None = None,
                 max_tokens: int = MAX_TOKENS, seed: int = 0) -> None:
        from llama_cpp import Llama

        self.model_path = resolve_model_path(model)
        try:
            self.llm = Llama(model_path=str(self.model_path), n_ctx=n_ctx, n_threads=n_threads or default_threads(),
                             n_threads_batch=n_threads or default_threads(), verbose=False)
        except ValueError as exc:
            raise ModelError(f"{self.model_path}: llama.cpp could not load it ({exc})") from None
        if not self.llm.metadata.get("tokenizer.chat_template"):
            raise ModelError(f"{self.model_path}: the GGUF has no chat template (tokenizer.chat_template)")
        self.n_ctx, self.max_tokens, self.seed = n_ctx, max_tokens, seed
        self.calls = self.failures = 0
        self._model_lock = threading.Lock()

    def _ask(self, prompt: str, schema: dict[str, Any]) -> dict[str, Any] | None:
        with self._model_lock:  # one llama.cpp context answers one prompt at a time
            return self._ask_model(prompt, schema)

    def _ask_model(self, prompt: str, schema: dict[str, Any]) -> dict[str, Any] | None:
        messages = [{"role": "user", "content": prompt}]
        if len(self.llm.tokenize(prompt.encode("utf-8"), add_bos=False)) + self.max_tokens + 32 > self.n_ctx:
            return None  # would not fit: a failure to count, not a crash mid-corpus
        out = self.llm.create_chat_completion(
            messages=messages, response_format={"type": "json_object", "schema": schema},
            temperature=0.0, max_tokens=self.max_tokens, seed=self.seed,
        )
        choice = out["choices"][0]
        return read_reply(choice["message"]["content"], choice.get("finish_reason"))

    def info(self) -> dict[str, Any]:
        """What a results file records about the judge."""
        return {"judge_model": str(self.model_path), "judge_model_bytes": self.model_path.stat().st_size,
                "judge_calls": self.calls, "judge_failures": self.failures, "judge_seed": self.seed,
                "judge_max_tokens": self.max_tokens}


def response_format(kind: str, schema: dict[str, Any]) -> dict[str, Any]:
    """The ``response_format`` field that asks a server for JSON of ``schema``: OpenAI's ``json_schema``
    (vLLM, Ollama, LM Studio, llama.cpp's llama-server, hosted APIs) or llama.cpp's ``json_object`` with a
    ``schema`` (llama-server and llama-cpp-python's server)."""
    if kind == "json_schema":
        return {"type": "json_schema", "json_schema": {"name": "verdict", "schema": schema}}
    return {"type": "json_object", "schema": schema}


class ServerJudge(_CountedJudge):
    """A judge on an OpenAI-compatible server: ``config`` names it as for ``--backend openai`` (one base URL;
    a second is a failover replica). One small request first finds the response format the server takes."""

    PROBE_SCHEMA: dict[str, Any] = {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}

    def __init__(self, config: "ServerConfig", *, max_tokens: int = MAX_TOKENS, seed: int = 0) -> None:
        from helpert.replay.llm.engine import Sampling
        from helpert.replay.llm.openai_backend import OpenAIChatModel, RequestStats, connect

        replicas, name, self.servers = connect(config)
        greedy = Sampling(temperature=0.0, repeat_penalty=1.0, max_tokens=max_tokens)
        self.chat = OpenAIChatModel(replicas=replicas, served_model=name, sampling=greedy, config=config, stats=RequestStats())
        self.served_model, self.endpoints = name, list(config.base_urls)
        self.max_tokens, self.seed = max_tokens, seed
        self.calls = self.failures = 0
        self.rejected: dict[str, Any] = {"count": 0, "first": None}
        first = "json_object" if replicas[0].dialect == "llama.cpp" else "json_schema"
        self.format = self._probe([first, "json_schema" if first == "json_object" else "json_object"])

    def _body(self, prompt: str, schema: dict[str, Any], kind: str, max_tokens: int) -> dict[str, Any]:
        """The replay's request for the server's dialect (:meth:`OpenAIChatModel.request`), with the judge's sampling:
        greedy and unpenalised, as in process (llama.cpp servers default to a repeat penalty of 1.1, which would push a
        JSON reply off the quotes and braces it has already written), no stop strings, and the JSON form."""
        body = self.chat.request([{"role": "user", "content": prompt}], seed=self.seed, stop=())
        return body | {"max_tokens": max_tokens, "response_format": response_format(kind, schema)}

    def _probe(self, kinds: list[str]) -> str:
        """The first of ``kinds`` the server answers (a form it does not take is an HTTP error at once: 400 or 422,
        or 500 from llama-cpp-python's server). Asked without retries; a server that cannot be reached raises."""
        from dataclasses import replace

        from helpert.replay.llm.openai_backend import ServerError

        once = self.chat.model_copy(update={"config": replace(self.chat.config, max_retries=0)})
        answers = []
        for kind in kinds:
            try:
                once.complete(self._body('Answer with JSON: {"ok": true}', self.PROBE_SCHEMA, kind, 16))
                return kind
            except ServerError as exc:
                if exc.status is None:
                    raise
                answers.append(f"{kind}: {exc}")
        from helpert.replay.llm.models import ModelError

        raise ModelError(f"{self.endpoints[0]}: the server takes neither JSON response format ({'; '.join(answers)})")

    def _ask(self, prompt: str, schema: dict[str, Any]) -> dict[str, Any] | None:
        from helpert.replay.llm.openai_backend import ServerError

        try:
            out, _ = self.chat.complete(self._body(prompt, schema, self.format, self.max_tokens))
        except ServerError as exc:
            if exc.status not in REJECTED_PROMPT:
                raise  # unreachable after retries, unauthorised, no such model: the run stops with this line
            with self._count_lock:
                self.rejected["count"] += 1
                self.rejected["first"] = self.rejected["first"] or str(exc)
            return None
        self.chat.stats.saw(getattr(out, "system_fingerprint", None), getattr(out, "model", None))
        choice = out.choices[0]
        return read_reply(choice.message.content, choice.finish_reason)

    def info(self) -> dict[str, Any]:
        """What a results file records about the judge."""
        return {"judge_model": self.served_model, "judge_backend": "openai", "judge_endpoints": self.endpoints,
                "judge_servers": self.servers, "judge_response_format": self.format, "judge_calls": self.calls,
                "judge_failures": self.failures, "judge_rejected_prompts": dict(self.rejected),
                "judge_requests": self.chat.stats.as_dict(), "judge_seed": self.seed, "judge_max_tokens": self.max_tokens}


class CachedJudge(_CountedJudge):
    """``judge`` with its replies kept in a JSON Lines file, so that a long corpus run of a judge resumes where it was
    stopped and a rerun (other rules, the same judge) asks nothing again. A reply is found again only for the same
    judge (model, backend, response format, seed, token limit), prompt and schema: the key is a SHA-256 of those.
    Unreadable replies (None) are kept too, since the same judge gives them again; requests that fail (a server
    gone) are not. Each new reply is one line, fsync'd (:class:`helpert.replay.runs.Journal`); a torn last line
    (killed mid-write) is dropped when the file is opened. Safe from several threads of one process."""

    IDENTITY = ("judge_model", "judge_backend", "judge_response_format", "judge_seed", "judge_max_tokens", "judge_model_bytes")

    def __init__(self, judge: _CountedJudge, path: str | Path) -> None:
        from helpert.replay.runs import Journal

        self.judge, self.path = judge, Path(path)
        self.journal = Journal(self.path)
        entries, torn = self._read()
        try:
            if torn:
                self.journal.rewrite(entries)  # appends after a torn line would be lost on the next read
            with self.path.open("a", encoding="utf-8"):  # writable: found now, not after an hour of judging
                pass
        except OSError as exc:
            raise ModelError(f"{self.path}: cannot write the judge's cache ({exc.strerror or exc})") from None
        self.replies: dict[str, Any] = {e["key"]: e["reply"] for e in entries}
        info = judge.info()
        if not info.get("judge_backend"):  # a GGUF: its file name and size, wherever it lies
            info["judge_model"] = Path(str(info.get("judge_model"))).name
        self.identity = json.dumps({k: info.get(k) for k in self.IDENTITY}, sort_keys=True)
        self.calls = self.failures = self.hits = 0
        self._lock = threading.Lock()

    def _read(self) -> tuple[list[dict[str, Any]], bool]:
        """The cache's entries, and whether its last line is torn (not ended by a newline: killed mid-write). Any
        other line that is not an entry is an error: the file is not a judge's cache, and it is left as it is."""
        if not self.path.is_file():
            return [], False
        try:
            text = self.path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ModelError(f"{self.path}: cannot read the judge's cache ({exc})") from None
        lines = text.split("\n")
        entries, torn = [], False
        for lineno, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                entry = None
            if isinstance(entry, dict) and isinstance(entry.get("key"), str) and "reply" in entry:
                entries.append(entry)
            elif lineno == len(lines) and not text.endswith("\n"):
                torn = True
            else:
                raise ModelError(f"{self.path}:{lineno}: not a line of a judge's cache (--judge-cache names a file "
                                 "helpert wrote, or a new one)")
        return entries, torn

    def key(self, prompt: str, schema: dict[str, Any]) -> str:
        import hashlib

        raw = json.dumps([self.identity, prompt, schema], sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(raw.encode("utf-8")).hexdigest()

    def _ask(self, prompt: str, schema: dict[str, Any]) -> dict[str, Any] | None:
        key = self.key(prompt, schema)
        with self._lock:
            if key in self.replies:
                self.hits += 1
                return self.replies[key]
        reply = self.judge(prompt, schema)
        with self._lock:
            if key not in self.replies:
                self.replies[key] = reply
                self.journal.append({"key": key, "reply": reply})
        return reply

    def info(self) -> dict[str, Any]:
        return {**self.judge.info(), "judge_calls": self.calls, "judge_failures": self.failures,
                "judge_cache": str(self.path), "judge_cache_hits": self.hits, "judge_asked": self.judge.calls}


def is_url(value: str) -> bool:
    return value.startswith(("http://", "https://"))


def open_judge(model: str | None, *, n_threads: int | None = None, served_model: str | None = None,
               api_key_env: str | None = None, timeout: float = 120.0,
               cache: str | Path | None = None) -> "LlamaJudge | ServerJudge | CachedJudge":
    """The judge ``model`` names: a server's API root (``http://...``) or a GGUF path; None or ``"default"``: the
    embedded model. ``n_threads`` is a GGUF judge's; the rest a server judge's; ``cache``: a JSON Lines file of its
    replies (:class:`CachedJudge`)."""
    judge: LlamaJudge | ServerJudge
    if model is not None and is_url(model):
        from helpert.replay.llm.openai_backend import ServerConfig

        judge = ServerJudge(ServerConfig(base_urls=(model,), served_model=served_model, api_key_env=api_key_env,
                                         timeout=timeout))
    else:
        judge = LlamaJudge(None if model in (None, "default") else model, n_threads=n_threads)
    return judge if cache is None else CachedJudge(judge, cache)
