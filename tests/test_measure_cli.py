"""`helpert measure` and `helpert compare` end to end, through the real entry point (run_cli)."""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path

import pandas as pd
import pytest

from helpert.cli.main import cli
from helpert.cli.errors import run_cli
from helpert.io import write_sessions
from helpert.metrics import measure_session
from test_compare import write_run
from test_metrics import CBT, EXAMPLE, TEXTBOOK, build


def helpert(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["helpert", *map(str, args)])
    rc = run_cli(cli)
    out = capsys.readouterr()
    return rc, out.out, out.err


@pytest.fixture
def corpus(tmp_path):
    path = tmp_path / "labelled.jsonl"
    write_sessions(path, [EXAMPLE, TEXTBOOK.model_copy(update={"dialogue_id": "textbook"})])
    return path


def test_measure_json_matches_the_library(monkeypatch, capsys, corpus):
    rc, out, _ = helpert(monkeypatch, capsys, "measure", corpus, "--json")
    assert rc == 0
    doc = json.loads(out)
    assert doc["protocol"] == "cbt_session" and [s["dialogue_id"] for s in doc["sessions"]] == ["s1", "textbook"]
    assert doc["sessions"][0]["metrics"] == measure_session(EXAMPLE, CBT)
    assert doc["sessions"][1]["metrics"]["drift.score"] == 0.0
    mi = {k for k in doc["sessions"][0]["metrics"] if k.startswith("mi.")}
    assert {"mi.reflection_to_question", "mi.complex_reflection_pct", "mi.open_question_pct", "mi.adherent_pct",
            "mi.non_adherent_share", "mi.advice_without_permission_share"} <= mi


def test_measure_table_and_csv(monkeypatch, capsys, corpus, tmp_path):
    csv = tmp_path / "out" / "metrics.csv"
    rc, out, _ = helpert(monkeypatch, capsys, "measure", corpus, "--csv", csv)
    assert rc == 0
    assert "textbook" in out and "drift" in out and "mean" in out
    row = [line for line in out.splitlines() if line.strip().startswith("s1")][0]
    assert "0.40" in row and "0.25" in row   # drift score .398 and allowed transitions 1/4 of the example
    frame = pd.read_csv(csv, index_col="dialogue_id")
    assert list(frame.index) == ["s1", "textbook"] and frame.loc["s1", "adherence.coverage"] == 0.5


def test_measure_without_labeller_is_one_clear_line(monkeypatch, capsys, tmp_path):
    monkeypatch.setitem(sys.modules, "helpert.label", types.ModuleType("helpert.label"))
    path = tmp_path / "raw.jsonl"
    write_sessions(path, [build([{"text": "How are you?"}])])
    rc, _, err = helpert(monkeypatch, capsys, "measure", path)
    assert rc == 2 and err.startswith("error: sessions need phase labels") and len(err.strip().splitlines()) == 1


def test_measure_bad_protocol(monkeypatch, capsys, corpus):
    rc, _, err = helpert(monkeypatch, capsys, "measure", corpus, "--protocol", "nope")
    assert rc == 2 and "unknown protocol 'nope'" in err


def test_compare_two_files(monkeypatch, capsys, tmp_path):
    peer, llm = tmp_path / "peer.jsonl", tmp_path / "llm.jsonl"
    write_sessions(peer, [EXAMPLE, EXAMPLE.model_copy(update={"dialogue_id": "only_peer"})])
    write_sessions(llm, [TEXTBOOK.model_copy(update={"dialogue_id": "s1"})])
    rc, out, err = helpert(monkeypatch, capsys, "compare", peer, llm, "--json")
    assert rc == 0 and "only_peer" in err
    doc = json.loads(out)
    cov = next(m for m in doc["metrics"] if m["metric"] == "adherence.coverage")
    assert (cov["n"], cov["peer_mean"], cov["llm_mean"], cov["mean_diff"]) == (1, 0.5, 1.0, 0.5)
    assert cov["ci_low"] is None and "n=1" in cov["note"]


