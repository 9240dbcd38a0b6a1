"""Rich tables for `helpert measure`, `helpert compare`, `helpert screen` and the end of `helpert replay`.

Kept apart from the statistics so the numbers can be computed without rich, and the tables reused.
Every table fits the console it is printed on (80 columns when piped; set COLUMNS for more): metric
names never wrap; a table too wide puts a CI under its difference, then one block per metric
(:class:`MetricTable`), or is cut into several tables by columns (:class:`ColumnChunks`).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Sequence, Union

from helpert.metrics import MAIN_METRICS, registry

if TYPE_CHECKING:
    import pandas

    from helpert.safety.screen import ScreenedTurn, ScreenSummary
    from rich.console import Console, ConsoleOptions, Group
    from rich.table import Table

# Columns of the per-session `measure` table: (metric key, short header), from the registry.
MEASURE_COLUMNS = tuple((key, registry.METRICS[key].short) for key in registry.MEASURE)
MEASURE_LEGEND = (*(f"{registry.METRICS[key].short}: {registry.METRICS[key].title}" for key in registry.MEASURE),
                  "keys, formulas and directions: docs/metrics.md")

# A cell of a metric table: a string (rich markup), or parts that stand on one line while the table fits
# the console and one per line when it does not (a difference and its CI).
Cell = Union[str, tuple[str, ...]]
BLOCK_INDENT = 2


def fmt(value: Any, signed: bool = False, digits: int = 3) -> str:
    """``digits`` decimals below 10, one above, none for whole numbers of 10 or more; "-" if missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    v = float(value)
    if abs(v) >= 10:
        digits = 0 if v == int(v) else 1
    return f"{v:+.{digits}f}" if signed else f"{v:.{digits}f}"


def diff_cell(diff: Any, low: Any, high: Any) -> Cell:
    """A signed difference and, when it has one, its CI: ("+0.125", "[+0.000, +0.250]")."""
    if low is None or math.isnan(float(low)):
        return (fmt(diff, True),)
    return fmt(diff, True), f"[{fmt(low, True)}, {fmt(high, True)}]"


def _join(cell: Cell, fold: bool) -> str:
    return cell if isinstance(cell, str) else ("\n" if fold else " ").join(cell)


class MetricTable:
    """Rows of cells, each under a metric name that never wraps nor folds. Rendered as a table when it
    fits the console; else as the same table with its two-part cells on two lines; else one block per
    metric: the name on a line of its own, its rows indented below under headers printed once.

    ``rows`` are (metric, cells, style); rows of one metric should be adjacent (a block each).
    The first ``left`` columns are left-aligned (labels), the others right-aligned (numbers)."""

    def __init__(self, columns: Sequence[str], rows: Sequence[tuple[str, Sequence[Cell], str | None]],
                 title: str | None = None, left: int = 0, metric_header: str = "metric"):
        self.columns, self.rows, self.title, self.left, self.metric_header = list(columns), list(rows), title, left, metric_header

    @property
    def row_count(self) -> int:
        return len(self.rows)

    def _add_columns(self, table: "Table", widths: Sequence[int | None] | None = None) -> None:
        for i, name in enumerate(self.columns):
            table.add_column(name, justify="left" if i < self.left else "right", no_wrap=True,
                             width=None if widths is None else widths[i])

    def table(self, fold: bool = False) -> "Table":
        """The plain table (``fold``: two-part cells on two lines)."""
        from rich import box
        from rich.table import Table

        table = Table(title=self.title, box=box.SIMPLE_HEAD, pad_edge=False)
        table.add_column(self.metric_header, no_wrap=True)
        self._add_columns(table)
        for metric, cells, style in self.rows:
            table.add_row(metric, *(_join(c, fold) for c in cells), style=style)
        return table

    def blocks(self, width: int) -> "Group":
        """One block per metric, for a console of ``width`` columns."""
        from itertools import groupby

        from rich.cells import cell_len
        from rich.console import Group
        from rich.padding import Padding
        from rich.table import Table
        from rich.text import Text

        def widths(fold: bool) -> list[int]:
            lines = [[_join(c, fold).split("\n") for c in cells] for _, cells, _ in self.rows]
            return [max([cell_len(name)] + [Text.from_markup(line).cell_len for row in lines for line in row[i]])
                    for i, name in enumerate(self.columns)]

        fold = BLOCK_INDENT + sum(widths(False)) + 2 * (len(self.columns) - 1) > width
        fixed = widths(fold)

        def part(rows: list[tuple[Sequence[Cell], str | None]], header: bool) -> Padding:
            table = Table(box=None, show_header=header, pad_edge=False)
            self._add_columns(table, fixed)
            for cells, style in rows:
                table.add_row(*(_join(c, fold) for c in cells), style=style)
            return Padding(table, (0, 0, 0, BLOCK_INDENT))

        parts: list[Any] = [Text(self.title, style="table.title", justify="center")] if self.title else []
        parts.append(part([], header=True))
        for metric, rows in groupby(self.rows, key=lambda r: r[0]):
            parts += [Text(metric, style="bold", no_wrap=True), part([(cells, style) for _, cells, style in rows], False)]
        return Group(*parts)

    def __rich_console__(self, console: "Console", options: "ConsoleOptions") -> Iterator[Any]:
        from rich.measure import Measurement

        wide = options.update_width(10_000)
        for fold in (False, True):
            table = self.table(fold)
            if Measurement.get(console, wide, table).maximum <= options.max_width:
                yield table
                return
        yield self.blocks(options.max_width)


