"""The safety node's scripted words (helpert.safety.templates, put together by helpert.replay.graph.safety): templates,
the check on model text, flags."""

import pytest

from helpert.replay.graph.safety import scripted_reply
from helpert.safety.templates import (
    CHECK_ACKNOWLEDGEMENTS, CRISIS_ACKNOWLEDGEMENTS, CRISIS_QUESTIONS, SAFETY_RESOURCES, TEMPLATES, VARIANTS, model_part,
    question_group, safety_template, safety_text_ok, safety_text_problems,
)


@pytest.mark.parametrize("text", [
    "It's great that you're taking control of your life.",
    "Good for you.",
    "That's a good plan.",
    "That sounds like a good idea.",
    "I understand why you want to end it.",
    "It's understandable that you want to leave.",
    "It makes sense to end things when it hurts this much.",
    "You deserve a break from life.",
    "Everyone feels that way sometimes.",
    "It's not that bad.",
    "You'll get over it.",
    "Don't be silly.",
    "You're right, they might be better off.",
    "How is your exam preparation going?",
    "Let's get back to your agenda.",
    "You should try to get some sleep tonight.",
    "I hear you. That is so painful. And it has been a long week for you.",  # three sentences
    "I hear you " + "and it is painful " * 10,                                 # over 40 words
    "",
])
def test_unsafe_model_text_is_rejected(text):
    assert not safety_text_ok(text), text


@pytest.mark.parametrize("text", [
    "That sounds incredibly painful.",
    "It sounds like you have been carrying this alone for a long time.",
    "I'm really glad you told me. That took courage.",
    "You have been feeling like a burden to the people around you.",
])
def test_a_short_caring_reflection_passes(text):
    assert safety_text_ok(text), safety_text_problems(text)


def test_problems_are_named():
    assert safety_text_problems("It's great that you're taking control of your life.") == ["praise", "control"]
    assert safety_text_problems("Why not talk about your exams?") == ["question"]


def test_question_follows_the_kinds():
    assert question_group(("suicide",)) == question_group(()) == question_group(("unresolved",)) == "self"
    assert question_group(("suicide", "abuse")) == "self"            # suicide and self-harm come first
    assert question_group(("harm_to_others", "abuse")) == "others"
    assert question_group(("abuse",)) == "abuse"
    text, tag = safety_template("crisis", ("abuse",), 0)
    assert text.startswith("Thank you for telling me that. It sounds like you are in a lot of pain right now. "
                           "Are you safe where you are right now?") and tag == "crisis:abuse:0"
    assert text.endswith(SAFETY_RESOURCES)
    check, tag = safety_template("check", ("unspecified_risk",), 5)
    assert tag == "check:self:1" and SAFETY_RESOURCES not in check and check.endswith("?")


def test_variants_are_chosen_by_slot_and_never_repeat_on_consecutive_turns():
    texts = [safety_template("crisis", ("suicide",), slot)[0] for slot in range(2 * VARIANTS)]
    assert texts[:VARIANTS] == texts[VARIANTS:]                       # deterministic: the slot alone decides
    assert all(a != b for a, b in zip(texts, texts[1:]))
    assert len(set(TEMPLATES)) == len(TEMPLATES) == 4 * VARIANTS
    assert all(len(q) == VARIANTS for q in CRISIS_QUESTIONS.values())


def test_kept_model_text_precedes_the_template():
    text, flags = scripted_reply("That sounds incredibly painful.", ["retry_near_copy"], "crisis", ["suicide"], 2)
    template, tag = safety_template("crisis", ["suicide"], 2)
    assert text == f"That sounds incredibly painful. {template}" and model_part(text) == "That sounds incredibly painful."
    assert flags == ["retry_near_copy", "safety_resources", f"safety_template:{tag}"]


def test_rejected_or_degenerate_model_text_is_dropped_with_its_verdict():
    text, flags = scripted_reply("It's great that you're taking control of your life.", [], "crisis", ["suicide"], 1)
    assert text == safety_template("crisis", ["suicide"], 1)[0] and model_part(text) == ""
    assert flags == ["safety_model_text_dropped", "safety_resources", "safety_template:crisis:self:1"]
    text, flags = scripted_reply("They said no.", ["retry_narration", "gave_up", "degenerate", "degenerate:narration"],
                                 "check", ["unspecified_risk"], 0)
    assert text == safety_template("check", (), 0)[0]
    assert flags == ["retry_narration", "gave_up", "safety_model_text_dropped", "safety_check", "safety_template:check:self:0"]


def test_model_part_strips_current_and_earlier_scripted_words():
    assert model_part("Let's set an agenda.") == "Let's set an agenda."
    assert model_part(f"That sounds hard. {SAFETY_RESOURCES}") == "That sounds hard."  # runs before the templates


def test_every_template_asks_and_every_crisis_template_gives_resources():
    """The safety metrics (helpert.label.safety_handling) read the scripted words as asking, and the
    resource sentence as a resource, not as asking."""
    from helpert.label.safety_handling import peer_safety_response
    from helpert.session import Session, Turn

    for template in TEMPLATES:
        s = Session(dialogue_id="t", turns=[Turn(idx=0, role="client", text="I want to die."),
                                            Turn(idx=1, role="counselor", text=template)])
        (record,) = peer_safety_response(s)
        assert record["asks_safety"], template
        assert record["gives_resources"] is (SAFETY_RESOURCES in template)


def test_the_scripted_acknowledgements_meet_the_bar_set_for_model_text():
    assert all(safety_text_ok(ack) for ack in (*CRISIS_ACKNOWLEDGEMENTS, *CHECK_ACKNOWLEDGEMENTS))
