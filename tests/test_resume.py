"""Resume after interruption: journal + LangGraph SQLite checkpoint reconciliation, and corpus runs."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from helpert.protocols import load_protocol
from conftest import backend_of
from helpert.replay import ReplaySettings, replay_session
from helpert.replay.runs import Journal
from helpert.session import Session, Turn


def _session(n: int) -> Session:
    turns = []
    for i in range(n):
        turns.append(Turn(idx=len(turns), role="client", text=f"Client says thing number {i}."))
        turns.append(Turn(idx=len(turns), role="counselor", text=f"Peer reply {i}."))
    return Session(dialogue_id="long", turns=turns)


@pytest.fixture
def echo_chat():
    """Deterministic in the prompt (unlike a scripted list), so a resumed run can equal a clean one."""
    from langchain_core.language_models.chat_models import BaseChatModel
    from langchain_core.messages import AIMessage
    from langchain_core.outputs import ChatGeneration, ChatResult

    class EchoChat(BaseChatModel):
        @property
        def _llm_type(self) -> str:
            return "echo"

        def _generate(self, messages, stop=None, run_manager=None, **kwargs):
            last = next((m.content for m in reversed(messages) if m.type == "human"), "")
            text = f"You said: {last[:30]} (seed {kwargs.get('seed')})"
            meta = {"completion_tokens": 5, "evaluated_tokens": [1, 2, 3]}
            return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text, response_metadata=meta))])

    return EchoChat()


class Interrupt(Exception):
    pass


def _replay(tmp: Path, chat, session, stop_at=None, max_turns=None):
    from langgraph.checkpoint.sqlite import SqliteSaver

    conn = sqlite3.connect(tmp / "ckpt.sqlite", check_same_thread=False)

    def on_turn(k, n, reply):
        if k == stop_at:
            raise Interrupt

    try:
        return replay_session(session, backend_of(chat, count_tokens=lambda m: 10 * len(m), max_tokens=16),
                              ReplaySettings(load_protocol("cbt_session"), seed=3, max_turns=max_turns),
                              checkpointer=SqliteSaver(conn), journal=Journal(tmp / "journal.jsonl"), on_turn=on_turn)
    finally:
        conn.close()


def test_interrupted_replay_resumes_and_equals_clean_run(tmp_path, echo_chat):
    session = _session(8)
    clean = tmp_path / "clean"
    clean.mkdir()
    expected = _replay(clean, echo_chat, session).reconstruction.model_dump_json()
    run = tmp_path / "run"
    run.mkdir()
    with pytest.raises(Interrupt):
        _replay(run, echo_chat, session, stop_at=4)
    assert len(Journal(run / "journal.jsonl").entries()) == 5
    result = _replay(run, echo_chat, session)
    assert [t["resumed"] for t in result.timings] == [True] * 5 + [False] * 3
    assert result.reconstruction.model_dump_json() == expected


def test_resume_across_safety_turns_equals_clean_run(tmp_path, echo_chat):
    """Killed right after a scripted safety turn (tests/data/crisis_burden.txt: a safety question, then the
    answers): the resumed run routes and scripts the rest as the clean run did, the check score included."""
    from helpert.io import read_sessions

    (session,) = read_sessions(Path(__file__).resolve().parent / "data" / "crisis_burden.txt")
    clean = tmp_path / "clean"
    clean.mkdir()
    expected = _replay(clean, echo_chat, session).reconstruction
    assert "safety" in [t.labels["graph_phase"] for t in expected.counselor_turns]
    stop = next(t.meta["slot"] for t in expected.counselor_turns if t.labels["graph_phase"] == "safety")
    run = tmp_path / "run"
    run.mkdir()
    with pytest.raises(Interrupt):
        _replay(run, echo_chat, session, stop_at=stop)
    result = _replay(run, echo_chat, session)
    assert sum(t["resumed"] for t in result.timings) == stop + 1
    assert result.reconstruction.model_dump_json() == expected.model_dump_json()


def test_checkpoint_ahead_of_journal_is_recovered(tmp_path, echo_chat):
    """Killed after LangGraph checkpointed a turn but before the journal line was written."""
    session = _session(6)
    with pytest.raises(Interrupt):
        _replay(tmp_path, echo_chat, session, stop_at=3)
    journal = Journal(tmp_path / "journal.jsonl")
    journal.rewrite(journal.entries()[:3])  # lose the journal line of turn 3
    result = _replay(tmp_path, echo_chat, session)
    assert [t["resumed"] for t in result.timings] == [True] * 4 + [False] * 2


def test_journal_ahead_of_checkpoint_is_truncated_and_regenerated(tmp_path, echo_chat):
    session = _session(6)
    clean = tmp_path / "clean"
    clean.mkdir()
    expected = _replay(clean, echo_chat, session).reconstruction.model_dump_json()
    run = tmp_path / "run"
    run.mkdir()
    with pytest.raises(Interrupt):
        _replay(run, echo_chat, session, stop_at=3)
    journal = Journal(run / "journal.jsonl")
    entries = journal.entries()
    journal.append({**entries[-1], "slot": 4})  # a journal line the checkpoint does not know
    result = _replay(run, echo_chat, session)
    assert sum(t["resumed"] for t in result.timings) == 4
    assert result.reconstruction.model_dump_json() == expected


def test_torn_journal_line_is_ignored(tmp_path):
    j = Journal(tmp_path / "j.jsonl")
    j.append({"slot": 0})
    with j.path.open("a") as fh:
        fh.write('{"slot": 1, "rep')
    assert j.entries() == [{"slot": 0}]


def test_checkpoints_grow_linearly_with_session_length(tmp_path, echo_chat):
    """The graph state holds no transcript, so checkpoint storage per turn stays flat."""
    sizes = {}
    for n in (40, 120):
        d = tmp_path / str(n)
        d.mkdir()
        _replay(d, echo_chat, _session(n))
        conn = sqlite3.connect(d / "ckpt.sqlite")
        sizes[n] = sum(len(r[0] or b"") + len(r[1] or b"") for r in conn.execute("select checkpoint, metadata from checkpoints"))
        sizes[n] += sum(len(r[0] or b"") for r in conn.execute("select value from writes"))
        conn.close()
    ratio = sizes[120] / sizes[40]
    assert ratio < 3.6, (sizes, ratio)  # linear gives ~3, quadratic ~9
