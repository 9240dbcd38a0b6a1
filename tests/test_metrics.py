"""Session metrics on hand-made labelled sessions; every expected value is worked out by hand below."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest

from helpert.metrics import ensure_labelled, measure_labelled, measure_session, measure_sessions
from helpert.metrics.adherence import longest_increasing
from helpert.metrics.common import action_phases, exploration_phases, is_labelled
from helpert.metrics.ctrs import JUDGE_SCHEMA, RUBRIC, judge_ctrs, parse_score
from helpert.metrics.drift import collapse, levenshtein
from helpert.protocols import CTRS_ITEMS, load_protocol
from helpert.session import Session, Turn

CBT = load_protocol("cbt_session")
HS = load_protocol("helping_skills")


def build(counselor: list[dict], client_text: str = "I am not sure what to say", dialogue_id: str = "s1") -> Session:
    """Alternate counselor turns (dicts: text, phase, behaviour, mi, empathy; missing = no label) with a
    client turn after each."""
    turns = []
    for c in counselor:
        labels = {k: c[k] for k in ("phase", "behaviour", "mi", "empathy") if k in c}
        turns.append(Turn(idx=len(turns), role="counselor", text=c.get("text", "Okay, I see."), labels=labels))
        turns.append(Turn(idx=len(turns), role="client", text=client_text))
    return Session(dialogue_id=dialogue_id, turns=turns)


def approx(x: float) -> object:
    return pytest.approx(x, abs=1e-9)


# --- the brief's 6-turn CBT example --------------------------------------------------------------------

EXAMPLE = build([
    {"phase": "mood_check", "behaviour": "greeting", "mi": ["small_talk"]},
    {"phase": "agenda", "behaviour": "open_question", "mi": ["question_open"]},
    {"phase": "mood_check", "behaviour": "closed_question", "mi": ["question_closed"]},
    {"phase": "identify_thoughts", "behaviour": "open_question", "mi": ["question_open"]},
    {"phase": "off_protocol", "behaviour": "other", "mi": ["other"]},
    {"phase": "feedback", "behaviour": "open_question", "mi": ["question_open"]},
])


def test_example_adherence():
    m = measure_labelled(EXAMPLE, CBT)
    # required: mood_check agenda identify evaluate change final_summary homework feedback (8); 4 visited
    assert m["adherence.coverage"] == approx(4 / 8)
    # on-protocol pairs (off_protocol looked through): mc->ag ok, ag->mc no, mc->it no, it->fb no
    assert m["adherence.transitions"] == approx(1 / 4)
    # first visits mc(0) ag(2) it(4) fb(10): increasing, LIS 4 of 4
    assert m["adherence.order"] == approx(1.0)
    assert m["adherence.premature_action"] is None  # no suggestion/homework turn, no action phase
    assert m["adherence.time.mood_check"] == approx(2 / 6)
    assert m["adherence.time.off_protocol"] == approx(1 / 6)
    assert m["adherence.time.evaluate_thoughts"] == approx(0.0)
    assert sum(v for k, v in m.items() if k.startswith("adherence.time.")) == approx(1.0)


def test_example_drift():
    m = measure_labelled(EXAMPLE, CBT)
    # turn 0 is a greeting inside the opening (exempt); turn 4 is off_protocol -> 1 of 6
    assert m["drift.off_protocol_share"] == approx(1 / 6)
    assert m["drift.small_talk_share"] == approx(0.0)
    # ag(2) -> mc(0) is the one backward jump; mc->it and it->fb are forward skips
    assert m["drift.backward_jumps"] == 1.0
    assert m["drift.backward_jump_rate"] == approx(1 / 4)  # 4 phase changes among on-protocol pairs
    # raw phases mc ag mc it off fb: 5 changes in 5 pairs
    assert m["drift.churn"] == approx(1.0)
    # collapsed mc ag mc it fb vs the 11-phase path: 6 insertions + 1 substitution = 7
    assert m["drift.edit_distance"] == approx(7 / 11)
    # off flags 0 0 0 | 0 1 0 -> 1/3 - 0
    assert m["drift.trend"] == approx(1 / 3)
    # 6 utterances: 4 questions, no reflection, nothing non-adherent; every turn has 3 words (no lecture)
    assert m["drift.lecture_share"] == approx(0.0)
    # parts: low reflection 1 (.25), non-adherent 0 (.20), lecturing 0 (.15), off 1/6 (.15), premature
    # None, structure mean(missing .5, disallowed .75, edit 7/11) (.10) -> renormalised over .85
    structure = (0.5 + 0.75 + 7 / 11) / 3
    assert m["drift.score"] == approx((0.25 * 1 + 0.15 / 6 + 0.10 * structure) / 0.85)


def test_example_ctrs():
    m = measure_labelled(EXAMPLE, CBT)
    assert m["ctrs.agenda"] == 6.0       # agenda at turn 1, before the first later phase (identify, turn 3)
    assert m["ctrs.feedback"] == 3.0     # feedback visited, capsule_summary not: 6 * 1/2
    assert m["ctrs.homework"] == 0.0     # no homework phase or ask
    assert m["ctrs.strategy_for_change"] == 0.0
    # guided discovery, session-wide: turns 1, 3, 5 hold an open question -> 3 of 6 = .5 -> 6
    assert m["ctrs.guided_discovery"] == 6.0
    assert m["ctrs.understanding"] == 0.0  # no reflection anywhere
    # focus phases identify (min 2) + evaluate (min 2): min(1,2) + min(0,2) = 1 of 4
    assert m["ctrs.focus_on_key_cognitions"] == approx(1.5)


# --- helping-skills session with every kind of drift ---------------------------------------------------

MIXED = build([
    {"text": "Hi there, welcome back.", "phase": "off_protocol", "behaviour": "greeting", "mi": ["small_talk"]},  # opening
    {"text": "Just go exercise more.", "phase": "action", "behaviour": "suggestion",
     "mi": ["advise_without_permission"]},                                                             # premature
    {"text": "Tell me what happened", "phase": "exploration", "behaviour": "open_question", "mi": ["question_open"],
     "empathy": {"emotional_reactions": 0, "interpretations": 0, "explorations": 2}},
    {"text": "Nice weather today, right?", "phase": "off_protocol", "behaviour": "greeting", "mi": ["small_talk"]},  # small talk
    {"text": "You feel left out.", "phase": "exploration", "behaviour": "reflection", "mi": ["reflection_simple"],
     "empathy": {"emotional_reactions": 1, "interpretations": 1, "explorations": 0}},
    {"text": "Maybe call her tomorrow.", "phase": "comforting", "behaviour": "suggestion",
     "mi": ["advise_without_permission"]},                                                             # unstructured
    {"text": "I felt that too.", "phase": "comforting", "behaviour": "self_disclosure", "mi": ["self_disclosure"],
     "empathy": {"emotional_reactions": 2, "interpretations": 0, "explorations": 0}},
    {"text": "Take care, bye now.", "phase": "off_protocol", "behaviour": "greeting", "mi": ["small_talk"]},  # closing
], client_text="one two three four five six")
# 8 utterances: 1 reflection, 1 question, 2 advice without permission (MI-non-adherent), nothing adherent
MIXED_DRIFT = 0.25 * 0.5 + 0.20 * 1.0 + 0.15 * 0.0 + 0.15 * 0.5 + 0.15 * 0.5 + 0.10 * 5 / 12


def test_mixed_drift_parts():
    m = measure_labelled(MIXED, HS)
    # drift turns: 1 (advice before exploration, even in the action phase), 3 (small talk + off phase),
    # 5 (advice in comforting), 6 (self-disclosure) -> 4/8
    assert m["drift.off_protocol_share"] == approx(4 / 8)
    assert m["drift.small_talk_share"] == approx(1 / 8)
    assert m["drift.unstructured_advice_share"] == approx(2 / 8)
    assert m["drift.self_disclosure_share"] == approx(1 / 8)
    # action turns 1 (no exploration yet) and 5 (two exploration turns before it) -> 1/2 premature
    assert m["adherence.premature_action"] == approx(0.5)
    # on-protocol A E E C C: A->E not allowed (action.next = [comforting]) -> 3/4 allowed
    assert m["adherence.transitions"] == approx(3 / 4)
    assert m["drift.backward_jumps"] == 1.0           # action(2) -> exploration(0)
    assert m["drift.backward_jump_rate"] == approx(1 / 2)  # changes A->E, E->C
    assert m["adherence.coverage"] == approx(1.0)
    # the only action-phase turn was premature: action is visited but not in time -> 2/3
    assert m["adherence.timely_coverage"] == approx(2 / 3)
    assert m["adherence.order"] == approx(2 / 3)      # first visits at positions 2, 0, 1: LIS [0, 1]
    # raw off A E off E C C off: 6 changes in 7 pairs
    assert m["drift.churn"] == approx(6 / 7)
    # collapsed A E C vs E C A: delete A, insert A -> 2 of 3
    assert m["drift.edit_distance"] == approx(2 / 3)
    # flags 0 1 0 1 | 0 1 1 0 -> .5 - .5
    assert m["drift.trend"] == approx(0.0)
    # low reflection 1 - (1/8)/.25 = .5 (.25); non-adherent min(1, (2/8)/.2) = 1 (.20); lecturing 0 (.15);
    # off .5 (.15); premature .5 (.15); structure mean(1/3, 1/4, 2/3) = 5/12 (.10)
    assert m["drift.lecture_share"] == approx(0.0)
    assert m["drift.score"] == approx(MIXED_DRIFT)


def test_mixed_ctrs_empathy_talk():
    m = measure_labelled(MIXED, HS)
    for item in ("agenda", "feedback", "application_of_cbt_techniques"):
        assert m[f"ctrs.{item}"] is None  # no helping_skills phase serves these
    assert m["ctrs.total"] is None
    assert m["ctrs.understanding"] == approx(6 * (1 / 8) / 0.4)           # turn 4 reflects
    assert m["ctrs.interpersonal_effectiveness"] == approx(6 * (1 / 8) / 0.5)  # turn 4 (warm), no confront/warn
    # client words 48 of 80 = .6 >= .5 -> 2; invitations: turn 2 (open question) 1/8 of .4 -> 2 * .3125;
    # pushing: 2 of 8 utterances advise without permission >= .2 -> 0
    assert m["ctrs.collaboration"] == approx(2.0 + 2 * 0.3125 + 0.0)
    # observed E .25 C .25 A .125 off .375 vs .4 .3 .3 0: TVD = (.15+.05+.175+.375)/2 = .375
    assert m["ctrs.pacing"] == approx(6 * 0.625)
    # turns 2, 4 (open question, reflection): 2 of 8 -> 3; persuasion 2 of 8 utterances >= .2 -> times 0
    assert m["ctrs.guided_discovery"] == approx(0.0)
    assert m["ctrs.focus_on_key_cognitions"] == approx(6.0)  # comforting (min 1) has two turns
    assert m["ctrs.strategy_for_change"] == approx(0.0)  # the only action-phase turn was premature
    # action phase visited, no homework ask: 2, times collaborative = 1 - min(1, (2/8)/.2) = 0
    assert m["ctrs.homework"] == approx(0.0)
    assert m["ctrs.mean"] == approx((1.875 + 1.5 + 2.625 + 3.75 + 0 + 6 + 0 + 0) / 8)
    assert m["mi.reflection_to_question"] == approx(1.0) and m["mi.adherent_pct"] == approx(0.0)
    assert m["mi.advice_without_permission_share"] == approx(2 / 8)
    assert m["empathy.emotional_reactions"] == approx(1.0)   # (0 + 1 + 2) / 3 labelled turns
    assert m["empathy.interpretations"] == approx(1 / 3)
    assert m["empathy.explorations"] == approx(2 / 3)
    assert m["talk.talk_ratio"] == approx(32 / 80)           # 8 x 4 counselor words, 8 x 6 client words
    # turn 2 is an open question without "?", turn 3 has "?": 2 of 8
    assert m["talk.question_ratio"] == approx(2 / 8)
    assert m["talk.counselor_words_per_turn"] == approx(4.0)
    assert m["talk.client_words_per_turn"] == approx(6.0)


# --- a textbook session, loops and safety ----------------------------------------------------------------

TEXTBOOK = build([
    {"phase": p, "behaviour": "homework" if p == "homework" else "open_question"} for p in CBT.canonical_path
])


def test_textbook_session_has_no_drift():
    m = measure_labelled(TEXTBOOK, CBT)
    assert (m["adherence.coverage"], m["adherence.timely_coverage"]) == (1.0, 1.0)
    assert (m["adherence.transitions"], m["adherence.order"]) == (1.0, 1.0)
    assert m["drift.edit_distance"] == 0.0 and m["drift.backward_jumps"] == 0.0
    # the homework turn is an action turn after 2 exploration turns (identify, evaluate); change_strategy
    # comes after identify + evaluate too -> nothing premature
    assert m["adherence.premature_action"] == 0.0
    assert m["drift.score"] == 0.0
    assert (m["ctrs.agenda"], m["ctrs.feedback"], m["ctrs.homework"]) == (6.0, 6.0, 6.0)
    # one turn per phase (1/11 each) vs shares .08 .05 .08 .06 .20 .20 .14 .04 .05 .05 .05 (sum 1):
    # |diffs| sum to .534545..., TVD .267273 -> 6 * .732727 = 4.3964
    assert m["ctrs.pacing"] == pytest.approx(4.3964, abs=1e-4)
    assert m["ctrs.total"] == pytest.approx(sum(v for k, v in m.items() if k.startswith("ctrs.") and k[5:] in CTRS_ITEMS))


def test_allowed_loops_are_not_backward_jumps():
    loop = build([{"phase": p} for p in ("identify_thoughts", "evaluate_thoughts", "identify_thoughts",
                                         "evaluate_thoughts", "change_strategy", "capsule_summary",
                                         "identify_thoughts", "change_strategy", "agenda")])
    m = measure_labelled(loop, CBT)
    # evaluate->identify and capsule->identify are allowed loops; identify->change skips evaluate
    # (forward, not allowed); change->agenda goes back and is not allowed: 1 backward jump
    assert m["drift.backward_jumps"] == 1.0
    assert m["adherence.transitions"] == approx(6 / 8)


def test_safety_turns_are_left_out():
    s = build([{"phase": "identify_thoughts"}, {"phase": "safety"}, {"phase": "evaluate_thoughts"}])
    m = measure_labelled(s, CBT)
    assert m["adherence.transitions"] == 1.0          # identify -> evaluate, through the crisis turn
    assert m["drift.off_protocol_share"] == 0.0
    assert m["drift.churn"] == 1.0                    # 1 change in 1 pair among the 2 scored turns
    assert m["adherence.time.safety"] == approx(1 / 3)


def test_empty_and_unlabelled_turns_give_none_not_zero():
    s = build([{"phase": "safety"}])
    m = measure_labelled(s, CBT)
    for key in ("adherence.coverage", "drift.score", "drift.churn", "drift.trend", "ctrs.agenda", "ctrs.mean",
                "empathy.emotional_reactions"):
        assert m[key] is None, key
    assert m["talk.counselor_turns"] == 1.0


def test_premature_action_counts_advice_before_exploration():
    s = build([{"phase": "change_strategy", "behaviour": "suggestion"},
               {"phase": "mood_check", "behaviour": "information"},
               {"phase": "identify_thoughts"}, {"phase": "identify_thoughts", "behaviour": "information"},
               {"phase": "evaluate_thoughts", "behaviour": "suggestion"},
               {"phase": "homework", "behaviour": "homework"}])
    # action turns 0, 3, 4, 5 (turn 1 is information in an opening phase, the mood check: since round 98 only advice
    # is action there). Explored needs identify_thoughts.min_turns = 2 earlier exploration turns: turns 0 (none
    # before) and 3 (one before) are premature; 4 and 5 are not -> 2/4
    m = measure_labelled(s, CBT)
    assert m["adherence.premature_action"] == approx(2 / 4)
    # required visited: mood_check, identify, evaluate, change_strategy, homework -> 5/8; in time: mood_check,
    # identify, evaluate, homework (change_strategy only by a premature turn) -> 4/8
    assert m["adherence.timely_coverage"] == approx(4 / 8) and m["adherence.coverage"] == approx(5 / 8)
    # premature action turns 0 and 3 are unstructured advice; 4 is a suggestion outside an action phase
    # (evaluate_thoughts) -> 3/6
    assert m["drift.unstructured_advice_share"] == approx(3 / 6)


def test_homework_item_asks_for_review_and_a_new_assignment():
    """Round 96: CTRS item 11 rates reviewing last week's task and assigning a new one: (4 A + 2 R) x collaborative; a
    homework ask in the review is about last week's task, not a new one."""
    work = [{"phase": "identify_thoughts"}, {"phase": "evaluate_thoughts"}]
    review = [{"phase": "homework_review", "behaviour": "homework"}]
    assign = [{"phase": "homework", "behaviour": "homework"}]
    score = {name: measure_labelled(build(turns), CBT)["ctrs.homework"]
             for name, turns in (("both", review + work + assign), ("review_only", review + work),
                                 ("assign_only", work + assign), ("none", work),
                                 ("phase_only", review + work + [{"phase": "homework"}]))}
    assert score == {"both": approx(6.0), "review_only": approx(2.0), "assign_only": approx(4.0), "none": approx(0.0),
                     "phase_only": approx(4.0)}


