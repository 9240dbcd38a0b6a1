"""Pictures: what the flow graph, the timeline, the score plots and the protocol drawings draw
(nodes, edges, weights, styles, colours, positions), read back from the figures' artists; and
`plot_run` / `helpert plot` / `helpert protocol draw` on a hand-made run folder (no model)."""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_rgba

from helpert.cli.errors import run_cli
from helpert.cli.main import cli
from helpert.compare import compare_corpus, compare_sessions
from helpert.report.plot import plot_run
from helpert.report.plot.common import (
    ALLOWED_COLOUR,
    DISALLOWED_COLOUR,
    OFF_PROTOCOL_COLOUR,
    SAFETY_COLOUR,
    phase_colours,
    phase_order,
    save_figure,
)
from helpert.report.plot.flow import ALLOWED, CRISIS, DISALLOWED, draw_flow, draw_flow_pair, flow_graph, flow_layout
from helpert.report.plot.protocol_draw import (
    CANONICAL,
    LOOP,
    SKIP,
    draw_langgraph,
    draw_protocol,
    langgraph_graph,
    langgraph_layout,
    protocol_graph,
    protocol_mermaid,
    write_protocol_pictures,
)
from helpert.report.plot.scores import CTRS_KEYS, draw_corpus_differences, draw_session_scores
from helpert.report.plot.timeline import draw_timeline, drift_reasons
from helpert.protocols import load_protocol
from helpert.io.atomic import atomic_write_json
from helpert.compare import ComparedRun
from helpert.replay.runs import Run
from helpert.session import Session, Turn

CBT = load_protocol("cbt_session")
HS = load_protocol("helping_skills")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def labelled(spec: list[tuple[str | None, str]], dialogue_id: str = "d1", plan: bool = False) -> Session:
    """A replay-shaped session: client turn, then counselor turn k with meta slot k and the given
    (phase, behaviour) labels; phase None = an unlabelled counselor turn. ``plan`` adds graph_phase."""
    turns: list[Turn] = []
    for k, (phase, behaviour) in enumerate(spec):
        turns.append(Turn(idx=len(turns), role="client", text=f"client {k}: it has been a hard week"))
        labels = {"behaviour": behaviour, "empathy": {"emotional_reactions": 1, "interpretations": 0, "explorations": 2}}
        if phase is not None:
            labels["phase"] = phase
        if plan and phase is not None:
            labels["graph_phase"] = phase
        turns.append(Turn(idx=len(turns), role="counselor", text=f"{dialogue_id} counselor {k}: what was that like for you?", labels=labels,
                          meta={"slot": k}))
    return Session(dialogue_id=dialogue_id, turns=turns)


# mood ×2, (unlabelled), agenda, off, agenda, identify, agenda, identify, safety, identify
FLOW = labelled([("mood_check", "greeting"), ("mood_check", "open_question"), (None, "other"), ("agenda", "open_question"),
                 ("off_protocol", "other"), ("agenda", "open_question"), ("identify_thoughts", "open_question"),
                 ("agenda", "structuring"), ("identify_thoughts", "open_question"), ("safety", "other"),
                 ("identify_thoughts", "reflection")])
# slot 0 ritual greeting; 2 self-disclosure; 3 off protocol; 5 identify -> mood_check not allowed
PEER = labelled([("mood_check", "greeting"), ("agenda", "open_question"), ("agenda", "self_disclosure"),
                 ("off_protocol", "other"), ("identify_thoughts", "open_question"), ("mood_check", "closed_question"),
                 ("agenda", "open_question")])
LLM = labelled([("mood_check", "open_question"), ("agenda", "open_question"), ("identify_thoughts", "open_question"),
                ("evaluate_thoughts", "open_question"), ("evaluate_thoughts", "reflection"),
                ("change_strategy", "suggestion"), ("final_summary", "structuring")], plan=True)
LLM.counselor_turns[4].labels["graph_phase"] = "identify_thoughts"   # the router asked for something else


def by_gid(fig, prefix: str) -> dict[str, object]:
    return {a.get_gid(): a for a in fig.findobj(lambda a: (a.get_gid() or "").startswith(prefix))}


# --- flow graph ------------------------------------------------------------------------------------


