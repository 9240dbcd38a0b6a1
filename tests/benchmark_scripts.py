"""Benchmark scripts of benchmarks/ as modules, for tests (the scripts hold the labelled sets' loaders and the
figures' computations, so a test recomputes a reported figure the way the script does)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def load(name: str):
    """``benchmarks/<name>.py`` as a module (it puts benchmarks/ on sys.path itself, for ``_common``)."""
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
