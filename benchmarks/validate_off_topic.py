"""Is small talk read as off-protocol, and real counseling not? The phase labeller on ESConv sessions
(``../shared/data/esconv/esconv_valid_195.jsonl``).

* **recall**: each line of a small-talk file put in place of a random counselor turn (never the opening) of each
  ESConv session with six or more counselor turns, one line per session in turn, random turns seeded 0 - the
  procedure of ``tests/test_off_topic.py`` - and the share of those turns the labeller reads as ``off_protocol``;
* **real turns**: the share of the counselor turns of all 195 sessions read as ``off_protocol`` (peer supporters do
  chat; read one by one in 2026-12-01, about a third of the rule's hits were off-topic indeed).

With ``--key closing --position last`` (round 99) the lines are a session's closing turns (wrapping up, asking for
feedback, looking ahead), put in place of each session's *last* counselor turn, where a lower share is better.

    .venv/bin/python benchmarks/validate_off_topic.py --lines tests/data/small_talk_round93.json [--phase-labeller P] [--name NAME]
    .venv/bin/python benchmarks/validate_off_topic.py --lines tests/data/closing_round99.json --key closing --position last

A benchmark measures the checkout it is run from (``_common``).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import REPO, SHARED, measured_checkout, report  # noqa: E402

from helpert.io import read_sessions  # noqa: E402
from helpert.label import label_sessions  # noqa: E402
from helpert.protocols import OFF_PROTOCOL, load_protocol  # noqa: E402


def inserted(sessions, lines: list[str], position: str = "random"):
    """(session with one counselor turn replaced by a line, index of that turn), per session: a random counselor
    turn (never the opening), or the last one."""
    rng = random.Random(0)
    cases = []
    for k, s in enumerate(sessions):
        counselor = [i for i, t in enumerate(s.turns) if t.role == "counselor"]
        i = counselor[-1] if position == "last" else counselor[rng.randrange(1, len(counselor))]
        turns = list(s.turns)
        turns[i] = turns[i].model_copy(update={"text": lines[k % len(lines)], "labels": {}})
        cases.append((s.model_copy(update={"turns": turns}), i))
    return cases


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lines", type=Path, required=True, help='JSON file {"small_talk": [...]}')
    ap.add_argument("--key", default="small_talk", help="the list of the JSON file to read")
    ap.add_argument("--position", default="random", choices=("random", "last"), help="which counselor turn a line replaces")
    ap.add_argument("--phase-labeller", default=None, choices=("auto", "rules", "model"), help="default: helpert's")
    ap.add_argument("--name", default="validate_off_topic", help="results/NAME.json")
    args = ap.parse_args(argv)
    options = {} if args.phase_labeller is None else {"phase_labeller": args.phase_labeller}
    protocol = load_protocol("cbt_session")
    sessions = read_sessions(SHARED / "esconv" / "esconv_valid_195.jsonl")
    lines = json.loads(args.lines.read_text(encoding="utf-8"))[args.key]
    cases = inserted([s for s in sessions if len(s.counselor_turns) >= 6], lines, args.position)
    labelled = label_sessions([s for s, _ in cases], protocol, **options)
    hits = [s.turns[i].labels["phase"] == OFF_PROTOCOL for s, (_, i) in zip(labelled, cases)]
    real = [t.labels["phase"] == OFF_PROTOCOL for s in label_sessions(sessions, protocol, **options) for t in s.counselor_turns]
    report(args.name, {
        **measured_checkout(),
        "phase_labeller": args.phase_labeller, "lines": str(args.lines), "key": args.key, "position": args.position,
        "recall": {"sessions": len(hits), "off_protocol": sum(hits), "share": round(sum(hits) / len(hits), 4),
                   "missed": [lines[k % len(lines)] for k, h in enumerate(hits) if not h][:60],
                   "read_off_protocol": [lines[k % len(lines)] for k, h in enumerate(hits) if h][:60]},
        "real_turns": {"turns": len(real), "off_protocol": sum(real), "share": round(sum(real) / len(real), 4)},
    })
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
