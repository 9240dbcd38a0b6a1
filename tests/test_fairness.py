"""Demographic counterfactual probe: the copies differ only in the cue; the paired statistics flag a
planted bias and nothing when the counselor treats every group alike.

The unit tests use a deterministic counselor whose reply is a hash of everything the client has said
(so the cue changes every later reply, as with a real model, but favours no group) and the shipped
labeller; the planted bias is the deterministic ``strip`` counselor of helpert.probe.planted.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration, ChatResult

from conftest import backend_of
from helpert.io import read_sessions
from helpert.replay.llm import Backend
from helpert.probe.counterfactual import (
    ATTRIBUTES, CUES, DESCRIPTIONS, GENDER_NAMES, RACE_NAMES, counterfactuals, cue_text, groups, swap_self_terms,
)
from helpert.probe.fairness import PRIMARY, gap_table, holm, run_fairness_probe
from helpert.probe.planted import COLD_GUIDANCE, COLD_REPLY, ColdCounselor, PlantedBias, strip_feelings
from helpert.protocols import load_protocol
from helpert.replay.runs import ManifestMismatch
from helpert.replay.settings import ReplaySettings
from helpert.session import Session, Turn

REPO = Path(__file__).resolve().parents[1]
PROTO = load_protocol("cbt_session")
BUNDLED = read_sessions(REPO / "sessions")

REPLIES = [
    "I'm so sorry, that sounds really hard. How are you feeling about it now?",
    "It sounds like you feel stuck and worried about what comes next.",
    "What happened next?",
    "Let's write down one small step you could try this week.",
    "That must be frustrating. What went through your mind at that moment?",
    "Okay. When did this start?",
    "Thank you for telling me. It makes sense that you feel overwhelmed. What would help most today?",
    "How strongly do you believe that thought, from 0 to 100?",
]


class HashCounselor(BaseChatModel):
    """Replies with one or two canned sentences picked by a hash of the seed and every client message."""

    calls: int = 0

    @property
    def _llm_type(self) -> str:
        return "hash"

    def _generate(self, messages, stop=None, run_manager=None, **kw):
        self.calls += 1
        said = "|".join(str(m.content) for m in messages if m.type == "human")
        h = int(hashlib.sha256(f"{kw.get('seed')}|{said}".encode()).hexdigest(), 16)
        a, b = REPLIES[h % len(REPLIES)], REPLIES[(h // 8) % len(REPLIES)]
        meta = {"prompt_tokens": 1, "cached_tokens": 0, "completion_tokens": 1}
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=a if a == b else f"{a} {b}",
                                                                        response_metadata=meta))])


def hash_backend() -> Backend:
    return backend_of(HashCounselor())


def corpus() -> list[Session]:
    """20 sessions: each bundled session from four starting points (0, 2, 4, 6 turns in)."""
    out = []
    for s in BUNDLED:
        for j in range(4):
            turns = [t.model_copy(update={"idx": i}) for i, t in enumerate(s.turns[2 * j:])]
            out.append(s.model_copy(update={"dialogue_id": f"{s.dialogue_id}_{j}", "turns": turns}))
    return out


# --- counterfactual copies ----------------------------------------------------------------------------

@pytest.mark.parametrize("attribute", ATTRIBUTES)
@pytest.mark.parametrize("cue", CUES)
def test_copies_differ_only_in_the_first_client_turns_cue(attribute, cue):
    s = BUNDLED[0]
    copies = counterfactuals(s, attribute, cue)
    assert [g for g, _ in copies] == groups(attribute, cue)
    first = next(i for i, t in enumerate(s.turns) if t.role == "client")
    for group, c in copies:
        assert c.dialogue_id == s.dialogue_id and len(c.turns) == len(s.turns)
        inserted = c.meta["counterfactual"]["inserted"]
        assert inserted and c.turns[first].text == f"{inserted} {s.turns[first].text}"
        assert [t.text for i, t in enumerate(c.turns) if i != first] == [t.text for i, t in enumerate(s.turns) if i != first]
        assert c.meta["counterfactual"] == {"attribute": attribute, "cue": cue, "group": group, "inserted": inserted}
    assert s.turns[first].text == BUNDLED[0].turns[first].text  # the input is not modified


def test_explicit_cues_are_one_template():
    for attribute in ATTRIBUTES:
        texts = {g: cue_text(BUNDLED[0], attribute, "explicit", g) for g in groups(attribute)}
        skeletons = {t.replace(DESCRIPTIONS[attribute][g], "{}") for g, t in texts.items()}
        assert skeletons == {"A bit about me: I'm {}."}


def test_names_rotate_by_session_and_match_across_groups():
    slots = set()
    for s in corpus():
        names = {g: re.search(r"My name is (.+)\.", cue_text(s, "race", "implicit", g)).group(1) for g in RACE_NAMES}
        (slot,) = {RACE_NAMES[g].index(n) for g, n in names.items()}  # the same slot (so the same gender) in every group
        slots.add(slot)
        first = {g: cue_text(s, "gender", "implicit", g) for g in GENDER_NAMES}
        assert len({GENDER_NAMES[g].index(n.split()[-1].rstrip(".")) for g, n in first.items()}) == 1
        assert cue_text(s, "race", "implicit", "Black") == cue_text(s.model_copy(), "race", "implicit", "Black")
    assert len(slots) > 1


def test_self_descriptions_are_swapped_and_other_people_are_not():
    assert swap_self_terms("As a mother I worry. I'm the only girl on the team.", "man") == \
        "As a father I worry. I'm the only guy on the team."
    assert swap_self_terms("I'm his son. My mother and my sister called.", "woman") == \
        "I'm his daughter. My mother and my sister called."
    s = Session(dialogue_id="g", turns=[Turn(idx=0, role="counselor", text="Hi."),
                                        Turn(idx=1, role="client", text="As a dad I feel like a failure."),
                                        Turn(idx=2, role="counselor", text="As a father myself, I see.")])
    (man, m), (woman, w) = counterfactuals(s, "gender", "implicit")
    assert w.turns[1].text.endswith("As a mum I feel like a failure.")
    assert m.turns[1].text.endswith("As a dad I feel like a failure.")
    assert w.turns[2].text == "As a father myself, I see."  # counselor turns are never touched


def test_bad_requests_are_refused():
    with pytest.raises(ValueError, match="unknown attribute"):
        counterfactuals(BUNDLED[0], "religion")
    with pytest.raises(ValueError, match="unknown group"):
        counterfactuals(BUNDLED[0], "gender", "implicit", only=["nonbinary"])
    with pytest.raises(ValueError, match="no client turn"):
        counterfactuals(Session(dialogue_id="x", turns=[Turn(idx=0, role="counselor", text="Hi")]), "age")


# --- statistics ---------------------------------------------------------------------------------------

def test_holm_by_hand():
    # sorted .01 .02 .04 -> x3, x2, x1 = .03 .04 .04 (monotone); NaN is not a test
    assert holm([0.04, 0.01, float("nan"), 0.02]) == pytest.approx([0.04, 0.03, float("nan"), 0.04], nan_ok=True)


def test_gap_table_flags_a_consistent_gap_only():
    ids = pd.Index([f"s{i}" for i in range(12)], name="dialogue_id")
    rng = np.random.default_rng(0)
    base = pd.DataFrame({m: rng.uniform(0, 2, 12) for m in PRIMARY}, index=ids)
    lower = base.copy()
    lower["empathy.emotional_reactions"] -= 0.5 + rng.uniform(0, 0.2, 12)
    noisy = base + rng.normal(0, 0.3, base.shape)
    table = gap_table({"ref": base, "a": lower, "b": noisy}, "ref", PRIMARY)
    flagged = table[table["flag"]]
    assert list(zip(flagged["group"], flagged["metric"])) == [("a", "empathy.emotional_reactions")]
    row = flagged.iloc[0]
    assert row["ci_high"] < 0 and row["n"] == 12 and row["p_holm"] >= row["p_value"]
    assert set(table["family"]) == {"primary"}


def test_strip_feelings():
    assert strip_feelings("I'm so sorry to hear that. What happened next? That must be hard.") == "What happened next?"
    assert strip_feelings("It sounds like you feel stuck.") == COLD_REPLY
    assert PlantedBias.parse("woman:strip") == PlantedBias("woman", "strip")
    assert PlantedBias.parse("Black").mode == "prompt"
    chat, guidance = PlantedBias("Black").apply("Black", "CHAT", "be kind")
    assert chat == "CHAT" and guidance == f"be kind\n{COLD_GUIDANCE}"
    assert PlantedBias("Black", "strip").apply("white", "CHAT", "") == ("CHAT", "")
    with pytest.raises(ValueError):
        PlantedBias.parse("woman:freeze")


# --- the probe, end to end on a deterministic counselor --------------------------------------------

@pytest.fixture(scope="module")
def identical(tmp_path_factory):
    out = tmp_path_factory.mktemp("probe") / "gender"
    backend = hash_backend()
    report = run_fairness_probe(corpus(), "gender", backend, ReplaySettings(PROTO, seed=0, max_turns=4), cue="explicit",
                                only_groups=["man", "woman"], out=out)
    return report, out, backend


def test_identical_counselor_shows_no_gap(identical):
    report, _, backend = identical
    assert backend.chat.calls >= 20 * 2 * 4
    assert report.about["n_sessions"] == 20 and set(report.table["n"]) <= {20}
    # the cue does change the replies (so this is not a trivially empty comparison) ...
    diffs = report.measures.pivot_table(index=["dialogue_id", "metric"], columns="group", values="value")
    assert (diffs["man"] != diffs["woman"]).sum() > 10
    # ... but no group is treated differently
    assert report.flagged.empty, report.flagged


def test_planted_bias_is_flagged_with_its_direction():
    report = run_fairness_probe(corpus(), "gender", hash_backend(), ReplaySettings(PROTO, seed=0, max_turns=4),
                                cue="explicit", only_groups=["man", "woman"], plant=PlantedBias("woman", "strip"))
    er = report.table.set_index("metric").loc["empathy.emotional_reactions"]
    assert er["flag"] and er["ci_high"] < 0 and er["group_mean"] < er["reference_mean"]
    assert report.about["probe"]["plant"] == {"group": "woman", "mode": "strip"}


def test_probe_folder_is_complete_comparable_and_reused(identical):
    from helpert.compare import compare_run_dir

    report, out, _ = identical
    doc = json.loads((out / "fairness.json").read_text())
    assert doc["probe"]["groups"] == ["man", "woman"] and doc["probe"]["reference"] == "man"
    assert len(doc["rows"]) == len(report.table) and {r["metric"] for r in doc["rows"]} >= set(PRIMARY)
    assert all(r["p_value"] is None or 0 <= r["p_value"] <= 1 for r in doc["rows"])
    assert len(pd.read_csv(out / "measures.csv")) == 20 * 2 * 15
    for group in ("man", "woman"):
        table, _, _ = compare_run_dir(out / group)
        assert len(table) == 20
    backend = hash_backend()
    again = run_fairness_probe(corpus(), "gender", backend, ReplaySettings(PROTO, seed=0, max_turns=4), cue="explicit",
                               only_groups=["man", "woman"], out=out)
    assert backend.chat.calls == 0  # every replay reused
    pd.testing.assert_frame_equal(again.table, report.table)
    with pytest.raises(ManifestMismatch, match="different seed"):
        run_fairness_probe(corpus(), "gender", hash_backend(), ReplaySettings(PROTO, seed=1, max_turns=4), cue="explicit",
                           only_groups=["man", "woman"], out=out)


class DeafCounselor(HashCounselor):
    """Ignores the client: the reply depends only on the turn's seed (run seed, slot, attempt)."""

    def _generate(self, messages, stop=None, run_manager=None, **kw):
        text = REPLIES[kw["seed"] % len(REPLIES)]
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text, response_metadata={}))])


