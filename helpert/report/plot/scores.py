"""Scores, peer vs LLM: one session's CTRS items and empathy (from its comparison row), and the
corpus's paired differences with 95% CIs (from ``compare_corpus`` statistics).

Metrics on different scales never share an axis: CTRS items are 0-6, empathy 0-2, the adherence,
drift and talk shares 0-1, so each family gets its own panel.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from helpert.metrics import registry
from helpert.report.plot.common import LLM_COLOUR, PEER_COLOUR, new_figure

if TYPE_CHECKING:
    import pandas
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

CTRS_KEYS = registry.CTRS_RULE
EMPATHY_KEYS = registry.EMPATHY
SHARE_KEYS = registry.SHARES
# (panel title, metric keys) of the corpus plot; LLM-judged CTRS items join the CTRS panel when present.
CORPUS_GROUPS = (
    ("adherence, drift and talk (shares, 0-1; drift: higher = more drift)", SHARE_KEYS),
    ("CTRS by rule (0-6)", CTRS_KEYS),
    ("CTRS by LLM judge (0-6)", registry.CTRS_JUDGE),
    ("empathy, EPITOME (0-2)", EMPATHY_KEYS),
)


def _value(row: Any, key: str) -> float | None:
    v = row.get(key) if hasattr(row, "get") else None
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)


def _paired_bars(ax: "Axes", row: Any, keys: tuple[str, ...], top: float, title: str) -> None:
    """Horizontal bars, peer above LLM for each metric; a missing value is written 'n/a'."""
    n = len(keys)
    for i, key in enumerate(keys):
        y = n - 1 - i
        for side, colour, dy in (("peer", PEER_COLOUR, 0.19), ("llm", LLM_COLOUR, -0.19)):
            v = _value(row, f"{key}.{side}")
            bar = ax.barh(y + dy, v or 0.0, height=0.36, color=colour, label=side)
            bar.patches[0].set_gid(f"bar:{side}:{key}")
            if v is None:
                ax.text(0.05, y + dy, "n/a", va="center", fontsize=7, color="#777777")
    ax.set_yticks(range(n), [k.split(".", 1)[1].replace("_", " ") for k in reversed(keys)], fontsize=8)
    ax.set_xlim(0, top)
    ax.set_xticks(range(0, int(top) + 1))
    ax.grid(axis="x", color="#e0e0e0", lw=0.6)
    ax.set_axisbelow(True)
    ax.set_title(title, fontsize=9.5, loc="left")
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def draw_session_scores(row: "pandas.Series", title: str = "") -> "Figure":
    """CTRS items (0-6) and EPITOME empathy (0-2), peer vs LLM, for one row of the comparison table
    (columns ``<metric>.peer`` / ``<metric>.llm``)."""
    from matplotlib.patches import Patch

    fig = new_figure(10, 4.6)
    left, right = fig.subplots(1, 2, width_ratios=[1.5, 1])
    _paired_bars(left, row, CTRS_KEYS, 6, "CTRS items by rule (0-6)")
    _paired_bars(right, row, EMPATHY_KEYS, 2, "empathy, EPITOME (0-2)")
    handles = [Patch(color=PEER_COLOUR, label="peer counselor"), Patch(color=LLM_COLOUR, label="LLM counselor")]
    fig.legend(handles=handles, loc="outside lower center", ncol=2, fontsize=8, frameon=False)
    if title:
        fig.suptitle(title, fontsize=11)
    return fig


def corpus_groups(stats: "pandas.DataFrame") -> list[tuple[str, list[str]]]:
    """The :data:`CORPUS_GROUPS` restricted to metrics with a mean difference in ``stats``."""
    present = {m for m in stats.index if not math.isnan(float(stats.loc[m, "mean_diff"]))}
    return [(title, [k for k in keys if k in present]) for title, keys in CORPUS_GROUPS
            if any(k in present for k in keys)]


def draw_corpus_differences(stats: "pandas.DataFrame", title: str = "") -> "Figure":
    """Per metric, the mean paired difference (LLM - peer) as a dot with its 95% CI as a whisker;
    a filled dot when the CI excludes 0. ``stats`` is ``compare_corpus`` output (index = metric)."""
    from matplotlib.lines import Line2D

    groups = corpus_groups(stats)
    sizes = [len(keys) for _, keys in groups] or [1]
    fig = new_figure(9, 1.6 + 0.26 * sum(sizes) + 0.5 * len(sizes))
    axes = fig.subplots(len(sizes), 1, height_ratios=[s + 1.2 for s in sizes], squeeze=False)[:, 0]
    n_max = int(stats["n"].max()) if len(stats) else 0
    for ax, (group, keys) in zip(axes, groups):
        for i, key in enumerate(keys):
            s = stats.loc[key]
            y = len(keys) - 1 - i
            d, lo, hi = float(s["mean_diff"]), float(s["ci_low"]), float(s["ci_high"])
            has_ci = not (math.isnan(lo) or math.isnan(hi))
            excludes_zero = has_ci and (lo > 0 or hi < 0)
            err = [[d - lo], [hi - d]] if has_ci else None
            container = ax.errorbar([d], [y], xerr=err, fmt="o", color="#222222", ecolor="#555555", capsize=3,
                                    markersize=6, markerfacecolor="#222222" if excludes_zero else "white")
            container.lines[0].set_gid(f"diff:{key}")
            ax.text(1.01, y, f"n={int(s['n'])}", transform=ax.get_yaxis_transform(), va="center", fontsize=7,
                    color="#666666")
        reach = max((abs(float(stats.loc[k, c])) for k in keys for c in ("mean_diff", "ci_low", "ci_high")
                     if not math.isnan(float(stats.loc[k, c]))), default=0.0)
        ax.set_xlim(-1.12 * reach - 1e-3, 1.12 * reach + 1e-3)  # symmetric: left of 0 is always "LLM lower"
        ax.axvline(0, color="#999999", lw=0.8, zorder=0)
        ax.set_yticks(range(len(keys)), [registry.with_direction(k) for k in reversed(keys)], fontsize=8)
        ax.set_ylim(-0.7, len(keys) - 0.3)
        ax.grid(axis="x", color="#eeeeee", lw=0.6)
        ax.set_axisbelow(True)
        ax.set_title(group, fontsize=9, loc="left")
        ax.tick_params(axis="x", labelsize=8)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    if groups:
        axes[-1].set_xlabel("LLM − peer (mean paired difference, 95% bootstrap CI)", fontsize=9)
    else:
        axes[0].text(0.5, 0.5, "no metric has values on both sides", ha="center", va="center",
                     transform=axes[0].transAxes)
        axes[0].set_axis_off()
    handles = [
        Line2D([], [], ls="none", marker="o", color="#222222", label="CI excludes 0"),
        Line2D([], [], ls="none", marker="o", color="#222222", markerfacecolor="white", label="CI includes 0 (or n = 1)"),
    ]
    from helpert.compare import SMALL_N

    if 1 < n_max < SMALL_N:  # a filled dot reads as a finding; from so few pairs it is none
        handles.append(Line2D([], [], ls="none", label=f"only {n_max} pairs: CIs far too narrow to trust"))
    fig.legend(handles=handles, loc="outside lower center", ncol=2, fontsize=8, frameon=False)
    fig.suptitle(title or f"LLM vs peer across {n_max} session{'s' if n_max != 1 else ''}", fontsize=11)
    return fig
