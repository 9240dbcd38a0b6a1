"""The phase labeller's carry-forward (helpert.label.phase): a lecture passes no phase on (round 67)."""

from __future__ import annotations

from helpert.label import label_sessions
from helpert.label.mi import LECTURE_WORDS, is_lecture_counts, telling_counts_of
from helpert.label.phase import session_phases
from helpert.metrics import measure_labelled
from helpert.metrics.drift import is_lecture
from helpert.protocols import load_protocol
from helpert.session import Session, Turn

CBT = load_protocol("cbt_session")

# written for this test: a lecture whose words hold a homework cue ("practice"), then questions without any cue
LECTURE = ("Let me tell you how worry works. Worry feels useful because it seems to prepare you for the worst, but it "
           "mostly keeps the body on alert. The approach with the best evidence is to schedule a short worry period "
           "each day, and people usually need a few weeks of practice before it starts to help.")
TEXTS = [
    "What went through your mind when your boss walked past your desk?",
    LECTURE,
    "Has your sleep changed at all?",
    "And your appetite?",
]
CLIENT = ["My boss walked past and I froze.", "That he was going to fire me.", "Okay.", "Yes, I wake at four."]
BEHAVIOURS = ["open_question", "information", "closed_question", "closed_question"]
STRATEGIES = ["Question", "Providing Suggestions or Information", "Question", "Question"]
STAGES = ["exploration", "action", "exploration", "exploration"]


def test_the_lecture_keeps_its_own_phase_but_passes_none_on():
    phases = session_phases(TEXTS, BEHAVIOURS, STRATEGIES, STAGES, CBT, client=CLIENT,
                            lectures=[False, True, False, False])
    assert phases == ["identify_thoughts", "homework_review", "identify_thoughts", "identify_thoughts"]


def test_without_the_lecture_flag_its_phase_is_carried_on():
    # the rule's contrast: the same turns with no lecture marked carry the cue's phase forward (the pre-round-67 rule)
    phases = session_phases(TEXTS, BEHAVIOURS, STRATEGIES, STAGES, CBT, client=CLIENT)
    assert phases == ["identify_thoughts", "homework_review", "homework_review", "homework_review"]


def test_a_short_telling_turn_still_passes_its_phase_on():
    short = ["What went through your mind?", "Keep practising it this week.", "And your sleep?"]
    counts = telling_counts_of(short[1], ["direct"])
    assert counts[0] < LECTURE_WORDS and not is_lecture_counts(counts)
    phases = session_phases(short, ["open_question", "homework", "closed_question"],
                            ["Question", "Providing Suggestions or Information", "Question"],
                            ["exploration", "action", "exploration"], CBT, client=["I froze.", "That I'd fail.", "Okay."],
                            lectures=[False, False, False])
    assert phases[2] == phases[1] != phases[0]


def _session() -> Session:
    turns = []
    for i, (said, reply) in enumerate(zip(CLIENT, TEXTS)):
        turns.append(Turn(idx=2 * i, role="client", text=said))
        turns.append(Turn(idx=2 * i + 1, role="counselor", text=reply))
    return Session(dialogue_id="lecture_carry", turns=turns)


def test_the_labellers_read_the_lecture_as_drift_does_and_carry_the_phase_before_it():
    labelled = label_sessions([_session()], CBT)[0]
    counselor = labelled.counselor_turns
    assert [is_lecture(t) for t in counselor] == [False, True, False, False]
    assert counselor[1].labels["phase"] == "homework_review"
    assert [t.labels["phase"] for t in counselor[2:]] == [counselor[0].labels["phase"]] * 2
    # no homework phase visited outside the lecture, whose phase the CTRS items ignore: no homework credit
    assert measure_labelled(labelled, CBT)["ctrs.homework"] == 0.0
