"""Client profiles from transcripts, their YAML round trip, and the simulated dialogue's turn-taking and
stop rules (scripted chat models: routing and stop logic only; the real-model test is at the end)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import backend_of
from helpert.replay.profile import (
    ClientProfile, ProfileError, conversational_style, core_belief, detokenise, extract_profile, read_profile,
    write_profile,
)
from helpert.protocols import SAFETY, load_protocol
from helpert.replay import ReplaySettings, replay_session
from helpert.session import Session, Turn
from helpert.replay.simulate import (
    cache_shares, clean_client_reply, client_system_prompt, ends_conversation, simulate_session,
)

REPO = Path(__file__).resolve().parents[1]
PROTO = load_protocol("cbt_session")


def session(*pairs, dialogue_id="t", **kw):
    return Session(dialogue_id=dialogue_id, turns=[Turn(idx=i, role=r, text=x) for i, (r, x) in enumerate(pairs)], **kw)


# Written for this test: a greeting, a mood number, a concrete episode, a quoted thought, emotions,
# avoidance, a core belief of the unlovable kind, and a later balanced thought that must not count.
HAND = session(
    ("counselor", "Hello, welcome. How are you today?"),
    ("client", "Hi. Maybe a 3."),
    ("client", "My sister's wedding is next month and I keep dreading the reception."),
    ("counselor", "What would you like to focus on?"),
    ("client", "Last Sunday my cousins made plans without me. I cancelled dinner and stayed home crying."),
    ("counselor", "What went through your mind?"),
    ("client", 'I thought "nobody wants me around, I always ruin things". I felt so lonely and ashamed.'),
    ("counselor", "How much do you believe that?"),
    ("client", "About 80 percent. I'll never fit in with them."),
    ("counselor", "What else could be true?"),
    ("client", "Maybe they just forgot to ask."),
    ("counselor", "How would you put it now?"),
    ("client", 'Maybe: "they like me, they were just busy". That feels a bit better.'),
)


def test_profile_extraction_rules_on_a_hand_written_session():
    p = extract_profile(HAND)
    cm = p.cognitive_model
    assert p.opening == "Hi. Maybe a 3. My sister's wedding is next month and I keep dreading the reception."
    assert p.presenting_problem == "My sister's wedding is next month and I keep dreading the reception."
    assert cm.situation == "Last Sunday my cousins made plans without me. I cancelled dinner and stayed home crying."
    assert cm.automatic_thoughts[0] == "nobody wants me around, I always ruin things"
    assert "I'll never fit in with them." in cm.automatic_thoughts
    assert not any("busy" in t for t in cm.automatic_thoughts)  # the late, balanced thought is not automatic
    assert cm.emotions[:3] == ["sad", "lonely", "ashamed"]      # crying, lonely, ashamed: order of first mention
    assert cm.behaviours == ["I cancelled dinner and stayed home crying."]
    assert cm.core_belief == "unlovable"
    assert p.counselor_opens and p.style == "plain"


def test_dataset_situation_wins_and_client_opening_is_recorded():
    s = session(("client", "Hi , how are you ?"), ("counselor", "Fine, and you?"),
                ("client", "I ' m so stressed , my boss yelled at me again today ."),
                meta={"situation": "My boss shouts at me in front of the team ."})
    p = extract_profile(s)
    assert not p.counselor_opens and p.opening == "Hi , how are you ?"
    assert p.cognitive_model.situation == "My boss shouts at me in front of the team."
    assert p.presenting_problem == "I'm so stressed, my boss yelled at me again today."


@pytest.mark.parametrize("texts, style", [
    (["This is ridiculous!", "I hate how they treat me.", "Fine."], "upset"),
    (["Anyway, by the way my dog is sick.", "Work is hard.", "That reminds me of school.", "Yes."], "tangent"),
    (["Yes, that makes sense.", "You're right, I should.", "Okay, I can do that.", "My job is hard."], "pleasing"),
    (["I don't know.", "Maybe.", "Work, I guess."], "reserved"),
    ([" ".join(["word"] * 45) + ".", " ".join(["more"] * 50) + "."], "verbose"),
    (["My job has been stressful and I sleep badly most nights.", "I worry about my review at work next week."], "plain"),
])
def test_conversational_style_rules(texts, style):
    assert conversational_style(texts) == style


def test_core_belief_lexicons():
    assert core_belief("I'm a burden, they'd be better off without me") == "worthless"
    assert core_belief("I feel trapped and helpless, I can't cope") == "helpless"
    assert core_belief("Nobody wants me, I'm always left out") == "unlovable"
    assert core_belief("The bus was late today") is None


def test_detokenise_undoes_esconv_spacing():
    assert detokenise("I ' m ok , it ' s fine . . . really !") == "I'm ok, it's fine. really!"


def test_profile_yaml_round_trip_and_edit(tmp_path):
    p = extract_profile(HAND)
    path = tmp_path / "p.yaml"
    write_profile(p, path)
    assert read_profile(path) == p
    text = path.read_text().replace("style: plain", "style: reserved")
    path.write_text(text)
    assert read_profile(path).style == "reserved"


@pytest.mark.parametrize("content, needle", [
    ("style: shouting\ndialogue_id: x\npresenting_problem: y\n", "field 'style'"),
    ("dialogue_id: x\n", "field 'presenting_problem'"),
    ("- just\n- a list\n", "expected a mapping"),
    ("a: [unclosed\n", "not valid YAML"),
])
def test_bad_profile_files_name_file_and_field(tmp_path, content, needle):
    path = tmp_path / "bad.yaml"
    path.write_text(content)
    with pytest.raises(ProfileError) as err:
        read_profile(path)
    assert str(err.value).startswith(str(path)) and needle in str(err.value)


def test_client_prompt_carries_the_profile():
    p = extract_profile(HAND)
    prompt = client_system_prompt(p)
    assert p.presenting_problem in prompt and "nobody wants me around" in prompt
    assert "unlovable" in prompt and "never speak for the counselor" in prompt


@pytest.mark.parametrize("raw, text, flags", [
    ("Client: I froze again.", "I froze again.", ["role_prefix"]),
    ("I froze.\nCounselor: What happened then?", "I froze.", ["role_leak"]),
    ("Counselor: How are you?", "", ["role_leak", "empty"]),
    ("<|im_start|>", "", ["empty"]),
    ("One. Two. Three. Four.", "One. Two. Three.", ["truncated"]),
])
def test_clean_client_reply(raw, text, flags):
    out = clean_client_reply(raw, max_sentences=3)
    assert (out.text, out.flags) == (text, flags)


@pytest.mark.parametrize("text, ends", [
    ("Thanks, bye.", True), ("Okay, see you next week!", True), ("I have to go now, thank you.", True),
    ("Thank you, that helps.", False), ("I said goodbye to my old job last year and moved on.", False),
    ("Bye. Sorry, one more thing. Actually my sister called and we talked for hours about it.", False),
    ("I want to talk about my byelaw exam", False),
])
def test_goodbye_detection(text, ends):
    assert ends_conversation(text) is ends


# --- the dialogue loop with scripted models ---------------------------------------------------------

def tokens(messages):
    return sum(len(m["content"]) // 4 + 4 for m in messages)


class Resets:
    def __init__(self):
        self.n = 0

    def __call__(self):
        self.n += 1


def backends(fake_chat, counselor_script, client_script):
    c = backend_of(fake_chat(script=counselor_script, calls=[]), count_tokens=tokens, reset=Resets())
    cl = backend_of(fake_chat(script=client_script, calls=[]), count_tokens=tokens, max_tokens=40, reset=Resets())
    return c, cl


COUNSELOR = ["How are you feeling today?", "What shall we focus on?", "What went through your mind?",
             "What is the evidence?", "What could you try?", "Shall we summarise?"]


def test_turns_alternate_opening_is_verbatim_and_budget_stops(fake_chat):
    c, cl = backends(fake_chat, COUNSELOR, ["I dread the wedding.", "That nobody wants me there.", "Maybe not."])
    res = simulate_session(HAND, c, cl, ReplaySettings(PROTO, seed=3, max_turns=4))
    rec = res.reconstruction
    assert [t.role for t in rec.turns] == ["counselor", "client"] * 3 + ["counselor"]
    assert rec.client_turns[0].text == extract_profile(HAND).opening
    assert rec.client_turns[0].meta["source"] == "original opening"
    assert [t.text for t in rec.client_turns[1:]] == ["I dread the wedding.", "That nobody wants me there."]
    assert all(t.meta["simulated"] for t in rec.client_turns[1:])
    assert [t.meta["slot"] for t in rec.counselor_turns] == [0, 1, 2, 3]
    assert all(t.labels["graph_phase"] in PROTO.by_id or t.labels["graph_phase"] == SAFETY for t in rec.counselor_turns)
    assert rec.meta["stop"] == "max_turns" and rec.meta["mode"] == "simulate"
    assert rec.meta["client_profile"]["presenting_problem"] == extract_profile(HAND).presenting_problem
    assert len(res.original.counselor_turns) == 4 and res.original.dialogue_id == rec.dialogue_id == "t"
    assert (c.reset.n, cl.reset.n) == (1, 1)
    # the client model sees the counselor's words as "user" turns and never the graph's phase notes
    seen = cl.chat.calls[-1]["messages"]
    assert seen[0][0] == "system" and [m for m in seen[1:] if m[0] == "system"] == []
    assert [m[1] for m in seen if m[0] == "human"] == [f"Counselor: {t.text}" for t in rec.counselor_turns[:3]]


def test_counselor_side_is_exactly_replay(fake_chat):
    """The counselor gets the same prompts, seeds and routing as a replay of the simulated dialogue's
    client turns: both drive the one compiled graph through helpert.replay.Counselor."""
    c, cl = backends(fake_chat, COUNSELOR, ["I dread the wedding.", "That nobody wants me there.", "Maybe not."])
    sim = simulate_session(HAND, c, cl, ReplaySettings(PROTO, seed=3, max_turns=4))
    sim_calls = c.chat.calls
    replayed_chat = fake_chat(script=COUNSELOR, calls=[])
    as_transcript = sim.reconstruction.model_copy(update={"turns": [t.model_copy(update={"labels": {}, "meta": {}})
                                                                    for t in sim.reconstruction.turns]})
    rep = replay_session(as_transcript, backend_of(replayed_chat, count_tokens=tokens), ReplaySettings(PROTO, seed=3))
    assert replayed_chat.calls == sim_calls
    assert [t.labels for t in rep.reconstruction.counselor_turns] == [t.labels for t in sim.reconstruction.counselor_turns]


def test_client_goodbye_gets_one_last_counselor_turn(fake_chat):
    c, cl = backends(fake_chat, COUNSELOR, ["I dread the wedding.", "Thanks, that helped. Bye!", "never used"])
    rec = simulate_session(HAND, c, cl, ReplaySettings(PROTO, seed=0, max_turns=10)).reconstruction
    assert rec.meta["stop"] == "client_ended"
    assert rec.turns[-2].text == "Thanks, that helped. Bye!" and rec.turns[-1].role == "counselor"
    assert len(rec.counselor_turns) == 4


def test_empty_client_output_twice_stops_without_a_counselor_turn(fake_chat):
    c, cl = backends(fake_chat, COUNSELOR, ["", "I dread it.", "Counselor: How are you?", "   "])
    rec = simulate_session(HAND, c, cl, ReplaySettings(PROTO, seed=0, max_turns=10)).reconstruction
    # turn 2: empty, then "I dread it." (a retry); turn 3: a counselor line (cleaned to empty), then blank
    assert rec.client_turns[1].text == "I dread it." and rec.client_turns[1].meta["flags"] == ["retry_empty"]
    assert rec.client_turns[1].meta["attempts"] == 2
    assert rec.meta["stop"] == "client_empty" and rec.turns[-1].role == "counselor"
    assert len(rec.counselor_turns) == 3


def test_echoed_or_repeated_client_text_is_retried(fake_chat):
    c, cl = backends(fake_chat, ["What shall we focus on?"],
                     ["What shall we focus on?", "The wedding, I guess.", "The wedding I guess!", "My cousins."])
    rec = simulate_session(HAND, c, cl, ReplaySettings(PROTO, seed=0, max_turns=4)).reconstruction
    assert [t.text for t in rec.client_turns[1:]] == ["The wedding, I guess.", "My cousins."]
    assert "retry_copies_other" in rec.client_turns[1].meta["flags"]  # echoed the counselor
    assert "retry_near_copy" in rec.client_turns[2].meta["flags"]     # repeated its own turn
    assert not any("degenerate" in t.meta["flags"] for t in rec.client_turns[1:])


def test_client_opens_when_the_original_did(fake_chat):
    s = session(("client", "Hi, I need to talk."), ("counselor", "Of course."), ("client", "Work is awful."),
                dialogue_id="c")
    c, cl = backends(fake_chat, COUNSELOR, ["My boss yells at me."])
    rec = simulate_session(s, c, cl, ReplaySettings(PROTO, seed=0, max_turns=2)).reconstruction
    assert [(t.role, t.text) for t in rec.turns[:3]] == [("client", "Hi, I need to talk."), ("counselor", COUNSELOR[0]),
                                                         ("client", "My boss yells at me.")]


def test_simulating_from_a_profile_alone(fake_chat):
    profile = ClientProfile(dialogue_id="p1", presenting_problem="I can't sleep before exams.", style="reserved",
                            opening="", counselor_opens=False)
    c, cl = backends(fake_chat, COUNSELOR, ["I can't sleep.", "Exams."])
    with pytest.raises(ValueError, match="max_turns"):
        simulate_session(profile, c, cl, ReplaySettings(PROTO, seed=0))
    res = simulate_session(profile, c, cl, ReplaySettings(PROTO, seed=0, max_turns=2))
    assert res.original.turns == [] and res.reconstruction.dialogue_id == "p1"
    assert [t.role for t in res.reconstruction.turns] == ["client", "counselor"] * 2
    assert "guarded" in cl.chat.calls[0]["messages"][0][1]  # the reserved style note


def test_cache_shares_skip_each_sides_first_turn():
    timings = [{"prompt_tokens": 100, "cached_tokens": 0, "client": None},
               {"prompt_tokens": 200, "cached_tokens": 150, "client": {"prompt_tokens": 50, "cached_tokens": 0}},
               {"prompt_tokens": 300, "cached_tokens": 250, "client": {"prompt_tokens": 80, "cached_tokens": 60}}]
    assert cache_shares(timings) == {"counselor": 0.8, "client": 0.75}


def test_write_profile_cli_needs_one_dialogue(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "helpert", "simulate", str(REPO / "sessions"), "--write-profile",
                           str(tmp_path / "p.yaml")], capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 2 and "--dialogue" in proc.stderr
    proc = subprocess.run([sys.executable, "-m", "helpert", "simulate", str(REPO / "sessions"), "--dialogue",
                           "loneliness", "--write-profile", str(tmp_path / "p.yaml")], capture_output=True, text=True,
                          cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert read_profile(tmp_path / "p.yaml").cognitive_model.core_belief == "unlovable"


def test_simulate_refuses_a_replay_run_folder(tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "manifest.json").write_text(json.dumps({"seed": 0, "args": {}}))
    proc = subprocess.run([sys.executable, "-m", "helpert", "simulate", str(REPO / "sessions" / "loneliness.csv"),
                           "--out", str(tmp_path / "run")], capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 2 and "holds a replay run" in proc.stderr


def test_a_prompt_too_long_for_the_context_is_one_line(fake_chat, monkeypatch, capsys, tmp_path):
    """The engine's ContextOverflow (the system prompt, note and latest words alone exceed n_ctx) reaches
    `helpert simulate` as one line and exit code 2, not a traceback."""
    import helpert.replay.llm as llm
    from helpert.cli.errors import run_cli
    from helpert.cli.main import cli
    from helpert.replay.llm.engine import ContextOverflow

    class Overflowing(fake_chat):
        def _generate(self, messages, stop=None, run_manager=None, **kwargs):
            raise ContextOverflow(600, 96, 512)

    monkeypatch.setattr(llm, "load_backend", lambda *a, **kw: backend_of(Overflowing(), count_tokens=tokens,
                                                                         info={"backend": "fake"}))
    monkeypatch.setattr(sys, "argv", ["helpert", "simulate", str(REPO / "sessions" / "loneliness.csv"),
                                      "--out", str(tmp_path / "run")])
    assert run_cli(cli) == 2
    err = capsys.readouterr().err.strip()
    assert err == ("error: prompt of 600 tokens + 96 to generate exceeds n_ctx=512, even with no earlier turns shown "
                   "(raise --n-ctx, lower --max-tokens or shorten the guidance)")

# --- the real model -----------------------------------------------------------------------------------

@pytest.mark.model
def test_simulate_on_the_real_model_gives_a_comparable_run_dir(tmp_path):
    """Three counselor turns with two instances of the embedded model: alternating non-empty turns,
    valid phases, the counselor's cache kept across turns, and a folder `helpert compare` reads."""
    out = tmp_path / "sim"
    cmd = [sys.executable, "-m", "helpert", "simulate", str(REPO / "sessions" / "loneliness.csv"), "--max-turns", "3",
           "--max-tokens", "48", "--seed", "2", "--out", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "The simulated client is a model: read its turns" in " ".join(proc.stdout.split())
    (folder,) = (out / "sessions").iterdir()
    rec = Session.from_record(json.loads((folder / "reconstruction.json").read_text()))
    roles = [t.role for t in rec.turns]
    assert roles == ["counselor", "client"] * (len(roles) // 2) + ["counselor"] * (len(roles) % 2)
    assert len(rec.counselor_turns) == 3 or rec.meta["stop"] != "max_turns"
    assert all(t.text.strip() for t in rec.turns)
    assert all(t.labels["graph_phase"] in PROTO.by_id or t.labels["graph_phase"] == SAFETY for t in rec.counselor_turns)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["mode"] == "simulate" and manifest["client_model"]["model_sha256"] == manifest["model"]["model_sha256"]
    timings = json.loads((folder / "timings.json").read_text())
    assert cache_shares(timings)["counselor"] > 0.5
    again = subprocess.run([sys.executable, "-m", "helpert", "compare", str(out), "--json"], capture_output=True,
                           text=True, cwd=tmp_path, timeout=300)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["n_sessions"] == 1


def test_client_speaking_as_the_counselor_is_retried_then_flagged_and_counted(fake_chat):
    from helpert.metrics.quality import measure

    reversal = "Can you give me a better idea of what's going on? What makes you feel unvalued?"
    c, cl = backends(fake_chat, COUNSELOR, [reversal, "I dread the wedding.", reversal, reversal, reversal])
    rec = simulate_session(HAND, c, cl, ReplaySettings(PROTO, seed=0, max_turns=4)).reconstruction
    first, second = rec.client_turns[1:]
    assert first.text == "I dread the wedding." and "retry_role_reversal" in first.meta["flags"]
    assert "degenerate" not in first.meta["flags"]
    assert second.text == reversal and {"gave_up", "degenerate", "degenerate:role_reversal"} <= set(second.meta["flags"])
    assert second.meta["attempts"] == 3
    assert measure(rec)["quality.client_degenerate_share"] == 0.5
