"""The optional LLM judge: turn labels and CTRS items from JSON-constrained replies, failures counted."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from helpert.label import label_session
from helpert.label.behaviour import BEHAVIOURS
from helpert.label.judge import judge_turn_labels, label_schema, phase_choices
from helpert.metrics import measure_session
from helpert.protocols import OFF_PROTOCOL, SAFETY, load_protocol
from helpert.session import Session, Turn

REPO = Path(__file__).resolve().parents[1]
CBT = load_protocol("cbt_session")
SESSION = Session(dialogue_id="j", turns=[
    Turn(idx=0, role="counselor", text="Hi, how have you been feeling since we last met?"),
    Turn(idx=1, role="client", text="Pretty low, to be honest. Work has been awful."),
    Turn(idx=2, role="counselor", text="What would you like to work on today?"),
    Turn(idx=3, role="client", text="The deadline stress, I think."),
    Turn(idx=4, role="counselor", text="What went through your mind when your boss moved the deadline?"),
])


def test_schema_offers_every_phase_plus_off_protocol_and_safety_and_every_behaviour():
    schema = label_schema(CBT)
    assert schema["properties"]["phase"]["enum"] == [p.id for p in CBT.phases] + [OFF_PROTOCOL, SAFETY]
    assert schema["properties"]["behaviour"]["enum"] == list(BEHAVIOURS)
    assert set(schema["required"]) == {"phase", "behaviour"}


def test_readable_replies_replace_rule_labels_and_failures_keep_them_and_are_counted():
    ruled = label_session(SESSION, CBT)
    replies = iter([{"phase": "mood_check", "behaviour": "open_question"}, {"phase": "no_such_phase", "behaviour": "other"},
                    ValueError("bad json")])
    prompts = []

    def judge(prompt: str, schema: dict):
        prompts.append(prompt)
        reply = next(replies)
        if isinstance(reply, Exception):
            raise reply
        return reply

    out = judge_turn_labels(ruled, CBT, judge)
    c = [t.labels for t in out.counselor_turns]
    assert (c[0]["phase"], c[0]["behaviour"], c[0]["label_source"]) == ("mood_check", "open_question", "judge")
    for before, after in zip(ruled.counselor_turns[1:], c[1:]):
        assert (after["phase"], after["behaviour"], after["label_source"]) == (before.labels["phase"], before.labels["behaviour"], "rules")
    assert out.meta["label_judge_failures"] == 2
    # the prompt shows the turn, the turns before it, and is never shown the allowed transitions
    assert "What went through your mind" in prompts[2] and "The deadline stress" in prompts[2]
    assert "The deadline stress" not in prompts[1]
    assert all("allowed" not in p.lower() for p in prompts)
    # a shared prefix: every prompt starts with the same instructions
    assert len({p[: p.index("Conversation so far")] for p in prompts}) == 1


def test_label_judge_failures_reach_the_metrics_and_change_the_phases():
    always_off = lambda prompt, schema: {"phase": OFF_PROTOCOL, "behaviour": "self_disclosure"}  # noqa: E731
    m = measure_session(SESSION, CBT, label_judge=always_off)
    assert m["label_judge_failures"] == 0.0
    assert m["drift.off_protocol_share"] == 1.0
    assert measure_session(SESSION, CBT)["drift.off_protocol_share"] < 1.0
    assert "label_judge_failures" not in measure_session(SESSION, CBT)


def test_phase_choices_follow_the_protocol():
    hs = load_protocol("helping_skills")
    assert phase_choices(hs)[:3] == [p.id for p in hs.phases]


@pytest.mark.model
def test_real_model_judge_answers_inside_the_schema_and_measure_reports_it(tmp_path):
    """The embedded model through llama-cpp-python's grammar: every reply parses and names allowed values."""
    from helpert.replay.llm.judge import LlamaJudge

    judge = LlamaJudge(None, n_ctx=2048, n_threads=2)
    labelled = judge_turn_labels(label_session(SESSION, CBT), CBT, judge)
    assert judge.calls == 3
    for t in labelled.counselor_turns:
        assert t.labels["label_source"] in ("judge", "rules")
        assert t.labels["phase"] in phase_choices(CBT) and t.labels["behaviour"] in BEHAVIOURS
    assert labelled.meta["label_judge_failures"] == judge.failures
    # a prompt that cannot fit the context is a counted failure, not a crash
    assert judge("word " * 3000, label_schema(CBT)) is None and judge.failures >= 1

    path = tmp_path / "s.jsonl"
    path.write_text(json.dumps(SESSION.to_record()) + "\n")
    proc = subprocess.run([sys.executable, "-m", "helpert", "measure", str(path), "--judge-model", "default", "--judge", "ctrs",
                           "--json", "--threads", "2"], capture_output=True, text=True, timeout=600, cwd=REPO)
    assert proc.returncode == 0, proc.stderr[-2000:]
    doc = json.loads(proc.stdout)
    metrics = doc["sessions"][0]["metrics"]
    assert doc["judge"]["judge_calls"] == 11
    judged = [metrics[k] for k in metrics if k.startswith("ctrs_judge.") and k != "ctrs_judge.mean"]
    assert len(judged) == 11
    scored = [v for v in judged if v is not None]
    assert metrics["ctrs_judge.mean"] == (sum(scored) / len(scored) if scored else None)
    assert metrics["ctrs_judge_failures"] == sum(v is None for v in judged) == doc["judge"]["judge_failures"]
    assert all(v is None or v in range(7) for v in judged)


