"""An LLM judge: one prompt in, one JSON object out, constrained by a JSON schema.

It loads a model instance of its own, never the counselor's: llama-cpp-python reuses only the prompt
prefix of its *last* call, so a judge prompt between counselor turns would evict the counselor's cache.
The schema goes in as ``response_format={"type": "json_object", "schema": ...}``, which llama-cpp-python
turns into a grammar (its ``json_schema`` form is silently ignored), so a reply is valid JSON of the
schema's shape unless it was cut off by ``max_tokens``; such replies are counted as failures, never
guessed at. Decoding is greedy with a fixed seed, so the same prompts give the same verdicts.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from helpert.replay.llm.models import ModelError, default_threads, resolve_model_path


class LlamaJudge:
    """``judge(prompt, schema) -> dict | None``: the callable the CTRS and turn-label judges take."""

    def __init__(self, model: str | Path | None = None, *, n_ctx: int = 4096, n_threads: int | None = None,
                 max_tokens: int = 128, seed: int = 0) -> None:
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

    def __call__(self, prompt: str, schema: dict[str, Any]) -> dict[str, Any] | None:
        self.calls += 1
        reply = self._ask(prompt, schema)
        self.failures += reply is None
        return reply

    def _ask(self, prompt: str, schema: dict[str, Any]) -> dict[str, Any] | None:
        messages = [{"role": "user", "content": prompt}]
        if len(self.llm.tokenize(prompt.encode("utf-8"), add_bos=False)) + self.max_tokens + 32 > self.n_ctx:
            return None  # would not fit: a failure to count, not a crash mid-corpus
        out = self.llm.create_chat_completion(
            messages=messages, response_format={"type": "json_object", "schema": schema},
            temperature=0.0, max_tokens=self.max_tokens, seed=self.seed,
        )
        choice = out["choices"][0]
        if choice.get("finish_reason") == "length":
            return None
        try:
            value = json.loads(choice["message"]["content"] or "")
        except json.JSONDecodeError:
            return None
        return value if isinstance(value, dict) else None

    def info(self) -> dict[str, Any]:
        """What a results file records about the judge."""
        return {"judge_model": str(self.model_path), "judge_calls": self.calls, "judge_failures": self.failures,
                "judge_seed": self.seed, "judge_max_tokens": self.max_tokens}