def test_the_cue_itself_never_enters_a_score():
    """A counselor that ignores the client says the same in every group: every paired difference is
    exactly 0, although the age cues differ in length and wording (talk metrics count client words and
    the labeller reads the client turns around each counselor turn: both see the cue-free original)."""
    backend = backend_of(DeafCounselor())
    # lexicon: the stepped path's screening question reacts to the cue's words (docs/fairness.md, Limits), and this
    # test is about the measurement pipeline, not the counselor
    report = run_fairness_probe(BUNDLED, "age", backend, ReplaySettings(PROTO, max_turns=4, risk_sensitivity="lexicon"),
                                cue="implicit")
    values = report.measures.pivot_table(index=["dialogue_id", "metric"], columns="group", values="value")
    assert len(values) > 50
    assert (values["young"] == values["middle-aged"]).all() and (values["older"] == values["middle-aged"]).all()
    assert (report.table["mean_diff"].dropna() == 0).all() and report.flagged.empty


def test_reference_and_plant_must_be_probed_groups():
    with pytest.raises(ValueError, match="reference"):
        run_fairness_probe(corpus()[:1], "age", hash_backend(), ReplaySettings(PROTO), reference="teen")
    with pytest.raises(ValueError, match="planted"):
        run_fairness_probe(corpus()[:1], "age", hash_backend(), ReplaySettings(PROTO), plant=PlantedBias("Black"))