@pytest.mark.parametrize("args, says", [
    (["--judge-served-model", "m"], "need --judge-model"),
    (["--judge-model", "default", "--judge-api-key-env", "K"], "need --judge-model URL"),
    (["--judge-model", "http://127.0.0.1:9/v1", "--threads", "2"], "uses the server's"),
    (["--judge-model", "default", "--judge-concurrency", "2"], "needs --judge-model URL"),
])
def test_judge_server_options_that_do_not_fit_are_one_clear_error(tmp_path, args, says):
    path = tmp_path / "s.jsonl"
    path.write_text(json.dumps(SESSION.to_record()) + "\n")
    proc = subprocess.run([sys.executable, "-m", "helpert", "measure", str(path), *args], capture_output=True, text=True,
                          timeout=120, cwd=REPO)
    assert proc.returncode == 2 and proc.stderr.startswith("error: ") and says in proc.stderr, proc.stderr


def test_judge_response_formats_are_openais_and_llama_cpps():
    from helpert.replay.llm.judge import read_reply, response_format

    schema = {"type": "object"}
    assert response_format("json_schema", schema) == {"type": "json_schema", "json_schema": {"name": "verdict", "schema": schema}}
    assert response_format("json_object", schema) == {"type": "json_object", "schema": schema}
    assert read_reply('{"score": 3}', "stop") == {"score": 3}
    assert read_reply('{"score": 3', "length") is None and read_reply("[3]", "stop") is None and read_reply("", "stop") is None