def test_flow_graph_nodes_edges_and_weights():
    g = flow_graph(FLOW, CBT)
    assert dict(g.nodes(data="turns")) == {"mood_check": 2, "agenda": 3, "off_protocol": 1, "identify_thoughts": 3,
                                            "safety": 1}
    assert {(u, v): (d["weight"], d["kind"]) for u, v, d in g.edges(data=True)} == {
        ("mood_check", "agenda"): (1, ALLOWED),           # the unlabelled turn between them is looked through
        ("agenda", "off_protocol"): (1, DISALLOWED),
        ("off_protocol", "agenda"): (1, DISALLOWED),
        ("agenda", "identify_thoughts"): (2, ALLOWED),
        ("identify_thoughts", "agenda"): (1, DISALLOWED),  # identify_thoughts only allows evaluate_thoughts
        ("identify_thoughts", "safety"): (1, CRISIS),
        ("safety", "identify_thoughts"): (1, CRISIS),
    }
    assert g.graph["start"] == "mood_check"
    assert not any(u == v for u, v in g.edges)   # staying is node size, not an edge


def test_flow_graph_of_an_unlabelled_session_is_empty_and_still_draws():
    g = flow_graph(labelled([(None, "other")] * 3), CBT)
    assert g.number_of_nodes() == 0 and g.graph["start"] is None
    fig = draw_flow(labelled([(None, "other")] * 3), CBT)
    assert not by_gid(fig, "edge:") and "0 labelled turns" in fig.axes[0].get_title(loc="left")


def test_flow_edges_are_styled_by_whether_the_protocol_allows_them():
    fig = draw_flow(FLOW, CBT)
    edges = by_gid(fig, "edge:")
    assert set(edges) == {f"edge:{u}->{v}" for u, v in flow_graph(FLOW, CBT).edges}
    allowed, twice = edges["edge:mood_check->agenda"], edges["edge:agenda->identify_thoughts"]
    bad = edges["edge:identify_thoughts->agenda"]
    assert allowed.get_linestyle() in ("-", "solid") and allowed.get_edgecolor() == to_rgba(ALLOWED_COLOUR)
    assert bad.get_linestyle() in ("--", "dashed") and bad.get_edgecolor() == to_rgba(DISALLOWED_COLOUR)
    assert edges["edge:agenda->off_protocol"].get_edgecolor() == to_rgba(DISALLOWED_COLOUR)
    assert edges["edge:identify_thoughts->safety"].get_linestyle() in (":", "dotted")
    assert twice.get_linewidth() > allowed.get_linewidth()   # weight 2 drawn wider than weight 1


def test_flow_nodes_are_sized_by_turns_and_coloured_by_phase():
    fig = draw_flow(FLOW, CBT)
    nodes = by_gid(fig, "flow-nodes")["flow-nodes"]
    order = list(flow_graph(FLOW, CBT).nodes)
    sizes = dict(zip(order, nodes.get_sizes()))
    assert sizes["agenda"] == sizes["identify_thoughts"] > sizes["mood_check"] > sizes["safety"] == sizes["off_protocol"]
    colours = phase_colours(CBT)
    assert [tuple(c) for c in nodes.get_facecolors()] == [to_rgba(colours[n]) for n in order]
    pos = flow_layout(CBT, order)
    assert np.allclose(nodes.get_offsets(), [pos[n] for n in order])


def test_flow_layout_follows_the_canonical_path_left_to_right():
    pos = flow_layout(CBT)
    xs = [pos[p][0] for p in CBT.canonical_path]
    assert xs == sorted(xs) and len(set(xs)) == len(xs)
    assert {pos[p][1] for p in CBT.canonical_path} == {0.0}
    assert pos["off_protocol"][1] < 0 and pos["safety"][1] < 0


def test_flow_pair_uses_the_same_positions_in_both_panels():
    fig = draw_flow_pair(PEER, LLM, CBT)
    peer_ax, llm_ax = fig.axes
    labels = [{t.get_gid(): t.xy for t in ax.texts if (t.get_gid() or "").startswith("label:")} for ax in (peer_ax, llm_ax)]
    assert labels[0] == labels[1] and "label:off_protocol" in labels[0] and "label:homework" in labels[0]
    layouts = [next(c for c in ax.collections if c.get_gid() == "flow-layout").get_offsets() for ax in fig.axes]
    assert np.array_equal(layouts[0], layouts[1])
    assert peer_ax.get_xlim() == llm_ax.get_xlim() and peer_ax.get_ylim() == llm_ax.get_ylim()
    # the peer visited off_protocol, the LLM did not: both panels still place it at the same point
    visited = [set(flow_graph(s, CBT)) for s in (PEER, LLM)]
    assert "off_protocol" in visited[0] - visited[1]