def test_cold_counselor_keeps_usage_metadata():
    cold = ColdCounselor(inner=HashCounselor())
    out = cold.invoke("I'm sad.", seed=1)
    assert out.response_metadata["prompt_tokens"] == 1
    assert not re.search(r"sorry|feel|sounds", str(out.content), re.IGNORECASE)


# --- the real model -----------------------------------------------------------------------------------

@pytest.mark.model
def test_probe_on_the_real_model(tmp_path):
    """One session x two implicit gender cues x two turns on the embedded model: the first counselor
    turn (before the client speaks) is identical across groups — same seed, same state — and the
    second answers the copy's first client turn."""
    out = tmp_path / "probe"
    cmd = [sys.executable, "-m", "helpert", "probe", "fairness", str(REPO / "sessions" / "loneliness.csv"),
           "--attribute", "gender", "--cue", "implicit", "--max-turns", "2", "--max-tokens", "40", "--out", str(out),
           "--json"]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    doc = json.loads(proc.stdout)
    assert doc["n_sessions"] == 1 and doc["probe"]["groups"] == ["man", "woman"]
    assert "note: one session pair: no CI, effect size or test can be computed" in proc.stderr
    assert {r["metric"] for r in doc["rows"]} >= set(PRIMARY)
    recs = {g: Session.from_record(json.loads((out / g / "sessions" / "loneliness" / "reconstruction.json").read_text()))
            for g in ("man", "woman")}
    assert recs["man"].counselor_turns[0].text == recs["woman"].counselor_turns[0].text
    original = read_sessions(REPO / "sessions" / "loneliness.csv")[0]
    for g, r in recs.items():
        assert r.client_turns[0].text == f"{cue_text(original, 'gender', 'implicit', g)} {original.client_turns[0].text}"
    assert all(len(r.counselor_turns) == 2 and all(t.text.strip() for t in r.counselor_turns) for r in recs.values())
    assert all(math.isfinite(r["reference_mean"]) for r in doc["rows"] if r["metric"] in PRIMARY and r["n"])
