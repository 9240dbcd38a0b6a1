"""Counselor styles (helpert/replay/guidance.py): loading, rendering, errors, and the path into the prompt."""

from __future__ import annotations

import hashlib
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from helpert.replay.graph.prompts import system_prompt
from helpert.replay.guidance import GuidanceError, available_guidance, load_guidance
from helpert.protocols import load_protocol
from conftest import backend_of
from helpert.replay import ReplaySettings, replay_session
from helpert.session import Session, Turn

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name, principles", [("reappraisal", 6), ("empathic", 6)])
def test_shipped_styles_load_short_and_hashed(name, principles):
    g = load_guidance(name)
    path = REPO / "helpert" / "protocols" / "guidance" / f"{name}.yaml"
    assert g.name == name and Path(g.source).resolve() == path
    assert g.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert g.text.startswith("Style:") and g.text.count(".") == principles + 1  # lead + one sentence each
    assert 40 <= len(g.text.split()) <= 80  # ~60-100 tokens: short enough for the 135M default model
    assert "#" not in g.text and "description" not in g.text  # comments and description never reach the model


def test_reappraisal_covers_six_appraisal_dimensions():
    import yaml

    data = yaml.safe_load((REPO / "helpert" / "protocols" / "guidance" / "reappraisal.yaml").read_text())
    assert {p["id"] for p in data["principles"]} == {
        "self_responsibility", "problem_focused_coping", "attentional_activity", "emotion_focused_coping",
        "self_controllability", "consistency_with_values"}


def test_available_and_unknown_names():
    assert {"reappraisal", "empathic"} <= set(available_guidance())
    with pytest.raises(GuidanceError, match=r"unknown guidance 'stoic' \(available: .*empathic.*reappraisal"):
        load_guidance("stoic")


@pytest.mark.parametrize("content, message", [
    ("lead: [unclosed", "invalid YAML"),
    ("- a list", "expected a mapping"),
    ("name: x\nprinciples:\n  - text: Be kind.\n", "field 'lead'"),
    ("name: x\nlead: Style.\nprinciples: []\n", "field 'principles'"),
    ("name: x\nlead: Style.\nprinciples:\n  - id: a\n", r"field 'principles\[0\].text'"),
])
def test_bad_files_name_the_file_and_field(tmp_path, content, message):
    f = tmp_path / "bad.yaml"
    f.write_text(content)
    with pytest.raises(GuidanceError, match=message) as exc:
        load_guidance(f)
    assert str(f) in str(exc.value)


def test_a_path_and_an_extra_directory_work(tmp_path, monkeypatch):
    f = tmp_path / "mine.yaml"
    f.write_text("lead: \"Style: be brief.\"\nprinciples:\n  - text: Use short sentences.\n")
    assert load_guidance(f).text == "Style: be brief. Use short sentences." and load_guidance(f).name == "mine"
    monkeypatch.setenv("HELPERT_GUIDANCE", str(tmp_path))
    assert load_guidance("mine").source == str(f)
    with pytest.raises(GuidanceError, match="no such guidance file"):
        load_guidance(tmp_path / "missing.yaml")


def test_system_prompt_ends_with_the_guidance():
    proto = load_protocol("cbt_session")
    g = load_guidance("empathic")
    prompt = system_prompt(proto, g.text)
    assert prompt.endswith(g.text) and prompt.startswith(system_prompt(proto))


def test_the_model_sees_the_guidance_in_every_turn(fake_chat):
    chat = fake_chat(script=["How are you feeling?", "What would you like to focus on?"])
    s = Session(dialogue_id="g", turns=[Turn(idx=0, role="client", text="I feel low."),
                                        Turn(idx=1, role="counselor", text="Tell me more."),
                                        Turn(idx=2, role="client", text="Work is hard.")])
    g = load_guidance("reappraisal")
    replay_session(s, backend_of(chat, max_tokens=32), ReplaySettings(load_protocol("cbt_session"), seed=1, guidance=g.text))
    assert len(chat.calls) == 2
    for call in chat.calls:
        kind, content = call["messages"][0]
        assert kind == "system" and g.text in content


def _cli():
    from helpert.replay.batch import RunOptions
    from helpert.cli.options import model_options

    seen = {}

    @click.command()
    @model_options
    def cmd(**opts):
        seen["options"] = RunOptions(**opts)

    return cmd, seen


def test_cli_option_carries_text_name_and_hash_into_run_options():
    cmd, seen = _cli()
    assert CliRunner().invoke(cmd, ["--guidance", "reappraisal"]).exit_code == 0
    g = load_guidance("reappraisal")
    opts = seen["options"]
    assert (opts.guidance, opts.guidance_name, opts.guidance_sha256) == (g.text, "reappraisal", g.sha256)
    assert CliRunner().invoke(cmd, []).exit_code == 0
    assert (seen["options"].guidance, seen["options"].guidance_name) == ("", "")  # default: no guidance


def test_cli_rejects_an_unknown_style_before_anything_runs():
    cmd, seen = _cli()
    result = CliRunner().invoke(cmd, ["--guidance", "stoic"])
    assert result.exit_code == 2 and "unknown guidance 'stoic'" in result.output and "options" not in seen
