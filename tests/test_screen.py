"""`helpert screen` and helpert.safety.screen: crisis screening of transcripts without a language model."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from helpert.cli.main import cli
from helpert.cli.options import RISK_POLICIES
from helpert.io import read_sessions
from helpert.safety.policy import SAFETY_POLICIES, STEPPED
from helpert.safety.screen import screen_session, screen_sessions, summarise
from test_measure_cli import helpert  # through the real entry point, which turns expected failures into one line

CRISIS = "I have been thinking about killing myself"
ORDINARY = "My exam is next week and I am stressed"
KEYS = ["dialogue_id", "idx", "tier", "kinds", "score"]


def _jsonl_record(dialogue_id: str, turns: list[tuple[str, str]]) -> str:
    return json.dumps({"dialogue_id": dialogue_id, "turns": [{"role": r, "text": t} for r, t in turns]}) + "\n"


@pytest.fixture
def corpus(tmp_path):
    """Two formats in one folder: a JSONL session with two consecutive client turns (client idx 1, 2, 4)
    and a CSV session (client idx 1, 3)."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "a.jsonl").write_text(_jsonl_record("exam", [
        ("counselor", "What brings you here today?"), ("client", ORDINARY), ("client", "It is a lot."),
        ("counselor", "What goes through your mind?"), ("client", CRISIS),
    ]), encoding="utf-8")
    (folder / "b.csv").write_text("dialogue_id,speaker,text\n"
                                  "walk,counselor,How was your week?\n"
                                  "walk,client,I had a nice walk with my dog today.\n"
                                  "walk,counselor,That sounds good.\n"
                                  f"walk,client,{ORDINARY}\n", encoding="utf-8")
    return folder