# --- timeline ---------------------------------------------------------------------------------------


def test_phase_colours_are_distinct_and_fixed():
    colours = phase_colours(CBT)
    assert list(colours) == phase_order(CBT)
    assert len(set(colours.values())) == len(colours)
    assert colours["off_protocol"] == OFF_PROTOCOL_COLOUR and colours["safety"] == SAFETY_COLOUR
    assert phase_colours(load_protocol("cbt_session")) == colours


def test_timeline_cells_are_coloured_by_phase():
    fig = draw_timeline(PEER, LLM, CBT)
    cells = by_gid(fig, "cell:")
    colours = phase_colours(CBT)
    for row, session, key in (("peer", PEER, "phase"), ("LLM", LLM, "phase"), ("LLM plan", LLM, "graph_phase")):
        for t in session.counselor_turns:
            k = t.meta["slot"]
            patch = cells[f"cell:{row}:{k}"]
            assert patch.get_facecolor() == to_rgba(colours[t.labels[key]])
            assert patch.get_x() + patch.get_width() / 2 == pytest.approx(k)
    assert len(cells) == 3 * 7
    assert cells["cell:LLM:4"].get_facecolor() != cells["cell:LLM plan:4"].get_facecolor()
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["peer", "LLM", "LLM plan"]


def test_timeline_marks_drift_turns():
    assert drift_reasons(PEER, CBT) == {2: ["self-disclosure"], 3: ["off protocol"],
                                        5: ["not allowed: identify_thoughts → mood_check"]}
    assert drift_reasons(LLM, CBT) == {}
    fig = draw_timeline(PEER, LLM, CBT)
    marks = by_gid(fig, "drift:")
    assert sorted(marks["drift:peer"].get_offsets()[:, 0]) == [2, 3, 5]
    assert len(marks["drift:LLM"].get_offsets()) == 0


def test_timeline_without_router_labels_has_two_rows_and_leaves_unlabelled_cells_white():
    fig = draw_timeline(PEER, labelled([("agenda", "open_question"), (None, "other")]), CBT)
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["peer", "LLM"]
    assert by_gid(fig, "cell:LLM:1")["cell:LLM:1"].get_facecolor() == to_rgba("white")


# --- scores -------------------------------------------------------------------------------------------


def test_session_scores_draw_the_comparison_row():
    row = pd.Series({"ctrs.agenda.peer": 6.0, "ctrs.agenda.llm": 3.0, "ctrs.homework.peer": float("nan"),
                     "ctrs.homework.llm": 2.0, "empathy.explorations.peer": 1.5, "empathy.explorations.llm": 0.5})
    fig = draw_session_scores(row)
    bars = by_gid(fig, "bar:")
    assert bars["bar:peer:ctrs.agenda"].get_width() == 6.0 and bars["bar:llm:ctrs.agenda"].get_width() == 3.0
    assert bars["bar:llm:empathy.explorations"].get_width() == 0.5
    assert len([b for b in bars if b.startswith("bar:peer:ctrs.")]) == len(CTRS_KEYS)
    assert any(t.get_text() == "n/a" for t in fig.axes[0].texts)       # the missing peer homework score
    assert fig.axes[0].get_xlim() == (0, 6) and fig.axes[1].get_xlim() == (0, 2)


def test_corpus_plot_draws_each_difference_with_its_ci():
    pairs = [(PEER.model_copy(update={"dialogue_id": f"p{i}"}), LLM.model_copy(update={"dialogue_id": f"p{i}"}))
             for i in range(2)]
    pairs.append((labelled([("agenda", "open_question"), ("off_protocol", "other")], "p9"),
                  labelled([("agenda", "reflection"), ("identify_thoughts", "open_question")], "p9")))
    stats = compare_corpus(compare_sessions(pairs, CBT))
    fig = draw_corpus_differences(stats)
    dots = by_gid(fig, "diff:")
    for key in ("drift.score", "ctrs.mean", "adherence.coverage"):
        line = dots[f"diff:{key}"]
        assert line.get_xdata()[0] == pytest.approx(stats.loc[key, "mean_diff"])
        ax = line.axes
        whisker = next(c for c in ax.collections if len(c.get_segments()) and any(
            np.isclose(seg[0][1], line.get_ydata()[0]) for seg in c.get_segments()))
        seg = next(s for s in whisker.get_segments() if np.isclose(s[0][1], line.get_ydata()[0]))
        assert sorted([seg[0][0], seg[1][0]]) == pytest.approx([stats.loc[key, "ci_low"], stats.loc[key, "ci_high"]])
    # counts and totals are on other scales: not drawn
    assert "diff:talk.counselor_turns" not in dots and "diff:ctrs.total" not in dots
    # each metric's name says which way is better: drift and CTRS share one axis
    labels = [t.get_text() for ax in fig.axes for t in ax.get_yticklabels()]
    assert "drift.score (lower = better)" in labels and "ctrs.mean (higher = better)" in labels
    # three pairs: the legend says the intervals mean little (a fresh-user review, 2026-12-07)
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "only 3 pairs: CIs far too narrow to trust" in legend


