"""``helpert validate labels``: scores against gold strategies, maps legacy names, warns on training data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from helpert.cli.main import cli
from helpert.cli.validate import report

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"

TURNS = [
    ("counselor", "Hello, how can I help you today?", "Questions"),
    ("client", "My boyfriend left me and I can't stop crying.", None),
    ("counselor", "That must be so painful, you sound heartbroken.", "Reflection of feelings"),
    ("client", "I am. We were together five years.", None),
    ("counselor", "Maybe you could reach out to a close friend this weekend.", "Providing Suggestions"),
    ("client", "Maybe.", None),
    ("counselor", "You're welcome, take care and have a good night!", "Other"),
]


def write_dialogues(path, n: int = 2) -> None:
    lines = []
    for d in range(n):
        turns = [{"idx": i, "role": r, "text": t, "labels": {"strategy": s} if s else {}} for i, (r, t, s) in enumerate(TURNS)]
        lines.append(json.dumps({"dialogue_id": f"tiny_{d}", "turns": turns}))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_validate_labels_json(tmp_path):
    f = tmp_path / "tiny.jsonl"
    write_dialogues(f)
    res = CliRunner().invoke(cli, ["validate", "labels", str(f), "--key", "strategy", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["n"] == 8 and out["sessions"] == 2
    # legacy names are mapped: Questions -> Question, Providing Suggestions -> merged class, Other -> Greeting
    assert set(out["per_class"]) == {"Question", "Reflection of feelings", "Providing Suggestions or Information", "Greeting"}
    assert 0.0 <= out["accuracy"] <= 1.0 and 0.0 <= out["macro_f1"] <= 1.0
    assert out["training_overlap"]["turns_in_training"] == 0
    assert "warning" not in out


def test_validate_labels_stage_table(tmp_path):
    f = tmp_path / "tiny.jsonl"
    write_dialogues(f, n=1)
    res = CliRunner().invoke(cli, ["validate", "labels", str(f), "--key", "stage", "--protocol", "cbt_session"])
    assert res.exit_code == 0, res.output
    assert "macro-F1" in res.output
    assert "exploration" in res.output and "action" in res.output
    assert "Greeting" not in res.output  # Greeting has no stage: left out of the stage comparison


def test_validate_labels_without_gold_is_a_user_error(tmp_path):
    f = tmp_path / "nogold.jsonl"
    f.write_text(json.dumps({"dialogue_id": "x", "turns": [{"role": "counselor", "text": "Hi"}]}) + "\n")
    res = CliRunner().invoke(cli, ["validate", "labels", str(f)])
    assert res.exit_code != 0
    assert "no counselor turn has a gold" in str(res.exception) + res.output


def test_report_counts():
    r = report(["a", "a", "b", "b"], ["a", "b", "b", "b"])
    assert r["accuracy"] == 0.75
    assert r["per_class"]["a"] == {"precision": 1.0, "recall": 0.5, "f1": 0.6667, "support": 2}
    assert r["per_class"]["b"]["f1"] == 0.8
    assert r["macro_f1"] == pytest.approx((0.6667 + 0.8) / 2, abs=1e-4)


@pytest.mark.shared
def test_validate_labels_on_shared_esconv_warns_about_training_overlap():
    path = SHARED_DATA / "esconv" / "esconv_valid_195.jsonl"
    res = CliRunner().invoke(cli, ["validate", "labels", str(path), "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["n"] == 2257
    assert out["training_overlap"]["share"] > 0.5
    assert "optimistic" in out["warning"]
    distinct = out["training_overlap"]["distinctive_turns"]
    assert f"the {distinct} counselor turns in {path} long enough to identify (of 2257;" in out["warning"]  # both counts named
