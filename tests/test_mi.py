"""MITI-style utterance codes (helpert.label.mi), the mi.* session metrics, and the quality-bearing parts of
drift and CTRS. Sentences and sessions here were written for these tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpert.io import read_sessions
from helpert.label import label_sessions
from helpert.label.mi import GROUP, Utterance, code_turns, code_utterances
from helpert.metrics import measure_labelled
from helpert.metrics.mi import measure as mi_measure
from helpert.protocols import load_protocol
from helpert.session import Session, Turn

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
CBT = load_protocol("cbt_session")

# (sentence, client turn before it, expected MITI group), written for this test
GROUPED = [
    ("It sounds like you feel stuck between your job and your family.", "My job eats all my time and my kids barely see me.", "reflection"),
    ("So part of you wants to quit, and part of you is scared of what happens next.", "I want to quit, but I don't know what I'd do without it.", "reflection"),
    ("You're feeling really let down by your sister.", "My sister didn't even call on my birthday.", "reflection"),
    ("What would you like to be different a month from now?", "", "question"),
    ("How did you feel when she said that?", "", "question"),
    ("Did you sleep at all last night?", "", "question"),
    ("Do you have anyone you can talk to?", "", "question"),
    ("You should stop drinking coffee after lunch.", "I can't sleep.", "non_adherent"),
    ("You need to tell your boss tomorrow.", "My boss keeps piling work on me.", "non_adherent"),
    ("Just stop checking your phone in bed.", "", "non_adherent"),
    ("That took a lot of courage.", "I finally told him how I felt.", "adherent"),
    ("You did a great job sticking with it this week.", "", "adherent"),
    ("It's your decision, and you know your life best.", "", "adherent"),
    ("Would it be okay if I shared an idea that has helped other people?", "", "adherent"),
    ("Research shows that regular exercise reduces symptoms of depression.", "", "information"),
    ("Most people find the first week of quitting is the hardest.", "", "information"),
    ("Hi, how are you?", "", "other"),
    ("Thanks for chatting with me today.", "", "other"),
]


def test_codes_are_known_and_grouped():
    codes = code_utterances([Utterance(s.lower(), c.lower()) for s, c, _ in GROUPED])
    assert len(codes) == len(GROUPED) and all(c in GROUP for c in codes)


def test_labeller_finds_the_miti_group_of_plain_sentences():
    codes = code_utterances([Utterance(s.lower(), c.lower()) for s, c, _ in GROUPED])
    hits = [GROUP[c] == g for c, (_, _, g) in zip(codes, GROUPED)]
    wrong = [(s, c) for (s, _, _), c, h in zip(GROUPED, codes, hits) if not h]
    assert sum(hits) >= 0.8 * len(GROUPED), wrong


def test_rule_codes():
    texts = ["would it be okay if i shared an idea?", "hi, how are you?", "let's set the agenda for today."]
    codes = code_utterances([Utterance(t) for t in texts])
    assert codes[0] == "seek_collaboration" and codes[1] == "small_talk"
    assert codes[2] in ("structuring", "question_open", "question_closed")


def test_code_turns_splits_sentences():
    out = code_turns(["It sounds like a hard week. What happened on Monday?", "Okay."], ["It was awful.", ""])
    assert len(out) == 2 and len(out[0]) == 2 and len(out[1]) == 1


def _session(codes_per_turn: list[list[str]], words: int = 10) -> Session:
    """Turns of English words (a text of placeholder letters would be read as not English: helpert.text.language)
    with the given MI codes; each counselor turn ``words`` words long."""
    english = "you can tell me more about what that was like for you".split()
    turns = []
    for i, codes in enumerate(codes_per_turn):
        turns.append(Turn(idx=2 * i, role="client", text="it has been a hard week for me "))
        text = " ".join(english[j % len(english)] for j in range(words))
        turns.append(Turn(idx=2 * i + 1, role="counselor", text=text, labels={"mi": codes, "phase": "identify_thoughts"}))
    return Session(dialogue_id="t", turns=turns)


def test_mi_metric_formulas():
    s = _session([["reflection_complex", "question_open"], ["reflection_simple"], ["question_closed", "advise_without_permission"],
                  ["affirm", "confront"], ["give_information"]])
    m = mi_measure(s)
    assert m["mi.reflection_to_question"] == pytest.approx(2 / 2)
    assert m["mi.complex_reflection_pct"] == pytest.approx(1 / 2)
    assert m["mi.open_question_pct"] == pytest.approx(1 / 2)
    assert m["mi.adherent_pct"] == pytest.approx(1 / 3)
    assert m["mi.non_adherent_share"] == pytest.approx(2 / 8)
    assert m["mi.advice_without_permission_share"] == pytest.approx(1 / 8)
    assert mi_measure(_session([["give_information"]]))["mi.reflection_to_question"] is None


def test_listening_lowers_drift_and_raises_ctrs_items():
    listening = _session([["reflection_complex"], ["question_open"], ["reflection_simple", "affirm"], ["seek_collaboration"]] * 2)
    telling = _session([["advise_without_permission"], ["give_information"], ["direct"], ["confront"]] * 2, words=60)
    a, b = measure_labelled(listening, CBT), measure_labelled(telling, CBT)
    assert a["drift.score"] < b["drift.score"]
    assert b["drift.lecture_share"] == 1.0 and a["drift.lecture_share"] == 0.0
    for item in ("understanding", "interpersonal_effectiveness", "collaboration"):
        assert a[f"ctrs.{item}"] > b[f"ctrs.{item}"], item
    assert a["ctrs.mean"] > b["ctrs.mean"]


def test_label_sessions_writes_mi_codes():
    s = read_sessions(REPO / "sessions" / "exam_anxiety.txt")[0]
    out = label_sessions([s], CBT)[0]
    for t in out.counselor_turns:
        assert isinstance(t.labels["mi"], list) and t.labels["mi"] and all(c in GROUP for c in t.labels["mi"])
    m = measure_labelled(out, CBT)
    assert m["mi.reflection_share"] is not None and m["mi.question_share"] > 0


@pytest.mark.shared
def test_expert_cbt_transcripts_beat_ninety_percent_of_esconv_peers():
    """Transcripts that follow the protocol closely with expert skills score lower drift and higher CTRS than at
    least 90% of the real ESConv peer sessions: the two written for the tests (tests/data/expert_cbt) and sixteen
    demonstrations written outside the project (tests/data/expert_cbt_fresh: three scored once on 2026-12-04, two
    used in round 30's choice, three in round 31's, three in round 32's, two in round 41's and three in round 42's
    on 2026-12-05; README.md and benchmarks/expert_demonstrations.py report them: 90.3-99% of peers drift more,
    96-100% have a lower CTRS mean; demo_grief and demo_ptsd, rounds 42 and 41's, are the closest to the bar: 90.3%
    and 90.8%)."""
    esconv = SHARED / "esconv" / "esconv_valid_195.jsonl"
    if not esconv.is_file():
        pytest.skip("needs ../shared/data/esconv")
    import numpy as np

    peers = [measure_labelled(s, CBT) for s in label_sessions(read_sessions(esconv), CBT)]
    drift = np.array([r["drift.score"] for r in peers], dtype=float)
    ctrs = np.array([r["ctrs.mean"] for r in peers], dtype=float)
    experts = label_sessions(read_sessions(REPO / "tests" / "data" / "expert_cbt", REPO / "tests" / "data" / "expert_cbt_fresh"), CBT)
    assert len(experts) == 18
    for s in experts:
        m = measure_labelled(s, CBT)
        assert np.mean(drift > m["drift.score"]) >= 0.9, (s.dialogue_id, m["drift.score"])
        assert np.mean(ctrs < m["ctrs.mean"]) >= 0.9, (s.dialogue_id, m["ctrs.mean"])


@pytest.mark.parametrize("kind", ["early_advice", "questions_for_reflections", "lecture", pytest.param("small_talk", marks=pytest.mark.xfail(
    strict=True, reason="a known limit since round 91 (README, synthetic degradations): small talk put beside these two "
                        "transcripts' turns raises their CTRS mean, 5.179 -> 5.216 -> 5.217"))])
def test_degrading_expert_transcripts_raises_drift_and_lowers_ctrs(kind):
    """The synthetic degradations of helpert.probe.degrade (benchmarks/validate_quality.py) on the two expert
    transcripts (labelled by helpert.label after degrading): drift must rise and CTRS fall at every step k = 0, 2, 4.
    Small talk (put in beside the turns since round 91) fails on these two: with the learned phase model the CTRS
    items scaled by the *collaborative* factor (strategy, techniques, homework) and guided discovery rise, because
    neutral turns dilute the shares of lecture turns and MI-non-adherent utterances that the factor reads; on the
    benchmark's ten unseen sessions and five draws the row is monotone (benchmarks/README.md, round 91). Strict: when
    it passes, the mark must go."""
    import numpy as np

    from helpert.probe.degrade import degrade, reflective_positions

    sessions = read_sessions(REPO / "tests" / "data" / "expert_cbt")
    reflective = [reflective_positions(s) for s in label_sessions(sessions, CBT)]
    drift, ctrs = [], []
    for k in (0, 2, 4):
        rows = [measure_labelled(s, CBT) for s in label_sessions([degrade(s, kind, k, r) for s, r in zip(sessions, reflective)], CBT)]
        drift.append(np.mean([r["drift.score"] for r in rows]))
        ctrs.append(np.mean([r["ctrs.mean"] for r in rows]))
    assert drift[0] < drift[1] < drift[2], drift
    assert ctrs[0] > ctrs[1] > ctrs[2], ctrs


def test_lecture_share_is_the_share_of_lecture_turns_not_the_scaled_score_part():
    # 1 lecture turn in 10: the key is the share (0.1); the score part scales it by LECTURE_WORST (0.2) to 0.5
    from helpert.metrics import drift
    s = _session([["give_information", "give_information"]] + [["question_open"]] * 9, words=60)
    m = measure_labelled(s, CBT)
    assert m["drift.lecture_share"] == pytest.approx(0.1)
    parts = drift.score_parts(s, CBT, drift.turn_flags(s, CBT))
    assert parts["lecturing"] == pytest.approx(0.1 / drift.LECTURE_WORST)


def test_questions_are_coded_by_their_form():
    from helpert.label.mi import apply_rules, question_form

    # wh-word or auxiliary first (after fillers) and a question mark: a question, whatever the model said
    assert question_form("how might you put it into a more realistic thought of your own?") == "question_open"
    assert question_form("okay, so what was that like for you?") == "question_open"
    assert question_form("does the feeling itself interfere with preparing?") == "question_closed"
    assert question_form("how many do you smoke a day?") == "question_closed"
    assert apply_rules("how might you put it into a more realistic thought of your own?", "advise_without_permission") == "question_open"
    assert apply_rules("what do you make of that?", "reflection_complex") == "question_open"
    # not by form: a declarative with a question mark (a reflection said with a rising voice), no question
    # mark, suggestions put as questions, and asking to collaborate (its own rule)
    for text in ("so you're stuck?", "what you said matters.", "why don't you try walking after dinner?",
                 "have you tried the patch?", "you know?", "sure, but they probably recovered faster, right?"):
        assert question_form(text) is None, text
    assert apply_rules("so you're stuck?", "reflection_simple") == "reflection_simple"
    assert apply_rules("why don't you try walking after dinner?", "advise_without_permission") == "advise_without_permission"
    assert apply_rules("would it be okay if i shared an idea?", "question_closed") == "seek_collaboration"


def test_requests_to_tell_are_open_questions():
    from helpert.label.mi import apply_rules

    # MITI and MISC code a request for information put as a statement as a question (not as direct), also when it
    # starts a later clause of the sentence
    for text in ("tell me more about that.", "okay, so, um, tell me a bit about friday.", "say more about that.",
                 "talk to me about what a typical weekend looks like.", "walk me through that morning.",
                 "help me understand what happened next.", "i'd like to hear what your wife would say.",
                 "before we go there, though, tell me about monday."):
        assert apply_rules(text, "direct") == "question_open", text
    assert apply_rules("tell me more about that.", "reflection_simple") == "reflection_simple"  # a reflection stays
    assert apply_rules("tell me more about that?", "question_closed") == "question_closed"  # a question keeps its code
    # an imperative about what the client must do, or a bare "tell me", is still the model's
    for text in ("you need to tell your boss.", "stop drinking on weeknights.", "explain to her how it affects you.",
                 "if i push too hard, please tell me."):
        assert apply_rules(text, "direct") == "direct", text


def test_announcing_the_session_work_is_structuring():
    from helpert.label.mi import apply_rules

    for text, code in (("let me jot those down.", "direct"), ("let me summarize what we've talked about.", "self_disclosure"),
                       ("i'd like to write that down exactly the way you said it.", "confront"),
                       ("let's look at the evidence for that thought.", "advise_without_permission"),
                       ("so let me just make sure i've got this right.", "support"),
                       ("okay, so, before we get into that, um, let me just jot down what you said.", "advise_without_permission"),
                       ("yeah, course, let's stop there, same time next week.", "direct"),
                       ("so let me pull together where we've got to.", "direct"),
                       ("let me ask something slightly different.", "advise_without_permission")):
        assert apply_rules(text, code) == "structuring", text
    # advice put as looking at or starting with doing something, a prescription, a summary with its content and
    # a reflection stay
    for text, code in (("let's look at cutting back to two a night.", "advise_without_permission"),
                       ("let's start with cutting down to two.", "advise_without_permission"),
                       ("i'll write you for the varenicline and you start it a week before.", "direct"),
                       ("let's summarize: you want to cut down but you worry.", "give_information"),
                       ("let's summarize what you said.", "reflection_complex")):
        assert apply_rules(text, code) == code, text


def test_proposing_what_the_session_turns_to_is_structuring():
    """Round 97: a first-person-plural proposal of the session's next step is MISC's Structure, not advice or a
    directive; proposals about the client's life stay with the model."""
    from helpert.label.mi import apply_rules

    for text, code in (("let's take tuesday, then, and slow it right down.", "direct"),
                       ("i'd suggest we start by looking at the situation from monday.", "advise_without_permission"),
                       ("let's go to the train.", "direct"), ("let's bring that into the headaches.", "direct"),
                       ("can we go back to what you said about your mum.", "advise_without_permission"),
                       ("let's leave that for next time.", "direct"),
                       ("we're going to spend a few minutes on the thought record.", "give_information")):
        assert apply_rules(text, code) == "structuring", text
    for text, code in (("let's get you walking every morning.", "direct"),
                       ("let's start with cutting down to two.", "advise_without_permission"),
                       ("let's get into the habit of walking.", "direct"),
                       ("you should write it down tonight.", "advise_without_permission")):
        assert apply_rules(text, code) == code, text


