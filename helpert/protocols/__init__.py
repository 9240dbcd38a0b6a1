"""Protocols as data: phases, goals, cues and allowed transitions, loaded from YAML: the shipped ones are package
data beside this module (``helpert/protocols/*.yaml``; counselor styles in ``helpert/protocols/guidance/``),
your own are found by path, in ``$HELPERT_PROTOCOLS`` or in ``./graphs/``.

One :class:`Protocol` object drives the router, the drawn graph and the adherence scores, so the
``next`` lists in the YAML are the single source of what the protocol allows.
"""

from __future__ import annotations

import hashlib
import os
from functools import cached_property
from typing import Iterable
from pathlib import Path

import yaml
from pydantic import BaseModel, Field, ValidationError

CTRS_ITEMS = (
    "agenda", "feedback", "understanding", "interpersonal_effectiveness", "collaboration", "pacing",
    "guided_discovery", "focus_on_key_cognitions", "strategy_for_change", "application_of_cbt_techniques",
    "homework",
)
SAFETY = "safety"          # the crisis node every compiled graph has, outside the protocol's phases
OFF_PROTOCOL = "off_protocol"  # label of a counselor turn that serves no phase (small talk, chit-chat)
RESERVED = {SAFETY, OFF_PROTOCOL}

SHIPPED = Path(__file__).resolve().parent  # the shipped protocol YAML (package data); guidance styles in SHIPPED/guidance


class ProtocolError(ValueError):
    """A protocol file that cannot be used; the message names the file and the phase."""


class Phase(BaseModel):
    id: str
    title: str = ""
    goal: str
    instructions: str
    cues: list[str] = Field(default_factory=list)
    client_cues: list[str] = Field(default_factory=list)
    ctrs: list[str] = Field(default_factory=list)
    required: bool = True
    share: float = Field(default=0.1, gt=0, le=1)
    min_turns: int = Field(default=1, ge=1)
    next: list[str] = Field(default_factory=list)


class Protocol(BaseModel):
    name: str
    title: str = ""
    description: str = ""
    persona: str
    start: str
    end: list[str]
    phases: list[Phase]
    source: str = ""
    sha256: str = ""

    @cached_property
    def by_id(self) -> dict[str, Phase]:
        return {p.id: p for p in self.phases}

    @cached_property
    def canonical_path(self) -> list[str]:
        """Walk from ``start`` taking the first not-yet-visited ``next`` until an end phase."""
        path, current = [self.start], self.start
        while current not in self.end:
            options = [n for n in self.by_id[current].next if n not in path]
            if not options:
                break
            current = options[0]
            path.append(current)
        return path

    @cached_property
    def position(self) -> dict[str, int]:
        """Index of each phase in the canonical path (phases off the path come after it)."""
        pos = {p: i for i, p in enumerate(self.canonical_path)}
        for p in self.phases:
            pos.setdefault(p.id, len(pos))
        return pos

    @cached_property
    def distance_to_end(self) -> dict[str, int]:
        """Fewest transitions from each phase to an end phase (BFS over reversed edges)."""
        rev: dict[str, list[str]] = {p.id: [] for p in self.phases}
        for src, dst in self.edges():
            rev[dst].append(src)
        dist = {e: 0 for e in self.end}
        queue = list(self.end)
        while queue:
            node = queue.pop(0)
            for prev in rev[node]:
                if prev not in dist:
                    dist[prev] = dist[node] + 1
                    queue.append(prev)
        return dist

    @property
    def required(self) -> list[str]:
        return [p.id for p in self.phases if p.required]

    def allowed(self, src: str, dst: str) -> bool:
        """Whether the protocol allows moving from ``src`` to ``dst`` (staying is always allowed)."""
        return src == dst or dst in self.by_id[src].next

    def edges(self) -> list[tuple[str, str]]:
        return [(p.id, n) for p in self.phases for n in p.next]


