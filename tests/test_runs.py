"""The run folder's owner (helpert.replay.runs.Run): the typed manifest and its one settings check, the protocol
found by the file and sha256 the manifest records, and the labelled pairs and comparison computed once
per command. No model: run folders are written the way batch writes them."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from helpert.protocols import SHIPPED as PROTOCOL_DIR, ProtocolError, load_protocol
from helpert.io.atomic import atomic_write_json
from helpert.compare import ComparedRun
from helpert.replay.runs import FINGERPRINT, Manifest, ManifestMismatch, ProtocolRef, Run
from helpert.safety.identity import detector_identity
from test_plot import LLM, PEER, helpert, labelled

SHIPPED = load_protocol("cbt_session")
BACKEND = {"model_file": "tiny.gguf", "model_sha256": "a" * 64, "backend": "llama-cpp", "n_ctx": 4096,
           "sampling": {"temperature": 0.7}}


def manifest(protocol=SHIPPED, seed: int = 7, **rest) -> Manifest:
    return Manifest.build(backend_info=BACKEND, protocol=protocol, seed=seed,
                          args={"paths": ["x.txt"], "max_turns": 4, "risk_sensitivity": "stepped"}, **rest)


def custom_protocol(folder: Path, name: str = "cbt_session", title: str = "My own CBT session") -> Path:
    """The shipped CBT protocol copied elsewhere, with another title (so another sha256) and
    ``name``: by default the shipped protocol's own name."""
    text = (PROTOCOL_DIR / "cbt_session.yaml").read_text(encoding="utf-8")
    text = text.replace("name: cbt_session\n", f"name: {name}\n").replace(
        "title: CBT session (Beck's structure)\n", f"title: {title}\n")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def write_sessions(run: Run, pairs) -> Run:
    for original, reconstruction in pairs:
        d = run.session_dir(original.dialogue_id)
        atomic_write_json(d / "original.json", original.to_record())
        atomic_write_json(d / "reconstruction.json", reconstruction.to_record())
    return run


def make_run(root: Path, protocol=SHIPPED, pairs=None) -> Path:
    second = labelled([("mood_check", "greeting"), ("agenda", "open_question")], "s2")
    write_sessions(Run.create(root, manifest(protocol)), pairs or [(PEER, LLM), (second, second)])
    return root


# --- the manifest -----------------------------------------------------------------------------------


def test_manifest_round_trips_and_keeps_the_written_layout(tmp_path):
    m = manifest(guidance="be warm", guidance_file={"name": "warm", "sha256": "b" * 64}, mode="simulate",
                 client_model={"model_sha256": "c" * 64}, probe={"attribute": "gender"})
    data = m.to_json()
    assert list(data) == ["helpert", "model", "seed", "protocol", "guidance", "retry", "libraries", "python", "platform",
                          "args", "guidance_file", "mode", "client_model", "probe", "safety"]
    assert data["safety"] == detector_identity() and len(data["safety"]["sha256"]) == 64
    assert data["protocol"] == {"name": "cbt_session", "source": str(PROTOCOL_DIR.resolve() / "cbt_session.yaml"),
                                "sha256": SHIPPED.sha256}
    assert Manifest.from_json(json.loads(json.dumps(data))) == m
    assert "mode" not in manifest().to_json()   # a replay's manifest looks as it always did


def test_old_and_hand_written_manifests_are_read():
    # as batch wrote it before Run: the same keys, a protocol without "source" is fine too
    old = {"helpert": "0.1.0", "model": BACKEND, "seed": 3, "protocol": {"name": "cbt_session", "sha256": "f" * 64},
           "guidance": "", "retry": {"attempts": 2}, "libraries": {}, "python": "3.11", "platform": "linux",
           "args": {"max_turns": 4}, "server_note": "kept"}
    m = Manifest.from_json(old)
    assert m.protocol == ProtocolRef("cbt_session", "", "f" * 64) and m.seed == 3 and m.mode == "replay"
    assert m.extra == {"server_note": "kept"}
    assert m.to_json() == {**old, "protocol": {"name": "cbt_session", "source": "", "sha256": "f" * 64}}
    assert Manifest.from_json({"protocol": "helping_skills"}).protocol == ProtocolRef("helping_skills")
    bare = Manifest.from_json({"seed": 0, "args": {}})
    assert bare.protocol is None and bare.mode == "replay" and bare.fingerprint()["risk_sensitivity"] == "lexicon"
    with pytest.raises(ValueError):
        Manifest.from_json(["not", "a", "manifest"])