def test_premature_action_in_opening_phases_is_advice_only():
    """Round 98: in the phases before exploration (mood check, bridge, agenda, homework review) homework and information
    talk is the agenda's or last week's task's; advice there is still premature."""
    talk = build([{"phase": "agenda", "behaviour": "homework"}, {"phase": "homework_review", "behaviour": "information"},
                  {"phase": "identify_thoughts"}, {"phase": "identify_thoughts"},
                  {"phase": "change_strategy", "behaviour": "suggestion"}])
    assert measure_labelled(talk, CBT)["adherence.premature_action"] == approx(0.0)
    advice = build([{"phase": "agenda", "behaviour": "suggestion"}, {"phase": "homework_review", "behaviour": "information"},
                    {"phase": "identify_thoughts"}, {"phase": "identify_thoughts"},
                    {"phase": "change_strategy", "behaviour": "suggestion"}])
    assert measure_labelled(advice, CBT)["adherence.premature_action"] == approx(1 / 2)


def test_reflective_listening_explores_as_the_exploration_phases_do():
    # an MI-style session: no turn in a CBT exploration phase, but reflections before the advice
    s = build([{"phase": "off_protocol", "behaviour": "suggestion", "mi": ["advise_without_permission"]},
               {"phase": "off_protocol", "behaviour": "restatement", "mi": ["reflection_simple"]},
               {"phase": "off_protocol", "behaviour": "suggestion", "mi": ["advise_without_permission"]},
               {"phase": "off_protocol", "behaviour": "restatement", "mi": ["reflection_complex", "question_open"]},
               {"phase": "change_strategy", "behaviour": "suggestion", "mi": ["advise_with_permission"]}])
    # action turns 0, 2, 4; turn 0 has no reflection before it, turn 2 one, turn 4 two (= min_turns) -> 2/3
    m = measure_labelled(s, CBT)
    assert m["adherence.premature_action"] == approx(2 / 3)
    # without MI codes nothing before turn 4 explores: all three are premature
    bare = build([{k: v for k, v in t.items() if k != "mi"} for t in
                  ({"phase": "off_protocol", "behaviour": "suggestion"}, {"phase": "off_protocol", "behaviour": "restatement"},
                   {"phase": "off_protocol", "behaviour": "suggestion"}, {"phase": "off_protocol", "behaviour": "restatement"},
                   {"phase": "change_strategy", "behaviour": "suggestion"})])
    assert measure_labelled(bare, CBT)["adherence.premature_action"] == approx(1.0)


