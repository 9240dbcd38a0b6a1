"""What text without sentence marks (a speech recogniser's) does to the crisis screen, and whether reading it with
the marks put back (``helpert.text.punctuation``) would help. A measurement, not a choice made on these sets: the
screen reads every turn as written (docs/safety.md).

Sets: the one-turn statements Z54 + Z55 (``tests/data/risk_heldout_z5{4,5}.jsonl``, 200 risk / 200 not, every
statement; each put after one counselor question) and the 195 ESConv sessions (``../shared``; nearly all ordinary),
each read three ways: as written; every sentence mark (. , ! ? ; :) taken out and lower-cased
(``helpert.probe.markup.unpunctuated``); that text with marks put back by ``helpert.text.punctuation.restore``.
Reported: statements with a safety turn (any tier but none) and with the full response (crisis), false alarms on the
statements without risk, ESConv sessions with any safety turn.

    .venv/bin/python benchmarks/screen_unpunctuated.py
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import REPO, SHARED, read_jsonl, report  # noqa: E402

from helpert.io import read_sessions  # noqa: E402
from helpert.safety.screen import screen_by_session  # noqa: E402
from helpert.session import Session, Turn  # noqa: E402
from helpert.text.punctuation import restore  # noqa: E402

_MARKS = re.compile(r"[.,!?;:]")


def bare(text: str) -> str:
    return _MARKS.sub("", text).lower()  # as helpert.probe.markup.unpunctuated writes a turn


def statement_session(i: int, text: str) -> Session:
    return Session(dialogue_id=f"s{i}", turns=[Turn(idx=0, role="counselor", text="What has been on your mind this week?"),
                                               Turn(idx=1, role="client", text=text)])


def rewritten(sessions: list[Session], how: str) -> list[Session]:
    if how == "as written":
        return sessions
    out = []
    for s in sessions:
        texts = [bare(t.text) for t in s.turns]
        if how == "marks put back":
            texts = restore(texts)
        out.append(s.model_copy(update={"turns": [t.model_copy(update={"text": x}) for t, x in zip(s.turns, texts)]}))
    return out


def main() -> None:
    rows = [r for name in ("z54", "z55") for r in read_jsonl(REPO / "tests" / "data" / f"risk_heldout_{name}.jsonl")]
    risk = [bool(r["risk"]) for r in rows]
    statements = [statement_session(i, r["text"]) for i, r in enumerate(rows)]
    esconv = read_sessions(SHARED / "esconv" / "esconv_valid_195.jsonl")
    result: dict = {"statements": {"risk": sum(risk), "not": len(risk) - sum(risk)}, "esconv_sessions": len(esconv)}
    for how in ("as written", "no marks, lower case", "marks put back"):
        tiers = [[t.assessment.tier for t in ts] for ts in screen_by_session(rewritten(statements, how))]
        flagged = [any(x != "none" for x in ts) for ts in tiers]
        crisis = [any(x == "crisis" for x in ts) for ts in tiers]
        sessions = screen_by_session(rewritten(esconv, how))
        result[how] = {
            "safety_turn": sum(f for f, r in zip(flagged, risk) if r),
            "full_response": sum(c for c, r in zip(crisis, risk) if r),
            "false_alarms": sum(f for f, r in zip(flagged, risk) if not r),
            "esconv_sessions_with_a_safety_turn": sum(any(t.assessment.tier != "none" for t in ts) for ts in sessions),
        }
        print(how, json.dumps(result[how]), flush=True)
    report("screen_unpunctuated", result)


if __name__ == "__main__":
    main()