def test_one_check_refuses_other_settings_in_one_line(tmp_path):
    root = tmp_path / "run"
    Run.create(root, manifest())
    Run.create(root, manifest())                                   # same settings: continues
    with pytest.raises(ManifestMismatch, match=r"different seed \(run: 7, now: 8\); use another --out$") as err:
        Run.create(root, manifest(seed=8))  # both values named (a fresh-user review, 2026-12-07)
    assert "\n" not in str(err.value)
    with pytest.raises(ManifestMismatch, match="holds a replay run"):
        Run.create(root, manifest(mode="simulate"))
    with pytest.raises(ManifestMismatch, match="different protocol_sha256"):
        Run.create(root, manifest(load_protocol(custom_protocol(tmp_path / "p"))))
    assert Run.open(root).manifest.seed == 7                       # a refused start writes nothing
    assert set(manifest().fingerprint()) == set(FINGERPRINT)


def test_a_run_is_not_continued_by_another_crisis_detector(tmp_path, monkeypatch):
    """A resumed run (batch, replay, simulate, the fairness probe) would otherwise mix replays whose safety turns
    came from two detectors."""
    import helpert.safety.risk as risk

    root = tmp_path / "run"
    shipped = detector_identity()
    Run.create(root, manifest())
    head = tmp_path / "risk_head.npz"                      # the shipped head with one byte more: another detector
    head.write_bytes(risk.RISK_HEAD.read_bytes() + b"\0")
    monkeypatch.setattr(risk, "RISK_HEAD", head)
    other = manifest()
    assert other.safety["sha256"] != shipped["sha256"] and other.safety["files"] == shipped["files"]
    with pytest.raises(ManifestMismatch, match=r"different safety_detector \(run: .*, now: .*\); use another --out$"):
        Run.create(root, other)
    monkeypatch.undo()
    Run.create(root, manifest())                           # the same detector again: continues
    from helpert.text import encoder

    with encoder.override(arithmetic="float"):             # the same files in float arithmetic: another detector
        assert detector_identity()["sha256"] != shipped["sha256"]


def test_a_run_begun_before_the_detector_was_recorded_is_refused_clearly(tmp_path):
    root = tmp_path / "run"
    old = {k: v for k, v in manifest().to_json().items() if k != "safety"}
    root.mkdir()
    (root / "manifest.json").write_text(json.dumps(old), encoding="utf-8")
    with pytest.raises(ManifestMismatch, match="did not record its crisis detector") as err:
        Run.create(root, manifest())
    assert "\n" not in str(err.value)
    assert Manifest.read(root / "manifest.json").safety is None          # refused: nothing written


def test_server_report_is_added_to_the_manifest(tmp_path):
    run = Run.create(tmp_path / "run", manifest())
    run.record_server_report({"requests": 3})
    again = Run.open(tmp_path / "run").manifest
    assert again.model == {**BACKEND, "server_reported": {"requests": 3}}
    assert again.fingerprint() == manifest().fingerprint()


# --- the protocol, by file and sha256 -----------------------------------------------------------------


def test_a_custom_protocol_with_the_shipped_name_is_found_by_its_file(tmp_path):
    path = custom_protocol(tmp_path / "elsewhere")
    custom = load_protocol(path)
    assert custom.name == SHIPPED.name and custom.sha256 != SHIPPED.sha256
    root = make_run(tmp_path / "run", custom)
    found = Run.open(root).protocol()
    assert found.title == "My own CBT session" and found.sha256 == custom.sha256
    assert Path(found.source) == path.resolve()


def test_a_custom_protocol_outside_the_search_folders_is_found(tmp_path, monkeypatch):
    path = custom_protocol(tmp_path / "elsewhere", name="my_cbt")
    root = make_run(tmp_path / "run", load_protocol(path))
    monkeypatch.chdir(tmp_path / "run")            # another working folder: the recorded path is absolute
    assert Run.open(root).protocol().name == "my_cbt"


