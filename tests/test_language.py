"""helpert.text.language: sessions not in English are left unmeasured and named, never scored as if English."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from helpert.io import read_sessions
from helpert.metrics import LANGUAGE_FREE, measure_session
from helpert.protocols import load_protocol
from helpert.safety.screen import NOT_ENGLISH, screen_batch, summarise
from helpert.text.language import MIN_WORDS, check_english
from test_measure_cli import helpert

DATA = Path(__file__).parent / "data"
REPO = Path(__file__).resolve().parents[1]
OTHER = read_sessions(DATA / "other_languages.jsonl")
CBT = load_protocol("cbt_session")


def texts(session):
    return [t.text for t in session.turns]


@pytest.mark.parametrize("session", OTHER, ids=lambda s: s.language)
def test_the_same_exchange_in_ten_other_languages_is_not_english(session):
    check = check_english(texts(session))
    assert not check.english and check.reason
    # a Latin-script language is caught by its function words, another script by its letters
    assert (check.ascii_letters < 0.8) == (session.language in ("ja", "ru"))


def test_the_bundled_sessions_and_short_or_terse_english_are_english():
    for session in read_sessions(REPO / "sessions"):
        assert check_english(texts(session)).english, session.dialogue_id
    assert check_english(["ok thx"]).english  # too short to count function words: the script decides
    chat = "ok thx. yeah idk, just tired lol. work sucks rn, boss mad again. cant sleep either. feel kinda useless tbh. "
    assert check_english([chat * 2]).english  # typed shorthand ("idk", "cant", "thx") counts as English
    assert check_english(["Yesterday I took knife from kitchen and I stood by his door fifteen minutes, next time I "
                          "don't think I will stop, my neighbour plays loud music every night and I told him many times"]).english


def test_a_long_text_needs_english_function_words():
    words = " ".join(["trabajo cansada dormir"] * MIN_WORDS)
    assert not check_english([words]).english
    assert check_english([words[: 5 * 8]]).english  # under MIN_WORDS words: the script alone decides


def test_a_session_not_in_english_keeps_only_its_turn_counts():
    japanese = next(s for s in OTHER if s.language == "ja")
    out = measure_session(japanese, CBT)
    assert out["language.english"] == 0.0
    assert out["talk.counselor_turns"] == 3.0 and out["talk.client_turns"] == 3.0
    assert all(v is None for k, v in out.items() if k not in LANGUAGE_FREE | {"language.english"})
    english = measure_session(read_sessions(REPO / "sessions" / "exam_anxiety.txt")[0], CBT)
    assert english["language.english"] == 1.0 and english["drift.score"] is not None
    assert set(english) == set(out)  # the same keys, so corpus tables and comparisons line up


def test_measure_names_the_sessions_it_left_empty(monkeypatch, capsys):
    rc, out, err = helpert(monkeypatch, capsys, "measure", DATA / "other_languages.jsonl", REPO / "sessions" / "loneliness.csv", "--json")
    assert rc == 0
    doc = {s["dialogue_id"]: s["metrics"] for s in json.loads(out)["sessions"]}
    assert doc["lang_es"]["drift.score"] is None and doc["lang_es"]["language.english"] == 0.0
    assert doc["loneliness"]["language.english"] == 1.0 and doc["loneliness"]["drift.score"] is not None
    assert "10 session(s) not measured" in err and "lang_ja" in err and "loneliness" not in err
    rc, _, err = helpert(monkeypatch, capsys, "measure", REPO / "sessions" / "loneliness.csv")
    assert rc == 0 and "not English" not in err


def test_compare_leaves_the_pairs_out_and_says_so(monkeypatch, capsys, tmp_path):
    from helpert.io import write_sessions

    spanish = next(s for s in OTHER if s.language == "es")
    english = read_sessions(REPO / "sessions" / "loneliness.csv")[0]
    # the "reconstruction" of the Spanish session is English: only the peer side is empty
    reconstruction = english.model_copy(update={"dialogue_id": spanish.dialogue_id})
    write_sessions(tmp_path / "peer.jsonl", [spanish, english])
    write_sessions(tmp_path / "llm.jsonl", [reconstruction, english])
    rc, out, err = helpert(monkeypatch, capsys, "compare", tmp_path / "peer.jsonl", tmp_path / "llm.jsonl", "--json")
    assert rc == 0
    stats = {m["metric"]: m for m in json.loads(out)["metrics"]}
    assert stats["drift.score"]["n"] == 1 and stats["talk.counselor_turns"]["n"] == 2
    assert "1 of 2 peer session(s) are not in English" in err and "LLM session" not in err


def test_screen_reads_them_all_the_same_and_marks_them():
    spanish = next(s for s in OTHER if s.language == "es")
    english = read_sessions(REPO / "sessions" / "loneliness.csv")[0]
    per_session = screen_batch([spanish, english])
    assert all(NOT_ENGLISH in t.assessment.kinds for t in per_session[0])
    assert not any(NOT_ENGLISH in t.assessment.kinds for t in per_session[1])
    assert all(0.0 <= t.assessment.score <= 1.0 and not math.isnan(t.assessment.score) for t in per_session[0])
    assert summarise(per_session).not_english_sessions == 1


def test_screen_warns_and_keeps_one_json_line_per_turn(monkeypatch, capsys):
    rc, out, err = helpert(monkeypatch, capsys, "screen", DATA / "other_languages.jsonl", "--json")
    rows = [json.loads(line) for line in out.splitlines()]
    assert rc == 0 and len(rows) == sum(len(s.client_turns) for s in OTHER)
    assert all(list(r) == ["dialogue_id", "idx", "tier", "kinds", "score"] and NOT_ENGLISH in r["kinds"] for r in rows)
    assert "10 session(s) not in English" in err
    rc, out, _ = helpert(monkeypatch, capsys, "screen", DATA / "other_languages.jsonl")
    assert rc == 0 and "10 session(s) not in English" in out


def test_a_latin_script_session_under_30_words_is_read_as_english_the_documented_limit():
    """README ("English only") and docs/safety.md say so: too few words to count function words."""
    turns = ["Hola, ¿cómo estás hoy?", "Muy mal, no duermo.", "Lo siento mucho. ¿Qué pasa?", "Quiero morirme."]
    found = check_english(turns)
    assert found.words < MIN_WORDS == 30 and found.english
    assert not check_english(turns * 4).english  # the same words, past 30 of them: not English
