"""The HTML report, parsed with the standard library: tables, embedded images, a phase tag on every
counselor turn, transcripts aligned by slot, escaped text, nothing loaded from outside."""

from __future__ import annotations

import base64
from html.parser import HTMLParser

import pytest

from helpert.metrics import MAIN_METRICS
from helpert.report.html import write_report
from test_plot import LLM, PEER, helpert, labelled, write_run

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
EVIL = '<script>alert("x")</script> & <b>bold</b>'


class Node:
    def __init__(self, tag: str, attrs: dict[str, str | None], parent: "Node | None" = None):
        self.tag, self.attrs, self.parent = tag, attrs, parent
        self.children: list[Node | str] = []

    @property
    def classes(self) -> set[str]:
        return set((self.attrs.get("class") or "").split())

    def find_all(self, tag: str | None = None, cls: str | None = None) -> list["Node"]:
        found = []
        for child in self.children:
            if isinstance(child, Node):
                if (tag is None or child.tag == tag) and (cls is None or cls in child.classes):
                    found.append(child)
                found += child.find_all(tag, cls)
        return found

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)


class Tree(HTMLParser):
    """A minimal DOM: enough to walk tables, cells and spans (the report closes every element)."""

    def __init__(self, source: str):
        super().__init__(convert_charrefs=True)
        self.root = self.current = Node("#document", {})
        self.feed(source)
        self.close()

    def handle_starttag(self, tag, attrs):
        node = Node(tag, dict(attrs), self.current)
        self.current.children.append(node)
        if tag not in VOID:
            self.current = node

    def handle_endtag(self, tag):
        node = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        assert node is not None, f"</{tag}> closes nothing"
        self.current = node.parent

    def handle_data(self, data):
        self.current.children.append(data)


def rows(table: Node) -> list[list[str]]:
    return [[cell.text().strip() for cell in tr.children if isinstance(cell, Node) and cell.tag in ("td", "th")]
            for tr in table.find_all("tr")]


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """One report for the module (rendering the pictures takes seconds); tests only read it."""
    tmp_path = tmp_path_factory.mktemp("report")
    evil_peer = PEER.model_copy(deep=True)
    evil_peer.turns[1].text = EVIL                        # the first counselor turn of the peer
    evil_peer.turns[0].text = "client says <i>hi</i> & \"bye\""
    short = labelled([("mood_check", "greeting"), ("agenda", "open_question")], "s2")
    long = labelled([("mood_check", "open_question"), ("agenda", "open_question"), ("identify_thoughts", "reflection")],
                    "s2", plan=True)
    root = write_run(tmp_path / "run", [(evil_peer, LLM), (short, long)])
    path = write_report(root)
    return root, path, path.read_text(encoding="utf-8")


def test_report_is_one_self_contained_file(report):
    root, path, html = report
    assert path == root / "report.html"
    tree = Tree(html).root
    assert not tree.find_all("script") and not tree.find_all("link") and not tree.find_all("iframe")
    for node in tree.find_all():
        for attr in ("src", "href"):
            value = node.attrs.get(attr)
            assert value is None or value.startswith(("data:", "#")), value
    assert "@import" not in html and "url(" not in html
    assert sorted(p.name for p in root.iterdir()) == ["comparison.csv", "corpus.json", "manifest.json", "report.html",
                                                      "sessions"]   # written atomically: no temp file left