def invoke(*args: object):
    result = CliRunner().invoke(cli, ["screen", *map(str, args)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def records(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines()]


def test_json_lines_one_per_client_turn_with_exact_keys(corpus):
    result = invoke(corpus / "a.jsonl", corpus / "b.csv", "--json")
    assert result.exit_code == 0 and result.stderr == ""
    rows = records(result.stdout)
    assert [list(r) for r in rows] == [KEYS] * 5
    assert [(r["dialogue_id"], r["idx"]) for r in rows] == [("exam", 1), ("exam", 2), ("exam", 4), ("walk", 1), ("walk", 3)]
    for r in rows:
        assert isinstance(r["dialogue_id"], str) and type(r["idx"]) is int and isinstance(r["score"], float)
        assert r["tier"] in ("crisis", "check", "none") and all(isinstance(k, str) for k in r["kinds"])
        assert 0.0 <= r["score"] <= 1.0 and r["score"] == round(r["score"], 4)
    by_turn = {(r["dialogue_id"], r["idx"]): r for r in rows}
    assert by_turn["exam", 4]["tier"] == "crisis" and "suicide" in by_turn["exam", 4]["kinds"]
    assert by_turn["exam", 1]["tier"] == "none" and by_turn["exam", 1]["kinds"] == []
    assert by_turn["walk", 3]["tier"] == "none"


def test_cli_matches_the_library_and_writes_output(corpus, tmp_path):
    out = tmp_path / "out" / "screen.jsonl"
    result = invoke(corpus, "--json", "--output", out)
    assert result.exit_code == 0
    expected = [t.to_record() for t in screen_sessions(read_sessions(corpus), STEPPED)]
    assert records(result.stdout) == expected and len(expected) == 5
    assert out.read_text(encoding="utf-8") == result.stdout


def test_directory_is_walked(corpus, tmp_path):
    (corpus / "notes.md").write_text("not a transcript", encoding="utf-8")  # other suffixes are skipped, as elsewhere
    (corpus / "more").mkdir()
    (corpus / "more" / "c.txt").write_text(f"# id: plain\nCounselor: Hello.\nClient: {CRISIS}\n", encoding="utf-8")
    rows = records(invoke(corpus, "--json").stdout)
    assert [r["dialogue_id"] for r in rows] == ["exam"] * 3 + ["walk"] * 2 + ["plain"]
    assert rows[-1]["idx"] == 1 and rows[-1]["tier"] == "crisis"


def test_table_lists_flagged_turns_and_counts(corpus):
    result = invoke(corpus)
    assert result.exit_code == 0
    crisis_rows = [line for line in result.stdout.splitlines() if "crisis" in line and "exam" in line]
    assert len(crisis_rows) == 1 and re.search(r"\bexam\s+4\s+crisis\b", crisis_rows[0]) and CRISIS in crisis_rows[0]
    assert ORDINARY not in result.stdout  # turns that are not flagged are not listed
    summary = summarise(screen_session(s) for s in read_sessions(corpus))
    assert summary.sessions == 2 and summary.client_turns == 5 and summary.crisis_sessions == 1
    assert summary.check_sessions + summary.unflagged_sessions == 1  # each session counted once
    assert (f"2 sessions screened (5 client turns): 1 with a crisis turn, {summary.check_sessions} with check turns only, "
            f"{summary.unflagged_sessions} with none flagged; {summary.flagged_turns} turn"
            f"{'' if summary.flagged_turns == 1 else 's'} flagged") in result.stdout


def test_a_session_with_crisis_and_check_turns_counts_once():
    from helpert.safety.risk import RiskAssessment
    from helpert.safety.screen import ScreenedTurn

    def turns(*tiers):
        return [ScreenedTurn("d", i, "x", RiskAssessment(t, ("suicide",) if t != "none" else (), 0.5))
                for i, t in enumerate(tiers)]

    summary = summarise([turns("check", "crisis"), turns("none", "check"), turns("none"), []])
    assert (summary.sessions, summary.crisis_sessions, summary.check_sessions, summary.unflagged_sessions) == (4, 1, 1, 2)
    assert summary.flagged_turns == 3


def test_long_turns_are_shortened_in_the_table(tmp_path):
    path = tmp_path / "long.txt"
    path.write_text(f"Client: {CRISIS} " + "and nothing seems to help any more " * 5 + "\n", encoding="utf-8")
    wide = CliRunner().invoke(cli, ["screen", str(path)], env={"COLUMNS": "200"})  # the text on one line
    line = next(line for line in wide.stdout.splitlines() if "crisis" in line)
    text = line[line.index(CRISIS):].rstrip()
    assert text.endswith("…") and 70 <= len(text) <= 80


def test_policy_is_passed_through(corpus, monkeypatch):
    import helpert.safety.screen as screen_module

    seen = []
    real = screen_module.assess_conversations
    monkeypatch.setattr(screen_module, "assess_conversations", lambda convs, policy: seen.append(policy) or real(convs, policy))
    invoke(corpus, "--json")
    invoke(corpus, "--json", "--policy", "lexicon")
    assert seen == [STEPPED, "lexicon"]  # one batched call per command (two sessions)


def test_policy_lexicon(corpus):
    result = invoke(corpus, "--json", "--policy", "lexicon")
    assert result.exit_code == 0
    rows = records(result.stdout)
    assert {r["tier"] for r in rows} == {"crisis", "none"}  # one detector, no question tier
    assert [(r["dialogue_id"], r["idx"]) for r in rows if r["tier"] == "crisis"] == [("exam", 4)]


def test_unknown_policy_is_refused(corpus):
    result = invoke(corpus, "--policy", "lenient")
    assert result.exit_code == 2 and "lenient" in result.stderr


def test_cli_policies_are_the_safety_policies():
    assert RISK_POLICIES == SAFETY_POLICIES and RISK_POLICIES[0] == STEPPED


def test_help_lists_screen():
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0 and re.search(r"^\s+screen\s", result.stdout, re.MULTILINE)


@pytest.mark.parametrize("name, content, message", [
    ("missing.jsonl", None, "no such file or folder"),
    ("garbage.jsonl", "{not json at all\n", "garbage.jsonl:1"),
    ("notes.docx", "hello", "unknown transcript format '.docx'"),
    ("empty", "", "no transcript file in this folder"),  # a folder with no transcript in it
])
def test_bad_input_is_one_clear_line(monkeypatch, capsys, tmp_path, name, content, message):
    path = tmp_path / name
    if name == "empty":
        path.mkdir()
    elif content is not None:
        path.write_text(content, encoding="utf-8")
    rc, out, err = helpert(monkeypatch, capsys, "screen", path, "--json")
    assert rc == 2 and out == ""
    assert err.startswith("error: ") and message in err and len(err.strip().splitlines()) == 1


def test_every_default_policy_is_the_one_constant():
    """The safety policy's default is written once (helpert.safety.policy.DEFAULT_POLICY) and read everywhere."""
    import dataclasses
    import inspect

    from helpert.cli.options import model_options
    from helpert.cli.screen import screen
    from helpert.replay.batch import RunOptions
    from helpert.replay.graph import router
    from helpert.replay.graph.state import TurnContext
    from helpert.replay.settings import ReplaySettings
    from helpert.safety.policy import DEFAULT_POLICY

    assert inspect.signature(router.step).parameters["risk_sensitivity"].default == DEFAULT_POLICY
    for cls in (ReplaySettings, RunOptions, TurnContext, router.RouteInput):
        assert {f.name: f.default for f in dataclasses.fields(cls)}["risk_sensitivity"] == DEFAULT_POLICY, cls
    options = {p.name: p.default for p in model_options(lambda **kw: None).__click_params__}
    assert options["risk_sensitivity"] == DEFAULT_POLICY
    assert {p.name: p.default for p in screen.params}["policy"] == DEFAULT_POLICY
