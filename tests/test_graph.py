"""The compiled LangGraph graph with a scripted chat model: wiring, prompts, retries, windowing."""

import pytest

from helpert.replay.graph.build import FALLBACK_REPLY, build_graph
from helpert.safety.templates import SAFETY_RESOURCES, safety_template
from helpert.protocols import SAFETY, load_protocol
from conftest import backend_of
from helpert.replay import ReplaySettings, replay_session
from helpert.session import slots_of
from helpert.session import Session, Turn


def session(*pairs):
    turns = []
    for role, text in pairs:
        turns.append(Turn(idx=len(turns), role=role, text=text))
    return Session(dialogue_id="t", turns=turns)


SESSION = session(
    ("counselor", "Hi, how have you been this week?"),
    ("client", "Pretty low, maybe 3 out of 10."),
    ("counselor", "What would you like to work on today?"),
    ("client", "I want to talk about my exams."),
    ("client", "They are next week."),  # merged with the previous client turn
    ("counselor", "What goes through your mind?"),
    ("client", "I thought I'm going to fail everything."),
)


def run(chat, sess=SESSION, *, count_tokens=None, n_ctx=4096, max_turns=None, **kw):
    settings = ReplaySettings(load_protocol("cbt_session"), seed=7, max_turns=max_turns)
    return replay_session(sess, backend_of(chat, count_tokens=count_tokens, n_ctx=n_ctx, max_tokens=32), settings, **kw)


def test_slots_merge_and_align():
    slots = slots_of(SESSION)
    assert [s.client.text if s.client else None for s in slots] == [
        None, "Pretty low, maybe 3 out of 10.", "I want to talk about my exams. They are next week.",
        "I thought I'm going to fail everything."]
    assert slots[-1].peer is None  # the session ends with the client: the LLM still answers


def test_every_client_turn_answered_with_a_phase(fake_chat):
    chat = fake_chat(script=["How are you feeling today?", "What shall we focus on?", "What went through your mind?",
                             "What is the evidence for that?"])
    res = run(chat)
    rec = res.reconstruction
    assert [t.role for t in rec.turns] == ["counselor", "client", "counselor", "client", "counselor", "client", "counselor"]
    clients = [t.text for t in rec.turns if t.role == "client"]
    assert clients == [s.client.text for s in slots_of(SESSION) if s.client]  # verbatim, in order
    phases = [t.labels["graph_phase"] for t in rec.counselor_turns]
    assert phases[0] == "mood_check"
    assert all(p in load_protocol("cbt_session").by_id for p in phases)
    assert [t.meta["slot"] for t in rec.counselor_turns] == [0, 1, 2, 3]
    # the original is aligned on the same slots
    assert [t.meta["slot"] for t in res.original.counselor_turns] == [0, 1, 2]


def test_prompts_extend_each_other(fake_chat):
    """Each prompt starts with the previous prompt plus the reply: the KV-cache prefix stays valid."""
    chat = fake_chat(script=["One.", "Two.", "Three.", "Four."])
    run(chat)
    prompts = [c["messages"] for c in chat.calls]
    for before, after in zip(prompts, prompts[1:]):
        assert after[: len(before)] == before
        assert after[len(before)] == ("ai", before and chat.script[prompts.index(before)])
    assert prompts[0][0][0] == "system"
    assert prompts[0][-1] == ("system", "Next counselor step: Mood check. " + load_protocol("cbt_session").by_id["mood_check"].instructions)
    assert prompts[1][-2][0] == "system" and prompts[1][-1] == ("human", "Pretty low, maybe 3 out of 10.")
    assert len({c["seed"] for c in chat.calls}) == len(chat.calls)  # a seed per turn


def test_empty_and_repeated_output_is_retried_then_flagged(fake_chat):
    chat = fake_chat(script=["", "Client: hello", "Counselor: How are you?"])
    res = run(chat, max_turns=1)
    turn = res.reconstruction.counselor_turns[0]
    # attempt 1 empty -> retry; attempt 2 leaks the client's role -> cleaned to empty -> retry; attempt 3 ok
    assert turn.text == "How are you?"
    assert turn.meta["attempts"] == 3
    assert "retry_empty" in turn.meta["flags"] and "role_prefix" in turn.meta["flags"]


def test_gives_up_after_bounded_retries(fake_chat):
    chat = fake_chat(script=[""])
    res = run(chat, max_turns=1)
    turn = res.reconstruction.counselor_turns[0]
    assert turn.text == FALLBACK_REPLY and "fallback" in turn.meta["flags"] and "gave_up" in turn.meta["flags"]
    assert len(chat.calls) == 3


