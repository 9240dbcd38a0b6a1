"""Session metrics: pure functions of a labelled session and a protocol, flattened into one dict.

Key names are stable (``family.metric``; time in phase is ``adherence.time.<phase>``) so runs can
be compared across versions. Titles and directions of every key: :mod:`helpert.metrics.registry`;
formulas and ranges: docs/metrics.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Iterable, TypeVar

from helpert.metrics import adherence, ctrs, drift, empathy, mi, quality, registry, regulation, talk
from helpert.metrics.common import is_labelled
from helpert.protocols import Protocol
from helpert.session import Session, merge_consecutive
from helpert.text.language import check_english
from helpert.text.transcript import speech_view

if TYPE_CHECKING:
    import pandas

T = TypeVar("T")
R = TypeVar("R")

# The rows of `helpert measure` / `helpert compare` tables unless all are asked for, and what a simulated
# dialogue adds (its client answers the counselor, so its regulation can move): see helpert.metrics.registry.
MAIN_METRICS = registry.MAIN
SIMULATION_METRICS = registry.SIMULATION


# What a session in another language keeps (docs/metrics.md, "Language"): counts that read no word of it.
LANGUAGE_FREE = frozenset({"talk.counselor_turns", "talk.client_turns"})


def measure_labelled(session: Session, protocol: Protocol, judge: ctrs.Judge | None = None) -> dict[str, float | None]:
    """Every metric of an already labelled session; with ``judge``, the LLM-judged CTRS items too. The rules read
    each turn as the labellers do, without times, transcribers' notes, fillers and a repeated own label
    (:func:`helpert.text.transcript.speech_view`; rounds 63 and 65).

    ``language.english`` is 1 when the session's text reads as English (:mod:`helpert.text.language`). When it
    is 0 every metric but the turn counts is None: the labellers read English only, and their codes of another
    language are noise, not a low score. The judge's items (``ctrs_judge.*``) are still asked for, since a judge
    model may read the language."""
    view = speech_view(session)  # what was said (helpert.text.transcript)
    return _row(view, protocol, None if judge is None else ctrs.judge_ctrs(view, judge))


def _row(view: Session, protocol: Protocol, judged: dict[str, float | None] | None) -> dict[str, float | None]:
    """The metrics of a session's speech view, with the judge's CTRS items when they were asked for."""
    english = check_english(t.text for t in view.turns).english
    out = {
        **adherence.measure(view, protocol),
        **drift.measure(view, protocol),
        **ctrs.measure(view, protocol),
        **mi.measure(view),
        **empathy.measure(view),
        **talk.measure(view),
        **regulation.measure(view),
        **quality.measure(view),
        **safety_metrics(view),
        "transcript.punctuation_restored": float(bool(view.meta.get("punctuation_restored"))),
    }
    if not english:
        out = {k: (v if k in LANGUAGE_FREE else None) for k, v in out.items()}
    out["language.english"] = float(english)
    if judged is not None:
        out.update(judged)
    if "label_judge_failures" in view.meta:
        out["label_judge_failures"] = float(view.meta["label_judge_failures"])
    return out


def judge_map(fn: "Callable[[T], R]", items: "list[T]", concurrency: int = 1) -> "list[R]":
    """``[fn(x) for x in items]``, with up to ``concurrency`` calls in flight on threads (an LLM judge on a server
    answers many requests at once); the results keep the items' order."""
    if concurrency <= 1 or len(items) <= 1:
        return [fn(x) for x in items]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=min(concurrency, len(items)), thread_name_prefix="judge") as pool:
        return list(pool.map(fn, items))


def safety_metrics(session: Session) -> dict[str, float | None]:
    """How the counselor met the client's risky moments (docs/metrics.md, "safety")."""
    from helpert.label.safety_handling import safety_summary

    return {f"safety.{k}": (float(v) if v is not None else None) for k, v in safety_summary(session).items()}


def one_line_per_turn(session: Session) -> Session:
    """``session`` with each run of one speaker's consecutive turns joined into one turn (:func:`merge_consecutive`):
    a transcript that writes a speaker's talk over several lines (a line per sentence, per chat message or per
    recogniser segment) is measured as the turns it has, as the replay reads it (round 64). The session itself when
    the speakers already alternate."""
    if all(a.role != b.role for a, b in zip(session.turns, session.turns[1:])):
        return session
    return session.model_copy(update={"turns": merge_consecutive(session.turns)})


def ensure_labelled(sessions: list[Session], protocol: Protocol, label_judge: ctrs.Judge | None = None,
                    judge_concurrency: int = 1, phase_labeller: str = "auto") -> list[Session]:
    """Label, with the default labeller, the sessions that carry no phase labels for ``protocol``, each run of one
    speaker's consecutive lines joined into one turn first (:func:`one_line_per_turn`; an already labelled session is
    measured as it is);
    with ``label_judge``, every session's phases and behaviours then come from that LLM judge
    (:mod:`helpert.label.judge`), the rule labels standing in where its reply cannot be read; ``judge_concurrency``
    sessions at a time. ``phase_labeller``: as for :func:`helpert.label.label_sessions` ("auto": the learned model for
    ``cbt_session``, the cue rules elsewhere; "rules"; "model")."""
    todo = [i for i, s in enumerate(sessions) if s.counselor_turns and not is_labelled(s, protocol)]
    out = list(sessions)
    if todo:
        from helpert.label import label_sessions

        for i, s in zip(todo, label_sessions([one_line_per_turn(sessions[i]) for i in todo], protocol,
                                             phase_labeller=phase_labeller)):
            out[i] = s
    if label_judge is not None:
        from helpert.label.judge import judge_turn_labels

        out = judge_map(lambda s: judge_turn_labels(s, protocol, label_judge), out, judge_concurrency)
    return out


def measure_session(session: Session, protocol: Protocol, judge: ctrs.Judge | None = None,
                    label_judge: ctrs.Judge | None = None) -> dict[str, float | None]:
    """Flat dict of every metric; labels the session first if it has no phase labels."""
    return measure_labelled(ensure_labelled([session], protocol, label_judge)[0], protocol, judge)


def measure_sessions(sessions: Iterable[Session], protocol: Protocol, judge: ctrs.Judge | None = None,
                     label_judge: ctrs.Judge | None = None, judge_concurrency: int = 1,
                     phase_labeller: str = "auto") -> "pandas.DataFrame":
    """One row per session (index ``dialogue_id``), one column per metric; missing values are NaN.
    ``judge`` scores the CTRS items with an LLM too; ``label_judge`` labels the turns with one; with
    ``judge_concurrency`` > 1 the judges are asked about that many sessions at once (a judge on a server; the
    results are the same as one at a time wherever the judge's answers are). The rule metrics are computed in
    this thread."""
    import pandas as pd

    labelled = ensure_labelled(list(sessions), protocol, label_judge, judge_concurrency, phase_labeller)
    views = [speech_view(s) for s in labelled]  # what was said (helpert.text.transcript)
    judged = (judge_map(lambda v: ctrs.judge_ctrs(v, judge), views, judge_concurrency) if judge is not None
              else [None] * len(views))
    rows = [_row(v, protocol, j) for v, j in zip(views, judged)]
    frame = pd.DataFrame(rows, index=pd.Index([s.dialogue_id for s in labelled], name="dialogue_id"), dtype=float)
    return frame


__all__ = ["MAIN_METRICS", "SIMULATION_METRICS", "measure_session", "measure_sessions", "measure_labelled", "ensure_labelled"]
