"""Every command's terminal table at 80 columns (a piped output or a small terminal): no line is wider
than the console and every metric name stands whole on one line, never wrapped or cut."""

from __future__ import annotations

import io
import re

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from rich.console import Console

from helpert.cli.main import cli
from helpert.cli.probe import format_gaps
from helpert.compare import compare_corpus
from helpert.metrics import registry
from helpert.probe.fairness import METRICS, gap_table
from helpert.report.tables import MEASURE_LEGEND, format_comparison, fmt, print_comparison, print_measure_table

WIDTH = 80


def render(renderable_or_print, width: int = WIDTH) -> list[str]:
    """Lines printed on a plain console of ``width`` columns; a callable is given the console."""
    console = Console(width=width, file=io.StringIO(), color_system=None)
    if callable(renderable_or_print):
        renderable_or_print(console)
    else:
        console.print(renderable_or_print)
    return console.file.getvalue().splitlines()


def whole(name: str, line: str) -> bool:
    return re.search(rf"(?<![\w.]){re.escape(name)}(?![\w.])", line) is not None


def assert_fits(lines: list[str], names: list[str], width: int = WIDTH) -> None:
    too_wide = [line for line in lines if len(line.rstrip()) > width]
    assert too_wide == []
    assert not any("…" in line for line in lines)  # nothing cropped
    missing = [n for n in names if not any(whole(n, line) for line in lines)]
    assert missing == []


def corpus_stats(keys: list[str], n: int = 12) -> pd.DataFrame:
    """compare_corpus statistics of ``n`` paired sessions with values on wide scales (CIs with signs)."""
    rng = np.random.default_rng(0)
    pairs = {}
    for k in keys:
        peer = rng.uniform(0, 30, n)
        pairs[f"{k}.peer"], pairs[f"{k}.llm"] = peer, peer + rng.normal(-5, 8, n)
    return compare_corpus(pd.DataFrame(pairs, index=[f"s{i}" for i in range(n)]), n_boot=200)


@pytest.fixture(scope="module")
def all_stats() -> pd.DataFrame:
    return corpus_stats(list(registry.METRICS))


# The comparison table as `helpert compare` (main and --all), `helpert simulate`, `helpert batch` and
# the end of `helpert replay` / `helpert demo` print it.
@pytest.mark.parametrize("metrics, title", [
    (registry.MAIN, "LLM reconstruction vs peer"),
    (None, "LLM reconstruction vs peer"),
    (registry.SIMULATION, "simulated dialogue vs peer session"),
    (None, "LLM reconstruction vs peer — 195 sessions"),
])
def test_comparison_at_80_columns(all_stats, metrics, title):
    lines = render(lambda c: print_comparison(all_stats, metrics, title=title, console=c))
    keys = list(all_stats.index if metrics is None else metrics)
    assert_fits(lines, keys)
    for key in keys:  # the metric's own numbers follow its name, on its line or the next
        at = next(i for i, line in enumerate(lines) if whole(key, line))
        assert fmt(all_stats.loc[key, "peer_mean"]) in " ".join(lines[at:at + 2]), key


def test_comparison_is_one_table_when_the_console_is_wide(all_stats):
    lines = render(format_comparison(all_stats, registry.MAIN), width=200)
    assert max(len(line.rstrip()) for line in lines) > WIDTH
    for key in registry.MAIN:
        row = next(line for line in lines if whole(key, line))
        s = all_stats.loc[key]
        assert fmt(s["peer_mean"]) in row and fmt(s["llm_mean"]) in row and fmt(s["ci_high"], True) in row


def test_comparison_folds_its_cis_before_it_breaks_into_blocks():
    """Short names: the table stays, each CI on the line below its difference."""
    stats = corpus_stats(["ctrs.mean", "drift.score"])
    natural = max(len(line.rstrip()) for line in render(format_comparison(stats, None), width=200))
    lines = render(format_comparison(stats, None), width=natural - 4)
    header = next(line for line in lines if "diff [95% CI]" in line)
    assert "metric" in header                                           # still a table, not blocks
    row = next(i for i, line in enumerate(lines) if whole("ctrs.mean", line))
    assert fmt(stats.loc["ctrs.mean", "mean_diff"], True) in lines[row]
    assert fmt(stats.loc["ctrs.mean", "ci_low"], True) in lines[row + 1]


