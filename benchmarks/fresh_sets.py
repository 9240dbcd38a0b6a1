"""Blind copies and merges of the fresh crisis-risk sets that assistant sessions write for a round (issue #16;
benchmarks/README.md, "Crisis-risk detector"; the instructions of each round in tests/data/roundNN_instructions.md).

A round's writers leave their sets outside the repository; the blind annotators must see the texts only, shuffled
under random ids, and the sets enter ``tests/data`` only after both labels exist. Until round 54 this was done by
scripts kept outside the repository; these four commands are those scripts:

    # statements: writers' files (id, text, risk, kinds) -> one shuffled file for the blind labeller, and its key
    .venv/bin/python benchmarks/fresh_sets.py blind-statements z58=/w/z58.jsonl z59=/w/z59.jsonl \\
        --out /w/blind_z5859 --key /keys/z5859.json --seed 5459
    # after the labeller wrote /w/blind_z5859/labels.jsonl: tests/data/risk_heldout_z58.jsonl and _z59.jsonl, both labels kept
    .venv/bin/python benchmarks/fresh_sets.py merge-statements z58=/w/z58.jsonl z59=/w/z59.jsonl \\
        --labels /w/blind_z5859/labels.jsonl --key /keys/z5859.json --data tests/data
    # ordinary transcripts ({"session", "turns"}) -> sessions under random ids with numbered client turns, and back
    .venv/bin/python benchmarks/fresh_sets.py blind-transcripts /w/ord26a.jsonl --out /w/blind_ord26a --key /keys/ord26a.json --seed 541
    .venv/bin/python benchmarks/fresh_sets.py merge-transcripts /w/ord26a.jsonl --labels /w/blind_ord26a/labels.jsonl \\
        --key /keys/ord26a.json --out tests/data/risk_ordinary_round54a.jsonl

Each command prints counts and agreement only, never a text: whoever runs it before the round's rule is committed
reads nothing of the fresh sets. The key files map the blind ids back; keep them where the annotators are told not
to read.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path
from typing import Any, Sequence

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import read_jsonl  # noqa: E402

from helpert.io.atomic import atomic_write_text  # noqa: E402

KINDS = ("suicide", "self_harm", "abuse", "harm_to_others")


def _write_jsonl(path: Path, rows: Sequence[dict[str, Any]]) -> None:
    atomic_write_text(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))


def _named(pairs: Sequence[str]) -> dict[str, Path]:
    """``name=path`` arguments, in order."""
    out = {}
    for pair in pairs:
        name, sep, path = pair.partition("=")
        if not sep or not name or not path:
            raise SystemExit(f"expected NAME=PATH, got {pair!r}")
        out[name.lower()] = Path(path)
    return out


def _statements(path: Path) -> list[dict[str, Any]]:
    rows = read_jsonl(path)
    for r in rows:
        missing = {"id", "text", "risk", "kinds"} - r.keys()
        if missing or set(r["kinds"]) - set(KINDS) or bool(r["kinds"]) != bool(r["risk"]):
            raise SystemExit(f"{path}: item {r.get('id')!r} is not a labelled statement (missing {sorted(missing)} or bad kinds)")
    if len({r["id"] for r in rows}) != len(rows):
        raise SystemExit(f"{path}: ids repeat")
    return rows


def blind_statements(sets: dict[str, Path], out: Path, key: Path, seed: int) -> dict[str, int]:
    """All statements of ``sets`` in one random order under random ids (``out/texts.jsonl``: id, text); the map back
    to the writers' ids in ``key``."""
    rows = [r for path in sets.values() for r in _statements(path)]
    rng = random.Random(seed)
    rng.shuffle(rows)
    ids = [f"b{i:03d}-{rng.randrange(16 ** 4):04x}" for i in range(len(rows))]
    _write_jsonl(out / "texts.jsonl", [{"id": b, "text": r["text"]} for b, r in zip(ids, rows)])
    atomic_write_text(key, json.dumps(dict(zip(ids, (r["id"] for r in rows)))))
    return {"items": len(rows), "risk": sum(bool(r["risk"]) for r in rows)}


