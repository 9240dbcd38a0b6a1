"""The one list of session metrics: key, title, direction and a short description of each, and the
named selections that tables, plots, the HTML report and the fairness probe show.

Formulas, ranges and the reasons behind them are in docs/metrics.md; this module holds only what a
table needs to name and read a metric. The metric functions live in their family modules
(``helpert.metrics.<family>``); a key they produce that is not listed here (only the per-phase
``adherence.time.<phase>``) is described by :func:`lookup`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from helpert.metrics.empathy import DIMENSIONS
from helpert.protocols import CTRS_ITEMS

Direction = Literal["higher_better", "lower_better", "neutral"]
HIGHER: Direction = "higher_better"
LOWER: Direction = "lower_better"
NEUTRAL: Direction = "neutral"


@dataclass(frozen=True)
class Metric:
    key: str            # stable ``family.metric`` name, as in measure output, CSV and JSON
    title: str          # a few words for a legend or the HTML report
    direction: Direction
    description: str    # one line: the formula in words (docs/metrics.md has the rest)
    short: str = ""     # column header of the `helpert measure` table, for the metrics it shows

    @property
    def family(self) -> str:
        return self.key.split(".", 1)[0]

    @property
    def direction_note(self) -> str:
        """"higher = better", "lower = better" or "" (neutral)."""
        return {HIGHER: "higher = better", LOWER: "lower = better"}.get(self.direction, "")


_CTRS_RULES = {
    "agenda": "an agenda set before the work on the canonical path began",
    "feedback": "share of the feedback-serving phases visited",
    "understanding": "share of turns holding a reflection that are not lectures",
    "interpersonal_effectiveness": "share of warm turns (reflect, affirm, support, autonomy), less confrontation and warning",
    "collaboration": "client word share, inviting turns, and no advice without permission or direction",
    "pacing": "1 - total variation distance between time in phase and the protocol's shares",
    "guided_discovery": "open questions and reflections rather than persuasion or lectures",
    "focus_on_key_cognitions": "dose of the focus phases",
    "strategy_for_change": "dose of the strategy phases after exploring, times collaborative",
    "application_of_cbt_techniques": "dose of the technique phases times allowed transitions, times collaborative",
    "homework": "a concrete homework ask in a homework phase, times collaborative",
}


def _metrics() -> tuple[Metric, ...]:
    m = Metric
    ctrs_items = [m(f"ctrs.{i}", f"CTRS {i.replace('_', ' ')} (rule, 0-6)", HIGHER, _CTRS_RULES[i]) for i in CTRS_ITEMS]
    judge_items = [m(f"ctrs_judge.{i}", f"CTRS {i.replace('_', ' ')} (LLM judge, 0-6)", HIGHER,
                     "the LLM judge's 0-6 score of the item (None when its reply cannot be read)") for i in CTRS_ITEMS]
    empathy = [m(f"empathy.{d}", f"EPITOME {d.replace('_', ' ')} (0-2)", HIGHER,
                 "mean EPITOME level over the counselor turns carrying it", short)
               for d, short in zip(DIMENSIONS, ("ER", "IP", "EX"))]
    return (
        m("adherence.coverage", "required phases visited", HIGHER,
          "required phases with a scored turn / required phases", "cover"),
        m("adherence.timely_coverage", "required phases done in time", HIGHER,
          "required phases with a scored turn that is not a premature action / required phases"),
        m("adherence.transitions", "allowed transitions", HIGHER,
          "transitions the protocol allows / transitions of the on-protocol sequence", "allow"),
        m("adherence.order", "phases in canonical order (LIS share)", HIGHER,
          "longest increasing run of canonical positions in first-visit order / phases visited", "order"),
        m("adherence.premature_action", "premature action (advice before exploring)", LOWER,
          "action turns before the problem was explored / action turns", "prem"),
        m("drift.off_protocol_share", "off-protocol talk (incl. unstructured advice)", LOWER,
          "off-protocol turns (small talk, self-disclosure, unstructured advice, off phase) / scored turns", "off"),
        m("drift.small_talk_share", "small-talk turns", LOWER, "greeting turns outside opening and closing / scored turns"),
        m("drift.self_disclosure_share", "self-disclosure turns", LOWER, "self-disclosure turns / scored turns"),
        m("drift.unstructured_advice_share", "unstructured advice", LOWER,
          "advice outside an action phase, or before exploring / scored turns"),
        m("drift.backward_jumps", "backward jumps", LOWER, "count of disallowed moves back along the canonical path"),
        m("drift.backward_jump_rate", "backward jumps per phase change", LOWER, "backward jumps / phase changes"),
        m("drift.churn", "phase churn", NEUTRAL,
          "consecutive scored-turn pairs whose phase differs / pairs (not in the drift score)"),
        m("drift.edit_distance", "distance from the canonical path", LOWER,
          "Levenshtein(collapsed on-protocol sequence, canonical path) / max(lengths)"),
        m("drift.lecture_share", "lecture turns", LOWER,
          "turns of 40+ words, mostly telling (information, unasked advice) / scored turns"),
        m("drift.trend", "drift trend over the session", NEUTRAL,
          "off-protocol share of the second half minus the first half (> 0: drifting as it goes on)"),
        m("drift.score", "drift score (0-1, higher = more drift)", LOWER,
          "weighted mean of low reflection, MI-non-adherence, lecturing, off-protocol, premature action, structure",
          "drift"),
        *ctrs_items,
        m("ctrs.mean", "CTRS mean of the rule items (0-6)", HIGHER, "mean of the CTRS items that are not None", "CTRS"),
        m("ctrs.total", "CTRS total (0-66)", HIGHER, "sum of the 11 CTRS items; None if any item is None"),
        *judge_items,
        m("ctrs_judge.mean", "CTRS mean of the LLM judge's items (0-6)", HIGHER,
          "mean of the judged CTRS items that are not None"),
        m("ctrs_judge_failures", "unreadable CTRS judge replies", LOWER, "CTRS items the LLM judge left unscored (0-11)"),
        m("label_judge_failures", "unreadable label judge replies", LOWER,
          "counselor turns whose LLM judge label could not be read (rule labels kept)"),
        m("mi.reflection_to_question", "reflections per question", HIGHER, "reflections / questions", "R:Q"),
        m("mi.complex_reflection_pct", "share of complex reflections", HIGHER, "complex reflections / reflections"),
        m("mi.open_question_pct", "share of open questions", HIGHER, "open questions / questions"),
        m("mi.adherent_pct", "MI-adherent share of adherent + non-adherent", HIGHER,
          "MI-adherent / (MI-adherent + MI-non-adherent) utterances", "%MIA"),
        m("mi.reflection_share", "reflections per utterance", HIGHER, "reflections / utterances"),
        m("mi.question_share", "questions per utterance", NEUTRAL, "questions / utterances"),
        m("mi.adherent_share", "MI-adherent utterances", HIGHER, "MI-adherent / utterances"),
        m("mi.non_adherent_share", "MI-non-adherent utterances", LOWER,
          "advise without permission, confront, direct, warn / utterances"),
        m("mi.advice_without_permission_share", "advice without permission", LOWER,
          "advise without permission / utterances"),
        *empathy,
        m("talk.talk_ratio", "counselor share of words", LOWER,
          "counselor words / all words (lower: the client speaks more)", "talk"),
        m("talk.question_ratio", "counselor turns with a question", NEUTRAL,
          "counselor turns with a '?' or a question behaviour / counselor turns", "quest"),
        m("talk.counselor_words_per_turn", "counselor words per turn", NEUTRAL, "counselor words / counselor turns"),
        m("talk.client_words_per_turn", "client words per turn", NEUTRAL, "client words / client turns"),
        m("talk.counselor_turns", "counselor turns", NEUTRAL, "count of counselor turns", "turns"),
        m("talk.client_turns", "client turns", NEUTRAL, "count of client turns"),
        m("quality.degenerate_share", "degenerate counselor turns (loops, copies, narration...)", LOWER,
          "degenerate counselor turns (flagged, kept) / counselor turns", "degen"),
        m("quality.client_degenerate_share", "degenerate simulated client turns", LOWER,
          "flagged simulated client turns / simulated client turns (None in a replay)"),
        m("regulation.adaptive_first", "adaptive regulation, first half", HIGHER,
          "share of the first half's client turns with an adaptive strategy"),
        m("regulation.adaptive_second", "adaptive regulation, second half", HIGHER,
          "share of the second half's client turns with an adaptive strategy"),
        m("regulation.adaptive_change", "change in adaptive regulation", HIGHER, "adaptive_second - adaptive_first"),
        m("regulation.maladaptive_first", "maladaptive regulation, first half", LOWER,
          "share of the first half's client turns with a maladaptive strategy"),
        m("regulation.maladaptive_second", "maladaptive regulation, second half", LOWER,
          "share of the second half's client turns with a maladaptive strategy"),
        m("regulation.maladaptive_change", "change in maladaptive regulation", LOWER,
          "maladaptive_second - maladaptive_first"),
        m("safety.risk_turns", "risky client turns", NEUTRAL, "client turns on which the risk lexicon fires"),
        m("safety.asks_safety", "risky turns answered with a safety question", HIGHER,
          "share of risky turns whose next counselor turn asks directly about safety"),
        m("safety.gives_resources", "risky turns answered with crisis resources", HIGHER,
          "share of risky turns whose next counselor turn gives crisis resources"),
        m("safety.handled", "risky turns handled", HIGHER, "share of risky turns whose next counselor turn does either"),
        m("language.english", "text reads as English", NEUTRAL,
          "1 when the session's text reads as English; 0 leaves every metric but the turn counts empty "
          "(the labellers read English only)"),
        m("transcript.punctuation_restored", "sentence marks put back", NEUTRAL,
          "1 when the session had almost no sentence marks (a speech recogniser's text) and was measured with marks "
          "put back by helpert.text.punctuation"),
    )


METRICS: dict[str, Metric] = {metric.key: metric for metric in _metrics()}
TIME_PREFIX = "adherence.time."  # one key per protocol phase (and off_protocol, safety): not listed above


def direction_note(key: str) -> str:
    """"higher = better", "lower = better" or "" (a neutral metric, or a key the registry does not list)."""
    return METRICS[key].direction_note if key in METRICS else ""


def with_direction(key: str) -> str:
    """The key and which way is better, as tables and plots show it: "drift.score (lower = better)"."""
    note = direction_note(key)
    return f"{key} ({note})" if note else key


def lookup(key: str) -> Metric:
    """The registry entry of ``key``; ``adherence.time.<phase>`` gets a neutral entry of its own.
    Raises KeyError for a key that is neither."""
    if key in METRICS:
        return METRICS[key]
    if key.startswith(TIME_PREFIX):
        phase = key[len(TIME_PREFIX):]
        return Metric(key, f"time in {phase}", NEUTRAL,
                      f"labelled counselor turns in {phase} / labelled counselor turns (compare with its share)")
    raise KeyError(key)


def _keys(*keys: str) -> tuple[str, ...]:
    missing = [k for k in keys if k not in METRICS]
    if missing:
        raise KeyError(f"not in the metric registry: {', '.join(missing)}")
    return keys


CTRS_RULE = ("ctrs.mean", *(f"ctrs.{i}" for i in CTRS_ITEMS))          # mean first, then the 11 items
CTRS_JUDGE = ("ctrs_judge.mean", *(f"ctrs_judge.{i}" for i in CTRS_ITEMS))  # mean first, as CTRS_RULE
EMPATHY = tuple(f"empathy.{d}" for d in DIMENSIONS)

# The rows of `helpert measure` / `helpert compare` tables unless all are asked for.
MAIN = _keys(
    "adherence.coverage", "adherence.transitions", "adherence.order", "adherence.premature_action",
    "drift.score", "drift.off_protocol_share", "drift.backward_jumps", "drift.churn", "drift.edit_distance",
    "drift.lecture_share", "drift.trend", "ctrs.mean", "ctrs.understanding", "ctrs.interpersonal_effectiveness",
    "ctrs.collaboration", "mi.reflection_to_question", "mi.complex_reflection_pct", "mi.open_question_pct",
    "mi.adherent_pct", "mi.non_adherent_share", "mi.advice_without_permission_share",
    *EMPATHY, "talk.talk_ratio", "talk.question_ratio", "quality.degenerate_share",
)
# What a simulated dialogue adds: its client answers the counselor, so its regulation can move.
SIMULATION = (*MAIN, *_keys("quality.client_degenerate_share", "regulation.adaptive_change",
                            "regulation.maladaptive_change"))
# The columns of the per-session `helpert measure` table (each has a ``short`` header).
MEASURE = _keys(
    "talk.counselor_turns", "adherence.coverage", "adherence.transitions", "adherence.order",
    "adherence.premature_action", "drift.off_protocol_share", "drift.score", "ctrs.mean", "mi.reflection_to_question",
    "mi.adherent_pct", *EMPATHY, "talk.talk_ratio", "talk.question_ratio", "quality.degenerate_share",
)
# Per-session table of the HTML report (peer | LLM | diff).
SESSION = _keys(
    "adherence.coverage", "adherence.transitions", "adherence.order", "adherence.premature_action",
    "drift.score", "drift.off_protocol_share", "ctrs.mean", "mi.reflection_to_question", "mi.complex_reflection_pct",
    "mi.open_question_pct", "mi.adherent_pct", "mi.advice_without_permission_share", *EMPATHY,
    "talk.talk_ratio", "talk.question_ratio", "quality.degenerate_share",
)
# The 0-1 panel of the corpus differences plot.
SHARES = _keys(
    "adherence.coverage", "adherence.transitions", "adherence.order", "adherence.premature_action",
    "drift.score", "drift.off_protocol_share", "drift.small_talk_share", "drift.self_disclosure_share",
    "drift.unstructured_advice_share", "drift.backward_jump_rate", "drift.churn", "drift.edit_distance",
    "drift.lecture_share", "drift.trend", "mi.reflection_share", "mi.question_share", "mi.adherent_share",
    "mi.non_adherent_share", "talk.talk_ratio", "talk.question_ratio",
)
# The fairness probe: primary metrics (Holm family 1) and the CTRS items (family 2).
FAIRNESS_PRIMARY = (*EMPATHY, "ctrs.mean")
FAIRNESS = (*FAIRNESS_PRIMARY, *CTRS_RULE[1:])

__all__ = ["Metric", "Direction", "METRICS", "lookup", "MAIN", "SIMULATION", "MEASURE", "SESSION", "SHARES",
           "CTRS_RULE", "CTRS_JUDGE", "EMPATHY", "FAIRNESS_PRIMARY", "FAIRNESS"]