def test_compare_two_files_of_one_session_each_pairs_them_whatever_their_ids(monkeypatch, capsys, tmp_path):
    """Found by a fresh user: peer.txt and rewrite.txt (ids from their names) matched nothing."""
    peer, llm = tmp_path / "peer.jsonl", tmp_path / "rewrite.jsonl"
    write_sessions(peer, [EXAMPLE.model_copy(update={"dialogue_id": "peer"})])
    write_sessions(llm, [TEXTBOOK.model_copy(update={"dialogue_id": "rewrite"})])
    rc, out, err = helpert(monkeypatch, capsys, "compare", peer, llm, "--json")
    assert rc == 0 and "one session on each side, compared as one: 'peer'" in err
    cov = next(m for m in json.loads(out)["metrics"] if m["metric"] == "adherence.coverage")
    assert (cov["n"], cov["peer_mean"], cov["llm_mean"]) == (1, 0.5, 1.0)
    write_sessions(llm, [TEXTBOOK.model_copy(update={"dialogue_id": i}) for i in ("a", "b")])
    rc, out, err = helpert(monkeypatch, capsys, "compare", peer, llm)
    assert rc == 2 and not out
    assert f"no dialogue_id is in both {peer} ('peer') and {llm} ('a', 'b'): sessions are paired by id" in err
    assert "'# id: NAME'" in err


def test_compare_names_label_the_two_sides(monkeypatch, capsys, tmp_path):
    """Found in review: two human sessions compared were shown as "peer" and "LLM"."""
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    write_sessions(first, [EXAMPLE.model_copy(update={"dialogue_id": "s1"})])
    write_sessions(second, [TEXTBOOK.model_copy(update={"dialogue_id": "s1"})])
    rc, out, _ = helpert(monkeypatch, capsys, "compare", first, second, "--names", "week 1, week 6")
    assert rc == 0 and "week 6 vs week 1" in out and "week 1" in out.split("adherence.coverage")[0]
    assert "LLM" not in out and "peer" not in out
    rc, out, _ = helpert(monkeypatch, capsys, "compare", first, second, "--names", "week 1,week 6", "--json")
    doc = json.loads(out)
    assert doc["names"] == {"peer": "week 1", "llm": "week 6"}
    cov = next(m for m in doc["metrics"] if m["metric"] == "adherence.coverage")
    assert (cov["peer_mean"], cov["llm_mean"]) == (0.5, 1.0)  # the keys stay: peer_* is the first path
    rc, out, _ = helpert(monkeypatch, capsys, "compare", first, second)
    assert "LLM reconstruction vs peer" in out
    for bad in ("week 1", "a,a", "a,,b", ",b"):
        rc, _, err = helpert(monkeypatch, capsys, "compare", first, second, "--names", bad)
        assert rc == 2 and "two different names" in err


def test_compare_run_dir_table(monkeypatch, capsys, tmp_path):
    run = write_run(tmp_path)
    rc, out, err = helpert(monkeypatch, capsys, "compare", run)
    assert rc == 0 and "comparison.csv" in err
    assert (run / "comparison.csv").is_file() and (run / "corpus.json").is_file()
    lines = out.splitlines()
    at = next(i for i, x in enumerate(lines) if x.strip().startswith("adherence.coverage"))
    # an 80-column console: one block per metric, its numbers on the line below its name
    assert lines[at].strip() == "adherence.coverage (higher = better)"  # which way is better, beside the name
    assert "LLM reconstruction vs peer — 2 sessions; diff = LLM - peer" in out
    assert "Only 2 session pairs: a bootstrap CI from so few pairs is far too narrow to trust" in " ".join(out.split())
    # peer .5 both; llm 1 and 7/8 -> mean .9375; diff .4375 with CI [.375, .5]
    line = lines[at + 1]
    assert "0.500" in line and "0.938" in line and "+0.438 [+0.375, +0.500]" in line
    assert "ctrs.agenda" not in out
    rc, out, _ = helpert(monkeypatch, capsys, "compare", run, "--all")
    assert "ctrs.agenda" in out


