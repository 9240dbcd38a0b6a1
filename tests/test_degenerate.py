"""Degenerate turns (issue #14): the checks, the retries with their remedies, the flags and the metric.

Scripted chat models loop, narrate, leak role words and refuse; each test asserts the retry happened and
that the final turn or its flag is right. The real-model figure is in test_replay_model.py.
"""

from __future__ import annotations

import pytest

from helpert.replay.graph.recovery import DEFAULT_RETRY, RetryPolicy
from helpert.replay.llm.degenerate import CHECKS, Context, copied_runs, find_degenerate, session_findings
from helpert.protocols import load_protocol
from conftest import backend_of
from helpert.replay import ReplaySettings, replay_session
from helpert.session import Session, Turn


def session(*pairs: tuple[str, str]) -> Session:
    return Session(dialogue_id="t", turns=[Turn(idx=i, role=r, text=t) for i, (r, t) in enumerate(pairs)])


CLIENT_TURNS = [
    "I have been feeling really low since I lost my job last month.",
    "Mostly I just sit at home and scroll on my phone all day.",
    "My sister says I should get out more but I don't have the energy.",
    "I guess I feel useless, like I let my family down.",
]
SESSION = session(*[x for c in CLIENT_TURNS for x in (("client", c), ("counselor", "Okay."))])
LOOP = "It sounds like losing your job has left you feeling stuck and unsure of what comes next for you."


def run(chat, sess=SESSION, *, max_turns=None):
    # risk_sensitivity "lexicon": no safety turn appended to these ordinary client turns
    settings = ReplaySettings(load_protocol("cbt_session"), seed=3, max_turns=max_turns, risk_sensitivity="lexicon")
    return replay_session(sess, backend_of(chat, max_tokens=32), settings)


# --- the checks ------------------------------------------------------------------------------------

@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.name)
def test_every_check_flags_its_documented_example(check):
    ctx = check.example_context or Context()
    assert check.name in find_degenerate(check.example, ctx)


@pytest.mark.parametrize("text", [
    "You said you feel lost and nobody listens. What would help right now?",
    "They said you're too sensitive? How did that land for you?",
    "It sounds like you're exhausted. What has been the hardest part of this week?",
    "That (the move) was hard, and it makes sense you feel unsettled.",
    "Could you tell me a little more about that?",
    "This is a common experience for students, and it makes sense you feel this way.",
    "That sounds hard. This is a great example of your strength, though.",
    "The phrase you used, one day at a time, sounds like it has helped you before.",
])
def test_ordinary_counselor_turns_pass(text):
    ctx = Context("counselor", own_earlier=("How have you been sleeping?", "What would you like to work on today?"),
                  other_earlier=("I feel lost and nobody listens to me, not even my partner.",))
    assert find_degenerate(text, ctx) == []


@pytest.mark.parametrize("text", [
    "This is a classic example of a Socratic paradox, where the speaker questions their own knowledge.",
    "This is a great example of how the fear of failure can shape what we do.",
    "That's true. This quote suggests that resilience comes from within.",
    "In this passage, the author describes a moment of doubt.",
])
def test_commentary_on_the_client_s_words_is_flagged(text):
    """The embedded model's analyst voice in the demo replay (issue #14): its words are about a text, not to
    a person."""
    assert "commentary" in find_degenerate(text)


def test_a_reflection_may_reuse_some_client_words_but_not_copy_them():
    client = "My boss keeps yelling at me in front of everyone and I feel so humiliated every single day."
    reflection = "Being yelled at in front of everyone sounds humiliating. How do you cope afterwards?"
    copy = "My boss keeps yelling at me in front of everyone and I feel so humiliated."
    ctx = Context("counselor", other_earlier=(client,))
    assert find_degenerate(reflection, ctx) == []
    assert find_degenerate(copy, ctx) == ["copies_other"]
    longest, coverage = copied_runs(copy, [client])
    assert longest >= 10 and coverage == 1.0


def test_near_copy_reaches_any_earlier_turn_not_only_the_last_three():
    earlier = (LOOP, "What do you do on a typical day?", "How is your sleep?", "What does your sister say?")
    assert find_degenerate(LOOP.replace("stuck", "trapped"), Context("counselor", own_earlier=earlier)) == ["near_copy"]


def test_repeated_opening_reads_the_first_five_words_of_the_latest_two_turns():
    sorry = "I'm so sorry to hear that."
    ctx = Context("counselor", own_earlier=(sorry + " Exams are hard.", "What happened then?"))
    assert find_degenerate(sorry + " What did you do next?", ctx) == ["repeated_opening"]
    # three turns back is outside the window, a different fifth word is another opening, a short turn has none
    older = Context("counselor", own_earlier=(sorry, "What happened then?", "And after that?"))
    assert find_degenerate(sorry + " What did you do next?", older) == []
    assert find_degenerate("I'm so sorry to see you struggling.", ctx) == []
    assert find_degenerate("Okay.", Context("counselor", own_earlier=("Okay.",))) == []