def merge_statements(sets: dict[str, Path], labels: Path, key: Path, data: Path) -> dict[str, dict[str, int]]:
    """``data/risk_heldout_<name>.jsonl`` for each set: the writer's label as the item's, both annotators' kept; the
    agreement on risk, and on kinds where both say risk. Nothing is written unless every item has its blind label."""
    back = json.loads(key.read_text(encoding="utf-8"))
    blind = {back[r["id"]]: r for r in read_jsonl(labels)}
    result, files = {}, {}
    for name, path in sets.items():
        rows = _statements(path)
        missing = [r["id"] for r in rows if r["id"] not in blind]
        if missing:
            raise SystemExit(f"{labels}: no blind label for {len(missing)} items of {name} (first {missing[0]})")
        merged, agree, both, kinds = [], 0, 0, 0
        for r in rows:
            writer = {"risk": bool(r["risk"]), "kinds": sorted(r["kinds"])}
            b = blind[r["id"]]
            other = {"risk": bool(b["risk"]), "kinds": sorted(b.get("kinds") or [])}
            agree += writer["risk"] == other["risk"]
            if writer["risk"] and other["risk"]:
                both += 1
                kinds += writer["kinds"] == other["kinds"]
            merged.append({"source": f"handwritten_{name}", "id": r["id"], "text": r["text"], "risk": writer["risk"],
                           "kinds": writer["kinds"], "annotators": {"writer": writer, "blind": other}})
        files[data / f"risk_heldout_{name}.jsonl"] = merged
        result[name] = {"items": len(rows), "risk_agree": agree, "both_risk": both, "kinds_agree": kinds}
    for path, merged in files.items():  # written only once every set has all its labels
        _write_jsonl(path, merged)
    return result


def _sessions(path: Path) -> list[dict[str, Any]]:
    rows = read_jsonl(path)
    for r in rows:
        turns = r.get("turns") or []
        if "session" not in r or not turns or any(t.get("role") not in ("counselor", "client") or not t.get("text") for t in turns):
            raise SystemExit(f"{path}: session {r.get('session')!r} is not a transcript of counselor and client turns")
    return rows


def blind_transcripts(path: Path, out: Path, key: Path, seed: int) -> dict[str, int]:
    """The sessions of ``path`` in a random order under random ids, each client turn numbered (``client_turn``, from
    0), in ``out/sessions.jsonl``; the map back in ``key``."""
    rows = _sessions(path)
    rng = random.Random(seed)
    rng.shuffle(rows)
    ids = [f"t{i:02d}-{rng.randrange(16 ** 4):04x}" for i in range(len(rows))]
    blind = []
    for sid, r in zip(ids, rows):
        turns, n = [], 0
        for t in r["turns"]:
            turn = {"role": t["role"], "text": t["text"]}
            if t["role"] == "client":
                turn["client_turn"] = n
                n += 1
            turns.append(turn)
        blind.append({"session": sid, "turns": turns})
    _write_jsonl(out / "sessions.jsonl", blind)
    atomic_write_text(key, json.dumps(dict(zip(ids, (r["session"] for r in rows)))))
    return {"sessions": len(rows), "client_turns": sum(t["role"] == "client" for r in rows for t in r["turns"])}


def merge_transcripts(path: Path, labels: Path, key: Path, out: Path) -> dict[str, int]:
    """``out`` ({"id", "turns"} per session, the writer's order) and ``<out stem>_labels.jsonl`` (the reader's line
    per session under the writer's id)."""
    rows = _sessions(path)
    back = json.loads(key.read_text(encoding="utf-8"))
    read = {}
    for r in read_jsonl(labels):
        read[back[r["session"]]] = {**r, "session": back[r["session"]]}
    missing = [r["session"] for r in rows if r["session"] not in read]
    if missing:
        raise SystemExit(f"{labels}: no reading of {len(missing)} sessions (first {missing[0]})")
    _write_jsonl(out, [{"id": r["session"], "turns": [{"role": t["role"], "text": t["text"]} for t in r["turns"]]} for r in rows])
    _write_jsonl(out.with_name(out.stem + "_labels.jsonl"), [read[r["session"]] for r in rows])
    return {"sessions": len(rows), "with_risk_turns": sum(any(a.get("risk_turns") for a in read[r["session"]]["annotators"].values()) for r in rows)}


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("blind-statements")
    p.add_argument("sets", nargs="+", help="NAME=PATH of each writer's file")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--key", type=Path, required=True)
    p.add_argument("--seed", type=int, required=True)
    p = sub.add_parser("merge-statements")
    p.add_argument("sets", nargs="+", help="NAME=PATH of each writer's file")
    p.add_argument("--labels", type=Path, required=True)
    p.add_argument("--key", type=Path, required=True)
    p.add_argument("--data", type=Path, required=True)
    p = sub.add_parser("blind-transcripts")
    p.add_argument("path", type=Path)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--key", type=Path, required=True)
    p.add_argument("--seed", type=int, required=True)
    p = sub.add_parser("merge-transcripts")
    p.add_argument("path", type=Path)
    p.add_argument("--labels", type=Path, required=True)
    p.add_argument("--key", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    if args.command == "blind-statements":
        result: Any = blind_statements(_named(args.sets), args.out, args.key, args.seed)
    elif args.command == "merge-statements":
        result = merge_statements(_named(args.sets), args.labels, args.key, args.data)
    elif args.command == "blind-transcripts":
        result = blind_transcripts(args.path, args.out, args.key, args.seed)
    else:
        result = merge_transcripts(args.path, args.labels, args.key, args.out)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
