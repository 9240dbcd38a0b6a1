"""Rich tables for `helpert measure`, `helpert compare`, `helpert screen` and the end of `helpert replay`.

Kept apart from the statistics so the numbers can be computed without rich, and the tables reused.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Iterable

from helpert.metrics import MAIN_METRICS

if TYPE_CHECKING:
    import pandas

    from helpert.label.screen import ScreenedTurn, ScreenSummary
    from rich.console import Console
    from rich.table import Table

# Columns of the per-session `measure` table: (metric key, short header).
MEASURE_COLUMNS = (
    ("talk.counselor_turns", "turns"),
    ("adherence.coverage", "cover"),
    ("adherence.transitions", "allow"),
    ("adherence.order", "order"),
    ("adherence.premature_action", "prem"),
    ("drift.off_protocol_share", "off"),
    ("drift.score", "drift"),
    ("ctrs.mean", "CTRS"),
    ("mi.reflection_to_question", "R:Q"),
    ("mi.adherent_pct", "%MIA"),
    ("empathy.emotional_reactions", "ER"),
    ("empathy.interpretations", "IP"),
    ("empathy.explorations", "EX"),
    ("talk.talk_ratio", "talk"),
    ("talk.question_ratio", "quest"),
    ("quality.degenerate_share", "degen"),
)
MEASURE_LEGEND = ("turns: counselor turns; cover: required phases visited; allow: allowed transitions; "
                  "order: canonical order (LIS share); prem: premature action; off: off-protocol share; "
                  "drift: drift score (0-1, higher = more drift); CTRS: mean rule item (0-6); R:Q: reflections per question; "
                  "%MIA: MI-adherent share of adherent + non-adherent utterances; ER/IP/EX: "
                  "EPITOME empathy (0-2); talk: counselor word share; quest: counselor turns with a question; "
                  "degen: degenerate counselor turns (loops, copies, narration...; lower is better).")


def fmt(value: Any, signed: bool = False, digits: int = 3) -> str:
    """``digits`` decimals below 10, one above, none for whole numbers of 10 or more; "-" if missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    v = float(value)
    if abs(v) >= 10:
        digits = 0 if v == int(v) else 1
    return f"{v:+.{digits}f}" if signed else f"{v:.{digits}f}"


def format_measure_table(frame: "pandas.DataFrame", title: str | None = None) -> "Table":
    """One row per session (``measure_sessions`` output) plus a mean row; columns that no session
    has (e.g. empathy without empathy labels) are left out."""
    from rich import box
    from rich.table import Table

    table = Table(title=title, show_footer=len(frame) > 1, footer_style="bold", box=box.SIMPLE_HEAD, pad_edge=False)
    cols = [(k, h) for k, h in MEASURE_COLUMNS if k in frame.columns and frame[k].notna().any()]
    table.add_column("dialogue_id", footer="mean", overflow="fold")
    for key, header in cols:
        table.add_column(header, justify="right", no_wrap=True, footer=fmt(frame[key].mean(), digits=2))
    for dialogue_id, row in frame.iterrows():
        table.add_row(str(dialogue_id), *(fmt(row[k], digits=0 if k.endswith("_turns") else 2) for k, _ in cols))
    return table


def print_measure_table(frame: "pandas.DataFrame", title: str | None = None, console: "Console | None" = None) -> None:
    """Print the measure table, then a legend (to stdout at the table's natural width unless a console is given)."""
    table = format_measure_table(frame, title)
    console = console or _console_for(table)
    console.print(table)
    console.print(MEASURE_LEGEND, style="dim")


def _console_for(table: "Table") -> "Console":
    """A stdout console at least as wide as the table's natural width, so a narrow or piped output
    never squeezes numbers or folds metric names (the terminal wraps long lines instead)."""
    from rich.console import Console
    from rich.measure import Measurement

    console = Console()
    natural = Measurement.get(console, console.options.update_width(10_000), table).maximum
    return Console(width=max(console.width, natural))


def format_comparison(stats: "pandas.DataFrame", metrics: Iterable[str] | None = MAIN_METRICS,
                      title: str | None = "LLM reconstruction vs peer") -> "Table":
    """Per metric: n | peer | LLM | diff [95% CI] | dz | p. ``stats`` is ``compare_corpus`` output;
    ``metrics=None`` shows every row. Numbers never wrap; a console narrower than the table folds metric names."""
    from rich import box
    from rich.table import Table

    table = Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("metric", overflow="fold")
    for name in ("n", "peer", "LLM", "diff [95% CI]", "dz", "p"):
        table.add_column(name, justify="right", no_wrap=True)
    rows = list(stats.index) if metrics is None else [m for m in metrics if m in stats.index]
    for m in rows:
        s = stats.loc[m]
        ci = "" if math.isnan(s["ci_low"]) else f" [{fmt(s['ci_low'], True)}, {fmt(s['ci_high'], True)}]"
        table.add_row(m, str(int(s["n"])), fmt(s["peer_mean"]), fmt(s["llm_mean"]),
                      fmt(s["mean_diff"], True) + ci, fmt(s["dz"], True, 2), fmt(s["p_value"]))
    return table


def print_comparison(stats: "pandas.DataFrame", metrics: Iterable[str] | None = MAIN_METRICS,
                     title: str | None = "LLM reconstruction vs peer", console: "Console | None" = None) -> None:
    """Print :func:`format_comparison` (to stdout at the table's natural width unless a console is given)."""
    table = format_comparison(stats, metrics, title)
    (console or _console_for(table)).print(table)


SCREEN_TEXT_CHARS = 80  # a flagged turn's text is shortened to this many characters in the table


def _shorten(text: str, limit: int = SCREEN_TEXT_CHARS) -> str:
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def format_screen_table(turns: Iterable["ScreenedTurn"], title: str | None = None) -> "Table":
    """One row per flagged client turn (``helpert.label.screen`` output): dialogue id, turn idx, tier,
    kinds, score and the turn's text shortened to :data:`SCREEN_TEXT_CHARS`."""
    from rich import box
    from rich.table import Table

    table = Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("dialogue_id", overflow="fold")
    table.add_column("idx", justify="right", no_wrap=True)
    table.add_column("tier", no_wrap=True)
    table.add_column("kinds", overflow="fold")
    table.add_column("score", justify="right", no_wrap=True)
    table.add_column("text", overflow="fold")
    for t in turns:
        a = t.assessment
        if a.flagged:
            table.add_row(t.dialogue_id, str(t.idx), a.tier, ", ".join(a.kinds), fmt(a.score), _shorten(t.text),
                          style="bold red" if a.tier == "crisis" else None)
    return table


def print_screen_table(turns: Iterable["ScreenedTurn"], summary: "ScreenSummary", title: str | None = None,
                       console: "Console | None" = None) -> None:
    """Print :func:`format_screen_table` (or a line saying nothing was flagged), then the corpus counts."""
    table = format_screen_table(turns, title)
    console = console or _console_for(table)
    if table.row_count:
        console.print(table)
    else:
        console.print(f"{title}: no client turn flagged" if title else "no client turn flagged")
    console.print(f"{summary.sessions} sessions screened ({summary.client_turns} client turns): "
                  f"{summary.crisis_sessions} with a crisis turn, {summary.check_sessions} with a check turn; "
                  f"{summary.flagged_turns} turns flagged")
    console.print("crisis: the full safety response; check: one direct safety question; score: the learned "
                  "detector's probability of risk (0-1). A screen, not a diagnosis.", style="dim")