def test_what_speaks_of_the_counselor_is_not_a_reflection():
    """Round 79: a sentence about the counselor's own life returns nothing of the client's talk (MISC 2.5), so a
    reflection code becomes Self-Disclose; the client's words said back in quotes, the session's "we" and the frames
    that voice a reading of the client keep the model's code."""
    from helpert.label.mi import apply_rules, speaks_of_counselor

    ours = ["i could hear it hammering on the roof for hours.", "i spent most of yesterday in the garden.",
            "my dog chewed through another cushion on sunday, so that was my weekend sorted."]
    theirs = ['"i\'m a failure as a father." which one hits hardest?', "so \"i'm useless\" produces the dread.",
              "i can see how hard that was.", "i imagine that was frightening.", "i'm sorry that happened.",
              "so we've looked at the evidence, and i'd call it a real shift.", "you spent all of yesterday on it.",
              '"i\'d rather have more sleep, but i\'ve managed on less.', "it sounds exhausting."]
    assert [speaks_of_counselor(t) for t in ours] == [True] * len(ours)
    assert [speaks_of_counselor(t) for t in theirs] == [False] * len(theirs)
    assert [apply_rules(t, "reflection_simple") for t in ours] == ["self_disclosure"] * len(ours)
    assert apply_rules(ours[0], "give_information") == "give_information"  # only a reflection code is moved
    assert apply_rules(theirs[2], "reflection_complex") == "reflection_complex"