def test_report_embeds_the_pictures_as_png(report):
    _, _, html = report
    imgs = Tree(html).root.find_all("img")
    # corpus differences + protocol, then per session flow, timeline, scores
    assert len(imgs) == 2 + 2 * 3
    for img in imgs:
        src = img.attrs["src"]
        assert src.startswith("data:image/png;base64,") and img.attrs.get("alt")
        assert base64.b64decode(src.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"


def test_report_tables(report):
    _, _, html = report
    tree = Tree(html).root
    manifest = dict(r[:2] for r in rows(tree.find_all("table", "manifest")[0]))
    assert manifest["seed"] == "7" and manifest["model"].startswith("tiny.gguf")
    assert manifest["protocol"].startswith("cbt_session") and manifest["sessions"].startswith("2 compared")
    corpus = rows(tree.find_all("table", "corpus")[0])
    assert corpus[0] == ["metric", "n", "peer", "LLM", "diff [95% CI]", "dz", "p"]
    shown = [r[0].split(" (")[0] for r in corpus[1:]]
    assert shown == [m for m in MAIN_METRICS if m in shown] and "drift.score" in shown and "ctrs.mean" in shown
    drift = next(r for r in corpus if r[0] == "drift.score (lower = better)")  # which way is better, beside the name
    assert any(r[0] == "ctrs.mean (higher = better)" for r in corpus)
    assert drift[1] == "2" and "[" in drift[4]            # two pairs: a bootstrap CI is shown
    assert "Only 2 session pairs" in tree.find_all("section")[1].text()    # the small-sample warning
    sessions = tree.find_all("table", "session-metrics")
    assert len(sessions) == 2 and rows(sessions[0])[0] == ["metric", "meaning", "peer", "LLM", "LLM − peer"]


def test_every_counselor_turn_carries_a_phase_tag_aligned_by_slot(report):
    _, _, html = report
    tree = Tree(html).root
    transcripts = tree.find_all("table", "transcript")
    assert len(transcripts) == 2
    for table, (original, reconstruction) in zip(transcripts, [(PEER, LLM), (None, None)]):
        cells = table.find_all("td", "counselor")
        for cell in cells:
            tags = cell.find_all("span", "phase")
            assert len(tags) == 1 and tags[0].attrs["data-phase"] and tags[0].text() == tags[0].attrs["data-phase"]
            assert cell.find_all("span", "behaviour")
        if original is not None:
            assert len(cells) == len(original.counselor_turns) + len(reconstruction.counselor_turns)
            for turn in reconstruction.counselor_turns:
                row = next(tr for tr in table.find_all("tr") if tr.attrs.get("data-slot") == str(turn.meta["slot"]))
                llm = row.find_all("td", "llm")[0]
                assert llm.find_all("div", "text")[0].text() == turn.text
                assert llm.find_all("span", "phase")[0].text() == turn.labels["phase"]
    # the second session: the peer stopped after 2 slots, the LLM went on to a third
    last = transcripts[1].find_all("tr")[-1]
    assert last.attrs["data-slot"] == "2" and last.find_all("td", "empty") and last.find_all("td", "counselor")


def test_a_router_phase_the_model_did_not_follow_is_tagged(report):
    _, _, html = report
    table = Tree(html).root.find_all("table", "transcript")[0]
    plans = table.find_all("span", "plan")
    assert len(plans) == 1 and plans[0].text() == "asked: identify_thoughts"
    assert plans[0].parent.parent.parent.attrs["data-slot"] == "4"


def test_drift_turns_are_tagged(report):
    _, _, html = report
    table = Tree(html).root.find_all("table", "transcript")[0]
    drift_slots = {tr.attrs["data-slot"] for tr in table.find_all("tr") if "drift-peer" in (tr.attrs.get("class") or "")}
    assert drift_slots == {"2", "3", "5"}
    tagged = [td for td in table.find_all("td", "peer") if td.find_all("span", "drift")]
    assert len(tagged) == 3


def test_transcript_text_is_escaped(report):
    _, _, html = report
    assert EVIL not in html and "<i>hi</i>" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in html
    table = Tree(html).root.find_all("table", "transcript")[0]
    first = next(tr for tr in table.find_all("tr") if tr.attrs.get("data-slot") == "0")
    assert first.find_all("td", "peer")[0].find_all("div", "text")[0].text() == EVIL   # round-trips to the same words
    assert first.find_all("td", "client")[0].text() == "client says <i>hi</i> & \"bye\""


def test_session_ids_are_escaped_and_linked(tmp_path):
    odd = labelled([("mood_check", "greeting")], 'a<b>"c')
    root = write_run(tmp_path / "run", [(odd, odd)])
    html = write_report(root).read_text()
    assert 'a<b>"c' not in html
    tree = Tree(html).root
    target = tree.find_all("section", "session")[0].attrs["id"]
    assert [a.attrs["href"] for a in tree.find_all("a")] == [f"#{target}"]


def test_cli_report(monkeypatch, capsys, tmp_path):
    root = write_run(tmp_path / "run", [(PEER, LLM)])
    rc, out, _ = helpert(monkeypatch, capsys, "report", root)
    assert rc == 0 and out.strip() == str(root / "report.html")
    assert Tree((root / "report.html").read_text()).root.find_all("table", "transcript")
    (tmp_path / "empty").mkdir()
    rc, _, err = helpert(monkeypatch, capsys, "report", tmp_path / "empty")
    assert rc == 2 and "no session folder" in err


def test_safety_turns_show_their_tier():
    from helpert.report.html import _tags
    from helpert.session import Turn

    check = Turn(idx=0, role="counselor", text="Have you had thoughts of ending your life?",
                 labels={"phase": "safety", "graph_phase": "safety"}, meta={"safety_tier": "check"})
    assert 'class="tag safety"' in _tags(check, {}, []) and "safety: check" in _tags(check, {}, [])
    plain = check.model_copy(update={"meta": {}})
    assert "tag safety" not in _tags(plain, {}, [])


def test_a_simulation_shows_the_client_the_llm_answered_beside_the_peers_client(tmp_path):
    """Found by a fresh user: the report of a `simulate` run showed the original client's words for both sides and
    called the run a replay."""
    import json

    simulated = LLM.model_copy(deep=True)
    client_turn = next(t for t in simulated.turns if t.role == "client")
    client_turn.text = "SIMULATED: the client model's own words"
    root = write_run(tmp_path / "run", [(PEER, simulated)])
    manifest = json.loads((root / "manifest.json").read_text())
    (root / "manifest.json").write_text(json.dumps({**manifest, "mode": "simulate"}))
    html = write_report(root).read_text(encoding="utf-8")
    assert "SIMULATED: the client model&#x27;s own words" in html  # escaped, as every transcript text
    assert "simulated client (what the LLM answered)" in html and "peer's client" in html
    assert "simulated through the cbt_session graph with a client model" in html
    assert "<th>mode</th><td>simulate; client model" in html
    assert "the client's words are the same in both" not in html and "the client&#x27;s words are the same" not in html


def test_a_replay_shows_one_client_column_and_says_so(report):
    _, _, html = report
    assert "replay through the cbt_session graph" in html and "simulated client" not in html


def test_the_small_sample_note_says_no_ci_for_one_pair():
    import pandas as pd

    from helpert.report.html import _small_sample_note

    one, two = (_small_sample_note(pd.DataFrame({"n": [n]})) for n in (1, 2))
    assert "One session pair: no CI" in one and "too narrow" not in one  # no CI was computed to be narrow
    assert "Only 2 session pairs" in two and _small_sample_note(pd.DataFrame({"n": [10]})) == ""
