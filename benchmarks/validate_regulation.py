"""How often does the client emotion-regulation labeller (helpert/label/regulation.py) agree with a
human reading of the same client turn?

Gold: ``tests/data/regulation_labels.jsonl``, 120 ESConv help-seeker turns longer than 60 characters
(two random samples of 60, seeds 7 and 8), labelled by hand for helpert with the definitions of
docs/regulation.md; the file holds dialogue ids, turn indices and labels, the text is read from
``../shared/data/esconv/esconv_valid_195.jsonl``. Sample 1 was used to write the cue lists; sample 2
was labelled afterwards and scored once before its misses were used too (figures in
benchmarks/README.md). Reported: accuracy over the eight labels, the accuracy of always answering
"none", and precision/recall of "some strategy" vs "none"; then the label distribution over all
ESConv help-seeker turns. Reproduce::

    .venv/bin/python benchmarks/validate_regulation.py --readme benchmarks/README.md
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))
from _common import update_readme_section  # noqa: E402

from helpert.label.agreement import accuracy, detection  # noqa: E402
from helpert.label.regulation import STRATEGIES, regulation_of  # noqa: E402

LABELS = REPO / "tests" / "data" / "regulation_labels.jsonl"
ESCONV = REPO.parent / "shared" / "data" / "esconv" / "esconv_valid_195.jsonl"
SECTION = "validate_regulation"


def gold_items(labels: Path = LABELS, esconv: Path = ESCONV) -> list[dict[str, Any]]:
    """The labelled turns with their text (needs ../shared/data)."""
    from helpert.io import read_sessions

    text = {(s.dialogue_id, t.idx): t.text for s in read_sessions(esconv) for t in s.client_turns}
    rows = [json.loads(line) for line in labels.read_text(encoding="utf-8").splitlines()]
    return [{**r, "text": text[(r["dialogue_id"], r["idx"])]} for r in rows]


def agreement(items: list[dict[str, Any]]) -> dict[str, Any]:
    gold = [it["regulation"] for it in items]
    pred = [regulation_of(it["text"]) for it in items]
    return {"n": len(items), "accuracy": accuracy(gold, pred), "none_baseline": gold.count("none") / len(items),
            **detection(gold, pred, none="none")}


def distribution(esconv: Path = ESCONV) -> dict[str, float]:
    from helpert.io import read_sessions

    labels = [regulation_of(t.text) for s in read_sessions(esconv) for t in s.client_turns]
    counts = Counter(labels)
    return {s: counts[s] / len(labels) for s in STRATEGIES} | {"_n": len(labels)}


def markdown(results: dict[str, dict[str, Any]], dist: dict[str, float]) -> str:
    lines = ["| gold sample | turns | accuracy | always \"none\" | some strategy: precision | recall |", "|---|---|---|---|---|---|"]
    for name, r in results.items():
        lines.append(f"| {name} | {r['n']} | {r['accuracy']:.1%} | {r['none_baseline']:.1%} | {r['precision']:.2f} | {r['recall']:.2f} |")
    share = ", ".join(f"{s} {dist[s]:.1%}" for s in STRATEGIES)
    return "\n".join(lines) + f"\n\nLabels over all {dist['_n']} ESConv help-seeker turns: {share}.\n"


def update_readme(path: Path, body: str) -> None:
    update_readme_section(path, SECTION, body)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--readme", type=Path, help="write the table into this README between the validate_regulation markers")
    args = ap.parse_args(argv)
    if not ESCONV.is_file():
        print(f"{ESCONV} is absent", file=sys.stderr)
        return 1
    items = gold_items()
    results = {f"sample {k}": agreement([it for it in items if it["sample"] == k]) for k in (1, 2)}
    results["both"] = agreement(items)
    table = markdown(results, distribution())
    print(table)
    if args.readme:
        update_readme(args.readme, table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
