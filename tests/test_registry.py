"""helpert.metrics.registry: the one list of session metrics, checked against what the metric
functions produce and against docs/metrics.md."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from helpert.metrics import measure_labelled, registry
from test_metrics import CBT, EXAMPLE

DOCS = (Path(__file__).resolve().parent.parent / "docs" / "metrics.md").read_text(encoding="utf-8")
JUDGE_TEMPLATE = "`ctrs_judge.<item>`"  # docs/metrics.md names the judge's keys once, by this template


def _measured_keys() -> set[str]:
    session = EXAMPLE.model_copy(update={"meta": {"label_judge_failures": 0}})
    return set(measure_labelled(session, CBT, judge=lambda prompt, schema: {"score": 3}))


def test_every_measured_key_is_in_the_registry():
    keys = _measured_keys()
    assert any(k.startswith(registry.TIME_PREFIX) for k in keys)
    unknown = [k for k in keys if k not in registry.METRICS and not k.startswith(registry.TIME_PREFIX)]
    assert unknown == []
    assert all(registry.lookup(k).key == k for k in keys)


def test_every_registry_key_is_measured():
    """No stale entry: each key is produced by measure_labelled (judge and label-judge counts included)."""
    assert set(registry.METRICS) - _measured_keys() == set()


def test_lookup_describes_time_in_phase_and_refuses_unknown_keys():
    metric = registry.lookup("adherence.time.agenda")
    assert metric.direction == "neutral" and "agenda" in metric.title
    with pytest.raises(KeyError):
        registry.lookup("drift.not_a_metric")


@pytest.mark.parametrize("key", sorted(registry.METRICS))
def test_docs_mention_every_registry_key(key):
    if key.startswith("ctrs_judge."):
        assert JUDGE_TEMPLATE in DOCS and f"`ctrs.{key.split('.', 1)[1]}`" in DOCS
    else:
        assert f"`{key}`" in DOCS


# The direction column of docs/metrics.md in its own words, and what each means.
DOC_DIRECTIONS = {
    "higher = better": "higher_better", "higher is better": "higher_better", "higher = more adherent": "higher_better",
    "higher = more empathic": "higher_better", "higher = more listening": "higher_better",
    "higher = deeper reflections": "higher_better", "higher = more adaptive regulation voiced": "higher_better",
    "lower = better": "lower_better", "higher = worse": "lower_better", "higher = more drift": "lower_better",
    "descriptive": "neutral",
}


def _doc_rows() -> dict[str, str]:
    """key -> direction cell of every docs table row with a backticked key and a direction column."""
    out = {}
    for line in DOCS.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 4 and cells[0].startswith("`"):
            for key in re.findall(r"`([a-z_]+\.[a-z_.]+)`", cells[0]):
                out[key] = cells[3]
    return out


def test_directions_follow_the_docs():
    rows = _doc_rows()
    checked = 0
    for key, metric in registry.METRICS.items():
        text = rows.get(key, "").lower()
        expected = next((d for words, d in DOC_DIRECTIONS.items() if text.startswith(words)), None)
        if expected is not None:
            assert metric.direction == expected, (key, text)
            checked += 1
    assert checked >= 35  # most of the registry is checked, not a handful
    # the CTRS table has no direction column: its section says "0-6 (higher = better)" for every item
    assert "0-6 (higher = better)" in DOCS
    assert all(m.direction == "higher_better" for m in registry.METRICS.values() if m.family in ("ctrs", "ctrs_judge"))


def test_named_lists_hold_registry_keys_only_and_keep_their_order():
    for name in ("MAIN", "SIMULATION", "MEASURE", "SESSION", "SHARES", "CTRS_RULE", "CTRS_JUDGE", "EMPATHY",
                 "FAIRNESS_PRIMARY", "FAIRNESS"):
        keys = getattr(registry, name)
        assert keys and len(set(keys)) == len(keys) and set(keys) <= set(registry.METRICS), name
    assert registry.SIMULATION[:len(registry.MAIN)] == registry.MAIN
    assert all(registry.METRICS[k].short for k in registry.MEASURE)
    assert registry.FAIRNESS[:len(registry.FAIRNESS_PRIMARY)] == registry.FAIRNESS_PRIMARY
    assert set(registry.FAIRNESS) - set(registry.FAIRNESS_PRIMARY) == {k for k in registry.CTRS_RULE if k != "ctrs.mean"}


def test_old_names_read_the_registry():
    from helpert.metrics import MAIN_METRICS, SIMULATION_METRICS
    from helpert.report.plot.scores import CORPUS_GROUPS
    from helpert.probe.fairness import METRICS, PRIMARY
    from helpert.report.html import SESSION_METRICS
    from helpert.report.tables import MEASURE_COLUMNS

    assert (MAIN_METRICS, SIMULATION_METRICS, PRIMARY, METRICS) == (
        registry.MAIN, registry.SIMULATION, registry.FAIRNESS_PRIMARY, registry.FAIRNESS)
    assert [k for k, _ in MEASURE_COLUMNS] == list(registry.MEASURE)
    assert [k for k, _, _ in SESSION_METRICS] == list(registry.SESSION)
    assert {k for _, keys in CORPUS_GROUPS for k in keys} <= set(registry.METRICS)
    meaning = {k: (m, d) for k, m, d in SESSION_METRICS}
    assert meaning["adherence.premature_action"][1] == "lower = better"
    assert meaning["talk.question_ratio"][1] == ""                     # neutral: no direction shown
    assert "fair ≥ 1" in meaning["mi.reflection_to_question"][0]      # MITI thresholds kept


def test_registry_is_frozen():
    metric = registry.METRICS["drift.score"]
    with pytest.raises(AttributeError):
        metric.direction = "higher_better"  # type: ignore[misc]
    assert metric.family == "drift"
