"""Model backends behind one interface: a LangChain chat model plus what the manifest must record."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from helpert.io.digest import file_sha256
from helpert.replay.llm.engine import Sampling
from helpert.replay.llm.models import ModelError, default_threads, resolve_model_path

if TYPE_CHECKING:
    from langchain_core.language_models.chat_models import BaseChatModel

    from helpert.replay.llm.openai_backend import RequestStats, ServerConfig

BACKENDS = ("llama-cpp", "langchain-llamacpp", "openai")


@dataclass
class Backend:
    """A loaded model: the chat model, its tokenizer, and the context size and generation budget it
    was loaded with (``n_ctx``, ``max_tokens``: the one place replay and simulation read them)."""

    chat: BaseChatModel
    count_tokens: Callable[[list[dict[str, str]]], int]
    info: dict[str, Any]
    n_ctx: int       # the model's context window, in tokens
    max_tokens: int  # tokens one turn may generate (its Sampling's max_tokens)
    reset: Callable[[], None] = field(default=lambda: None)
    rewarm: Callable[[list[dict[str, str]], list[int]], None] | None = None  # exact resume (llama-cpp only)
    stats: RequestStats | None = None  # request counters of a server backend
    for_session: Callable[[int], BaseChatModel] | None = None  # server backend: the chat model for the k-th session (its replica)

    @property
    def thread_safe(self) -> bool:
        """Whether several sessions may share this backend from threads (a server backend: yes; a
        local ``Llama``: no)."""
        return self.for_session is not None

    def chat_for(self, k: int) -> BaseChatModel:
        return self.for_session(k) if self.for_session is not None else self.chat


def describe_model(model: str | Path | None, *, backend: str, n_ctx: int, n_threads: int, sampling: Sampling) -> dict[str, Any]:
    """What a run manifest records about the model (file, hash, library version, settings)."""
    from importlib import metadata

    path = resolve_model_path(model)
    return {
        "backend": backend, "model_path": str(path), "model_file": path.name, "model_bytes": path.stat().st_size,
        "model_sha256": file_sha256(path), "llama_cpp_python": metadata.version("llama-cpp-python"), "n_ctx": n_ctx,
        "n_threads": n_threads, "sampling": sampling.as_dict(),
    }


def load_backend(
    model: str | Path | None = None, *, backend: str = "llama-cpp", n_ctx: int = 4096, n_threads: int | None = None,
    sampling: Sampling = Sampling(), seed: int = 0, server: ServerConfig | None = None,
) -> Backend:
    """Load a GGUF (the embedded default when ``model`` is None) behind the chosen backend, or, with
    ``backend="openai"``, connect to the server(s) of ``server`` (a
    :class:`helpert.replay.llm.openai_backend.ServerConfig`)."""
    if backend == "openai":
        from helpert.replay.llm.openai_backend import ServerConfig, load_openai_backend

        return load_openai_backend(server or ServerConfig(), n_ctx=n_ctx, sampling=sampling)
    path = resolve_model_path(model)
    threads = n_threads or default_threads()
    info = describe_model(path, backend=backend, n_ctx=n_ctx, n_threads=threads, sampling=sampling)
    if backend == "llama-cpp":
        from helpert.replay.llm.chat import EngineChatModel
        from helpert.replay.llm.engine import Engine, EngineConfig

        engine = Engine(EngineConfig(model_path=path, n_ctx=n_ctx, n_threads=threads))
        return Backend(chat=EngineChatModel(engine=engine, sampling=sampling), count_tokens=engine.count_tokens,
                       info=info, n_ctx=n_ctx, max_tokens=sampling.max_tokens, reset=engine.reset,
                       rewarm=engine.rewarm)
    if backend == "langchain-llamacpp":
        from helpert.replay.llm.chat import LlamaCppChatModel

        chat = LlamaCppChatModel.load(path, n_ctx=n_ctx, n_threads=threads, sampling=sampling, seed=seed)
        if not chat.client.metadata.get("tokenizer.chat_template"):
            raise ModelError(f"{path}: the GGUF has no chat template (tokenizer.chat_template)")

        def count(messages: list[dict[str, str]]) -> int:
            text = "".join(f"<|{m['role']}|>{m['content']}\n" for m in messages)
            return len(chat.client.tokenize(text.encode("utf-8"), add_bos=False, special=True)) + 4 * len(messages)

        return Backend(chat=chat, count_tokens=count, info=info, n_ctx=n_ctx, max_tokens=sampling.max_tokens,
                       reset=chat.client.reset)
    raise ModelError(f"unknown backend '{backend}' (choose from {', '.join(BACKENDS)})")


__all__ = ["Backend", "BACKENDS", "ModelError", "Sampling", "describe_model", "load_backend", "default_threads"]