def test_a_self_disclosure_names_its_speaker():
    """Round 101: the MI code self_disclosure and the ESConv strategy Self-disclosure (the behaviour code's source)
    stand only for a turn that names the counselor ("I", "me", "my" ... or "same here") outside quotes, double or
    single; a disclosure's later sentences need not ("It was rough.")."""
    import numpy as np

    from helpert.label.mi import GROUPS, code_turns, decode, mentions_self
    from helpert.label.strategy import strategy_from_scores

    assert [mentions_self(t) for t in ("i lost my mum last year.", "same here, we had snow too.", "mine left in may.",
                                       "that happened to me as well.")] == [True] * 4
    assert [mentions_self(t) for t in ("you got two done even in a hard week.", "so the thought is, 'i'll freeze and "
                                       "they'll see i'm useless.'", 'so "i\'m a failure" comes up.',
                                       "the relief was real, but it faded.")] == [False] * 4
    # the model's self_disclosure gives way to the code head's next best where the turn does not name the counselor
    codes = ["self_disclosure", "reflection_complex", "other"]
    groups = list(GROUPS)
    row = np.zeros(len(groups) + len(codes), dtype=np.float32)
    row[groups.index("other")] = 5.0
    row[len(groups):] = [3.0, 2.0, 1.0]
    assert decode(row[None], groups, codes, [True]) == ["self_disclosure"]
    assert decode(row[None], groups, codes, [False]) == ["reflection_complex"]
    assert decode(row[None], groups, codes) == ["self_disclosure"]  # no turns given: the model's code
    classes = ["Question", "Self-disclosure", "Reflection of feelings"]
    scores = np.array([[0.1, 0.8, 0.3], [0.1, 0.8, 0.3]])
    texts = ["you got two done even in a hard week.", "i know that feeling, i used to dread it too."]
    assert strategy_from_scores(scores, classes, texts) == ["Reflection of feelings", "Self-disclosure"]
    assert strategy_from_scores(scores, classes) == ["Self-disclosure", "Self-disclosure"]
    # the real path: a disclosure keeps both sentences, the client's thought said back is not one
    real = code_turns(["When my first child was born I barely slept for months. It was rough.",
                       "So the thought is something like, 'I'll freeze and they'll all see I'm incompetent.'"],
                      ["I can't sleep since the baby came.", "I just keep thinking I'll freeze in there."])
    assert real[0] == ["self_disclosure", "self_disclosure"]
    assert "self_disclosure" not in real[1]