def test_a_changed_protocol_file_is_refused_in_one_line(tmp_path):
    path = custom_protocol(tmp_path / "elsewhere")
    root = make_run(tmp_path / "run", load_protocol(path))
    path.write_text(path.read_text(encoding="utf-8").replace("My own CBT session", "Edited since"), encoding="utf-8")
    with pytest.raises(ProtocolError, match="has changed since") as err:
        Run.open(root).protocol()
    assert "\n" not in str(err.value)
    # an explicit protocol still overrides the recorded one
    assert Run.open(root, SHIPPED).protocol() is SHIPPED


def test_a_missing_protocol_file_falls_back_only_to_the_same_sha256(tmp_path):
    copy = tmp_path / "copy" / "cbt_session.yaml"             # a byte-identical copy of the shipped file
    copy.parent.mkdir()
    copy.write_bytes((PROTOCOL_DIR / "cbt_session.yaml").read_bytes())
    root = make_run(tmp_path / "same", load_protocol(copy))
    copy.unlink()
    assert Run.open(root).protocol().sha256 == SHIPPED.sha256  # the shipped file has the recorded sha256

    path = custom_protocol(tmp_path / "elsewhere")
    other = make_run(tmp_path / "other", load_protocol(path))
    path.unlink()
    with pytest.raises(ProtocolError, match="no protocol of that name has that sha256") as err:
        Run.open(other).protocol()
    assert "\n" not in str(err.value)


def test_manifests_without_a_sha256_load_the_protocol_by_name(tmp_path):
    root = make_run(tmp_path / "run")
    atomic_write_json(root / "manifest.json", {"protocol": "helping_skills"})
    assert Run.open(root).protocol().name == "helping_skills"
    (root / "manifest.json").unlink()                 # no manifest: the reconstruction's meta, else cbt_session
    assert Run.open(root).protocol().name == "cbt_session"