# --- protocol pictures ----------------------------------------------------------------------------------


def test_protocol_graph_classifies_every_allowed_move():
    g = protocol_graph(CBT)
    assert set(g.nodes) == set(CBT.by_id) and set(g.edges) == set(CBT.edges())
    kinds = {(u, v): d["kind"] for u, v, d in g.edges(data=True)}
    assert sum(k == CANONICAL for k in kinds.values()) == len(CBT.canonical_path) - 1
    assert kinds[("evaluate_thoughts", "identify_thoughts")] == LOOP
    assert kinds[("capsule_summary", "identify_thoughts")] == LOOP
    assert kinds[("mood_check", "agenda")] == SKIP
    assert g.nodes["bridge"]["required"] is False and g.nodes["feedback"]["end"] is True


def test_protocol_drawing_styles_required_and_optional_phases_and_shows_loops():
    fig = draw_protocol(CBT)
    boxes = by_gid(fig, "phase:")
    assert len(boxes) == len(CBT.phases)
    xs = [boxes[f"phase:{p}"].get_x() for p in CBT.canonical_path]
    assert xs == sorted(xs)
    for p in CBT.phases:
        style = boxes[f"phase:{p.id}"].get_linestyle()
        assert (style == "solid" or style == "-") == p.required
    edges = by_gid(fig, "edge:")
    assert len(edges) == len(CBT.edges())
    loop = edges["edge:evaluate_thoughts->identify_thoughts"]
    assert loop.get_linestyle() not in ("-", "solid")


def test_langgraph_graph_is_the_compiled_star():
    g = langgraph_graph(HS)
    phases = [p.id for p in HS.phases]
    assert set(g.nodes) == {"__start__", "route", "safety", "__end__", *phases}
    assert {v for u, v, d in g.edges(data=True) if u == "route" and d["conditional"]} == {*phases, "safety"}
    assert all(g.has_edge(p, "__end__") for p in [*phases, "safety"])
    pos = langgraph_layout(g, HS)
    ys = [pos[p][1] for p in sorted(phases, key=HS.position.__getitem__)] + [pos["safety"][1]]
    assert ys == sorted(ys, reverse=True)      # canonical order top to bottom, safety last
    assert pos["__start__"][0] < pos["route"][0] < pos["exploration"][0] < pos["__end__"][0]
    assert len(by_gid(draw_langgraph(HS), "edge:")) == g.number_of_edges()


def test_protocol_mermaid_lists_phases_and_moves():
    text = protocol_mermaid(CBT)
    assert text.splitlines()[3] == "flowchart LR"
    assert "evaluate_thoughts -. loop .-> identify_thoughts" in text
    assert "mood_check ==> bridge" in text and "mood_check --> agenda" in text
    assert 'feedback[["Feedback"]]' in text
    assert sum(line.strip().startswith(tuple(CBT.by_id)) and "[" in line for line in text.splitlines()) == len(CBT.phases)


def test_write_protocol_pictures(tmp_path):
    paths = write_protocol_pictures(HS, tmp_path)
    assert sorted(p.name for p in paths) == sorted(
        f"helping_skills{s}.{e}" for s in ("", ".langgraph") for e in ("png", "svg", "mmd"))
    assert (tmp_path / "helping_skills.png").read_bytes()[:8] == PNG_MAGIC
    assert ET.parse(tmp_path / "helping_skills.langgraph.svg").getroot().tag.endswith("svg")
    from helpert.replay.graph.build import build_graph

    assert (tmp_path / "helping_skills.langgraph.mmd").read_text() == build_graph(HS).get_graph().draw_mermaid()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in paths)   # no temp files left
    with pytest.raises(ValueError, match="unknown format"):
        write_protocol_pictures(HS, tmp_path, ["gif"])