def test_client_role_reversal_and_its_counterexample():
    ctx = Context("client")
    assert "role_reversal" in find_degenerate("What makes you feel unvalued? How can I help you with that?", ctx)
    assert find_degenerate("Can you help me? I don't know what to do about my sister.", ctx) == []


def test_session_findings_run_the_checks_over_a_transcript():
    s = [("client", CLIENT_TURNS[0]), ("counselor", LOOP), ("client", CLIENT_TURNS[1]), ("counselor", LOOP)]
    assert session_findings(s) == [(1, []), (3, ["near_copy", "repeated_opening"])]  # a copy opens alike too


# --- retries and flags in the graph -------------------------------------------------------------

def test_a_loop_is_retried_with_stronger_controls_and_a_new_seed(fake_chat):
    chat = fake_chat(script=[LOOP, LOOP, "What does a day look like for you now?", "I hear that.", "What would help?"],
                     accepts_controls=True)
    rec = run(chat, max_turns=3).reconstruction
    second = rec.counselor_turns[1]
    assert second.text == "What does a day look like for you now?"
    assert second.meta["attempts"] == 2 and "retry_near_copy" in second.meta["flags"]
    assert "degenerate" not in second.meta["flags"]
    first_try, retry = chat.calls[1], chat.calls[2]
    assert first_try["controls"] is None and retry["seed"] != first_try["seed"]
    assert retry["controls"].repeat_penalty == DEFAULT_RETRY.repeat_penalty
    assert retry["controls"].ban_ngram == DEFAULT_RETRY.ban_ngram and LOOP in retry["controls"].avoid


def test_a_turn_that_stays_degenerate_is_kept_flagged_and_the_last_retry_sees_a_short_window(fake_chat):
    chat = fake_chat(script=[LOOP])
    rec = run(chat).reconstruction
    first, *rest = rec.counselor_turns
    assert "degenerate" not in first.meta["flags"]
    for turn in rest:
        assert turn.text == LOOP  # kept, not hidden or replaced
        assert {"gave_up", "degenerate", "degenerate:near_copy"} <= set(turn.meta["flags"])
        assert turn.meta["attempts"] == DEFAULT_RETRY.max_attempts
    # the third attempt of the last turn saw only the latest exchange: shorter than the first attempt
    last_turn_calls = chat.calls[-3:]
    assert len(last_turn_calls[2]["messages"]) < len(last_turn_calls[0]["messages"])
    assert last_turn_calls[2]["messages"][-1] == ("human", CLIENT_TURNS[-1])


def test_narration_role_words_and_refusals_are_retried(fake_chat):
    chat = fake_chat(script=[
        'They said "I have been feeling really low since I lost my job."', "How long has it felt this low?",
        "Mostly at home. user I scroll all day.", "What do you scroll through?",
        "I'm sorry, but I can't help you with that.", "What does your sister notice about you?",
    ])
    rec = run(chat, max_turns=3).reconstruction
    texts = [t.text for t in rec.counselor_turns]
    assert texts == ["How long has it felt this low?", "What do you scroll through?", "What does your sister notice about you?"]
    flags = [t.meta["flags"] for t in rec.counselor_turns]
    assert "retry_narration" in flags[0] and "retry_role_word" in flags[1] and "retry_refusal" in flags[2]
    assert all(t.meta["attempts"] == 2 for t in rec.counselor_turns)


def test_off_language_output_is_retried(fake_chat):
    chat = fake_chat(script=["Это очень тяжело, я понимаю.", "That sounds very hard. What happened next?"])
    turn = run(chat, max_turns=1).reconstruction.counselor_turns[0]
    assert turn.text == "That sounds very hard. What happened next?"
    assert turn.meta["flags"] == ["retry_off_language"]  # flags describe the kept text, plus what was retried


def test_of_several_bad_attempts_the_least_bad_is_kept(fake_chat):
    # attempt 1: a loop that also narrates (2 findings); 2: empty; 3: only a loop (1 finding)
    chat = fake_chat(script=["First turn here, how are you?", f'They said "{LOOP}"', "", f"{LOOP}"])
    sess = session(("client", CLIENT_TURNS[0]), ("counselor", "Okay."), ("client", LOOP))
    rec = run(chat, sess, max_turns=2).reconstruction
    turn = rec.counselor_turns[1]
    assert turn.text == LOOP and "degenerate:copies_other" in turn.meta["flags"]


