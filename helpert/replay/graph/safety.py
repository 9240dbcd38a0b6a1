"""The safety node's reply: the model's words, if they pass :func:`helpert.safety.templates.safety_text_ok`, before
a scripted template (the templates, their wording rules and the reasons: :mod:`helpert.safety.templates`)."""

from __future__ import annotations

from typing import Sequence

from helpert.replay.llm.degenerate import DEGENERATE
from helpert.safety.templates import safety_template, safety_text_ok


def scripted_reply(model_text: str, flags: list[str], tier: str, kinds: Sequence[str], slot: int) -> tuple[str, list[str]]:
    """The text and flags of a safety turn from the model's generated text and its generation flags."""
    template, tag = safety_template(tier, kinds, slot)
    keep = safety_text_ok(model_text) and DEGENERATE not in flags and "fallback" not in flags
    if keep:
        text = f"{model_text.strip()} {template}"
    else:
        text = template
        flags = [f for f in flags if f not in (DEGENERATE, "fallback") and not f.startswith(f"{DEGENERATE}:")]
        flags.append("safety_model_text_dropped")
    return text, [*flags, "safety_resources" if tier != "check" else "safety_check", f"safety_template:{tag}"]