def test_custom_protocol_round_trips_through_compare_and_report(tmp_path, monkeypatch, capsys):
    path = custom_protocol(tmp_path / "elsewhere", name="my_cbt", title="My CBT")
    root = make_run(tmp_path / "run", load_protocol(path))
    rc, out, err = helpert(monkeypatch, capsys, "compare", root, "--json")
    assert rc == 0, err
    doc = json.loads(out)
    assert doc["protocol"] == "my_cbt" and doc["protocol_sha256"] == load_protocol(path).sha256
    rc, out, err = helpert(monkeypatch, capsys, "report", root)
    assert rc == 0, err
    html = Path(out.strip()).read_text(encoding="utf-8")
    assert "my_cbt — My CBT" in html and str(path.resolve()) in html
    path.write_text(path.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    rc, _, err = helpert(monkeypatch, capsys, "report", root)
    assert rc == 2 and "has changed since" in err and len(err.strip().splitlines()) == 1


# --- computed once ------------------------------------------------------------------------------------


@pytest.fixture
def counted(monkeypatch):
    """Counts of label_sessions calls and session files read."""
    import helpert.label
    import helpert.replay.runs

    counts = {"label": 0, "read": 0}
    label, read = helpert.label.label_sessions, helpert.replay.runs._one_session

    def counting_label(*a, **kw):
        counts["label"] += 1
        return label(*a, **kw)

    def counting_read(path):
        counts["read"] += 1
        return read(path)

    monkeypatch.setattr(helpert.label, "label_sessions", counting_label)
    monkeypatch.setattr(helpert.replay.runs, "_one_session", counting_read)
    return counts


@pytest.fixture
def unlabelled_run(tmp_path):
    """Two pairs whose counselor turns carry no phase, so every reader must label them."""
    a = labelled([(None, "greeting"), (None, "open_question")], "a")
    b = labelled([(None, "open_question"), (None, "reflection"), (None, "other")], "b")
    return make_run(tmp_path / "run", pairs=[(a, b.model_copy(update={"dialogue_id": "a"})), (b, a.model_copy(
        update={"dialogue_id": "b"}))])


@pytest.mark.parametrize("view", ["show", "plot", "report"])
def test_each_view_reads_and_labels_the_run_once(unlabelled_run, counted, view):
    from rich.console import Console

    from helpert.report.plot import plot_run
    from helpert.report.html import write_report
    from helpert.report.show import print_run

    {"show": lambda: print_run(unlabelled_run, console=Console(file=io.StringIO())),
     "plot": lambda: plot_run(unlabelled_run), "report": lambda: write_report(unlabelled_run)}[view]()
    assert counted == {"label": 2, "read": 4}   # one labeller batch per side; 2 pairs x 2 files


def test_one_run_serves_show_plot_and_report_as_demo_does(unlabelled_run, counted):
    from rich.console import Console

    from helpert.report.plot import plot_run
    from helpert.report.html import write_report
    from helpert.report.show import print_run

    run = ComparedRun.open(unlabelled_run)
    print_run(run, console=Console(file=io.StringIO()))
    plot_run(run)
    write_report(run)
    assert counted == {"label": 2, "read": 4}
    assert run.comparison() is run.comparison() and run.labelled() is run.labelled()
    assert [o.dialogue_id for o, _ in run.labelled()] == ["a", "b"]
    assert all(t.labels.get("phase") for _, r in run.labelled() for t in r.counselor_turns)


def test_no_pairs_is_one_error(tmp_path, monkeypatch, capsys):
    from helpert.replay.runs import NoPairsError

    Run.create(tmp_path / "run", manifest())
    with pytest.raises(NoPairsError, match="no session folder"):
        ComparedRun.open(tmp_path / "run").labelled()
    rc, _, err = helpert(monkeypatch, capsys, "report", tmp_path / "run")
    assert rc == 2 and "no session folder" in err


def test_a_local_run_loads_the_detector_before_its_model_and_lets_the_model_go_when_it_ends(fake_chat, monkeypatch,
                                                                                           tmp_path):
    """Memory (benchmarks/startup_memory.py): the crisis detector's encoder is built before the chat model is
    loaded, so the graph's building does not add to the model's memory, and the in-process worker lets the model go
    when the run ends, so `helpert replay`'s labelling and comparison run without it."""
    import gc
    import weakref

    import helpert.replay.llm as llm
    from conftest import backend_of
    from helpert.replay.batch import RunOptions, run_batch
    from helpert.text import encoder

    seen, models = {}, []

    def load(*args, **kwargs):
        seen["encoder built"] = encoder._runtime.cache_info().currsize == 1
        backend = backend_of(fake_chat(script=["How has your week been?"]), info={"backend": "fake"})
        models.append(weakref.ref(backend))
        return backend

    monkeypatch.setattr(llm, "load_backend", load)
    encoder._runtime.cache_clear()
    summary = run_batch([str(Path(__file__).resolve().parent.parent / "sessions" / "loneliness.csv")],
                        tmp_path / "run", RunOptions(max_turns=2))
    assert summary.replayed == 1 and not summary.failed
    assert seen == {"encoder built": True}
    gc.collect()  # nothing but a cycle collection may stand between the run's end and the model's release
    assert len(models) == 1 and models[0]() is None


def test_batch_picks_several_dialogues_and_names_the_ids_it_cannot_find(tmp_path):
    """`helpert batch --dialogue A --dialogue B`: a corpus study of a few sessions of a large file (a fresh-user review,
    2026-12-07, wrote its own JSONL of three lines to get them)."""
    from helpert.io import TranscriptError, write_sessions
    from helpert.replay.batch import load_corpus

    path = tmp_path / "corpus.jsonl"
    write_sessions(path, [PEER.model_copy(update={"dialogue_id": f"s{i}"}) for i in range(4)])
    errors: list = []
    assert [s.dialogue_id for s in load_corpus([str(path)], errors, ("s3", "s1"))] == ["s1", "s3"]  # corpus order
    assert [s.dialogue_id for s in load_corpus([str(path)], errors, "s2")] == ["s2"]
    with pytest.raises(TranscriptError, match=r"no dialogue with id 's9', 's8' \(ids look like: s0, s1"):
        load_corpus([str(path)], errors, ("s1", "s9", "s8"))
    assert errors == []