def test_retry_policy_controls():
    policy = RetryPolicy()
    assert policy.controls(0, ("a b c",)) is None
    c = policy.controls(1, ("one", "two", "three"))
    assert c.avoid == ("one", "two", "three") and c.avoid_openings == ("two", "three") and c.presence_penalty == 0.5
    assert RetryPolicy(ban_on_first=True).controls(0, ("x",)).ban_ngram == 4
    assert [policy.shortened(a) for a in range(3)] == [False, False, True]
    assert not RetryPolicy(short_window=0).shortened(2)


def test_a_repeated_opening_alone_is_retried_with_the_openings_banned_and_nothing_else():
    from helpert.replay.llm.engine import Controls

    policy, own = RetryPolicy(), ("one two", "three four", "five six")
    light = policy.controls(1, own, before=("repeated_opening",))
    assert light == Controls(avoid_openings=("three four", "five six"))  # no penalties, no n-gram ban
    assert not policy.shortened(2, before=("repeated_opening",))  # nor the short window
    mixed = policy.controls(1, own, before=("repeated_opening", "near_copy"))
    assert mixed.repeat_penalty == 1.3 and mixed.ban_ngram == 4 and policy.shortened(2, before=("near_copy",))
    uniform = RetryPolicy(opening_only=False).controls(1, own, before=("repeated_opening",))
    assert uniform.repeat_penalty == 1.3


def test_the_retry_after_a_repeated_opening_gets_the_light_controls():
    from helpert.replay.graph.recovery import generate_checked
    from helpert.replay.llm.cleaning import Cleaned

    sorry = "I'm so sorry to hear that."
    replies = iter([sorry + " Exams can make every evening feel like a test of who you are.",
                    "What part of the exam worries you most?"])
    seen = []

    def invoke(attempt, controls, shortened):
        seen.append((controls, shortened))
        return next(replies), {}

    ctx = Context("counselor", own_earlier=(sorry + " That sounds tiring.",))
    out = generate_checked(invoke, lambda t: Cleaned(t, []), ctx)
    assert out.text.startswith("What part") and "retry_repeated_opening" in out.flags and out.attempts == 2
    assert seen[0] == (None, False) and seen[1][0].avoid_openings == (sorry + " That sounds tiring.",)
    assert seen[1][0].repeat_penalty is None and seen[1][0].ban_ngram == 0


# --- the metric and compare --exclude-degenerate ------------------------------------------------------

def test_degenerate_share_uses_flags_for_generated_turns_and_the_checks_for_human_ones():
    from helpert.metrics.quality import measure

    human = session(("client", CLIENT_TURNS[0]), ("counselor", LOOP), ("client", CLIENT_TURNS[1]), ("counselor", LOOP))
    assert measure(human)["quality.degenerate_share"] == 0.5
    generated = human.model_copy(update={"turns": [t.model_copy(update={"meta": {"flags": []}}) if t.role == "counselor" else t
                                                   for t in human.turns]})
    assert measure(generated)["quality.degenerate_share"] == 0.0  # generation said clean: trusted
    assert measure(human)["quality.client_degenerate_share"] is None


def test_exclude_degenerate_drops_the_slot_on_both_sides(fake_chat):
    from helpert.compare import compare_sessions, without_degenerate

    res = run(fake_chat(script=[LOOP]))
    original, reconstruction, dropped = without_degenerate(res.original, res.reconstruction)
    assert dropped == 3
    assert len(reconstruction.counselor_turns) == 1 and len(original.counselor_turns) == 1
    assert [t.text for t in reconstruction.client_turns] == CLIENT_TURNS  # client words stay
    full = compare_sessions([(res.original, res.reconstruction)], load_protocol("cbt_session"))
    kept = compare_sessions([(original, reconstruction)], load_protocol("cbt_session"))
    assert full["quality.degenerate_share.llm"].iloc[0] == 0.75 and kept["quality.degenerate_share.llm"].iloc[0] == 0.0


@pytest.mark.parametrize("text, counselor", [
    ("I love the detail. The client wants to know what's going on, and I'm happy to help.", True),
    ("The patient is clearly anxious about the exam.", True),
    ("You mentioned the client wants everything by Friday. What happens if it is late?", False),  # not a sentence start
])
def test_a_counselor_speaking_of_the_client_in_the_third_person_is_narrating(text, counselor):
    """Found by a fresh user in a replay of the embedded model; a client may speak of a client of hers."""
    from helpert.replay.llm.degenerate import Context, find_degenerate

    assert ("narration" in find_degenerate(text, Context(speaker="counselor"))) is counselor
    assert "narration" not in find_degenerate(text, Context(speaker="client"))
