"""Checkpoint storage of a 300-turn replay: bytes in the LangGraph SQLite checkpointer per turn, at
100, 200 and 300 turns. A state that carried the transcript would grow quadratically; ours holds only
scalars and the latest reply. Uses a deterministic stand-in chat model: the checkpoint size does not
depend on which model wrote the replies, and 300 real turns would take minutes for nothing."""

from __future__ import annotations

import sqlite3
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import report  # noqa: E402


def main() -> None:
    from langchain_core.language_models.fake_chat_models import FakeListChatModel
    from langgraph.checkpoint.sqlite import SqliteSaver

    from helpert.protocols import load_protocol
    from helpert.replay import ReplaySettings, replay_session
    from helpert.replay.llm import Backend
    from helpert.session import Session, Turn

    turns = []
    for i in range(300):
        turns.append(Turn(idx=len(turns), role="client", text=f"This is client turn {i}, with a sentence of ordinary length."))
        turns.append(Turn(idx=len(turns), role="counselor", text="peer"))
    session = Session(dialogue_id="long300", turns=turns)
    reply = "That sounds really hard. What went through your mind when it happened, and how did you feel?"
    sizes = {}
    for n in (100, 200, 300):
        with tempfile.TemporaryDirectory() as tmp:
            conn = sqlite3.connect(Path(tmp) / "c.sqlite", check_same_thread=False)
            backend = Backend(chat=FakeListChatModel(responses=[reply]), count_tokens=lambda m: 1, info={}, n_ctx=10**9,
                              max_tokens=96)
            replay_session(session, backend, ReplaySettings(load_protocol("cbt_session"), seed=0, max_turns=n),
                           checkpointer=SqliteSaver(conn))
            data = sum(len(a or b"") + len(b or b"") for a, b in conn.execute("select checkpoint, metadata from checkpoints"))
            data += sum(len(v or b"") for (v,) in conn.execute("select value from writes"))
            conn.close()
            sizes[n] = {"bytes": data, "bytes_per_turn": round(data / n)}
            print(n, sizes[n], flush=True)
    report("checkpoints", {"sizes": sizes, "ratio_300_over_100": round(sizes[300]["bytes"] / sizes[100]["bytes"], 2),
                           "note": "linear growth gives 3.0, quadratic 9.0", "met": sizes[300]["bytes"] / sizes[100]["bytes"] < 3.5})


if __name__ == "__main__":
    main()
