"""The MI labeller on counselor utterances of *transcribed speech* it was never trained on.

``tests/data/mi_spoken_z.jsonl``: 200 counselor utterances in the register of transcribed sessions (fillers,
run-on sentences, reflections opening with "So ...", questions without a question mark), each with the
client's turn before it; written for helpert on 2026-12-03 by an assistant session that saw nothing of the
project, coded by its writer (``code``) and again, blind, by another session given only the texts in a random
order under random ids (``blind_code``). AI annotators, not trained human coders. The training sets
``mi_spoken_{t,x,y}`` came from three other writers (``benchmarks/train_mi_labeller.py``).
``tests/data/mi_spoken_j.jsonl`` (220, a further writer, coded blind the same way, written after the model was
trained) is scored too (key ``j``), less its items that nearly repeat a training item; so is
``tests/data/mi_spoken_k.jsonl`` (220, written and coded blind for round 23's choice, key ``k``) and
``tests/data/mi_spoken_m.jsonl`` (220, round 24's, key ``m``) and ``tests/data/mi_spoken_n.jsonl`` (220, round 25's,
key ``n``), the same way.

Scored: MITI group F1 (``helpert.label.mi.GROUP``) and code F1 against the items where the two annotators
agree, and against each annotator alone; reflection and advise-without-permission F1; 95% bootstrap intervals
over items. Each utterance is coded as one unit with the client's turn as context, as the gold sentences are.

    .venv/bin/python benchmarks/validate_mi_spoken.py [--model PATH] [--name NAME]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import REPO, read_jsonl, report  # noqa: E402

HELD_OUT = REPO / "tests" / "data" / "mi_spoken_z.jsonl"
# Written later (2026-12-03, a fifth writer, coded blind as z was) and scored once with the shipped model, no choice
# made on it; items that nearly repeat a training item (validate_risk.near_duplicate) are left out.
LATER = REPO / "tests" / "data" / "mi_spoken_j.jsonl"
# Round 23's fresh set (a sixth writer, coded blind as z was); round 23's choice was made on it.
FRESH_K = REPO / "tests" / "data" / "mi_spoken_k.jsonl"
# Round 24's fresh set (220 utterances "as real sessions go", written after round 23 and coded blind: 218/220 agree;
# tests/data/round24_instructions.md); round 24's choice was made on it.
FRESH_M = REPO / "tests" / "data" / "mi_spoken_m.jsonl"
# Round 25's fresh set (220 utterances, written after round 24 and coded blind: 215/220 agree;
# tests/data/round25_instructions.md); round 25's choice was made on it.
FRESH_N = REPO / "tests" / "data" / "mi_spoken_n.jsonl"
# The fresh sets of the later rounds (2026-12-07; 150 utterances each, written and coded blind,
# tests/data/roundNN_instructions.md), scored under their round's name: r82 weighted towards a CBT therapist managing
# the session; r83 towards empathic and supportive talk (sessions, peer chats, chatbots); r84 towards moments that
# invite judgement, a third of them confrontation; r85 towards difficult moments (others who hurt the client, shame,
# excuses, relapse, harsh self-criticism), a third of them confrontation; r86 towards moments that invite judgement,
# a third of them polite, hedged or subtle confrontation; r88 towards self-criticism and shame, a third of it support
# and reassurance; r89 towards unsolved problems answered with a question, a third of them questions that carry advice;
# r90 towards a difficulty answered with a proposal or a question, a third of it suggestions in everyday phrasing;
# r97 a third session management ("let's take Tuesday", "I'd suggest we start with"), a third telling the client what
# to do (some opening "let's"), a third look-alikes that are neither; r101 a third the counselor telling of their own
# life, a third talk about experiences that are not the counselor's (also scored by validate_self_disclosure.py); r103
# moments in CBT and counselling sessions that invite judgement, a third confrontation that sounds polite; r104
# emotionally loaded moments, a third stance against the client, a third warm talk about blame, fault or choice.
ROUND_SETS = {name: REPO / "tests" / "data" / f"mi_spoken_{name}.jsonl"
              for name in ("r82", "r83", "r84", "r85", "r86", "r88", "r89", "r90", "r97", "r101", "r103", "r104")}
SEED = 20261203


def load(path: Path = HELD_OUT) -> list[dict]:
    return read_jsonl(path)


def later(path: Path = LATER) -> list[dict]:
    """A later set (default j) less the items that nearly repeat one of a training set not already kept apart from it
    (train_mi_labeller.SPOKEN_TRAIN: t, x and y; a training set added later leaves out its own near repeats of every
    scored set instead, as round 42's candidate did)."""
    from train_mi_labeller import SPOKEN_TRAIN
    from validate_risk import NearRepeats

    me = path.stem.removeprefix("mi_spoken_")
    trained = NearRepeats(d["counselor"] for name, apart in SPOKEN_TRAIN.items() if me not in apart
                          for d in load(path.with_name(f"mi_spoken_{name}.jsonl")))
    return [d for d in load(path) if d["counselor"] not in trained]


def predict(items: list[dict], model: str | None = None) -> list[str]:
    """The labeller's code of each item's counselor utterance, read with the client's turn before it."""
    from helpert.label.mi import Utterance, code_utterances
    from helpert.text.features import normalise

    return code_utterances([Utterance(normalise(d["counselor"]), normalise(d["client"])) for d in items], model)


def score(items: list[dict], model: str | None = None, pred: list[str] | None = None) -> dict:
    """Agreement of the labeller's codes (``pred``, or :func:`predict`'s) with the writer's, the blind coder's and
    the codes both gave."""
    from helpert.label.agreement import f1_with_ci
    from helpert.label.mi import GROUP, GROUPS, SOURCE_CODES

    pred = predict(items, model) if pred is None else pred
    out = {"items": len(items), "agreed": sum(d["code"] == d["blind_code"] for d in items)}
    for who, keep in (("agreed", lambda d: d["code"] == d["blind_code"]), ("writer", lambda d: True), ("blind_coder", lambda d: True)):
        key = "blind_code" if who == "blind_coder" else "code"
        rows = [(SOURCE_CODES[d[key]], p) for d, p in zip(items, pred) if keep(d)]
        gold, guess = [g for g, _ in rows], [p for _, p in rows]
        groups = f1_with_ci([GROUP[g] for g in gold], [GROUP[p] for p in guess], list(GROUPS), seed=SEED)
        codes = f1_with_ci(gold, guess, list(SOURCE_CODES.values()), seed=SEED)
        out[who] = {
            "n": len(rows),
            "groups_macro_f1": groups["macro_f1"],
            "group_f1": groups["f1"],
            "codes_macro_f1": codes["macro_f1"],
            "advise_without_permission_f1": codes["f1"]["advise_without_permission"],
            "confront_f1": codes["f1"]["confront"],
            "support_f1": codes["f1"]["support"],
            "self_disclosure_f1": codes["f1"]["self_disclosure"],
        }
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", type=Path, help="an MI model file (default: the shipped helpert/data/mi_model.npz)")
    ap.add_argument("--name", default="validate_mi_spoken", help="results/<NAME>.json")
    args = ap.parse_args(argv)
    model = str(args.model) if args.model else None
    result = {"date": date.today().isoformat(),
              "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip(),
              "model": str(args.model) if args.model else "helpert/data/mi_model.npz",
              **score(load(), model),
              "j": score(later(), model),
              "k": score(later(FRESH_K), model),
              "m": score(later(FRESH_M), model),
              "n": score(later(FRESH_N), model),
              **{name: score(later(path), model) for name, path in ROUND_SETS.items()}}
    report(args.name, result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