def test_judges_asked_about_several_sessions_at_once_give_the_frame_of_one_at_a_time():
    """A scripted judge (logic only) whose verdict is a function of the prompt and which answers in a random order:
    with 4 sessions in flight the frame is the one of one session at a time, row for row, and every call is counted."""
    import hashlib
    import random
    import threading
    import time

    from helpert.metrics import measure_sessions
    from helpert.metrics.ctrs import JUDGE_SCHEMA
    from helpert.replay.llm.judge import _CountedJudge

    class Scripted(_CountedJudge):
        def __init__(self):
            self.calls = self.failures = 0
            self.threads = set()

        def _ask(self, prompt, schema):
            self.threads.add(threading.get_ident())
            time.sleep(random.random() / 200)
            h = int(hashlib.sha256(prompt.encode()).hexdigest(), 16)
            if h % 7 == 0:
                return None  # an unreadable reply now and then
            if schema is JUDGE_SCHEMA:
                return {"score": h % 7}
            return {"phase": schema["properties"]["phase"]["enum"][h % 5],
                    "behaviour": schema["properties"]["behaviour"]["enum"][h % 11]}

    sessions = [SESSION.model_copy(update={"dialogue_id": f"s{k}", "turns": [
        t.model_copy(update={"text": f"{t.text} ({k})"}) for t in SESSION.turns]}) for k in range(6)]
    one, many = Scripted(), Scripted()
    a = measure_sessions(sessions, CBT, judge=one, label_judge=one)
    b = measure_sessions(sessions, CBT, judge=many, label_judge=many, judge_concurrency=4)
    assert a.equals(b) and list(b.index) == [f"s{k}" for k in range(6)]
    assert (one.calls, one.failures) == (many.calls, many.failures) == (6 * (11 + 3), one.failures)
    assert 0 < one.failures < one.calls and len(many.threads) > 1 and len(one.threads) == 1
    assert a["label_judge_failures"].notna().all() and a["ctrs_judge_failures"].notna().all()


class _Fixed:
    """A scripted judge (logic only): the same verdict for the same prompt; ``info`` names a model and a seed."""

    def __init__(self, seed=0, fail=False):
        from helpert.replay.llm.judge import _CountedJudge

        class J(_CountedJudge):
            def _ask(inner, prompt, schema):
                if fail:
                    raise AssertionError("asked, although every reply is in the cache")
                return {"score": len(prompt) % 7} if "score" in schema["properties"] else {
                    "phase": schema["properties"]["phase"]["enum"][len(prompt) % 4], "behaviour": "other"}

            def info(inner):
                return {"judge_model": "/models/judge.gguf", "judge_model_bytes": 7, "judge_seed": seed,
                        "judge_calls": inner.calls, "judge_failures": inner.failures, "judge_max_tokens": 128}

        self.judge = J()


def test_a_judge_cache_answers_a_rerun_without_asking_and_survives_a_torn_line(tmp_path):
    from helpert.metrics import measure_sessions
    from helpert.replay.llm.judge import CachedJudge

    cache = tmp_path / "judge.jsonl"
    sessions = [SESSION.model_copy(update={"dialogue_id": f"s{k}", "turns": [
        t.model_copy(update={"text": f"{t.text} ({k})"}) for t in SESSION.turns]}) for k in range(3)]
    first = CachedJudge(_Fixed().judge, cache)
    a = measure_sessions(sessions, CBT, judge=first, label_judge=first)
    assert (first.hits, first.judge.calls) == (0, 3 * 14) and len(cache.read_text().splitlines()) == 3 * 14

    again = CachedJudge(_Fixed(fail=True).judge, tmp_path / "judge.jsonl")  # the same judge: nothing is asked
    assert measure_sessions(sessions, CBT, judge=again, label_judge=again).equals(a)
    assert (again.hits, again.judge.calls, again.calls) == (3 * 14, 0, 3 * 14)
    assert again.info()["judge_cache_hits"] == 42 and again.info()["judge_asked"] == 0

    other = CachedJudge(_Fixed(seed=1).judge, cache)  # another seed is another judge: asked again
    measure_sessions(sessions[:1], CBT, judge=other)
    assert (other.hits, other.judge.calls) == (0, 11)

    lines = cache.read_text().splitlines()
    cache.write_text("\n".join(lines) + "\n" + lines[0][:25])  # killed mid-write: a torn last line
    reopened = CachedJudge(_Fixed(fail=True).judge, cache)
    assert len(reopened.replies) == len(lines) and cache.read_text() == "\n".join(lines) + "\n"


def test_a_file_that_is_not_a_judge_cache_is_an_error_and_stays_as_it_was(tmp_path):
    from helpert.replay.llm.judge import CachedJudge
    from helpert.replay.llm.models import ModelError

    path = tmp_path / "notes.csv"
    path.write_text("speaker,text\nclient,hello\n")
    with pytest.raises(ModelError, match=r"notes.csv:1: not a line of a judge's cache"):
        CachedJudge(_Fixed().judge, path)
    assert path.read_text() == "speaker,text\nclient,hello\n"
    with pytest.raises(ModelError, match="cannot write"):  # a folder
        CachedJudge(_Fixed().judge, tmp_path)


