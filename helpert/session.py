"""Plain data for counseling sessions: what every loader produces and every analysis consumes.

A session is a list of turns with a role (``counselor`` or ``client``), text, free-form labels and
metadata. Everything round-trips through JSON in the dialogue format of ``../shared/data`` so that a
reconstruction can be read back by the same loaders as the original.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

Role = Literal["counselor", "client"]
ROLES: tuple[Role, ...] = ("counselor", "client")


class Turn(BaseModel):
    """One utterance. ``labels`` holds annotations (gold or predicted), ``meta`` anything else."""

    idx: int
    role: Role
    text: str
    labels: dict[str, Any] = Field(default_factory=dict)
    meta: dict[str, Any] = Field(default_factory=dict)


class Session(BaseModel):
    """One dialogue between a counselor and a client."""

    dialogue_id: str
    turns: list[Turn]
    dataset: str = ""
    language: str = "en"
    source: str = ""
    meta: dict[str, Any] = Field(default_factory=dict)

    @property
    def counselor_turns(self) -> list[Turn]:
        return [t for t in self.turns if t.role == "counselor"]

    @property
    def client_turns(self) -> list[Turn]:
        return [t for t in self.turns if t.role == "client"]

    def to_record(self) -> dict[str, Any]:
        """The shared dialogue-format record (one JSONL line)."""
        return self.model_dump(mode="json")

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> "Session":
        return cls.model_validate(record)


def merge_consecutive(turns: list[Turn]) -> list[Turn]:
    """Join runs of same-role turns into one turn each, so a session alternates speakers.

    Transcripts often split one speaker's utterance over several lines; replay and alignment work on
    alternating blocks. Labels of the first turn in a run are kept; ``meta['merged']`` lists the
    original indices. The result shares no dicts with ``turns``, so labelling it leaves them untouched.
    """
    merged: list[Turn] = []
    for turn in turns:
        if merged and merged[-1].role == turn.role:
            last = merged[-1]
            sources = last.meta.get("merged", [last.idx])
            merged[-1] = last.model_copy(
                update={
                    "text": f"{last.text} {turn.text}",
                    "meta": {**last.meta, "merged": [*sources, turn.idx]},
                }
            )
        else:
            merged.append(turn.model_copy(deep=True))
    return [t.model_copy(update={"idx": i}) for i, t in enumerate(merged)]
