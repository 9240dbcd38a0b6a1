from helpert.replay.llm.cleaning import clean_reply
from helpert.text.language import english_share


def test_strips_own_role_prefix():
    c = clean_reply("Counselor: How have you been feeling?")
    assert c.text == "How have you been feeling?" and "role_prefix" in c.flags


def test_cuts_where_the_client_starts_speaking():
    c = clean_reply("That sounds hard. What happened next?\nClient: Well, I went home.")
    assert c.text == "That sounds hard. What happened next?" and "role_leak" in c.flags


def test_speaking_for_the_client_is_empty():
    assert clean_reply("Client: I feel fine").text == ""


def test_special_tokens_and_whitespace():
    c = clean_reply("  <|im_start|>assistant\n Hello   there <|im_end|>")
    assert c.text == "Hello there" and "role_prefix" in c.flags  # the role word left by the template goes too


def test_stage_directions_are_removed():
    c = clean_reply("(glancing at the client's face, checking their reaction) That sounds hard. *nods* What happened?")
    assert c.text == "That sounds hard. What happened?" and "stage_direction" in c.flags
    assert clean_reply("That (the move) was hard.").text == "That (the move) was hard."  # not an action


def test_bounds_length_at_sentence_boundary():
    raw = " ".join(f"Sentence number {i} is here." for i in range(10))
    c = clean_reply(raw)
    assert c.text == " ".join(f"Sentence number {i} is here." for i in range(4)) and "truncated" in c.flags
    long_one = "word " * 200
    c = clean_reply(long_one)
    assert len(c.text.split()) <= 70 and "truncated" in c.flags


def test_non_english_flagged():
    assert "non_english" in clean_reply("Это очень тяжело, я понимаю.").flags
    assert english_share("Hello") == 1.0


def test_echoed_guidance_is_removed():
    c = clean_reply("(Guidance for your reply: Step: Mood check.) How has your week been?")
    assert c.text == "How has your week been?" and "guidance_echo" in c.flags
    assert clean_reply("[Next counselor step: Agenda. Ask]").text == ""