class Fit:
    """``table`` when the console is at least as wide as its minimum width (no cell cut), else ``fallback``
    (a narrower layout of the same content)."""

    def __init__(self, table: "Table", fallback: Any):
        self.table, self.fallback = table, fallback

    def __rich_console__(self, console: "Console", options: "ConsoleOptions") -> Iterator[Any]:
        from rich.measure import Measurement

        fits = Measurement.get(console, options.update_width(10_000), self.table).minimum <= options.max_width
        yield self.table if fits else self.fallback


class ColumnChunks:
    """A table of one label column and many short metric columns; when it is wider than the console it
    is cut into several tables, each repeating the label column (``make(columns, first)`` builds one)."""

    def __init__(self, make: Callable[[Sequence[int], bool], "Table"], n_columns: int):
        self.make, self.n_columns = make, n_columns

    def __rich_console__(self, console: "Console", options: "ConsoleOptions") -> Iterator[Any]:
        from rich.measure import Measurement

        wide = options.update_width(10_000)

        def fits(cols: list[int], first: bool) -> bool:
            return Measurement.get(console, wide, self.make(cols, first)).maximum <= options.max_width

        chunks: list[list[int]] = [[]]
        for j in range(self.n_columns):
            if chunks[-1] and not fits(chunks[-1] + [j], len(chunks) == 1):
                chunks.append([])
            chunks[-1].append(j)
        for i, cols in enumerate(chunks):
            yield self.make(cols, i == 0)


class Legend:
    """Entries separated by "; ", packed into lines of the console's width; an entry breaks only when
    it is longer than a line."""

    def __init__(self, entries: Sequence[str], style: str = "dim"):
        self.entries, self.style = list(entries), style

    def __rich_console__(self, console: "Console", options: "ConsoleOptions") -> Iterator[Any]:
        from rich.cells import cell_len
        from rich.text import Text

        lines: list[str] = []
        for i, entry in enumerate(self.entries):
            entry += "." if i == len(self.entries) - 1 else ";"
            if lines and cell_len(lines[-1]) + 1 + cell_len(entry) <= options.max_width:
                lines[-1] += " " + entry
            else:
                lines.append(entry)
        yield Text("\n".join(lines), style=self.style)


def measure_columns(frame: "pandas.DataFrame") -> list[tuple[str, str]]:
    """(key, header) of the measure table's columns: those some session has a value of (e.g. no empathy columns
    without empathy labels)."""
    return [(k, h) for k, h in MEASURE_COLUMNS if k in frame.columns and frame[k].notna().any()]


def measure_legend(frame: "pandas.DataFrame") -> list[str]:
    """The legend of the columns :func:`measure_columns` shows, and where the rest is defined."""
    cols = measure_columns(frame)
    phased = [h for k, h in cols if k.split(".")[0] in ("adherence", "drift", "ctrs")]
    return ([f"{h}: {registry.METRICS[k].title}" for k, h in cols]
            + ([f"{', '.join(phased)} read each counselor turn's phase label (drift and CTRS in part): docs/metrics.md, 'Adherence', says how far "
                "the labels can be trusted"] if phased else [])
            + [MEASURE_LEGEND[-1]])


def format_measure_table(frame: "pandas.DataFrame", title: str | None = None) -> ColumnChunks:
    """One row per session (``measure_sessions`` output) plus a mean row; columns that no session
    has (e.g. empathy without empathy labels) are left out, and so are their lines of the legend
    (:func:`measure_legend`). Cut into several tables when too wide."""
    from rich import box
    from rich.table import Table

    cols = measure_columns(frame)

    def make(chosen: Sequence[int], first: bool) -> Table:
        table = Table(title=title if first else None, show_footer=len(frame) > 1, footer_style="bold",
                      box=box.SIMPLE_HEAD, pad_edge=False)
        table.add_column("dialogue_id", footer="mean", no_wrap=True)
        for j in chosen:
            key, header = cols[j]
            table.add_column(header, justify="right", no_wrap=True, footer=fmt(frame[key].mean(), digits=2))
        for dialogue_id, row in frame.iterrows():
            table.add_row(str(dialogue_id), *(fmt(row[cols[j][0]], digits=0 if cols[j][0].endswith("_turns") else 2)
                                              for j in chosen))
        return table

    return ColumnChunks(make, len(cols))


def print_measure_table(frame: "pandas.DataFrame", title: str | None = None, console: "Console | None" = None) -> None:
    """Print the measure table, then a legend (to stdout unless a console is given)."""
    console = console or _stdout()
    console.print(format_measure_table(frame, title))
    console.print(Legend(measure_legend(frame)))