def test_crisis_turn_goes_to_safety_node(fake_chat):
    chat = fake_chat(script=["I hear how much pain you are in. Are you safe right now?"])
    sess = session(("client", "I feel like I want to die, there's no point in living."),
                   ("counselor", "Let's set an agenda."), ("client", "I'm safe now, my sister is with me."))
    res = run(chat, sess)
    first, second = res.reconstruction.counselor_turns
    assert first.labels["graph_phase"] == SAFETY and first.text.endswith(SAFETY_RESOURCES)
    assert "suicide" in first.meta["risk"]
    # the model asked a question of its own: dropped, the scripted words alone
    assert first.text == safety_template("crisis", ["suicide"], 0)[0]
    assert {"safety_model_text_dropped", "safety_resources", "safety_template:crisis:self:0"} <= set(first.meta["flags"])
    assert second.labels["graph_phase"] == "mood_check"  # resumes the protocol
    assert "Safety first" in chat.calls[0]["messages"][-2][1]
    assert res.original.turns[1].text == "Let's set an agenda."  # the peer's words are never altered


def test_model_text_that_passes_the_check_precedes_the_template(fake_chat):
    chat = fake_chat(script=["That sounds incredibly painful.", "It's great that you're taking control of your life."])
    sess = session(("client", "I want to kill myself."), ("counselor", "Okay."),
                   ("client", "I've been looking up ways to kill myself."))
    first, second = run(chat, sess).reconstruction.counselor_turns
    assert first.text == f"That sounds incredibly painful. {safety_template('crisis', ['suicide'], 0)[0]}"
    assert "safety_model_text_dropped" not in first.meta["flags"]
    assert second.text == safety_template("crisis", ["suicide"], 1)[0]  # praise dropped; another wording
    assert "safety_model_text_dropped" in second.meta["flags"] and "great" not in second.text


def test_screen_hit_gets_one_question_then_a_yes_gets_the_full_response(fake_chat, monkeypatch):
    import helpert.replay.graph.router as router
    from helpert.safety.risk import RiskAssessment
    from helpert.safety.risk import assess as real

    chat = fake_chat(script=["That sounds so heavy. Have you had thoughts of ending your life?", "Thank you for telling me."])
    screen_only = "Honestly I am done. I cannot do this anymore, nothing will ever get better."
    # the graph's logic, not the detector's judgement: this turn is in the check tier
    monkeypatch.setattr(router, "assess", lambda text, context=(), policy="stepped": RiskAssessment("check", ("suicide",), 0.3)
                        if text == screen_only else real(text, context, policy))
    sess = session(("client", screen_only), ("counselor", "Let's set an agenda."), ("client", "Yeah, sometimes."),
                   ("counselor", "Okay."), ("client", "No, I'm safe. My sister is staying with me."),
                   ("counselor", "Good."), ("client", screen_only))
    res = run(chat, sess)
    check, crisis, resumed, after = res.reconstruction.counselor_turns
    assert check.labels["graph_phase"] == SAFETY and check.meta["safety_tier"] == "check"
    assert SAFETY_RESOURCES not in check.text and "safety_check" in check.meta["flags"]
    assert check.text == safety_template("check", (), 0)[0]  # scripted: a small model may not ask it
    assert "Safety check" in chat.calls[0]["messages"][-2][1]
    assert crisis.labels["graph_phase"] == SAFETY and crisis.meta["safety_tier"] == "crisis"
    assert crisis.text.endswith(SAFETY_RESOURCES) and "safety_template:crisis:self:1" in crisis.meta["flags"]
    assert resumed.labels["graph_phase"] != SAFETY
    assert after.labels["graph_phase"] != SAFETY  # the same score again: no second question
    assert "screening" in check.meta["reason"] and "rule risk out" in crisis.meta["reason"]


def test_the_router_reads_the_client_s_earlier_turns(fake_chat, monkeypatch):
    """The route node hands the client's earlier turns (at most CONTEXT_TURNS, most recent last) to the
    risk assessment."""
    import helpert.replay.graph.router as router
    from helpert.safety.risk import CONTEXT_TURNS

    seen = []
    real = router.assess
    monkeypatch.setattr(router, "assess", lambda text, context, policy: seen.append((text, context)) or real(text, context, policy))
    texts = [f"Client says thing number {i}." for i in range(CONTEXT_TURNS + 2)]
    sess = session(*[pair for t in texts for pair in (("client", t), ("counselor", "Peer."))])
    run(fake_chat(script=["Okay."]), sess)
    assert seen[0] == (texts[0], ())
    assert seen[2] == (texts[2], tuple(texts[:2]))
    assert seen[-1] == (texts[-1], tuple(texts[-1 - CONTEXT_TURNS:-1]))


