"""Does the labeller call a counselor turn self-disclosure when, and only when, the counselor tells of their own life?

Round 101 (benchmarks/README.md, "MI labeller"). ``drift.self_disclosure_share`` counts a turn whose behaviour code is
``self_disclosure`` (the ESConv strategy head's Self-disclosure) or whose MI codes tell only of the counselor; review 10
found turns about the client counted (a reflection of the client's week, the client's thought said back). Set:
``tests/data/mi_spoken_r101.jsonl`` - 150 exchanges (the client's turn, one counselor turn of 1-3 sentences) written
outside the project, each marked by its writer and again blind by another session: the MI code (``code`` /
``blind_code``, also scored by ``validate_mi_spoken.py``) and whether the turn tells anything of the counselor's own
life, experience or feelings (``discloses`` / ``blind_discloses``). Every annotator's marks are kept.

Each exchange is labelled as a two-turn session by :func:`helpert.label.label_sessions` (the shipped path). The
labeller "says self-disclosure" by its behaviour code, by any sentence's MI code, or either; scored against each
annotator and on the items both mark alike: precision, recall, F1, and the errors' texts.

    .venv/bin/python benchmarks/validate_self_disclosure.py [--name NAME]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import REPO, report  # noqa: E402

SET = REPO / "tests" / "data" / "mi_spoken_r101.jsonl"


def labelled(items: list[dict]) -> list[dict]:
    """Per item: the behaviour code and the MI codes of its counselor turn."""
    from helpert.label import label_sessions
    from helpert.protocols import load_protocol
    from helpert.session import Session, Turn

    sessions = [Session(dialogue_id=d["id"], turns=[Turn(idx=0, role="client", text=d["client"]),
                                                    Turn(idx=1, role="counselor", text=d["counselor"])])
                for d in items]
    out = []
    for s in label_sessions(sessions, load_protocol("cbt_session")):
        t = s.turns[-1]
        out.append({"behaviour": t.labels["behaviour"], "mi": list(t.labels["mi"])})
    return out


def prf(gold: list[bool], said: list[bool]) -> dict:
    tp = sum(g and s for g, s in zip(gold, said))
    fp = sum(s and not g for g, s in zip(gold, said))
    fn = sum(g and not s for g, s in zip(gold, said))
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return {"n": len(gold), "yes": sum(gold), "tp": tp, "fp": fp, "fn": fn, "precision": round(p, 3),
            "recall": round(r, 3), "f1": round(2 * p * r / (p + r), 3) if p + r else 0.0}


def score(items: list[dict], labels: list[dict]) -> dict:
    says = {"behaviour": [x["behaviour"] == "self_disclosure" for x in labels],
            "mi": ["self_disclosure" in x["mi"] for x in labels]}
    says["either"] = [a or b for a, b in zip(says["behaviour"], says["mi"])]
    out: dict = {"items": len(items),
                 "annotators_agree": sum(d["discloses"] == d["blind_discloses"] for d in items)}
    for who, keep in (("agreed", lambda d: d["discloses"] == d["blind_discloses"]), ("writer", lambda d: True),
                      ("blind_coder", lambda d: True)):
        key = "blind_discloses" if who == "blind_coder" else "discloses"
        idx = [i for i, d in enumerate(items) if keep(d)]
        gold = [items[i][key] == "yes" for i in idx]
        out[who] = {k: prf(gold, [v[i] for i in idx]) for k, v in says.items()}
    agreed = [i for i, d in enumerate(items) if d["discloses"] == d["blind_discloses"]]
    out["errors_where_annotators_agree"] = [
        {"id": items[i]["id"], "discloses": items[i]["discloses"], "behaviour": labels[i]["behaviour"],
         "mi": labels[i]["mi"], "counselor": items[i]["counselor"]}
        for i in agreed if (items[i]["discloses"] == "yes") != says["either"][i]]
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--name", default="validate_self_disclosure", help="results/<NAME>.json")
    args = ap.parse_args(argv)
    if not SET.is_file():
        raise SystemExit(f"no set at {SET.relative_to(REPO)}")
    items = [json.loads(line) for line in SET.read_text(encoding="utf-8").splitlines() if line.strip()]
    report(args.name, score(items, labelled(items)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