def test_a_lecture_guides_no_discovery_and_talk_of_oneself_is_off_protocol():
    """Round 79: guided discovery counts a reflective turn only when it is not a lecture (as understanding does);
    a turn of self-disclosure alone is off-protocol talk for drift whatever the behaviour labeller said."""
    from helpert.metrics.drift import tells_only_of_self

    turns = [["question_closed"]] * 6 + [["give_information", "reflection_complex", "give_information"]]
    assert measure_labelled(_session(turns, words=60), CBT)["ctrs.guided_discovery"] == 0.0  # the reflection is in a lecture
    assert measure_labelled(_session(turns, words=20), CBT)["ctrs.guided_discovery"] > 0.0  # a short turn: it counts
    own = _session([["question_open"]] * 4 + [["self_disclosure", "self_disclosure"]])
    mixed = _session([["question_open"]] * 4 + [["self_disclosure", "question_open"]])
    assert tells_only_of_self(own.turns[-1]) and not tells_only_of_self(mixed.turns[-1])
    assert measure_labelled(own, CBT)["drift.self_disclosure_share"] == pytest.approx(1 / 5)
    assert measure_labelled(mixed, CBT)["drift.self_disclosure_share"] == 0.0


def test_what_is_normal_for_people_is_support_not_a_reflection():
    """Round 83: a reflection returns what this client said; a sentence that opens by saying what is normal or common
    for people is Support. A reflection that happens to contain such words later keeps the model's code."""
    from helpert.label.mi import apply_rules

    for text in ("it's so common to have a fear of being vulnerable.", "it can be tough when you've got a low mark.",
                 "a lot of people find exams scary.", "oh, it's completely normal to feel that way."):
        assert apply_rules(text, "reflection_complex") == "support", text
    for text in ("it sounds like the report has come to feel like a test.", "so you're worried it's not normal to feel this.",
                 "you're finding that a lot of people at work expect too much."):
        assert apply_rules(text, "reflection_complex") == "reflection_complex", text
    assert apply_rules("it's completely normal to feel nervous.", "give_information") == "give_information"