def test_history_window_keeps_prompt_within_context(fake_chat):
    chat = fake_chat(script=["A fairly long counselor reply that takes up room in the context window."])
    long_session = session(*[(r, f"{r} turn {i} " + "words " * 40) for i in range(40) for r in ("client", "counselor")])
    count = lambda msgs: sum(len(m["content"].split()) + 4 for m in msgs)  # noqa: E731
    run(chat, long_session, n_ctx=600, count_tokens=count)
    sizes = [count([{"role": t, "content": c} for t, c in call["messages"]]) for call in chat.calls]
    assert max(sizes) + 32 <= 600
    assert all(call["messages"][0][0] == "system" for call in chat.calls)


def test_the_window_drops_whole_exchanges_and_keeps_the_latest():
    """One rule for both speakers (helpert.replay.graph.window): the counselor's history has a unit per
    exchange and keeps only the current messages at worst; the simulated client's a unit per message, two
    to an exchange, and keeps the counselor's latest words."""
    from helpert.replay.graph.window import fit_window, short_start

    said = [[{"role": "user" if i % 2 else "assistant", "content": f"m{i}"}] for i in range(9)]
    prompt, start = fit_window("sys", said, [], 0, lambda p: len(p) <= 4, per_exchange=2, keep=1)
    assert start == 6 and [m["content"] for m in prompt] == ["sys", "m6", "m7", "m8"]
    prompt, start = fit_window("sys", said, [], 0, lambda p: False, per_exchange=2, keep=1)
    assert start == 8 and [m["content"] for m in prompt] == ["sys", "m8"]
    assert short_start(said, 6, 1, per_exchange=2) == 7 and short_start(said, 8, 1, per_exchange=2) == 8
    exchanges = [[{"role": "system", "content": f"note{i}"}, {"role": "assistant", "content": f"r{i}"}] for i in range(5)]
    current = [{"role": "user", "content": "now"}]
    prompt, start = fit_window("sys", exchanges, current, 0, lambda p: False)
    assert start == 5 and [m["content"] for m in prompt] == ["sys", "now"]
    prompt, start = fit_window("sys", exchanges, current, 0, lambda p: len(p) <= 6)
    assert start == 3 and [m["content"] for m in prompt] == ["sys", "note3", "r3", "note4", "r4", "now"]


def test_graph_has_a_node_per_phase_plus_router_and_safety():
    proto = load_protocol("cbt_session")
    graph = build_graph(proto).get_graph()
    names = set(graph.nodes) - {"__start__", "__end__"}
    assert names == {p.id for p in proto.phases} | {"route", SAFETY}


def test_the_graph_routes_as_router_step(fake_chat):
    """The route node is router.step over the session: the same decisions, one ClientTurn at a time
    (tests/data/crisis_burden.txt: a safety question, then answers)."""
    from pathlib import Path

    from helpert.io import read_sessions
    from helpert.replay.graph.router import ClientTurn, RouterState, step

    (sess,) = read_sessions(Path(__file__).resolve().parent / "data" / "crisis_burden.txt")
    proto = load_protocol("cbt_session")
    rec = run(fake_chat(script=["Okay."]), sess).reconstruction
    slots = slots_of(sess)
    state, expected = RouterState(), []
    for k, slot in enumerate(slots):
        d, state = step(proto, state, ClientTurn(k, len(slots), slot.client.text if slot.client else ""))
        expected.append((d.phase, d.reason, list(d.risk), d.tier))
    got = [(t.labels["graph_phase"], t.meta["reason"], t.meta["risk"], t.meta["safety_tier"]) for t in rec.counselor_turns]
    assert got == expected
    assert SAFETY in [p for p, *_ in got]


def test_reply_and_turn_record_keep_the_journal_line(fake_chat, tmp_path):
    """A journal line read back as a TurnRecord and written again is the same bytes (field order included);
    a checkpoint's lists come back as tuples."""
    import json

    from langgraph.checkpoint.memory import InMemorySaver

    from helpert.replay.graph.state import Reply, TurnRecord
    from helpert.replay.runs import Journal

    journal = Journal(tmp_path / "journal.jsonl")
    run(fake_chat(script=["How are you feeling today?"]), journal=journal, checkpointer=InMemorySaver())
    lines = journal.path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 4
    for line in lines:
        record = TurnRecord.from_json(json.loads(line))
        assert json.dumps(record.to_json(), ensure_ascii=False) == line
        assert isinstance(record.reply.flags, tuple) and isinstance(record.reply.evaluated[0], tuple)
    assert list(json.loads(lines[0])["reply"]) == ["text", "flags", "attempts", "usage", "evaluated", "short_window", "slot",
                                                  "phase", "reason", "risk", "tier", "messages", "window_start"]
    reply = TurnRecord.from_json(json.loads(lines[-1])).reply
    assert Reply(**reply.to_json()) == reply
