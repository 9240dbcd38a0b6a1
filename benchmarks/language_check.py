"""How :func:`helpert.text.language.check_english` reads English corpora and other languages.

Every metric but the turn counts is left empty for a session the check finds not English, and ``helpert screen``
marks its turns ``not_english``; so an English session misread as another language loses its metrics. This script
counts, per corpus, the sessions found not English and the lowest share of English function words
(``ENGLISH_ONLY``) among the sessions with at least ``MIN_WORDS`` words:

* English: the sessions of ../shared this project may read (ESConv's 195 validation dialogues, HOPE, MIBot's 106
  chats; the ESConv test split, AnnoMI and KokoroChat are never read), every transcript in tests/data (the rated
  written sets a-o, the expert and written CBT demonstrations, the ordinary transcripts of the crisis rounds, the
  risk statements, each as a session of its own) and the bundled sessions;
* other languages: ``tests/data/other_languages.jsonl``, one counseling exchange written in ten languages for this
  check (2026-12-06). **In-sample**: it was read when the thresholds were set, as were ESConv, HOPE, MIBot, the
  rated sets and the bundled sessions (the rest was counted after).

    .venv/bin/python benchmarks/language_check.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO, SHARED, report  # noqa: E402


def corpora() -> dict[str, list[tuple[str, list[str]]]]:
    """Per corpus: (id, texts of the session or statement)."""
    from helpert.io import read_sessions

    data = REPO / "tests" / "data"
    out = {}
    for name, path in (("esconv_valid_195", SHARED / "esconv" / "esconv_valid_195.jsonl"),
                       ("hope_sample", SHARED / "hope" / "hope_sample.jsonl"), ("mibot", SHARED / "mi" / "mibot_v63a.jsonl")):
        if path.is_file():
            out[name] = read_sessions(path)
    out["bundled sessions"] = read_sessions(REPO / "sessions")
    out["rated written sets a-o"] = [s for p in sorted(data.glob("quality_sessions_*.jsonl")) for s in read_sessions(p)]
    out["CBT demonstrations"] = read_sessions(data / "expert_cbt") + read_sessions(data / "expert_cbt_fresh")
    out["ordinary transcripts (crisis rounds)"] = [s for p in sorted(data.glob("risk_ordinary_*.jsonl")) if not p.stem.endswith("_labels") for s in read_sessions(p)]
    out = {name: [(s.dialogue_id, [t.text for t in s.turns]) for s in sessions] for name, sessions in out.items()}
    out["risk statements and hard negatives"] = [(r["id"], [r["text"]]) for p in sorted(data.glob("risk_heldout_*.jsonl"))
                                                 for r in map(json.loads, p.read_text(encoding="utf-8").splitlines()) if r.get("text")]
    return out


def main() -> None:
    from helpert.io import read_sessions
    from helpert.text.language import MIN_WORDS, check_english

    def row(sessions: list[tuple[str, list[str]]]) -> dict:
        checks = [check_english(texts) for _, texts in sessions]
        shares = [c.function_share for c in checks if c.words >= MIN_WORDS]
        return {"sessions": len(checks), "not_english": sum(not c.english for c in checks),
                "sessions_with_min_words": len(shares), "lowest_function_share": round(min(shares), 3) if shares else None,
                "not_english_ids": [i for (i, _), c in zip(sessions, checks) if not c.english][:20]}

    english = {name: row(sessions) for name, sessions in corpora().items()}
    others = {}
    for s in read_sessions(REPO / "tests" / "data" / "other_languages.jsonl"):
        c = check_english(t.text for t in s.turns)
        others[s.language] = {"english": c.english, "ascii_letters": round(c.ascii_letters, 3),
                              "function_share": round(c.function_share, 3), "words": c.words}
    report("language_check", {"english_corpora": english, "other_languages": others})


if __name__ == "__main__":
    main()
