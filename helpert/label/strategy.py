"""ESConv support strategy and Hill helping-skills stage of counselor turns.

The strategy is the argmax of the shipped linear model (trained on ESConv, see
``benchmarks/train_labellers.py``). The stage is not a second model: it is the stage of the best-scoring
strategy among those that map onto a stage (Greeting and Others map onto none), so ``stage_pred`` always
names a stage and never contradicts the strategy when the strategy has one.
"""

from __future__ import annotations

import hashlib
import re
from typing import TYPE_CHECKING, Sequence

from helpert.label.behaviour import BY_STRATEGY
from helpert.text.features import cue_flags, normalise

if TYPE_CHECKING:
    import numpy as np

    from helpert.session import Session, Turn

STRATEGIES = (
    "Question",
    "Restatement or Paraphrasing",
    "Reflection of feelings",
    "Self-disclosure",
    "Affirmation and Reassurance",
    "Providing Suggestions or Information",
    "Greeting",
    "Others",
)
STAGES = ("exploration", "comforting", "action")
# The ESConv paper's heuristic (shared README): strategy -> Hill stage; Greeting and Others have none.
STAGE_OF = {
    "Question": "exploration",
    "Restatement or Paraphrasing": "exploration",
    "Reflection of feelings": "comforting",
    "Self-disclosure": "comforting",
    "Affirmation and Reassurance": "comforting",
    "Providing Suggestions or Information": "action",
}
# Names used by the original ESConv release (and its TSV files) and by MultiESC's bracketed list.
LEGACY_NAMES = {
    "Questions": "Question",
    "Providing Suggestions": "Providing Suggestions or Information",
    "Information": "Providing Suggestions or Information",
    "Other": None,  # split by MultiESC into Greeting / Others: see canonical_strategy
}
_MIN_HASH_CHARS = 40


def canonical_strategy(name: str | None, text: str = "") -> str | None:
    """A gold strategy name in the 8 MultiESC names, or None when it is none of them.

    The original ESConv "Other" covers MultiESC's Greeting and Others; a turn with a greeting or thanks
    cue counts as Greeting, any other as Others (agrees with MultiESC on most overlapping turns).
    """
    if name is None:
        return None
    name = str(name).strip().strip("[]").strip()
    if name in STRATEGIES:
        return name
    if name in LEGACY_NAMES:
        mapped = LEGACY_NAMES[name]
        if mapped is None:
            flags = cue_flags(normalise(text))
            return "Greeting" if "greeting" in flags or "thanks" in flags else "Others"
        return mapped
    return None


def turn_hash(text: str, min_chars: int = _MIN_HASH_CHARS) -> str | None:
    """Short hash of a turn's letters and digits (robust to tokenisation); None for turns shorter than
    ``min_chars`` letters and digits, too generic to identify a dialogue ("you're welcome, take care")."""
    key = re.sub(r"[^a-z0-9]", "", normalise(text))
    if len(key) < min_chars:
        return None
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:12]


def stage_from_scores(scores: "np.ndarray", classes: Sequence[str]) -> list[str]:
    """Stage of the best-scoring strategy that has a stage, for each row of strategy ``scores``."""
    import numpy as np

    from helpert.session import Session, Turn

    staged = [j for j, c in enumerate(classes) if c in STAGE_OF]
    best = np.asarray(scores)[:, staged].argmax(axis=1)
    return [STAGE_OF[classes[staged[j]]] for j in best]


def strategy_from_scores(scores: "np.ndarray", classes: Sequence[str], texts: Sequence[str] | None = None) -> list[str]:
    """Each row's best strategy. With ``texts`` (the turns, normalised), Self-disclosure stands only for a turn that
    names its speaker (:func:`helpert.label.mi.mentions_self`, round 101); otherwise the next best strategy."""
    import numpy as np

    from helpert.label.mi import mentions_self

    scores = np.asarray(scores)
    out = [classes[j] for j in scores.argmax(axis=1)]
    if texts is not None and "Self-disclosure" in classes:
        others = [j for j, c in enumerate(classes) if c != "Self-disclosure"]
        for i, (c, text) in enumerate(zip(out, texts, strict=True)):
            if c == "Self-disclosure" and not mentions_self(text):
                out[i] = classes[others[int(scores[i, others].argmax())]]
    return out


# --- labels from a corpus's own ESConv annotation instead of the labeller ---------------------------------

_BEHAVIOUR_OF = {**BY_STRATEGY, "Providing Suggestions or Information": "suggestion", "Greeting": "greeting", "Others": "other"}
_OPEN_STARTS = ("what", "how", "why", "tell", "can you tell", "could you tell", "in what")


def annotated_labels(turn: "Turn") -> dict:
    """A counselor turn's ESConv annotation (``strategy``, ``stage_heuristic``) as helpert label keys for
    the helping_skills protocol: phase = the annotated stage (none: off protocol), behaviour from the
    strategy (a Question is open when it starts with what/how/why/tell...), strategy_pred and stage_pred
    the annotation itself."""
    from helpert.protocols import OFF_PROTOCOL

    strategy = turn.labels.get("strategy", "Others")
    if strategy == "Question":
        behaviour = "open_question" if turn.text.lower().startswith(_OPEN_STARTS) else "closed_question"
    else:
        behaviour = _BEHAVIOUR_OF.get(strategy, "other")
    stage = turn.labels.get("stage_heuristic")
    return {**turn.labels, "phase": stage or OFF_PROTOCOL, "behaviour": behaviour, "strategy_pred": strategy, "stage_pred": stage}


def label_from_annotation(session: "Session") -> "Session":
    """``session`` with every counselor turn labelled by :func:`annotated_labels` (measure it under
    helping_skills without running the labeller)."""
    turns = [t.model_copy(update={"labels": annotated_labels(t)}) if t.role == "counselor" else t for t in session.turns]
    return session.model_copy(update={"turns": turns})
