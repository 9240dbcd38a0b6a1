"""Plain data for counseling sessions: what every loader produces and every analysis consumes.

A session is a list of turns with a role (``counselor`` or ``client``), text, free-form labels and
metadata. Everything round-trips through JSON in the dialogue format of ``../shared/data`` so that a
reconstruction can be read back by the same loaders as the original.
"""

from __future__ import annotations

from dataclasses import dataclass
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


@dataclass
class Slot:
    """One counselor turn of a session, with the client block it answers: what replay regenerates and what
    a comparison aligns (slot k of an original and of its reconstruction answer the same client words)."""

    client: Turn | None   # the client block this counselor turn answers (None for an opening turn)
    peer: Turn | None     # the original counselor's turn in this slot (None if the session ended)


def slots_of(session: Session, max_turns: int | None = None) -> list[Slot]:
    """The session's slots after merging consecutive same-speaker turns: an opening one when the counselor
    speaks first, then one per client block (``max_turns``: the first that many)."""
    turns = merge_consecutive(session.turns)
    slots: list[Slot] = []
    i = 0
    if turns and turns[0].role == "counselor":
        slots.append(Slot(client=None, peer=turns[0]))
        i = 1
    while i < len(turns):
        client = turns[i]
        peer = turns[i + 1] if i + 1 < len(turns) else None
        slots.append(Slot(client=client, peer=peer))
        i += 2
    return slots[:max_turns] if max_turns else slots