@pytest.mark.parametrize("owned_by, takes, asked_first", [
    ("vllm", "json_schema", "json_schema"),         # vLLM: OpenAI's form, and no repetition penalty in extra_body
    ("fake", "json_object", "json_schema"),         # a server that only knows the json_object form: found by the probe
    ("me", "json_object", "json_object"),           # llama-cpp-python's server
])
def test_a_judge_on_any_openai_compatible_server_finds_its_json_form_and_counts_what_it_refuses(owned_by, takes, asked_first):
    """A scripted server (logic only; the real one is in test_server_llama.py): the probe finds the response format the
    server takes; every judged request carries it, temperature 0, the seed and the dialect's no-penalty field; a 503 is
    retried; a prompt the server refuses for its length is a counted failure, not an error."""
    from fake_openai import FakeOpenAI

    from helpert.metrics.ctrs import JUDGE_SCHEMA
    from helpert.replay.llm.judge import ServerJudge
    from helpert.replay.llm.openai_backend import ServerConfig

    def respond(body):
        kind = body.get("response_format", {}).get("type")
        if kind != takes:
            return 400, f"response_format type {kind} is not supported"
        if len(body["messages"][0]["content"]) > 5000:
            return 400, "maximum context length exceeded"
        return 200, json.dumps({"score": len(body["messages"][0]["content"]) % 7, "reason": "scripted"})

    with FakeOpenAI(owned_by=owned_by, respond=respond, failures=[]) as srv:
        judge = ServerJudge(ServerConfig(base_urls=(srv.url,), backoff=0.01))
        assert judge.format == takes and srv.requests[0]["response_format"]["type"] == asked_first
        srv.failures.append(503)  # one overloaded answer: retried
        assert judge("Rate this.", JUDGE_SCHEMA) == {"score": len("Rate this.") % 7, "reason": "scripted"}
        assert judge("x" * 6000, JUDGE_SCHEMA) is None
        asked = srv.requests[-3:]
    assert all(r["temperature"] == 0.0 and r["seed"] == 0 and r["response_format"]["type"] == takes for r in asked)
    penalty = {"vllm": {"repetition_penalty": 1.0}, "me": {"repeat_penalty": 1.0}}.get(owned_by)
    assert all({k: r[k] for k in (penalty or {})} == (penalty or {}) for r in asked)
    assert owned_by != "fake" or not any("repeat_penalty" in r or "repetition_penalty" in r for r in asked)
    info = judge.info()
    assert (info["judge_calls"], info["judge_failures"], info["judge_rejected_prompts"]["count"]) == (2, 1, 1)
    assert "maximum context length" in info["judge_rejected_prompts"]["first"]
    assert info["judge_requests"]["retries"] == 1 and info["judge_response_format"] == takes


def test_judge_progress_counts_calls_on_a_terminal_and_passes_everything_on():
    """`measure` / `compare` hand the judge on inside JudgeProgress: the same replies and counters, one live line."""
    import io

    from rich.console import Console

    from helpert.cli.progress import JudgeProgress

    judge = _Fixed().judge
    console = Console(file=io.StringIO(), force_terminal=True, width=100)
    with JudgeProgress(judge, console) as shown:
        replies = [shown(p, {"properties": {"score": {}}}) for p in ("a", "bb", "ccc")]
        line = shown.progress.tasks[0].description
    assert replies == [{"score": n % 7} for n in (1, 2, 3)] and (shown.calls, shown.failures) == (3, 0)
    assert line.startswith("judge: 3 calls, 0 unreadable") and shown.info()["judge_seed"] == 0
    quiet = JudgeProgress(judge, Console(file=io.StringIO()))  # not a terminal: nothing is drawn
    assert quiet.progress.disable
