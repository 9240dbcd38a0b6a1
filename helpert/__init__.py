"""helpert: how does an LLM counselor running a CBT protocol compare, turn by turn, with the human
peer counselor of a real session?

The flow: load (``helpert.io``) → replay (``helpert.replay`` over the graph in
``helpert.replay.graph`` and a model from ``helpert.replay.llm``) → label (``helpert.label``) → measure
(``helpert.metrics``) → compare (``helpert.compare``) → report (``helpert.report``: terminal views, HTML,
plots). One package per stage; no module imports from a later one (tests/test_layers.py).

The public API below is imported lazily, so ``import helpert`` stays cheap.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_API = {
    "Session": "helpert.session",
    "Turn": "helpert.session",
    "read_sessions": "helpert.io",
    "write_sessions": "helpert.io",
    "TranscriptError": "helpert.io",
    "load_protocol": "helpert.protocols",
    "Protocol": "helpert.protocols",
    "load_backend": "helpert.replay.llm",
    "Sampling": "helpert.replay.llm",
    "replay_session": "helpert.replay",
    "ReplaySettings": "helpert.replay.settings",
    "Backend": "helpert.replay.llm",
    "label_session": "helpert.label",
    "label_sessions": "helpert.label",
    "measure_session": "helpert.metrics",
    "measure_sessions": "helpert.metrics",
    "compare_pair": "helpert.compare",
    "compare_sessions": "helpert.compare",
    "compare_corpus": "helpert.compare",
    "compare_run_dir": "helpert.compare",
    "ComparedRun": "helpert.compare",
    "Run": "helpert.replay.runs",
    "Manifest": "helpert.replay.runs",
    "run_batch": "helpert.replay.batch",
    "RunOptions": "helpert.replay.batch",
    "simulate_session": "helpert.replay.simulate",
    "extract_profile": "helpert.replay.profile",
    "ClientProfile": "helpert.replay.profile",
    "run_fairness_probe": "helpert.probe.fairness",
    "counterfactuals": "helpert.probe.counterfactual",
    "load_guidance": "helpert.replay.guidance",
    "detect_risk": "helpert.safety.risk",
    "screen_sessions": "helpert.safety.screen",
    "label_regulation": "helpert.label.regulation",
    "LlamaJudge": "helpert.replay.llm.judge",
    "ServerJudge": "helpert.replay.llm.judge",
}

__all__ = sorted(_API)


def __getattr__(name: str) -> Any:
    if name in _API:
        return getattr(import_module(_API[name]), name)
    raise AttributeError(f"module 'helpert' has no attribute {name!r}")
