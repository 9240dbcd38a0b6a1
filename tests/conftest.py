from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


def pytest_configure(config):
    """Under pytest-xdist (``make test`` runs ``-n auto``) each worker gets its own share of the cores, which the
    processes it starts (CLI runs, notebook kernels, a llama.cpp server) inherit: llama.cpp's threads wait for each
    other spinning, and two workers' threads on the same two cores ran a 60-second notebook for over ten minutes
    (2026-12-07). A worker on one core sees one core: the chat model runs on one thread there."""
    worker, count = os.environ.get("PYTEST_XDIST_WORKER"), os.environ.get("PYTEST_XDIST_WORKER_COUNT")
    if not (worker and count and hasattr(os, "sched_setaffinity")):
        return
    cpus, n = sorted(os.sched_getaffinity(0)), int(count)
    if len(cpus) >= n:
        os.sched_setaffinity(0, cpus[int(worker.removeprefix("gw")) % n::n])


def pytest_collection_modifyitems(config, items):
    if not SHARED_DATA.is_dir():
        skip = pytest.mark.skip(reason=f"{SHARED_DATA} is absent")
        for item in items:
            if "shared" in item.keywords:
                item.add_marker(skip)


@pytest.fixture
def fake_chat():
    """A scripted LangChain chat model for routing/graph unit tests (never for the end-to-end test)."""
    from langchain_core.language_models.chat_models import BaseChatModel
    from langchain_core.messages import AIMessage
    from langchain_core.outputs import ChatGeneration, ChatResult

    class ScriptedChat(BaseChatModel):
        script: list[str] = []
        calls: list[dict[str, Any]] = []
        accepts_controls: bool = False  # True: retries pass their anti-repetition Controls, recorded per call

        @property
        def _llm_type(self) -> str:
            return "scripted"

        def _generate(self, messages, stop=None, run_manager=None, **kwargs):
            self.calls.append({"messages": [(m.type, m.content) for m in messages], "seed": kwargs.get("seed"),
                               "controls": kwargs.get("controls")})
            text = self.script[(len(self.calls) - 1) % len(self.script)] if self.script else f"reply {len(self.calls)}"
            meta = {"prompt_tokens": 10, "cached_tokens": 0, "completion_tokens": 3, "evaluated_tokens": [1, 2]}
            return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text, response_metadata=meta))])

    return ScriptedChat


def backend_of(chat, *, count_tokens=None, n_ctx: int = 4096, max_tokens: int = 96, **kw):
    """A :class:`helpert.replay.llm.Backend` around a scripted chat model (``kw``: reset, rewarm, info...)."""
    from helpert.replay.llm import Backend

    kw.setdefault("info", {})
    count = count_tokens or (lambda msgs: sum(len(m["content"]) // 4 + 4 for m in msgs))
    return Backend(chat=chat, count_tokens=count, n_ctx=n_ctx, max_tokens=max_tokens, **kw)
