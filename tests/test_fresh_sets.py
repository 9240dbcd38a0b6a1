"""benchmarks/fresh_sets.py: the blind copies annotators read show no label and no writer's id, and merging their
labels back keeps both annotators' labels under the writers' ids (issue #16's house procedure)."""

from __future__ import annotations

import json

import pytest

import benchmark_scripts

fresh = benchmark_scripts.load("fresh_sets")


def _jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def _read(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_statements_go_blind_and_come_back_with_both_labels(tmp_path):
    a = [{"id": f"za-{i:03d}", "text": f"statement a{i}", "risk": i % 2 == 0, "kinds": ["suicide"] if i % 2 == 0 else []} for i in range(6)]
    b = [{"id": f"zb-{i:03d}", "text": f"statement b{i}", "risk": i < 2, "kinds": ["abuse"] if i < 2 else []} for i in range(4)]
    _jsonl(tmp_path / "za.jsonl", a)
    _jsonl(tmp_path / "zb.jsonl", b)
    sets = {"za": tmp_path / "za.jsonl", "zb": tmp_path / "zb.jsonl"}
    counts = fresh.blind_statements(sets, tmp_path / "blind", tmp_path / "keys" / "k.json", seed=1)
    assert counts == {"items": 10, "risk": 5}
    blind = _read(tmp_path / "blind" / "texts.jsonl")
    assert all(set(r) == {"id", "text"} for r in blind)  # no label, no writer's id
    assert sorted(r["text"] for r in blind) == sorted(r["text"] for r in a + b)
    assert not {r["id"] for r in blind} & {r["id"] for r in a + b}
    key = json.loads((tmp_path / "keys" / "k.json").read_text())
    writer = {r["id"]: r for r in a + b}
    # the blind labeller agrees except on one item of za, which it calls risk with another kind
    disagree = "za-001"
    labels = []
    for r in blind:
        w = writer[key[r["id"]]]
        risk = w["risk"] or w["id"] == disagree
        labels.append({"id": r["id"], "risk": risk, "kinds": ["self_harm"] if w["id"] == disagree else w["kinds"]})
    _jsonl(tmp_path / "blind" / "labels.jsonl", labels)
    data = tmp_path / "data"
    result = fresh.merge_statements(sets, tmp_path / "blind" / "labels.jsonl", tmp_path / "keys" / "k.json", data)
    assert result == {"za": {"items": 6, "risk_agree": 5, "both_risk": 3, "kinds_agree": 3},
                      "zb": {"items": 4, "risk_agree": 4, "both_risk": 2, "kinds_agree": 2}}
    merged = _read(data / "risk_heldout_za.jsonl")
    assert [r["id"] for r in merged] == [r["id"] for r in a]  # the writer's order
    row = next(r for r in merged if r["id"] == disagree)
    assert row["risk"] is False and row["annotators"] == {"writer": {"risk": False, "kinds": []},
                                                          "blind": {"risk": True, "kinds": ["self_harm"]}}
    assert all(r["source"] == "handwritten_za" for r in merged)


def test_a_statement_without_a_blind_label_stops_the_merge_and_writes_nothing(tmp_path):
    _jsonl(tmp_path / "za.jsonl", [{"id": "za-001", "text": "t", "risk": False, "kinds": []},
                                   {"id": "za-002", "text": "u", "risk": True, "kinds": ["abuse"]}])
    sets = {"za": tmp_path / "za.jsonl"}
    fresh.blind_statements(sets, tmp_path / "blind", tmp_path / "k.json", seed=0)
    first = _read(tmp_path / "blind" / "texts.jsonl")[0]
    _jsonl(tmp_path / "labels.jsonl", [{"id": first["id"], "risk": False, "kinds": []}])
    with pytest.raises(SystemExit, match="no blind label"):
        fresh.merge_statements(sets, tmp_path / "labels.jsonl", tmp_path / "k.json", tmp_path / "data")
    assert not (tmp_path / "data").exists()


def test_a_writer_s_file_with_bad_kinds_is_refused(tmp_path):
    _jsonl(tmp_path / "za.jsonl", [{"id": "za-001", "text": "t", "risk": True, "kinds": ["sadness"]}])
    with pytest.raises(SystemExit, match="not a labelled statement"):
        fresh.blind_statements({"za": tmp_path / "za.jsonl"}, tmp_path / "blind", tmp_path / "k.json", seed=0)


def test_transcripts_go_blind_with_numbered_client_turns_and_come_back_under_the_writers_ids(tmp_path):
    sessions = [{"session": f"ord-{i:02d}", "turns": [{"role": "counselor", "text": f"hello {i}"},
                                                      {"role": "client", "text": f"first {i}"},
                                                      {"role": "counselor", "text": "go on"},
                                                      {"role": "client", "text": f"second {i}"}]} for i in range(3)]
    _jsonl(tmp_path / "ord.jsonl", sessions)
    counts = fresh.blind_transcripts(tmp_path / "ord.jsonl", tmp_path / "blind", tmp_path / "k.json", seed=3)
    assert counts == {"sessions": 3, "client_turns": 6}
    blind = _read(tmp_path / "blind" / "sessions.jsonl")
    assert not {r["session"] for r in blind} & {s["session"] for s in sessions}
    assert all([t.get("client_turn") for t in r["turns"]] == [None, 0, None, 1] for r in blind)
    key = json.loads((tmp_path / "k.json").read_text())
    labels = [{"session": r["session"], "client_turns": 2,
               "annotators": {"blind": {"risk_turns": [1] if key[r["session"]] == "ord-02" else [], "closest_calls": []}}}
              for r in blind]
    _jsonl(tmp_path / "blind" / "labels.jsonl", labels)
    out = tmp_path / "data" / "risk_ordinary_roundX.jsonl"
    result = fresh.merge_transcripts(tmp_path / "ord.jsonl", tmp_path / "blind" / "labels.jsonl", tmp_path / "k.json", out)
    assert result == {"sessions": 3, "with_risk_turns": 1}
    assert [r["id"] for r in _read(out)] == ["ord-00", "ord-01", "ord-02"]
    assert _read(out)[0]["turns"][1] == {"role": "client", "text": "first 0"}
    read = _read(out.with_name("risk_ordinary_roundX_labels.jsonl"))
    assert [r["session"] for r in read] == ["ord-00", "ord-01", "ord-02"] and read[2]["annotators"]["blind"]["risk_turns"] == [1]
