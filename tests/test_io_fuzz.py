"""Property tests: whatever bytes a loader is given, it returns valid sessions or raises TranscriptError.

Every accepted input must also survive ``write_sessions`` → ``read_file`` unchanged, so nothing a loader
lets through can break a later step. Settings keep the whole module to a few seconds.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from helpert.io import TranscriptError, read_file, write_sessions
from helpert.io.dialogue_json import MAX_TURN_CHARS
from helpert.io.roles import looks_like_speaker, near_role, normalize_role
from helpert.session import ROLES, Session, Turn, merge_consecutive

FAST = settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
FEW = settings(FAST, max_examples=12)
SUFFIXES = [".jsonl", ".json", ".csv", ".txt"]

COUNSELOR_NAMES = ["counselor", "Therapist", "SUPPORTER", "listener", "helper", "sys", "Counsellor"]
CLIENT_NAMES = ["client", "Patient", "seeker", "USER", "usr", "speaker", "Help-seeker"]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def load(folder: Path, name: str, data: bytes) -> list[Session] | TranscriptError:
    """Read the bytes as a file; any exception but TranscriptError fails the test."""
    path = folder / name
    path.write_bytes(data)
    try:
        sessions = read_file(path)
    except TranscriptError as exc:
        assert str(exc).startswith(str(path)), str(exc)
        return exc
    assert_valid(sessions, folder)
    return sessions


def assert_valid(sessions: list[Session], folder: Path) -> None:
    assert sessions
    assert len({s.dialogue_id for s in sessions}) == len(sessions)
    for s in sessions:
        assert s.dialogue_id.strip() and isinstance(s.language, str) and isinstance(s.source, str)
        assert s.turns and [t.idx for t in s.turns] == list(range(len(s.turns)))
        for t in s.turns:
            assert t.role in ROLES
            assert t.text and t.text == " ".join(t.text.split()) and len(t.text) <= MAX_TURN_CHARS
    out = folder / "roundtrip.jsonl"
    write_sessions(out, sessions)
    assert read_file(out) == sessions


def as_format(suffix: str, turns: list[tuple[str, str]], dialogue_id: str = "d") -> str:
    """Turns of (speaker name, text) written in one transcript format."""
    if suffix in (".jsonl", ".json"):
        rec = {"dialogue_id": dialogue_id, "turns": [{"role": r, "text": t} for r, t in turns]}
        return json.dumps(rec if suffix == ".jsonl" else [rec])
    if suffix == ".csv":
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(["speaker", "text"])
        writer.writerows(turns)
        return buf.getvalue()
    return f"# id: {dialogue_id}\n" + "".join(f"{r}: {t}\n" for r, t in turns)


def expected(turns: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(normalize_role(r), " ".join(t.split())) for r, t in turns if t.split()]


def got(sessions: list[Session]) -> list[tuple[str, str]]:
    (s,) = sessions
    return [(t.role, t.text) for t in s.turns]


# Text that stays on one line in every format (no NUL, no "\n" / "\r"); everything else is allowed.
line_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\n\r"), max_size=40)
blank = st.sampled_from(["", " ", "\t", "\u00a0", "\u2028", "\u3000", " \x0b\x0c "])
speaker = st.sampled_from(COUNSELOR_NAMES + CLIENT_NAMES)
turn = st.tuples(speaker, st.one_of(line_text, blank))
json_value = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)


# --- anything at all ---------------------------------------------------------------------------------


@FAST
@given(suffix=st.sampled_from(SUFFIXES), data=st.binary(max_size=400))
def test_arbitrary_bytes(workdir, suffix, data):
    load(workdir, "any" + suffix, data)


TOKENS = ["Counselor:", "Client:", "Therapist :", "Narrator:", "# id: a", "#", "\n", "\r\n", "\r", " ", ",", '"', "{", "}",
          "[", "]", ":", '"turns"', '"role"', '"text"', '"client"', '"counselor"', "null", "1", "speaker,text\n",
          "\ufeff", "\u2028", "é", "**"]


@FAST
@given(suffix=st.sampled_from(SUFFIXES), parts=st.lists(st.sampled_from(TOKENS) | line_text, max_size=30))
def test_arbitrary_token_soup(workdir, suffix, parts):
    load(workdir, "soup" + suffix, "".join(parts).encode())


@FAST
@given(turns=st.lists(turn, min_size=1, max_size=6), cut=st.integers(min_value=0), n=st.integers(1, 4))
def test_truncated_jsonl(workdir, turns, cut, n):
    lines = [as_format(".jsonl", turns, dialogue_id=f"d{i}") for i in range(n)]
    text = "".join(line + "\n" for line in lines)
    cut %= len(text) + 1
    result = load(workdir, "cut.jsonl", text[:cut].encode())
    ends = [sum(len(line) + 1 for line in lines[: i + 1]) for i in range(n)]  # offset just past each "\n"
    complete = sum(1 for end in ends if cut >= end - 1)  # records whose closing brace survived
    if cut in ends or cut + 1 in ends:
        if not expected(turns):
            assert isinstance(result, TranscriptError)
        elif complete:
            assert [s.dialogue_id for s in result] == [f"d{i}" for i in range(complete)]
        else:
            assert isinstance(result, TranscriptError)
    else:
        assert isinstance(result, TranscriptError)
        if expected(turns) and cut > 0:
            assert result.line == complete + 1 and "invalid JSON" in result.message


# --- structured damage ---------------------------------------------------------------------------------

FIELDS = ["dataset", "dialogue_id", "language", "source", "meta", "turns", "turns[1]", "turns[1].role",
          "turns[1].text", "turns[1].labels", "turns[1].meta", "turns[1].idx"]


@FAST
@given(field=st.sampled_from(FIELDS), value=json_value, as_list=st.booleans())
def test_random_json_value_in_each_field(workdir, field, value, as_list):
    rec = {"dataset": "x", "dialogue_id": "d", "language": "en", "source": "s", "meta": {},
           "turns": [{"idx": i, "role": r, "text": f"turn {i}", "labels": {}} for i, r in enumerate(["counselor", "client", "counselor"])]}
    if field.startswith("turns[1]."):
        rec["turns"][1][field.split(".")[1]] = value
    elif field == "turns[1]":
        rec["turns"][1] = value
    else:
        rec[field] = value
    text = json.dumps([rec] if as_list else rec) + "\n"
    result = load(workdir, "field.json" if as_list else "field.jsonl", text.encode())
    if isinstance(result, TranscriptError):
        assert result.field is not None and result.field.startswith(field.split(".")[0]), str(result)
        assert result.line == (None if as_list else 1)
    else:
        (s,) = result
        if field in ("dataset", "language", "source") and value is not None:
            assert getattr(s, field) == value
        if field == "turns[1].labels" and value is not None:
            assert s.turns[1].labels == value


@FAST
@given(suffix=st.sampled_from(SUFFIXES), turns=st.lists(turn, min_size=1, max_size=8))
def test_empty_and_whitespace_turns(workdir, suffix, turns):
    result = load(workdir, "blank" + suffix, as_format(suffix, turns).encode())
    if expected(turns):
        assert got(result) == expected(turns)
    else:
        assert isinstance(result, TranscriptError)


unknown_role = st.text("abcdefghijklmnopqrstuvwxyzXYZ -", min_size=1, max_size=12).filter(lambda r: normalize_role(r) is None and r.strip())


@FAST
@given(suffix=st.sampled_from(SUFFIXES), before=st.lists(st.tuples(speaker, st.from_regex(r"[a-z]{1,8}", fullmatch=True)), max_size=4),
       role=unknown_role)
def test_unknown_role(workdir, suffix, before, role):
    turns = [*before, (role, "who am I")]
    result = load(workdir, "role" + suffix, as_format(suffix, turns).encode())
    if suffix == ".txt" and before and not (looks_like_speaker(role) or near_role(role)):
        # after the first turn an unknown "word:" line that names no person is text that continues the previous turn
        assert got(result)[-1][1].endswith(" ".join(f"{role}: who am I".split()))
        return
    assert isinstance(result, TranscriptError)
    if suffix in (".jsonl", ".json"):
        assert result.field == f"turns[{len(before)}].role" and result.line == (1 if suffix == ".jsonl" else None)
    elif suffix == ".csv":
        assert result.field == "speaker" and result.line == len(before) + 2
    else:
        assert result.field == "speaker" and result.line == len(before) + 2


@FAST
@given(suffix=st.sampled_from(SUFFIXES), roles=st.lists(st.sampled_from(ROLES), min_size=1, max_size=12))
def test_consecutive_same_role_turns_are_kept(workdir, suffix, roles):
    turns = [(r, f"utterance {i}") for i, r in enumerate(roles)]
    assert got(load(workdir, "runs" + suffix, as_format(suffix, turns).encode())) == turns


@FEW
@given(suffix=st.sampled_from(SUFFIXES), n=st.one_of(st.integers(MAX_TURN_CHARS - 3, MAX_TURN_CHARS + 3), st.integers(1, 200_000)))
def test_huge_turns(workdir, suffix, n):
    result = load(workdir, "huge" + suffix, as_format(suffix, [("client", "hi"), ("counselor", "w" * n)]).encode())
    if n <= MAX_TURN_CHARS:
        assert len(got(result)[1][1]) == n
    else:
        assert isinstance(result, TranscriptError)


@FAST
@given(suffix=st.sampled_from(SUFFIXES), turns=st.lists(st.tuples(speaker, st.from_regex(r"[a-z ]{1,10}", fullmatch=True)), min_size=1, max_size=6),
       where=st.integers(min_value=0), char=st.sampled_from("éüñçøåßÉ"))
def test_latin1_bytes(workdir, suffix, turns, where, char):
    text = as_format(suffix, turns)
    where %= len(text)
    text = text[:where] + char + "x" + text[where:]  # a Latin-1 lead byte followed by ASCII is never UTF-8
    result = load(workdir, "latin" + suffix, text.encode("latin-1"))
    assert isinstance(result, TranscriptError) and "not UTF-8" in result.message
    assert result.line == text[:where].count("\n") + 1


@FAST
@given(suffix=st.sampled_from(SUFFIXES), text=st.text(st.characters(min_codepoint=1, max_codepoint=255), max_size=200))
def test_latin1_text_anywhere(workdir, suffix, text):
    load(workdir, "latin_any" + suffix, text.encode("latin-1"))


@settings(FAST, max_examples=4)
@given(suffix=st.sampled_from(SUFFIXES), n=st.integers(2000, 5000))
def test_thousands_of_turns(workdir, suffix, n):
    turns = [(ROLES[i % 2], f"turn number {i}, with some words") for i in range(n)]
    sessions = load(workdir, "long" + suffix, as_format(suffix, turns).encode())
    assert got(sessions) == turns


@FAST
@given(suffix=st.sampled_from([".jsonl", ".csv", ".txt"]), turns=st.lists(turn, min_size=1, max_size=5), eol=st.sampled_from(["\r\n", "\r"]))
def test_line_endings(workdir, suffix, turns, eol):
    text = as_format(suffix, turns) + "\n"
    if suffix == ".jsonl":
        text += as_format(suffix, turns, dialogue_id="e") + "\n"
    result = load(workdir, "eol" + suffix, text.replace("\r\n", "\n").replace("\n", eol).encode())
    if not expected(turns) or (suffix == ".jsonl" and eol == "\r"):
        assert isinstance(result, TranscriptError)  # JSONL records are separated by "\n" only
    elif suffix == ".jsonl":
        assert [(s.dialogue_id, [(t.role, t.text) for t in s.turns]) for s in result] == [("d", expected(turns)), ("e", expected(turns))]
    else:
        assert got(result) == expected(turns)


# --- merge_consecutive -------------------------------------------------------------------------------

labels = st.dictionaries(st.sampled_from(["phase", "risk", "behaviour"]), st.text(max_size=5), max_size=2)
turn_lists = st.lists(st.tuples(st.sampled_from(ROLES), st.text(max_size=8), labels), max_size=20).map(
    lambda raw: [Turn(idx=i, role=r, text=t, labels=lab, meta={"line": i + 1}) for i, (r, t, lab) in enumerate(raw)]
)


def runs(turns: list[Turn]) -> list[list[Turn]]:
    out: list[list[Turn]] = []
    for t in turns:
        if out and out[-1][0].role == t.role:
            out[-1].append(t)
        else:
            out.append([t])
    return out


@settings(FAST, max_examples=150)
@given(turns=turn_lists)
def test_merge_consecutive(turns):
    before = [t.model_dump() for t in turns]
    merged = merge_consecutive(turns)
    assert [t.model_dump() for t in turns] == before  # input unchanged
    groups = runs(turns)
    assert len(merged) == len(groups)
    assert [t.idx for t in merged] == list(range(len(merged)))
    assert all(a.role != b.role for a, b in zip(merged, merged[1:]))
    for m, group in zip(merged, groups):
        assert m.role == group[0].role
        assert m.text == " ".join(t.text for t in group)
        assert m.labels == group[0].labels
        assert m.meta.get("merged") == ([t.idx for t in group] if len(group) > 1 else None)
        assert m.meta["line"] == group[0].meta["line"]
    assert merge_consecutive(merged) == merged


@FAST
@given(turns=turn_lists)
def test_merge_consecutive_returns_independent_turns(turns):
    merged = merge_consecutive(turns)
    before = [t.model_dump() for t in turns]
    for m in merged:
        m.labels["phase"] = "changed"
        m.meta["touched"] = True
    assert [t.model_dump() for t in turns] == before