def test_action_phase_before_exploration_is_out_of_place():
    s = build([{"phase": "change_strategy", "behaviour": "open_question"},
               {"phase": "identify_thoughts"}, {"phase": "identify_thoughts"},
               {"phase": "change_strategy", "behaviour": "open_question"}])
    m = measure_labelled(s, CBT)
    # turn 0 is in an action phase with no exploration before it: premature and out of place; turn 3
    # comes after two identify turns
    assert m["adherence.premature_action"] == approx(1 / 2)
    assert m["drift.unstructured_advice_share"] == approx(1 / 4) and m["drift.off_protocol_share"] == approx(1 / 4)
    assert m["adherence.timely_coverage"] == approx(2 / 8)  # identify, change_strategy (turn 3)


def test_phase_roles_come_from_the_protocol():
    assert exploration_phases(CBT) == ["identify_thoughts", "evaluate_thoughts"]
    assert action_phases(CBT) == {"change_strategy", "homework"}  # homework_review comes before exploration
    assert exploration_phases(HS) == ["exploration"] and action_phases(HS) == {"action"}


def test_helpers():
    assert longest_increasing([2, 0, 1, 5, 3, 4]) == 4
    assert longest_increasing([]) == 0
    assert collapse(["a", "a", "b", "a", "a"]) == ["a", "b", "a"]
    assert levenshtein(list("kitten"), list("sitting")) == 3
    assert levenshtein([], ["a", "b"]) == 2