def _stdout() -> "Console":
    from rich.console import Console

    return Console()


def format_comparison(stats: "pandas.DataFrame", metrics: Iterable[str] | None = MAIN_METRICS,
                      title: str | None = "LLM reconstruction vs peer", names: tuple[str, str] = ("peer", "LLM")) -> MetricTable:
    """Per metric: n | peer | LLM | diff [95% CI] | dz | p. ``stats`` is ``compare_corpus`` output;
    ``metrics=None`` shows every row; ``names`` head the two sides' columns (the original's first; the
    difference is the second minus the first). Metric names never wrap (see :class:`MetricTable`)."""
    rows = list(stats.index) if metrics is None else [m for m in metrics if m in stats.index]
    out = []
    for m in rows:
        s = stats.loc[m]
        # which way is better, beside the name: a difference means nothing to a reader who must look it up
        out.append((registry.with_direction(m), [str(int(s["n"])), fmt(s["peer_mean"]), fmt(s["llm_mean"]),
                        diff_cell(s["mean_diff"], s["ci_low"], s["ci_high"]), fmt(s["dz"], True, 2),
                        fmt(s["p_value"])], None))
    shown = f"{title}; diff = {names[1]} - {names[0]}" if title else None
    return MetricTable(("n", *names, "diff [95% CI]", "dz", "p"), out, title=shown)


def print_comparison(stats: "pandas.DataFrame", metrics: Iterable[str] | None = MAIN_METRICS,
                     title: str | None = "LLM reconstruction vs peer", console: "Console | None" = None,
                     names: tuple[str, str] = ("peer", "LLM")) -> None:
    """Print :func:`format_comparison` (to stdout unless a console is given), and under it the warning of a corpus too
    small for its intervals (:func:`helpert.compare.small_sample_note`)."""
    from helpert.compare import small_sample_note

    console = console or _stdout()
    console.print(format_comparison(stats, metrics, title, names))
    shown = list(stats.index) if metrics is None else [m for m in metrics if m in stats.index]
    for m in shown:  # a metric that only one side has shows no numbers in the table: say what that side shows
        note = str(stats.loc[m].get("note", ""))
        if note.startswith("only the "):
            side = note.replace("only the LLM side", f"only the {names[1]} side").replace("only the peer side",
                                                                                          f"only the {names[0]} side")
            console.print(f"{m}: {side}", soft_wrap=True)
    note = small_sample_note(stats)
    if note:
        console.print(note, style="bold", soft_wrap=True)


SCREEN_TEXT_CHARS = 80  # a flagged turn's text is shortened to this many characters in the table


def _shorten(text: str, limit: int = SCREEN_TEXT_CHARS) -> str:
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def format_screen_table(turns: Iterable["ScreenedTurn"], title: str | None = None) -> "Table":
    """One row per flagged client turn (``helpert.safety.screen`` output): dialogue id, turn idx, tier,
    score, and the turn's text shortened to :data:`SCREEN_TEXT_CHARS` with its kinds on the line below;
    only the text wraps, so the table fits an 80-column console."""
    from rich import box
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("dialogue_id", no_wrap=True)
    table.add_column("idx", justify="right", no_wrap=True)
    table.add_column("tier", no_wrap=True)
    table.add_column("score", justify="right", no_wrap=True)
    table.add_column("text, then kinds")
    for t in turns:
        a = t.assessment
        if a.flagged:
            table.add_row(t.dialogue_id, str(t.idx), a.tier, fmt(a.score),
                          f"{escape(_shorten(t.text))}\n[dim]{escape(', '.join(a.kinds))}[/]",
                          style="bold red" if a.tier == "crisis" else None)
    return table


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def print_screen_table(turns: Iterable["ScreenedTurn"], summary: "ScreenSummary", title: str | None = None,
                       console: "Console | None" = None) -> None:
    """Print :func:`format_screen_table` (or a line saying nothing was flagged), then the corpus counts."""
    table = format_screen_table(turns, title)
    console = console or _stdout()
    if table.row_count:
        console.print(table)
    else:
        console.print(f"{title}: no client turn flagged" if title else "no client turn flagged")
    console.print(f"{_count(summary.sessions, 'session')} screened ({_count(summary.client_turns, 'client turn')}): "
                  f"{summary.crisis_sessions} with a crisis turn, {summary.check_sessions} with check turns only, "
                  f"{summary.unflagged_sessions} with none flagged; {_count(summary.flagged_turns, 'turn')} flagged",
                  soft_wrap=True)  # one line, to grep; each session counted once, under its most severe tier
    if summary.not_english_sessions:
        console.print(f"{summary.not_english_sessions} session(s) not in English (kind not_english on each client "
                      "turn): the detector reads English only, so a turn it leaves at none there has not been "
                      "cleared. Have them read by someone who reads their language.", style="bold", soft_wrap=True)
    console.print("crisis: the full safety response; check: one direct safety question; score: the learned "
                  "detector's probability of risk (0-1). A screen, not a diagnosis.", style="dim")
