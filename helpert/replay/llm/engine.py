"""One shared ``llama_cpp.Llama`` that generates chat turns and keeps the conversation in its KV cache.

Why our own loop over ``Llama.generate`` rather than ``create_chat_completion``: we need the generated
token ids (to re-warm the cache identically when a run resumes), per-call seeds, stop strings at role
markers, and honest timings of prompt evaluation vs generation. Prefix reuse works as in
llama-cpp-python: the longest shared prefix with the previous call stays in the cache, so only the
new tokens of each turn are evaluated as long as nothing else uses this instance in between.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from helpert.replay.llm.models import ModelError, default_threads

ROLE_STOPS = ("<|im_start|>", "<|im_end|>", "\nClient:", "\nCLIENT:", "\nUser:", "\nPatient:", "\nSeeker:")


@dataclass(frozen=True)
class Sampling:
    """Sampling settings recorded in every manifest."""

    temperature: float = 0.7
    top_p: float = 0.9
    top_k: int = 40
    min_p: float = 0.05
    repeat_penalty: float = 1.1
    max_tokens: int = 96

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Controls:
    """Per-call anti-repetition controls a retry adds on top of :class:`Sampling` (see
    :mod:`helpert.replay.graph.build`): stronger penalties, and token n-grams / openings the reply may not reuse.

    ``repeat_penalty``, ``presence_penalty`` and ``frequency_penalty`` act, in llama.cpp, only on the
    last 64 tokens, which on a chat prompt are the client's words and the note; the model's own
    earlier turns lie further back. ``avoid`` reaches them: no n-gram of ``ban_ngram`` tokens from
    those texts may be generated, and the reply may not open with the first token of ``avoid_openings``.
    """

    repeat_penalty: float | None = None
    presence_penalty: float = 0.0
    frequency_penalty: float = 0.0
    avoid: tuple[str, ...] = ()
    ban_ngram: int = 0
    avoid_openings: tuple[str, ...] = ()


@dataclass
class Generation:
    text: str
    tokens: list[int]
    prompt_tokens: int
    cached_tokens: int
    prompt_ms: float
    gen_ms: float
    finish: str  # "stop" | "length"
    n_evaluated: int  # generated tokens that went into the KV cache (the last sampled one may not)


@dataclass
class EngineConfig:
    model_path: Path
    n_ctx: int = 4096
    n_threads: int = field(default_factory=default_threads)
    n_batch: int = 512


class Engine:
    """A chat model over one ``Llama``. Not thread-safe (neither is ``Llama``): one per process."""

    def __init__(self, config: EngineConfig):
        from llama_cpp import Llama
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        self.config = config
        try:
            self.llm = Llama(
                model_path=str(config.model_path), n_ctx=config.n_ctx, n_threads=config.n_threads,
                n_threads_batch=config.n_threads, n_batch=config.n_batch, verbose=False,
            )
        except ValueError as exc:
            raise ModelError(f"{config.model_path}: llama.cpp could not load it ({exc})") from None
        template = self.llm.metadata.get("tokenizer.chat_template")
        if not template:
            raise ModelError(f"{config.model_path}: the GGUF has no chat template (tokenizer.chat_template); use an instruct/chat model")
        vocab = self.llm.metadata
        self._formatter = Jinja2ChatFormatter(
            template=template,
            eos_token=self._token_text(int(vocab.get("tokenizer.ggml.eos_token_id", self.llm.token_eos()))),
            bos_token=self._token_text(int(vocab.get("tokenizer.ggml.bos_token_id", self.llm.token_bos()))),
        )
        self._add_bos = vocab.get("tokenizer.ggml.add_bos_token", "false") == "true"

    def _token_text(self, token: int) -> str:
        return self.llm.detokenize([token], special=True).decode("utf-8", "ignore")

    def _is_eog(self, token: int) -> bool:
        import llama_cpp

        return bool(llama_cpp.llama_vocab_is_eog(self.llm._model.vocab, token))

    def prompt_tokens(self, messages: list[dict[str, str]]) -> list[int]:
        prompt = self._formatter(messages=messages).prompt
        return self.llm.tokenize(prompt.encode("utf-8"), add_bos=self._add_bos, special=True)

    def count_tokens(self, messages: list[dict[str, str]]) -> int:
        return len(self.prompt_tokens(messages))

    def reset(self) -> None:
        """Forget the cache, so that a session's outputs do not depend on what ran before it."""
        self.llm.reset()

    def _cached_prefix(self, tokens: list[int]) -> int:
        n = 0
        for a, b in zip(self.llm.input_ids[: self.llm.n_tokens], tokens):
            if a != b:
                break
            n += 1
        return n

    def _text_tokens(self, text: str) -> list[int]:
        return self.llm.tokenize(text.strip().encode("utf-8"), add_bos=False, special=False)

    def _ban_processor(self, controls: Controls, start: int) -> Any:
        """A logits processor: -inf for every token that would complete a banned n-gram, and for the
        banned first tokens at the first position. ``start`` is where the generated tokens begin."""
        import numpy as np
        from llama_cpp import LogitsProcessorList

        n = controls.ban_ngram
        banned: dict[tuple[int, ...], set[int]] = {}
        if n >= 2:
            for text in controls.avoid:
                toks = self._text_tokens(text)
                for i in range(len(toks) - n + 1):
                    banned.setdefault(tuple(toks[i: i + n - 1]), set()).add(toks[i + n - 1])
        openings = sorted({t for text in controls.avoid_openings for t in self._text_tokens(text)[:1]})
        if not banned and not openings:
            return None

        def process(input_ids: Any, scores: Any) -> Any:
            generated = input_ids[start:]
            if len(generated) == 0 and openings:
                scores[openings] = -np.inf
            if banned and len(generated) >= n - 1:
                hit = banned.get(tuple(int(t) for t in generated[len(generated) - (n - 1):]))
                if hit:
                    scores[sorted(hit)] = -np.inf
            return scores

        return LogitsProcessorList([process])

    def generate(
        self, messages: list[dict[str, str]], *, seed: int, sampling: Sampling = Sampling(), stop: tuple[str, ...] = ROLE_STOPS,
        controls: Controls = Controls(),
    ) -> Generation:
        tokens = self.prompt_tokens(messages)
        if len(tokens) + sampling.max_tokens > self.config.n_ctx:
            raise ContextOverflow(len(tokens), sampling.max_tokens, self.config.n_ctx)
        cached = self._cached_prefix(tokens)
        self.llm.set_seed(seed)
        out: list[int] = []
        text, finish = "", "length"
        t0 = time.perf_counter()
        t_first = t0
        stream = self.llm.generate(
            tokens, top_k=sampling.top_k, top_p=sampling.top_p, min_p=sampling.min_p, temp=sampling.temperature,
            repeat_penalty=controls.repeat_penalty or sampling.repeat_penalty, reset=True,
            presence_penalty=controls.presence_penalty, frequency_penalty=controls.frequency_penalty,
            logits_processor=self._ban_processor(controls, len(tokens)),
        )
        eog = False
        for token in stream:
            if not out:
                t_first = time.perf_counter()
            if self._is_eog(token):
                finish, eog = "stop", True
                break
            out.append(token)
            text = self.llm.detokenize(out).decode("utf-8", "ignore")
            hit = min((i for i in (text.find(s) for s in stop) if i >= 0), default=-1)
            if hit >= 0:
                text, finish = text[:hit], "stop"
                break
            if len(out) >= sampling.max_tokens:
                break
        stream.close()
        t_end = time.perf_counter()
        return Generation(
            text=text, tokens=out, prompt_tokens=len(tokens), cached_tokens=cached,
            prompt_ms=(t_first - t0) * 1000, gen_ms=(t_end - t_first) * 1000, finish=finish,
            n_evaluated=len(out) if eog else max(len(out) - 1, 0),
        )

    def rewarm(self, messages: list[dict[str, str]], evaluated: list[int]) -> None:
        """Re-evaluate one past turn exactly as :meth:`generate` evaluated it (prompt suffix as one
        batch, then each evaluated generated token one by one), so a resumed session continues
        from a KV cache bit-identical to the uninterrupted run's."""
        tokens = self.prompt_tokens(messages)
        cached = self._cached_prefix(tokens)
        llm = self.llm
        if not (cached == len(tokens) == llm.n_tokens and not llm._requires_eval):  # else: exact hit, no eval
            llm.n_tokens = cached - 1 if cached == len(tokens) else cached  # full hit: one token re-evaluated
            llm.eval(tokens[llm.n_tokens:])
        for token in evaluated:
            llm.eval([token])


class ContextOverflow(ValueError):
    """The prompt does not fit the model's context. The callers drop old history before they generate
    (:mod:`helpert.replay.graph.window`), so this is a prompt too long without any: the system prompt (with
    guidance), the turn's note and the latest words. A corpus run records it as the session's failure;
    the command line prints it as one line (:mod:`helpert.cli.errors`)."""

    def __init__(self, prompt_tokens: int, max_tokens: int, n_ctx: int):
        self.prompt_tokens = prompt_tokens
        super().__init__(f"prompt of {prompt_tokens} tokens + {max_tokens} to generate exceeds n_ctx={n_ctx}, even with "
                         "no earlier turns shown (raise --n-ctx, lower --max-tokens or shorten the guidance)")