def test_measure_table_at_80_columns():
    rng = np.random.default_rng(1)
    ids = ["grief_sleep", "esconv-00012-long-id", "work_conflict"]
    frame = pd.DataFrame({k: rng.uniform(0, 12, len(ids)) for k in registry.MEASURE}, index=pd.Index(ids, name="dialogue_id"))
    lines = render(lambda c: print_measure_table(frame, title="helpert measure (cbt_session)", console=c))
    headers = [registry.METRICS[k].short for k in registry.MEASURE]
    assert_fits(lines, ids + headers)
    text = "\n".join(lines)
    for entry in MEASURE_LEGEND:  # every legend entry whole on one line
        assert any(entry in line for line in lines), entry
    for key in registry.MEASURE:  # every column's numbers (its mean in the footer) are shown
        assert fmt(frame[key].mean(), digits=2) in text, key


def test_a_column_no_session_has_leaves_the_legend_too():
    ids = ["a", "b"]
    frame = pd.DataFrame({k: [1.0, 2.0] for k in registry.MEASURE}, index=pd.Index(ids, name="dialogue_id"))
    frame["adherence.transitions"] = np.nan
    text = "\n".join(render(lambda c: print_measure_table(frame, console=c)))
    allow = registry.METRICS["adherence.transitions"]
    assert f"{allow.short}: " not in text and allow.title not in text
    assert "prem: premature action" in text and "docs/metrics.md" in text


def test_fairness_gaps_at_80_columns():
    rng = np.random.default_rng(2)
    ids = [f"s{i}" for i in range(12)]
    base = pd.DataFrame({m: rng.uniform(0, 2, len(ids)) for m in METRICS}, index=ids)
    frames = {"middle-aged": base, "young": base - 0.3 + rng.normal(0, 0.01, base.shape),
              "older": base + rng.normal(0, 0.3, base.shape)}
    table = gap_table(frames, "middle-aged")
    title = "age (explicit cue): group - middle-aged, paired over 12 sessions, seed 0"
    lines = render(format_gaps(table, "middle-aged", title))
    assert_fits(lines, list(METRICS) + ["young", "older", "middle-aged"])
    flagged = table[table["flag"]]
    assert len(flagged) and sum("FLAG" in line for line in lines) == len(flagged)
    for metric in ("empathy.emotional_reactions", "ctrs.interpersonal_effectiveness"):
        at = next(i for i, line in enumerate(lines) if whole(metric, line))
        block = " ".join(lines[at:at + 3])
        for group in ("young", "older"):  # each group's row of this metric
            row = table[(table["metric"] == metric) & (table["group"] == group)].iloc[0]
            assert whole(group, block) and fmt(row["group_mean"]) in block


def test_screen_table_at_80_columns(tmp_path):
    crisis = "I have been thinking about killing myself and nothing seems to help me any more"
    (tmp_path / "a.txt").write_text(f"# id: a-rather-long-dialogue-id\nCounselor: Hello.\nClient: {crisis}\n",
                                    encoding="utf-8")
    result = CliRunner().invoke(cli, ["screen", str(tmp_path)], env={"COLUMNS": str(WIDTH)})
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    table = lines[:next(i for i, line in enumerate(lines) if " screened (" in line)]
    assert_fits(table, ["a-rather-long-dialogue-id", "crisis"])
    words = " ".join(line.split("crisis")[-1] for line in table)
    assert all(w in words for w in crisis.split()[:10])  # the text wraps at words, none cut


@pytest.mark.parametrize("name", ["cbt_session", "helping_skills"])
@pytest.mark.parametrize("width", [WIDTH, 200])
def test_protocol_show_names_every_phase_and_ctrs_item_whole(name, width):
    from helpert.protocols import load_protocol

    proto = load_protocol(name)
    result = CliRunner().invoke(cli, ["protocol", "show", name], env={"COLUMNS": str(width)})
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert_fits([line for line in lines if not line.startswith("canonical path")],
                [p.id for p in proto.phases] + sorted({i for p in proto.phases for i in p.ctrs}), width)