def test_save_figure_is_atomic(tmp_path):
    target = tmp_path / "x.png"
    save_figure(draw_protocol(HS), target)
    before = target.read_bytes()
    assert before[:8] == PNG_MAGIC
    save_figure(draw_protocol(HS), target)
    assert target.read_bytes() == before                     # same picture, same bytes
    with pytest.raises(ValueError):
        save_figure(draw_protocol(HS), tmp_path / "x.notaformat")
    assert [p.name for p in tmp_path.iterdir()] == ["x.png"]


# --- run folder and CLI ----------------------------------------------------------------------------------


def write_run(root: Path, pairs: list[tuple[Session, Session]], protocol: str = "cbt_session") -> Path:
    """A run folder as batch writes it; the manifest names the shipped protocol and its sha256 (no
    source file: the run finds it by that name and hash)."""
    run = Run(root)
    sha256 = load_protocol(protocol).sha256
    atomic_write_json(run.manifest_path, {"helpert": "0.1.0", "seed": 7, "protocol": {"name": protocol, "sha256": sha256},
                                     "model": {"model_file": "tiny.gguf", "model_sha256": "a" * 64, "backend": "llama-cpp",
                                               "sampling": {"temperature": 0.7}}})
    for original, reconstruction in pairs:
        d = run.session_dir(original.dialogue_id)
        atomic_write_json(d / "original.json", original.to_record())
        atomic_write_json(d / "reconstruction.json", reconstruction.to_record())
    return root


@pytest.fixture
def run_dir(tmp_path):
    second = labelled([("mood_check", "greeting"), ("off_protocol", "other")], "s/2")
    return write_run(tmp_path / "run", [(PEER, LLM), (second, LLM.model_copy(update={"dialogue_id": "s/2"}))])


def test_plot_run_writes_every_picture(run_dir):
    paths = plot_run(run_dir)
    names = sorted(p.name for p in paths)
    assert names == sorted([f"{s}.{k}.png" for s in ("d1", "s_2") for k in ("flow", "timeline", "scores")]
                           + ["corpus.differences.png", "protocol.png"])
    assert all(p.parent == run_dir / "plots" and p.read_bytes()[:8] == PNG_MAGIC for p in paths)
    assert sorted(p.name for p in (run_dir / "plots").iterdir()) == names
    assert (run_dir / "comparison.csv").is_file() and (run_dir / "corpus.json").is_file()


def test_plot_run_recomputes_a_stale_comparison(run_dir):
    first = ComparedRun.open(run_dir).comparison(reuse=True)
    assert set(first.table.index) == {"d1", "s/2"}
    third = labelled([("agenda", "open_question")], "s3")
    write_run(run_dir, [(third, third)])
    again = ComparedRun.open(run_dir).comparison(reuse=True)
    assert set(again.table.index) == {"d1", "s/2", "s3"}
    cached = ComparedRun.open(run_dir).comparison(reuse=True)
    pd.testing.assert_frame_equal(cached.table, again.table, check_dtype=False)
    assert cached.stats.loc["drift.score", "mean_diff"] == pytest.approx(again.stats.loc["drift.score", "mean_diff"])


def helpert(monkeypatch, capsys, *args: object) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["helpert", *map(str, args)])
    rc = run_cli(cli)
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_cli_plot(monkeypatch, capsys, run_dir, tmp_path):
    rc, out, err = helpert(monkeypatch, capsys, "plot", run_dir)
    assert rc == 0 and "wrote 8 pictures" in err
    assert len(out.split()) == 8 and all(Path(p).is_file() for p in out.split())
    (tmp_path / "empty").mkdir()
    rc, _, err = helpert(monkeypatch, capsys, "plot", tmp_path / "empty")
    assert rc == 2 and "no session folder" in err


def test_cli_protocol_draw(monkeypatch, capsys, tmp_path):
    rc, out, _ = helpert(monkeypatch, capsys, "protocol", "draw", "helping_skills", "--out", tmp_path, "--format", "mermaid")
    assert rc == 0 and sorted(Path(p).name for p in out.split()) == ["helping_skills.langgraph.mmd", "helping_skills.mmd"]
    rc, out, _ = helpert(monkeypatch, capsys, "protocol", "draw", "helping_skills", "--out", tmp_path, "--format", "svg")
    assert rc == 0 and sorted(Path(p).name for p in out.split()) == ["helping_skills.langgraph.svg", "helping_skills.svg"]
    rc, _, err = helpert(monkeypatch, capsys, "protocol", "draw", "no_such_protocol", "--out", tmp_path)
    assert rc == 2 and "unknown protocol" in err