def test_labelling_contradicting_and_blaming_the_client_is_confront():
    """Rounds 84-85 (MISC 2.5's Confront): a sentence that labels the client or their account, flatly contradicts them or
    blames and moralises is confront whatever warm code the model gave; the same words returned as the client's own
    view, negated as reassurance or said about something else keep the model's code, and a non-adherent code stays."""
    from helpert.label.mi import apply_rules, confronts

    hostile = ("that sounds like an excuse.", "you're being lazy about this.", "i think you're exaggerating.",
               "come on, you know that's not how it works.", "that doesn't make any sense.",
               "well, that was a pretty selfish thing to do.", "you're in denial about how bad this is.",
               "honestly, that's not a good enough reason.", "it's your own fault, really.",
               "let's be honest, you weren't going to do it anyway.", "you're just feeling sorry for yourself.")
    for text in hostile:
        assert confronts(text), text
        assert apply_rules(text, "reflection_complex") == "confront", text
        assert apply_rules(text, "affirm") == "confront", text
    kind = ("you feel like you're being lazy.", "you worry people will think you're selfish.",
            "you've been calling yourself pathetic all week.", "that's not selfish, you're allowed to rest.",
            "it doesn't make you weak or lazy to ask for help.", 'so "i\'m just lazy" is what you tell yourself.',
            "oh no worries, come on in, have a seat.", "you're lying awake until three.", "silly how?",
            "some of these exercises may seem silly at first.", "failing once is not a reason to blame yourself.",
            "i'm not trying to catch you out.", "it sounds like you feel overwhelmed by the workload.",
            "your boyfriend seems to be a very selfish and immature man.", "you're with a guy who is selfish.",
            "a real scar to the heart, but we'll try to get over it.",
            "knowing that it hasn't had such dramatic impacts on your life.")
    for text in kind:
        assert not confronts(text), text
        assert apply_rules(text, "reflection_complex") in ("reflection_complex", "support"), text  # never confront
    assert not confronts("what kind of person do you want to be?")
    assert confronts("you're not even trying.") and confronts("what kind of father lets his kid sleep in a car?")
    assert confronts("just get over it.") and confronts("you're being so dramatic.") and confronts("sounds like an excuse to me.")
    assert apply_rules("bring it to me by friday, no excuses.", "direct") == "direct"
    assert apply_rules("if you keep making excuses you'll lose the place.", "warn") == "warn"


