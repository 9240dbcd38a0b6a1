"""Paired comparison: bootstrap CI, effect size, tests, missing values, and a run folder on disk."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from helpert.compare import (
    NoPairsError,
    bootstrap_ci,
    compare_corpus,
    compare_pair,
    compare_run_dir,
    corpus_records,
    match_pairs,
    metric_stats,
    paired_p,
    sign_flip_p,
)
from helpert.protocols import load_protocol
from test_metrics import CBT, EXAMPLE, TEXTBOOK, build


def test_bootstrap_ci_covers_the_true_mean_of_a_paired_sample():
    rng = np.random.default_rng(7)
    peer = rng.normal(3.0, 1.0, 300)
    llm = peer + 0.5 + rng.normal(0.0, 0.5, 300)   # true mean difference 0.5, sd 0.5
    d = llm - peer
    low, high = bootstrap_ci(d)
    assert low < d.mean() < high and 0 < low      # se = .5 / sqrt(300) = .029: zero is far outside
    assert high - low == pytest.approx(2 * 1.96 * d.std(ddof=1) / math.sqrt(300), rel=0.15)
    assert bootstrap_ci(d) == (low, high)         # fixed seed


def test_bootstrap_ci_covers_the_true_mean_about_95_percent_of_the_time():
    rng = np.random.default_rng(11)
    hits = 0
    for _ in range(300):
        d = 0.5 + rng.normal(0.0, 1.0, 40)
        low, high = bootstrap_ci(d)
        hits += low < 0.5 < high
    # binomial sd at .95 over 300 samples is .013; a percentile CI at n=40 under-covers a little
    assert 0.90 <= hits / 300 <= 0.98


def test_stats_by_hand():
    s = metric_stats(np.array([1.0, 2.0, 3.0]), np.array([2.0, 4.0, 6.0]))
    # d = 1 2 3: mean 2, sd 1 -> dz 2
    assert (s["n"], s["peer_mean"], s["llm_mean"], s["mean_diff"], s["dz"]) == (3, 2.0, 4.0, 2.0, 2.0)
    # exact bootstrap of the mean of (1, 2, 3): each extreme (1, 1, 1) / (3, 3, 3) has probability 1/27 = 3.7%,
    # more than a 2.5% tail, so the percentile 95% CI is the range itself; a CI narrower than that is wrong
    assert (s["ci_low"], s["ci_high"]) == (1.0, 3.0)
    wider = metric_stats(np.zeros(40), np.r_[np.zeros(39), 40.0])  # one outlier: mean 1, P(no outlier) = 36%
    assert wider["ci_low"] == 0.0 and wider["ci_high"] > 1.0


def test_missing_values_are_dropped_pairwise():
    s = metric_stats(np.array([1.0, np.nan, 3.0, 5.0]), np.array([2.0, 9.0, np.nan, 7.0]))
    assert s["n"] == 2 and s["mean_diff"] == 1.5 and s["peer_mean"] == 3.0


def test_one_pair_has_no_ci():
    s = metric_stats(np.array([1.0]), np.array([2.0]))
    assert s["n"] == 1 and s["mean_diff"] == 1.0
    assert math.isnan(s["ci_low"]) and math.isnan(s["dz"]) and "n=1" in s["note"]
    empty = metric_stats(np.array([np.nan]), np.array([1.0]))
    assert empty["n"] == 0 and math.isnan(empty["mean_diff"]) and empty["note"]


def test_a_metric_only_one_side_has_says_what_that_side_shows():
    """The peer never advised, so premature action is undefined for it: the LLM's values would vanish from the table
    (a fresh-user review, 2026-12-07)."""
    s = metric_stats(np.array([np.nan, np.nan, np.nan]), np.array([1.0, 1.0, 0.0]))
    assert s["n"] == 0 and s["note"] == "only the LLM side has values (3 sessions, mean 0.667)"
    s = metric_stats(np.array([0.5, np.nan]), np.array([np.nan, np.nan]))
    assert s["note"] == "only the peer side has values (1 session, mean 0.500)"
    assert metric_stats(np.array([np.nan]), np.array([np.nan]))["note"] == "no session has this metric on both sides"


def test_sign_flip_p_exact():
    # 4 equal positive differences: only all-plus and all-minus reach |mean| = 1 -> 2 / 16
    assert sign_flip_p(np.array([1.0, 1.0, 1.0, 1.0])) == pytest.approx(2 / 16)
    # 20 pairs: random flips, p bounded below by 1 / (10000 + 1)
    assert sign_flip_p(np.ones(20)) == pytest.approx(1 / 10001)


def test_paired_p():
    pytest.importorskip("scipy")
    p, test = paired_p(np.array([1.0, 2.0, 3.0, 4.0, 5.0]))
    assert test == "wilcoxon signed-rank" and p == pytest.approx(2 / 32)  # exact: all ranks positive
    assert paired_p(np.zeros(4)) == (1.0, "all differences zero")


def test_compare_corpus_reads_peer_and_llm_columns():
    pairs = pd.DataFrame({"a.peer": [1.0, 2.0, 3.0], "a.llm": [2.0, 4.0, 6.0], "b.peer": [0.0, 0.0, np.nan],
                          "b.llm": [1.0, 1.0, 1.0], "orphan.peer": [1.0, 1.0, 1.0]})
    stats = compare_corpus(pairs)
    assert list(stats.index) == ["a", "b"]
    assert stats.loc["a", "dz"] == 2.0 and stats.loc["b", "n"] == 2
    assert "differences all equal" in stats.loc["b", "note"]
    records = corpus_records(stats)
    json.dumps(records, allow_nan=False)  # NaN became None
    assert records[1]["dz"] is None and records[0]["metric"] == "a"


def test_compare_pair_differences():
    out = compare_pair(EXAMPLE, TEXTBOOK, CBT)
    assert out["peer"]["adherence.coverage"] == 0.5 and out["llm"]["adherence.coverage"] == 1.0
    assert out["diff"]["adherence.coverage"] == 0.5
    assert out["diff"]["empathy.emotional_reactions"] is None  # no empathy labels on either side


def test_match_pairs():
    a, b, c = (build([{"phase": "agenda"}], dialogue_id=i) for i in "abc")
    pairs, unmatched = match_pairs([a, b], [b, c])
    assert [(o.dialogue_id, r.dialogue_id) for o, r in pairs] == [("b", "b")] and unmatched == ["a", "c"]


def write_run(tmp_path, ids=("d1", "d2"), incomplete=("d3",)):
    for i, dialogue_id in enumerate(ids):
        folder = tmp_path / "sessions" / dialogue_id
        folder.mkdir(parents=True)
        original = EXAMPLE.model_copy(update={"dialogue_id": dialogue_id})
        recon = TEXTBOOK.model_copy(update={"dialogue_id": dialogue_id, "meta": {"protocol": "cbt_session"}})
        if i:  # the second reconstruction is one turn shorter, so not all differences are equal
            recon = recon.model_copy(update={"turns": recon.turns[:-2]})
        (folder / "original.json").write_text(json.dumps(original.to_record()))
        (folder / "reconstruction.json").write_text(json.dumps(recon.to_record()))
    for dialogue_id in incomplete:
        (tmp_path / "sessions" / dialogue_id).mkdir(parents=True)
        (tmp_path / "sessions" / dialogue_id / "original.json").write_text(json.dumps(EXAMPLE.to_record()))
    (tmp_path / "manifest.json").write_text(json.dumps({"protocol": "cbt_session"}))
    return tmp_path


def test_compare_run_dir_writes_csv_and_json(tmp_path):
    run = write_run(tmp_path)
    table, stats, doc = compare_run_dir(run)
    written = pd.read_csv(run / "comparison.csv", index_col="dialogue_id")
    assert list(written.index) == ["d1", "d2"]
    assert written.loc["d1", "adherence.coverage.peer"] == 0.5 and written.loc["d1", "adherence.coverage.llm"] == 1.0
    # d2 lost the feedback turn: coverage 7/8
    assert written.loc["d2", "adherence.coverage.llm"] == pytest.approx(7 / 8)
    on_disk = json.loads((run / "corpus.json").read_text())
    assert on_disk == json.loads(json.dumps(doc))
    assert on_disk["n_sessions"] == 2 and on_disk["skipped"] == ["d3"] and on_disk["protocol"] == "cbt_session"
    cov = next(r for r in on_disk["metrics"] if r["metric"] == "adherence.coverage")
    # differences .5 and .375: mean .4375
    assert cov["n"] == 2 and cov["mean_diff"] == pytest.approx(0.4375)
    assert cov["ci_low"] == pytest.approx(0.375) and cov["ci_high"] == pytest.approx(0.5)
    assert not list(run.glob(".*.tmp"))  # atomic writes leave no temporary files


def test_compare_run_dir_without_pairs(tmp_path):
    with pytest.raises(NoPairsError):
        compare_run_dir(tmp_path, load_protocol("cbt_session"))


def test_a_run_cut_by_max_turns_says_so_in_its_title(tmp_path):
    """--max-turns cuts the peer's session to the replayed slots too; a title without it made the peer's low coverage
    read as a finding about the peer (a fresh-user review, 2026-12-07)."""
    from helpert.compare import ComparedRun

    run = ComparedRun.open(write_run(tmp_path))
    assert run.title(2) == "LLM reconstruction vs peer — 2 sessions"
    run.manifest.args["max_turns"] = 4
    assert run.title(2) == "LLM reconstruction vs peer — 2 sessions (both sides cut at 4 counselor turns: --max-turns)"