def test_compare_usage_errors(monkeypatch, capsys, tmp_path, corpus):
    rc, _, err = helpert(monkeypatch, capsys, "compare", corpus, corpus, corpus)
    assert rc == 2 and "RUN_DIR" in err
    rc, _, err = helpert(monkeypatch, capsys, "compare", tmp_path / "missing")
    assert rc == 2 and f"error: {tmp_path / 'missing'}: no such file or folder" in err  # as measure and screen say it
    empty = tmp_path / "empty_run"
    empty.mkdir()
    rc, _, err = helpert(monkeypatch, capsys, "compare", empty)
    assert rc == 2 and err.startswith("error:") and "original.json" in err


@pytest.mark.parametrize("command", ["measure", "screen"])
def test_a_run_folder_or_a_folder_inside_it_gets_one_line_saying_what_to_give(monkeypatch, capsys, tmp_path, command):
    """Found by a fresh user: the run folder's comparison.csv and timings.json were read as transcripts."""
    run = write_run(tmp_path / "run")
    for path, what in ((run, "is a helpert run folder"), (run / "sessions", f"is inside the helpert run folder {run}"),
                       (run / "sessions" / "d1", f"is inside the helpert run folder {run}")):
        rc, out, err = helpert(monkeypatch, capsys, command, path)
        assert rc == 2 and not out
        assert f"{path} {what}: `helpert compare {run}` measures both counselors" in err
        assert f"{run}/sessions/*/reconstruction.json (the LLM)" in err
    rc, out, _ = helpert(monkeypatch, capsys, command, run / "sessions" / "d1" / "reconstruction.json", "--json")
    assert rc == 0 and out  # one side, named as files, is read as before


def test_compare_refuses_a_run_folder_beside_another_path(monkeypatch, capsys, tmp_path, corpus):
    run = write_run(tmp_path / "run")
    rc, out, err = helpert(monkeypatch, capsys, "compare", run, corpus)
    assert rc == 2 and f"{run} is a helpert run folder: give it alone" in err


def test_an_ordinary_folder_is_no_run_folder(tmp_path):
    from helpert.replay.runs import run_folder_of

    (tmp_path / "sessions").mkdir()
    assert run_folder_of(tmp_path) is None and run_folder_of(tmp_path / "sessions") is None
    (tmp_path / "manifest.json").write_text("{}")
    assert run_folder_of(tmp_path) == tmp_path and run_folder_of(tmp_path.parent) is None


@pytest.mark.parametrize("command", ["measure", "screen"])
def test_dialogue_picks_one_session_and_an_unknown_id_names_some_that_exist(monkeypatch, capsys, corpus, command):
    rc, out, _ = helpert(monkeypatch, capsys, command, corpus, "--dialogue", "textbook", "--json")
    assert rc == 0
    ids = ([s["dialogue_id"] for s in json.loads(out)["sessions"]] if command == "measure"
           else sorted({json.loads(line)["dialogue_id"] for line in out.splitlines()}))
    assert ids == ["textbook"]
    rc, out, err = helpert(monkeypatch, capsys, command, corpus, "--dialogue", "nope")
    assert rc == 2 and not out and "no dialogue with id 'nope' (ids look like: s1, textbook)" in err


def test_measure_says_which_files_share_an_id(monkeypatch, capsys, tmp_path):
    """Found by a fresh user: a run's original.json and reconstruction.json gave two rows of one name."""
    run = write_run(tmp_path / "run")
    files = [run / "sessions" / "d1" / name for name in ("original.json", "reconstruction.json")]
    rc, out, err = helpert(monkeypatch, capsys, "measure", *files, "--json")
    assert rc == 0 and [s["dialogue_id"] for s in json.loads(out)["sessions"]] == ["d1", "d1"]
    assert "warning: 1 dialogue_id(s) occur more than once ('d1' x2): their rows carry the same id" in err