def test_the_learned_confront_head_moves_a_code_as_the_confront_markers_do(monkeypatch):
    """Rounds 103-104: a learned head (helpert.label.mi_confront) reads Confront in wording the rules do not name; it
    moves a code outside the MI-non-adherent group as their markers do, never a reassurance. Its threshold keeps the
    rules' cross-validated precision (0.90), and it was trained only on spent spoken sets: the held-out and later
    round sets and the gold sentences stay unseen."""
    import dataclasses

    from helpert.label import mi_confront
    from helpert.label.mi import NON_ADHERENT, Utterance, apply_rules, finish

    head = mi_confront.load_head()
    assert head.threshold == 0.9 and head.meta["script"] == "benchmarks/train_confront_head.py"
    assert not set(head.meta["trained_on"]) & {"z", "j", "k", "m", "n", "q", "r", "s", "u", "p", "r82", "r83", "r88",
                                               "r89", "r90", "r97", "r101", "r103", "r104"}
    assert apply_rules("you keep saying that.", "reflection_simple", pushed=True) == "confront"
    assert apply_rules("you keep saying that.", "reflection_simple") == "reflection_simple"
    assert apply_rules("you should call her tonight.", "advise_without_permission", pushed=True) in NON_ADHERENT
    assert apply_rules("one slip doesn't make you a failure.", "reflection_complex", pushed=True) == "support"
    ctx = "i didn't do the breathing practice again this week, work was crazy."
    units = [Utterance("you say work was crazy, but you found time to watch three films.", ctx),
             Utterance("what got in the way this week?", ctx),
             Utterance("that's a hard week, and it makes sense the practice slipped.", ctx)]
    p = head.proba(units)
    assert p[0] > p[2] > p[1]  # the "yes, but" reads most like Confront, the curious question least
    assert finish(units, ["support", "question_open", "support"]) == ["support", "question_open", "support"]  # < 0.9
    lower = dataclasses.replace(head, meta={**head.meta, "threshold": float(p[0]) - 0.01})
    monkeypatch.setattr(mi_confront, "load_head", lambda path=None: lower)
    assert finish(units, ["support", "question_open", "support"]) == ["confront", "question_open", "support"]


