from pathlib import Path

import pytest
import yaml

from helpert.protocols import ProtocolError, available_protocols, load_protocol

GRAPHS = Path(__file__).resolve().parents[1] / "helpert" / "protocols"


def test_shipped_protocols_load():
    assert {"cbt_session", "helping_skills"} <= set(available_protocols())
    cbt = load_protocol("cbt_session")
    assert cbt.canonical_path == [
        "mood_check", "bridge", "agenda", "homework_review", "identify_thoughts", "evaluate_thoughts",
        "change_strategy", "capsule_summary", "final_summary", "homework", "feedback",
    ]
    assert "bridge" not in cbt.required and "homework_review" not in cbt.required
    assert cbt.allowed("capsule_summary", "identify_thoughts")  # the agenda-item loop
    assert not cbt.allowed("feedback", "mood_check")
    assert cbt.allowed("agenda", "agenda")  # staying is always allowed
    assert cbt.distance_to_end["identify_thoughts"] == 5
    hs = load_protocol("helping_skills")
    assert hs.canonical_path == ["exploration", "comforting", "action"]
    assert len(cbt.sha256) == 64


def _write(tmp_path: Path, mutate) -> Path:
    data = yaml.safe_load((GRAPHS / "cbt_session.yaml").read_text())
    mutate(data)
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _phase(data, pid):
    return next(p for p in data["phases"] if p["id"] == pid)


@pytest.mark.parametrize("mutate, message", [
    (lambda d: _phase(d, "agenda")["next"].append("nonexistent"), "unknown next phase 'nonexistent'"),
    (lambda d: d["phases"].append({**_phase(d, "bridge"), "id": "orphan", "next": ["agenda"]}), "unreachable"),
    (lambda d: d.update(start="nowhere"), "start phase 'nowhere'"),
    (lambda d: _phase(d, "homework")["ctrs"].append("charisma"), "unknown CTRS item 'charisma'"),
    (lambda d: _phase(d, "agenda").pop("goal"), "phase 'agenda'"),
    (lambda d: d["phases"].append({**_phase(d, "bridge"), "id": "safety"}), "reserved"),
    (lambda d: _phase(d, "feedback")["next"].append("sink") or d["phases"].append(
        {**_phase(d, "bridge"), "id": "sink", "next": ["sink"]}), "never reach an end phase"),
])
def test_invalid_protocols_name_the_problem(tmp_path, mutate, message):
    path = _write(tmp_path, mutate)
    with pytest.raises(ProtocolError) as err:
        load_protocol(path)
    assert message in str(err.value)
    assert str(path) in str(err.value)


def test_unknown_name_lists_available():
    with pytest.raises(ProtocolError, match="available: .*cbt_session"):
        load_protocol("no_such_protocol")


def test_invalid_yaml(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("name: [unclosed\n")
    with pytest.raises(ProtocolError, match="invalid YAML"):
        load_protocol(path)
    assert "<byte string>" not in str(load_error(path)) and "line 1" in str(load_error(path))


def load_error(path: Path) -> ProtocolError:
    with pytest.raises(ProtocolError) as err:
        load_protocol(path)
    return err.value


def test_every_fault_of_the_phase_definitions_at_once_with_near_names(tmp_path):
    """A copy with a removed phase, a renamed one and a typo took three fix-and-rerun rounds (a fresh-user review,
    2026-12-07): every fault is named in one message, with the defined name it most likely means."""
    def mutate(d):
        d["phases"] = [p for p in d["phases"] if p["id"] != "bridge"]
        _phase(d, "homework_review")["id"] = "hw_review"
        _phase(d, "capsule_summary")["next"] = ["final_sumary" if n == "final_summary" else n
                                                for n in _phase(d, "capsule_summary")["next"]]
        _phase(d, "agenda")["ctrs"].append("agendaa")

    message = str(load_error(_write(tmp_path, mutate)))
    assert "phase 'mood_check' lists unknown next phase 'bridge'" in message
    assert "unknown next phase 'homework_review'" in message
    assert "unknown next phase 'final_sumary' (did you mean 'final_summary'?)" in message
    assert "unknown CTRS item 'agendaa' (did you mean 'agenda'?) (the items: agenda, feedback," in message
    assert "\n" not in message
