"""``helpert validate``: check the turn labellers against gold labels in a transcript file."""

from __future__ import annotations

import json
from typing import Any

import click

from helpert.cli.errors import UserError

OVERLAP_WARN_SHARE = 0.2  # share of a file's distinctive counselor turns seen in training that triggers the warning


@click.group()
def validate() -> None:
    """Check helpert's labels against gold labels."""


def gold_and_predicted(sessions: list, key: str) -> tuple[list[str], list[str]]:
    """Gold and predicted labels of every counselor turn that has a usable gold ``strategy`` label."""
    from helpert.label.strategy import STAGE_OF, canonical_strategy

    gold, pred = [], []
    for s in sessions:
        for t in s.counselor_turns:
            g = canonical_strategy(t.labels.get("strategy"), t.text)
            if g is None:
                continue
            if key == "strategy":
                gold.append(g)
                pred.append(t.labels["strategy_pred"])
            elif g in STAGE_OF:
                gold.append(STAGE_OF[g])
                pred.append(t.labels["stage_pred"])
    return gold, pred


def report(gold: list[str], pred: list[str]) -> dict[str, Any]:
    """Accuracy, macro-F1 and per-class precision/recall/F1 over the gold classes (helpert.label.agreement)."""
    from helpert.label.agreement import accuracy, per_label

    per = {c: {k: round(v, 4) if k != "support" else v for k, v in scores.items()}
           for c, scores in per_label(gold, pred, sorted(set(gold))).items()}
    return {
        "n": len(gold),
        "accuracy": round(accuracy(gold, pred), 4),
        "macro_f1": round(sum(v["f1"] for v in per.values()) / len(per), 4),
        "per_class": per,
    }


def training_overlap(sessions: list) -> dict[str, Any]:
    """How many of the file's counselor turns (and dialogue ids) the shipped model was trained on."""
    from helpert.text.linear import load_bundle
    from helpert.label.strategy import turn_hash

    meta = load_bundle().meta
    trained = set(meta.get("training_turn_hashes", []))
    hashes = [h for s in sessions for t in s.counselor_turns if (h := turn_hash(t.text))]
    seen = sum(h in trained for h in hashes)
    ids = set(meta.get("training_dialogue_ids", [])) & {s.dialogue_id for s in sessions}
    return {
        "distinctive_turns": len(hashes),
        "turns_in_training": seen,
        "share": round(seen / len(hashes), 4) if hashes else 0.0,
        "dialogue_ids_in_training": len(ids),
    }


@validate.command("labels")
@click.argument("path", type=click.Path(exists=True, dir_okay=True))
@click.option("--key", type=click.Choice(["strategy", "stage"]), default="strategy", show_default=True,
              help="strategy: gold ESConv strategy vs strategy_pred; stage: its helping-skills stage vs stage_pred.")
@click.option("--protocol", "protocol_name", default="helping_skills", show_default=True,
              help="protocol used for the phase labels (does not change strategy or stage).")
@click.option("--json", "as_json", is_flag=True, help="print one JSON object instead of a table.")
def labels(path: str, key: str, protocol_name: str, as_json: bool) -> None:
    """Score the labeller on PATH (any transcript format) against its gold per-turn `strategy` labels.

    Legacy ESConv names (Questions, Providing Suggestions, Information, Other) are mapped to the eight
    MultiESC names first. Warns when the file overlaps the data the shipped model was trained on: those
    numbers are optimistic; the honest ones come from benchmarks/validate_labels.py.
    """
    from helpert.io import read_sessions
    from helpert.label import label_sessions
    from helpert.protocols import load_protocol

    sessions = read_sessions(path)
    protocol = load_protocol(protocol_name)
    gold, pred = gold_and_predicted(label_sessions(sessions, protocol), key)
    if not gold:
        raise UserError(f"{path}: no counselor turn has a gold 'strategy' label to compare with")
    result = {"path": str(path), "key": key, "sessions": len(sessions), **report(gold, pred)}
    overlap = training_overlap(sessions)
    result["training_overlap"] = overlap
    warning = None
    if overlap["share"] >= OVERLAP_WARN_SHARE or overlap["dialogue_ids_in_training"]:
        warning = (
            f"warning: {overlap['turns_in_training']} of the {overlap['distinctive_turns']} counselor turns in {path} "
            f"long enough to identify (of {sum(len(s.counselor_turns) for s in sessions)}; a short turn such as "
            "\"you're welcome\" could be in any dialogue) were in the labeller's training data; these scores are "
            "optimistic. For scores on unseen "
            "dialogues run benchmarks/validate_labels.py (grouped cross-validation)."
        )
        result["warning"] = warning
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    if warning:
        click.echo(warning, err=True)
    _print_table(result)


def _print_table(result: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{result['key']} on {result['path']} ({result['n']} turns, {result['sessions']} sessions)")
    for col in ("class", "precision", "recall", "F1", "support"):
        table.add_column(col, justify="left" if col == "class" else "right")
    for c, v in result["per_class"].items():
        table.add_row(c, f"{v['precision']:.3f}", f"{v['recall']:.3f}", f"{v['f1']:.3f}", str(v["support"]))
    console = Console()
    console.print(table)
    console.print(f"accuracy {result['accuracy']:.3f}   macro-F1 {result['macro_f1']:.3f}")