def test_doubting_ridiculing_and_comparing_the_client_is_confront():
    """Round 86 (MISC 2.5's Confront, its polite forms): doubting the client's account, sarcasm, moralising, an
    unfavourable comparison and arguing that what the client minimises is a problem are confront; a curious question,
    an observation of a pattern without the sarcastic "always", autonomy ("owe it to yourself") and reassurance
    that denies a label of the client are not moved by these markers."""
    from helpert.label.mi import apply_rules, confronts

    polite = ("i do wonder whether it was really only half a bottle.", "i'm finding that hard to believe.",
              "six hours of emails, honestly i doubt that's the whole story.", "something's not adding up here.",
              "uh, the lab doesn't just make that up, so i'm having a hard time believing you.",
              "three drinks and then driving is drunk enough, and you know it.",
              "i'm struggling to square that with what your wife told me on the phone.",
              "remarkable how the diary is always the thing that slips.",
              "interesting how the belief drops to fifty the moment you're sitting in a therapist's office.",
              "someone with your responsibilities owes it to the people around them to manage this.",
              "a responsible parent would make this a priority.", "most of my other clients manage it, for what it's worth.",
              "forgive me, but that's the third week in a row we've heard that.",
              "being a plant doesn't make it harmless.", "not terrible yet isn't the same as fine, and i think you know that.")
    for text in polite:
        assert confronts(text), text
        assert apply_rules(text, "reflection_simple") == "confront", text
    kind = ("i wonder if it was the stress at work that made it harder.", "it's interesting how your mood lifts when you walk.",
            "you owe it to yourself to take a break.", "not wanting to look at the numbers doesn't make you weak or lazy.",
            "i do not believe it is just you who cries in therapy.", "your question does make a lot of sense, though.",
            "that'd be just as lopsided, and i doubt you'd buy it anyway.", "lots of parents manage to find ten minutes at bedtime.",
            "you know that you can call me any time.", "it's the second time you've mentioned your sister.")
    for text in kind:
        assert not confronts(text), text
        assert apply_rules(text, "reflection_complex") in ("reflection_complex", "support"), text  # never confront
    assert apply_rules("a responsible parent would make this a priority.", "advise_without_permission") == "advise_without_permission"


def test_reassuring_the_client_their_harsh_verdict_does_not_follow_is_support():
    """Round 88 (MISC 2.5's Support: reassurance): a sentence telling the client that a harsh verdict on themselves
    does not follow is support, whether the model read it as a reflection or as Confront; a question, a confrontation,
    an idiom ("not crazy about") and a negation that names no verdict keep their code."""
    from helpert.label.mi import apply_rules, reassures

    kind = ("relapse doesn't make you a failure, and you can always start again.", "you're not a failure.",
            "one slip doesn't make you a failure.", "not wanting to look at the numbers doesn't make you weak or lazy.",
            "being tired after a week like that doesn't make you a bad person, it makes you human.",
            "it doesn't mean you're a bad mother.", "you're not stupid at all.")
    for text in kind:
        assert reassures(text), text
        assert apply_rules(text, "reflection_complex") == "support", text
        assert apply_rules(text, "confront") == "support", text
    assert apply_rules("you're not a failure.", "affirm") == "affirm"
    for text in ("does that make you a bad person?", "you're not lazy, you're making excuses.",
                 "being tired doesn't make you any less responsible.", "that doesn't mean you have an anxiety disorder.",
                 "even if you're not crazy about what it costs you.", "you're not alone in this."):
        assert not reassures(text), text
    assert apply_rules("you're not lazy, you're making excuses.", "reflection_complex") == "confront"
    assert apply_rules("being tired doesn't make you any less responsible.", "confront") == "confront"


def test_a_question_that_proposes_an_action_is_advice():
    """Round 89 (the project's coding convention, after MITI/MISC: a question that carries advice is advice): "have you
    tried / thought about / considered X?" naming an action, and "what if you <did X>?", move a question code to advice -
    with permission when the client's turn asked for it or the sentence leaves the choice to them; questions about what
    the client has tried or wants, and a check on agreed homework, stay questions."""
    from helpert.label.mi import advice_question, apply_rules

    for text in ("have you tried deep breathing before bed?", "have you thought about talking to your manager?",
                 "what if you set a timer for twenty minutes and then stop?", "have you considered seeing a doctor about it?",
                 "so, um, have you ever tried chewing gum when the urge hits?"):
        assert advice_question(text) == "advise_without_permission", text
        assert apply_rules(text, "question_closed") == "advise_without_permission", text
    assert apply_rules("have you tried a warm bath before bed?", "question_closed", "what should i do?") == "advise_with_permission"
    for text in ("have you tried anything that helped before?", "have you thought about what you'd like to be different?",
                 "have you tried the breathing we practised?", "what if you fail?", "could you tell me more about that?",
                 "what have you tried so far?"):
        assert advice_question(text) is None, text
    assert apply_rules("have you tried deep breathing before bed?", "reflection_simple") != "advise_without_permission"