# --- labelling guard ------------------------------------------------------------------------------------

def test_is_labelled_needs_phases_of_this_protocol():
    assert is_labelled(EXAMPLE, CBT)
    assert not is_labelled(MIXED, CBT)  # helping_skills phase ids
    assert not is_labelled(build([{"behaviour": "other"}]), CBT)


def test_unlabelled_sessions_go_through_the_labeller(monkeypatch):
    calls = []

    def label_sessions(sessions, protocol, phase_labeller="rules"):
        calls.append([s.dialogue_id for s in sessions])
        return [s.model_copy(update={"turns": [t.model_copy(update={"labels": {"phase": "agenda"}})
                                               if t.role == "counselor" else t for t in s.turns]}) for s in sessions]

    monkeypatch.setitem(sys.modules, "helpert.label", types.SimpleNamespace(label_sessions=label_sessions))
    raw = build([{"text": "What shall we work on?"}], dialogue_id="raw")
    out = ensure_labelled([EXAMPLE, raw], CBT)
    assert calls == [["raw"]] and out[0] is EXAMPLE
    assert measure_session(raw, CBT)["adherence.time.agenda"] == 1.0
    frame = measure_sessions([EXAMPLE, raw], CBT)
    assert list(frame.index) == ["s1", "raw"] and frame.loc["raw", "adherence.time.agenda"] == 1.0


