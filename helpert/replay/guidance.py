"""Counselor styles (``--guidance NAME|PATH``): a YAML file in ``helpert/protocols/guidance/`` rendered into a few
sentences appended to the counselor's system prompt (helpert.replay.graph.prompts.system_prompt).

The rendered text is the style's ``lead`` followed by the ``text`` of each principle, nothing else:
the default model is a 135M one, and every extra system-prompt token dilutes the protocol's own
per-turn instructions. Shipped: ``reappraisal`` (six appraisal dimensions) and ``empathic`` (six
support strategies over the conversation).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from helpert.protocols import find_yaml, read_yaml_mapping, search_dirs, yaml_names



class GuidanceError(ValueError):
    """A guidance name or file that cannot be used; the message names it."""


@dataclass(frozen=True)
class Guidance:
    name: str
    text: str     # what the model sees, appended to the system prompt
    sha256: str   # of the YAML file's bytes, recorded in the run manifest
    source: str   # the file it came from


def guidance_dirs() -> list[Path]:
    """Where guidance names are looked up: $HELPERT_GUIDANCE, ./graphs/guidance, then the shipped ones (helpert/protocols/guidance)."""
    return search_dirs("HELPERT_GUIDANCE", "guidance")


def available_guidance() -> list[str]:
    return yaml_names(guidance_dirs())


def _resolve(name_or_path: str | Path) -> Path:
    return find_yaml(name_or_path, guidance_dirs(), "guidance", GuidanceError)


def render(data: dict, where: str) -> str:
    """The text the model sees: ``lead`` then each principle's ``text``, one sentence each."""
    lead = data.get("lead")
    principles = data.get("principles")
    if not isinstance(lead, str) or not lead.strip():
        raise GuidanceError(f"{where}: field 'lead': a non-empty string is required")
    if not isinstance(principles, list) or not principles:
        raise GuidanceError(f"{where}: field 'principles': a non-empty list is required")
    sentences = [lead.strip()]
    for i, p in enumerate(principles):
        text = p.get("text") if isinstance(p, dict) else None
        if not isinstance(text, str) or not text.strip():
            raise GuidanceError(f"{where}: field 'principles[{i}].text': a non-empty string is required")
        sentences.append(text.strip())
    return " ".join(sentences)


def load_guidance(name_or_path: str | Path) -> Guidance:
    """Load a counselor style by name (``reappraisal``) or path; errors name the file and field."""
    path = _resolve(name_or_path)
    data, raw = read_yaml_mapping(path, GuidanceError)
    name = data.get("name", path.stem)
    if not isinstance(name, str) or not name.strip():
        raise GuidanceError(f"{path}: field 'name': a non-empty string is required")
    return Guidance(name=name, text=render(data, str(path)), sha256=hashlib.sha256(raw).hexdigest(), source=str(path))
