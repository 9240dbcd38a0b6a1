"""EPITOME empathy levels of counselor turns: emotional reactions, interpretations, explorations (0-2).

Each dimension is the argmax of its shipped linear model, which is stacked on a sentence scorer trained
on EPITOME's rationale spans (see ``benchmarks/train_labellers.py``). The models were trained on Reddit
replies to a seeker post; in a session the preceding client turn plays the seeker post.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Mapping

if TYPE_CHECKING:
    import numpy as np

DIMENSIONS = ("emotional_reactions", "interpretations", "explorations")


def empathy_from_scores(scores: Mapping[str, "np.ndarray"], classes: Mapping[str, list[str]]) -> list[dict[str, int]]:
    """One ``{dimension: level}`` dict per row of the ``empathy_<dimension>`` score matrices."""
    levels = {}
    for dim in DIMENSIONS:
        name = f"empathy_{dim}"
        levels[dim] = [int(classes[name][j]) for j in scores[name].argmax(axis=1)]
    n = len(levels[DIMENSIONS[0]])
    return [{dim: levels[dim][i] for dim in DIMENSIONS} for i in range(n)]