def test_measure_sessions_frame_has_nan_for_none():
    explore = build([{"phase": "exploration"}], dialogue_id="e")
    frame = measure_sessions([explore, MIXED.model_copy(update={"dialogue_id": "m"})], HS)
    assert frame.index.name == "dialogue_id" and list(frame.index) == ["e", "m"]
    assert frame["empathy.explorations"].isna().tolist() == [True, False]
    assert frame["ctrs.agenda"].isna().all()
    assert frame.loc["m", "drift.score"] == approx(MIXED_DRIFT)


# --- LLM judge ------------------------------------------------------------------------------------------

def test_judge_failures_are_counted_not_scored():
    replies = iter([{"score": 5, "reason": "ok"}, None, {"score": 9}, {"score": "4"}, {"score": True},
                    {"score": 3.0}, {"rating": 2}, "garbage", {"score": 0}, {"score": float("nan")}, "raise"])
    prompts = []

    def judge(prompt: str, schema: dict):
        assert schema == JUDGE_SCHEMA
        prompts.append(prompt)
        reply = next(replies)
        if reply == "raise":
            raise ValueError("Expecting value: line 1 column 1")
        return reply

    out = judge_ctrs(EXAMPLE, judge)
    scores = [out[f"ctrs_judge.{i}"] for i in CTRS_ITEMS]
    assert scores == [5.0, None, None, None, None, 3.0, None, None, 0.0, None, None]
    assert out["ctrs_judge_failures"] == 8.0
    assert out["ctrs_judge.mean"] == (5.0 + 3.0 + 0.0) / 3  # the items scored; an unreadable reply is no zero
    assert judge_ctrs(EXAMPLE, lambda p, s: None)["ctrs_judge.mean"] is None
    assert len(prompts) == 11
    assert RUBRIC["agenda"] in prompts[0] and "Counselor: Okay, I see." in prompts[0]