def test_measure_with_the_learned_phase_labeller(monkeypatch, capsys):
    """--phase-labeller model: the experimental learned phase model of cbt_session labels the phases (docs/metrics.md,
    "Adherence"); the JSON says which labeller ran; another protocol is refused with the reason."""
    sample = Path(__file__).parent / "data" / "phase_sessions_round78.jsonl"
    rc, out, _ = helpert(monkeypatch, capsys, "measure", sample, "--dialogue", "w3_exams", "--json", "--phase-labeller", "rules")
    rules = json.loads(out)
    rc2, out2, _ = helpert(monkeypatch, capsys, "measure", sample, "--dialogue", "w3_exams", "--json", "--phase-labeller", "model")
    model = json.loads(out2)
    assert rc == rc2 == 0 and (rules["phase_labeller"], model["phase_labeller"]) == ("rules", "model")
    r, m = rules["sessions"][0]["metrics"], model["sessions"][0]["metrics"]
    assert r["adherence.coverage"] != m["adherence.coverage"] or r["drift.backward_jumps"] != m["drift.backward_jumps"]
    assert r["mi.adherent_pct"] == m["mi.adherent_pct"]  # the MI codes read no phase
    for protocol, ran in (("cbt_session", "model"), ("helping_skills", "rules")):  # auto: the model where it serves
        rc, out3, _ = helpert(monkeypatch, capsys, "measure", sample, "--dialogue", "w3_exams", "--json", "--phase-labeller", "auto",
                              "--protocol", protocol)
        assert rc == 0 and json.loads(out3)["phase_labeller"] == ran
    rc, _, err = helpert(monkeypatch, capsys, "measure", sample, "--phase-labeller", "model", "--protocol", "helping_skills")
    assert rc == 2 and "no learned phase model serves protocol 'helping_skills' (it was trained for protocol 'cbt_session')" in err


def test_the_learned_phase_labeller_refuses_an_edited_copy_of_its_protocol(monkeypatch, capsys, tmp_path):
    """A user's copy of cbt_session.yaml that keeps the name but changes the phases: the error says so (a fresh-user
    review, 2026-12-07: it named 'cbt_session' twice)."""
    import yaml

    from helpert.protocols import SHIPPED

    doc = yaml.safe_load((SHIPPED / "cbt_session.yaml").read_text(encoding="utf-8"))
    doc["phases"] = [p for p in doc["phases"] if p["id"] != "bridge"]
    for p in doc["phases"]:
        p["next"] = [n for n in p.get("next", []) if n != "bridge"]
    mine = tmp_path / "mine.yaml"
    mine.write_text(yaml.safe_dump(doc), encoding="utf-8")
    sample = Path(__file__).parent / "data" / "phase_sessions_round78.jsonl"
    rc, _, err = helpert(monkeypatch, capsys, "measure", sample, "--phase-labeller", "model", "--protocol", mine)
    assert rc == 2 and "serves protocol 'cbt_session' (this copy's phases differ from the ones it was trained for: " in err


def test_a_session_with_nothing_to_score_is_named_on_stderr(monkeypatch, capsys, tmp_path):
    """A counselor who only says "mm-hmm" has no scored turn: the empty drift and CTRS are explained, not silent
    (a fresh-user review, 2026-12-07); an ordinary session beside it gets no note."""
    lines = []
    for said, heard in (("Mm-hmm.", "It's been a rough week at work."), ("Okay.", "My manager keeps adding deadlines."),
                        ("I see.", "And I can't sleep because of it."), ("Right.", "I just feel stuck.")):
        lines += [f"Counselor: {said}", f"Client: {heard}"]
    (tmp_path / "mmhmm.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (tmp_path / "ordinary.txt").write_text(
        "Counselor: How has your week been?\nClient: Rough, mostly work.\n"
        "Counselor: It sounds like work has been weighing on you. What has been the hardest part?\n"
        "Client: The deadlines, and I can't sleep.\nCounselor: What goes through your mind at night?\n"
        "Client: That I'll fail.\n", encoding="utf-8")
    rc, out, err = helpert(monkeypatch, capsys, "measure", tmp_path / "mmhmm.txt", tmp_path / "ordinary.txt", "--json")
    doc = json.loads(out)
    scores = {s["dialogue_id"]: s["metrics"]["drift.score"] for s in doc["sessions"]}
    assert rc == 0 and scores["mmhmm"] is None and scores["ordinary"] is not None
    assert "1 session(s) with no counselor turn to score (mmhmm)" in err and "ordinary" not in err
