"""LangChain chat models the graph's nodes call: our adapter over :class:`Engine`, or ChatLlamaCpp.

The graph only sees ``BaseChatModel.invoke``; which backend sits behind it is a run option.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import ConfigDict

from helpert.replay.llm.engine import ROLE_STOPS, Controls, Engine, Sampling

_ROLE = {"system": "system", "human": "user", "ai": "assistant"}


def to_dicts(messages: list[BaseMessage]) -> list[dict[str, str]]:
    return [{"role": _ROLE.get(m.type, "user"), "content": str(m.content)} for m in messages]


class EngineChatModel(BaseChatModel):
    """Thin adapter: messages in, one generated turn out, with token counts and timings as metadata.
    The call-time keyword ``seed`` makes each turn reproducible; ``controls`` (an engine
    :class:`~helpert.replay.llm.engine.Controls`) carries a retry's anti-repetition settings."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    engine: Engine
    sampling: Sampling = Sampling()
    accepts_controls: bool = True

    @property
    def _llm_type(self) -> str:
        return "helpert-llama-cpp"

    def count_tokens(self, messages: list[dict[str, str]]) -> int:
        return self.engine.count_tokens(messages)

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None, run_manager: Any = None, **kwargs: Any) -> ChatResult:
        gen = self.engine.generate(
            to_dicts(messages), seed=int(kwargs.get("seed", 0)), sampling=self.sampling, stop=tuple(stop) if stop else ROLE_STOPS,
            controls=kwargs.get("controls") or Controls(),
        )
        meta = {
            "prompt_tokens": gen.prompt_tokens, "cached_tokens": gen.cached_tokens, "completion_tokens": len(gen.tokens),
            "prompt_ms": round(gen.prompt_ms, 2), "gen_ms": round(gen.gen_ms, 2), "finish": gen.finish,
            "evaluated_tokens": gen.tokens[: gen.n_evaluated],
        }
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=gen.text, response_metadata=meta))])


class LlamaCppChatModel:
    """The langchain-community ``ChatLlamaCpp`` backend (its own model copy; no token-level resume)."""

    @staticmethod
    def load(model_path: Path, *, n_ctx: int, n_threads: int, sampling: Sampling, seed: int) -> BaseChatModel:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from langchain_community.chat_models import ChatLlamaCpp

            return ChatLlamaCpp(
                model_path=str(model_path), n_ctx=n_ctx, n_threads=n_threads, seed=seed, verbose=False,
                temperature=sampling.temperature, top_p=sampling.top_p, top_k=sampling.top_k,
                repeat_penalty=sampling.repeat_penalty, max_tokens=sampling.max_tokens,
            )