def test_judge_runs_inside_measure_session():
    m = measure_session(EXAMPLE, CBT, judge=lambda prompt, schema: {"score": 4})
    assert m["ctrs_judge_failures"] == 0.0 and m["ctrs_judge.homework"] == 4.0
    assert "ctrs_judge.homework" not in measure_session(EXAMPLE, CBT)


def test_parse_score_bounds():
    assert parse_score({"score": 6}) == 6.0 and parse_score({"score": -1}) is None
    assert parse_score({"score": 2.5}) is None and parse_score({"score": float("inf")}) is None


# --- shared data: synthetic degradations must raise drift ---------------------------------------------

@pytest.mark.shared
def test_degrading_real_sessions_raises_drift():
    """ESConv sessions labelled from their own strategy annotation (the replaced turns annotated as what
    replaced them), degraded by helpert.probe.degrade: mean drift rises with k (benchmarks/validate_drift.py)."""
    import numpy as np

    from helpert.io import read_sessions
    from helpert.label.strategy import label_from_annotation
    from helpert.probe import degrade

    data = Path(__file__).parents[2] / "shared" / "data" / "esconv" / "esconv_valid_195.jsonl"
    sessions = [s for s in read_sessions(data)[:40] if len(s.counselor_turns) >= 6]
    kinds = {
        "small_talk": lambda s, k: degrade.small_talk_replacing(s, k, labels={"strategy": "Others"}),
        "early_advice": lambda s, k: degrade.early_advice(s, k, labels={"strategy": "Providing Suggestions or Information",
                                                                        "stage_heuristic": "action"}),
        "shuffle": lambda s, k: degrade.shuffled(s, k, keep_labels=True),
    }
    for kind, fn in kinds.items():
        means = [np.mean([measure_labelled(label_from_annotation(fn(s, k)), HS)["drift.score"] for s in sessions]) for k in (0, 2, 4)]
        assert means[0] < means[1] < means[2], (kind, means)