def _did_you_mean(name: str, known: "Iterable[str]") -> str:
    import difflib

    close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.75)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _validate(proto: Protocol, where: str) -> None:
    """Raise :class:`ProtocolError` naming every fault of the phases' definitions at once (a user editing a copy made
    three fix-and-rerun rounds for three typos: a fresh-user review, 2026-12-07), then the first fault of the graph."""
    ids = [p.id for p in proto.phases]
    known = set(ids)
    faults: list[str] = []
    dupes = {i for i in ids if ids.count(i) > 1}
    if dupes:
        faults.append(f"duplicate phase id(s): {', '.join(sorted(dupes))}")
    clash = RESERVED & known
    if clash:
        faults.append(f"phase id(s) {', '.join(sorted(clash))} are reserved")
    if proto.start not in known:
        faults.append(f"start phase '{proto.start}' is not defined{_did_you_mean(proto.start, known)}")
    for e in proto.end:
        if e not in known:
            faults.append(f"end phase '{e}' is not defined{_did_you_mean(e, known)}")
    for p in proto.phases:
        for n in p.next:
            if n not in known:
                faults.append(f"phase '{p.id}' lists unknown next phase '{n}'{_did_you_mean(n, known)}")
        for item in p.ctrs:
            if item not in CTRS_ITEMS:
                faults.append(f"phase '{p.id}' names unknown CTRS item '{item}'{_did_you_mean(item, CTRS_ITEMS)} "
                              f"(the items: {', '.join(CTRS_ITEMS)})")
        if not p.next and p.id not in proto.end:
            faults.append(f"phase '{p.id}' has no next phase and is not an end phase")
    if faults:
        raise ProtocolError(f"{where}: " + "; ".join(faults))
    reach = {proto.start}
    frontier = [proto.start]
    while frontier:
        for n in proto.by_id[frontier.pop()].next:
            if n not in reach:
                reach.add(n)
                frontier.append(n)
    unreachable = [i for i in ids if i not in reach]
    if unreachable:
        raise ProtocolError(f"{where}: phase(s) unreachable from '{proto.start}': {', '.join(unreachable)}")
    stuck = [i for i in ids if i not in proto.distance_to_end]
    if stuck:
        raise ProtocolError(f"{where}: phase(s) that can never reach an end phase: {', '.join(stuck)}")
    if proto.canonical_path[-1] not in proto.end:
        raise ProtocolError(f"{where}: following 'next' from '{proto.start}' never reaches an end phase")
    missing = [r for r in proto.required if r not in proto.canonical_path]
    if missing:
        raise ProtocolError(f"{where}: required phase(s) not on the canonical path: {', '.join(missing)}")


def search_dirs(env_var: str, *parts: str) -> list[Path]:
    """Where YAML names are looked up: the folders in ``env_var``, ./graphs/<parts>, then the shipped ones."""
    dirs = [Path(d) for d in os.environ.get(env_var, "").split(os.pathsep) if d]
    return [*dirs, Path.cwd().joinpath("graphs", *parts), SHIPPED.joinpath(*parts)]


def yaml_names(dirs: list[Path]) -> list[str]:
    return sorted({f.stem for d in dirs if d.is_dir() for f in d.glob("*.yaml")})


def find_yaml(name_or_path: str | Path, dirs: list[Path], kind: str, error: type[Exception]) -> Path:
    """A path as given, or ``NAME.yaml`` in the first of ``dirs`` that has it; else ``error`` listing names."""
    p = Path(name_or_path)
    if p.suffix in (".yaml", ".yml") or p.exists():
        if not p.is_file():
            raise error(f"{p}: no such {kind} file")
        return p
    for d in dirs:
        candidate = d / f"{name_or_path}.yaml"
        if candidate.is_file():
            return candidate
    raise error(f"unknown {kind} '{name_or_path}' (available: {', '.join(yaml_names(dirs)) or 'none'})")


def protocol_dirs() -> list[Path]:
    return search_dirs("HELPERT_PROTOCOLS")


def resolve_protocol_path(name_or_path: str | Path) -> Path:
    return find_yaml(name_or_path, protocol_dirs(), "protocol", ProtocolError)


def available_protocols() -> list[str]:
    return yaml_names(protocol_dirs())


def read_yaml_mapping(path: Path, error: type[Exception]) -> tuple[dict, bytes]:
    """The top-level mapping of a YAML file and its raw bytes (for hashing); ``error`` names the file."""
    raw = path.read_bytes()
    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError as exc:  # the parser names the text "<byte string>"; the file is named in front
        detail = str(exc).replace('in "<byte string>", ', "")
        raise error(f"{path}: invalid YAML: {detail}") from None
    if not isinstance(data, dict):
        raise error(f"{path}: expected a mapping at the top level")
    return data, raw


def load_protocol(name_or_path: str | Path = "cbt_session") -> Protocol:
    """Load and validate a protocol by name (``cbt_session``) or path; errors name file and phase."""
    path = resolve_protocol_path(name_or_path)
    data, raw = read_yaml_mapping(path, ProtocolError)
    try:
        proto = Protocol.model_validate({**data, "source": str(path), "sha256": hashlib.sha256(raw).hexdigest()})
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(x) for x in first["loc"])
        if first["loc"][:1] == ("phases",) and len(first["loc"]) > 1 and isinstance(data.get("phases"), list):
            idx = first["loc"][1]
            if isinstance(idx, int) and idx < len(data["phases"]) and isinstance(data["phases"][idx], dict):
                loc += f" (phase '{data['phases'][idx].get('id', '?')}')"
        raise ProtocolError(f"{path}: field '{loc}': {first['msg']}") from None
    _validate(proto, str(path))
    return proto