def test_degradation_draws_are_nested_and_distinct():
    """Each draw of helpert.probe.degrade is deterministic and nested across k; draw 0 is the default, and
    other draws pick other turns (validate_quality averages over them)."""
    from helpert.probe import degrade
    from helpert.session import Session, Turn

    turns = [Turn(idx=2 * i + j, role=r, text=f"{r} turn {i}") for i in range(30) for j, r in enumerate(("client", "counselor"))]
    session = Session(dialogue_id="d", turns=turns)

    def replaced(s):
        return {j for j, t in enumerate(s.counselor_turns) if t.text.startswith("There is") or t.text.startswith("Let me")
                or t.text.startswith("Nicotine")}

    for draw in (0, 1, 2):
        sets = [replaced(degrade.lecture(session, k, draw=draw)) for k in degrade.LEVELS]
        assert [len(x) for x in sets] == list(degrade.LEVELS)
        assert all(a <= b for a, b in zip(sets, sets[1:]))  # nested
        assert 0 not in sets[-1]  # the opening is kept
        assert sets == [replaced(degrade.lecture(session, k, draw=draw)) for k in degrade.LEVELS]  # deterministic
    for kind in ("lecture", "small_talk_replacing", "questions_for_reflections", "early_advice"):   # nested text by text too
        for draw in (0, 1):
            steps = [degrade.degrade(session, kind, k, [3, 8, 20], draw=draw).counselor_turns for k in degrade.LEVELS]
            for before, after in zip(steps, steps[1:]):
                assert sum(a.text != b.text for a, b in zip(before, after)) == 1, (kind, draw)
    for draw in (0, 1):   # small talk is put in beside the turns: each step adds one exchange and keeps every turn
        steps = [[(t.role, t.text) for t in degrade.degrade(session, "small_talk", k, draw=draw).turns] for k in degrade.LEVELS]
        for before, after in zip(steps, steps[1:]):
            assert len(after) == len(before) + 2
            m = next((i for i, (a, b) in enumerate(zip(before, after)) if a != b), len(before))
            assert after[:m] + after[m + 2:] == before, draw
            assert after[m][0] == "counselor" and after[m][1] in degrade.SMALL_TALK
            assert after[m + 1][0] == "client" and after[m + 1][1] in degrade.SMALL_TALK_REPLIES
            assert after[m - 1][0] == "client" or m == len(before)  # after the client's answer to a counselor turn
    assert degrade.lecture(session, 4) == degrade.lecture(session, 4, draw=0)
    picks = {frozenset(replaced(degrade.lecture(session, 4, draw=d))) for d in range(5)}
    assert len(picks) > 1
    shuffled = {tuple(t.text for t in degrade.shuffled(session, 4, draw=d).counselor_turns) for d in range(3)}
    assert len(shuffled) == 3
