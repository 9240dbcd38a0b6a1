"""Synthetic degradations of real sessions, to check that a metric points the right way: at strength k,
k counselor turns become advice right after the opening, closed questions in place of reflections or
lectures, k small-talk exchanges are put in beside the turns, or a share k/4 of the counselor turns is
shuffled. A good drift score should rise and CTRS fall with k (benchmarks/validate_quality.py,
benchmarks/validate_drift.py).

Deterministic: the random choices are seeded by the dialogue id, the kind and the ``draw`` (0 unless given;
another draw is another random set of turns, for averaging over the randomness), and nested across k: the
session degraded at k + 1 is the one degraded at k with one more turn replaced, every turn replaced at k keeping
its text (before 2026-12-05 the texts were handed out in the order of the turns' positions, so a turn replaced at k
could get another text at k + 1). Replaced turns lose their labels (or get
``labels``), so label the degraded sessions again before measuring them. Positions count counselor turns
from 0; the opening (position 0) is never replaced.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Callable

from helpert.session import Session

if TYPE_CHECKING:
    import numpy as np

LEVELS = (0, 1, 2, 3, 4)

# Written for validate_quality (not taken from any dataset, never used to train or tune a labeller).
ADVICE = (
    "You need to stop buying cigarettes altogether and throw out the ones you have at home.",
    "What you should do is go to bed at the same time every night and stop using your phone in bed.",
    "The best thing for you is to tell your boss exactly how you feel tomorrow morning.",
    "Just start exercising every day, that will fix most of this for you.",
    "You have to cut those friends off, they are clearly bad for you.",
)
CLOSED_QUESTIONS = (
    "Did that happen more than once?",
    "Is that something you talked about with anyone?",
    "Was it on a weekday?",
    "Do you live alone?",
    "Have you been there before?",
)
LECTURE = (
    "There is a lot of research on this. Stress raises cortisol, and cortisol affects sleep, appetite and mood. "
    "Most people underestimate how much their habits matter here. Regular routines, daylight in the morning, "
    "limiting caffeine after noon and keeping screens out of the bedroom are the standard recommendations, and "
    "they work for the majority of people who actually follow them consistently for several weeks.",
    "Let me explain how this works. Anxiety is the body's alarm system, and when it fires too often the brain "
    "learns that ordinary situations are dangerous. Avoidance makes it worse because you never learn otherwise. "
    "The treatment that has the best evidence is gradual exposure, which means facing the situation step by step "
    "until the alarm settles, and people usually need several weeks of practice for it to stick.",
    "Nicotine is one of the most addictive substances there is. Withdrawal peaks in the first three days and "
    "mostly fades within a month. Nicotine replacement doubles the chance of quitting, and combining a patch "
    "with gum or a lozenge is more effective than either alone. Medications such as varenicline help even more, "
    "and a quit date set about two weeks ahead gives you time to prepare properly.",
)
SMALL_TALK = (
    "By the way, did you watch the match last night?",
    "I had the best coffee this morning at a new place near the station.",
    "The weather has been lovely this week, hasn't it?",
    "I'm thinking about repainting my kitchen this weekend.",
)
# A client's short reply to the counselor's small talk (round 91).
SMALL_TALK_REPLIES = ("Oh, nice.", "Yeah.", "Ha, maybe.", "Mm, true.", "Right.")


def _rng(session: Session, kind: str, draw: int = 0) -> "np.random.Generator":
    import zlib

    import numpy as np

    key = f"{session.dialogue_id}:{kind}" + (f":{draw}" if draw else "")
    return np.random.default_rng(zlib.crc32(key.encode()))


def counselor_indices(session: Session) -> list[int]:
    """Index in ``session.turns`` of each counselor turn."""
    return [i for i, t in enumerate(session.turns) if t.role == "counselor"]


def replace_turns(session: Session, positions: list[int], texts: tuple[str, ...], labels: dict | None = None) -> Session:
    """The counselor turns at these positions get ``texts`` in turn, in the order the positions are given (the
    order they were chosen in, so that a turn keeps its text when more are replaced), and ``labels`` (default none)."""
    counselor = counselor_indices(session)
    turns = list(session.turns)
    for j, pos in enumerate(positions):
        i = counselor[pos]
        turns[i] = turns[i].model_copy(update={"text": texts[j % len(texts)], "labels": dict(labels or {})})
    return session.model_copy(update={"turns": turns})


def random_positions(session: Session, kind: str, k: int, draw: int = 0) -> list[int]:
    """k random counselor positions after the opening, in the order they were drawn: nested across k, the first k
    of one random order (``draw`` picks another)."""
    n = len(counselor_indices(session))
    return (1 + _rng(session, kind, draw).permutation(n - 1))[:k].tolist()


def early_advice(session: Session, k: int, reflective: list[int] = (), texts: tuple[str, ...] = ADVICE,
                 labels: dict | None = None, draw: int = 0) -> Session:
    """The k counselor turns right after the opening become advice (the same turns in every draw; the
    draw rotates the texts)."""
    shift = draw % len(texts)
    return replace_turns(session, list(range(1, k + 1)), texts[shift:] + texts[:shift], labels)


def questions_for_reflections(session: Session, k: int, reflective: list[int] = (),
                              texts: tuple[str, ...] = CLOSED_QUESTIONS, draw: int = 0) -> Session:
    """The first k reflective turns (positions from :func:`reflective_positions` of the labelled original)
    become closed questions; where a session has fewer, random other turns follow (nested across k)."""
    n = len(counselor_indices(session))
    rest = [p for p in random_positions(session, "q4r", n, draw) if p not in reflective]
    first = list(reflective) if not draw else [reflective[i] for i in _rng(session, "q4r-reflective", draw).permutation(len(reflective))]
    return replace_turns(session, (first + rest)[:k], texts)


def lecture(session: Session, k: int, reflective: list[int] = (), texts: tuple[str, ...] = LECTURE, draw: int = 0) -> Session:
    """k random counselor turns become lectures."""
    return replace_turns(session, random_positions(session, "lecture", k, draw), texts)


def small_talk(session: Session, k: int, reflective: list[int] = (), texts: tuple[str, ...] = SMALL_TALK,
               replies: tuple[str, ...] | None = None, draw: int = 0) -> Session:
    """k small-talk exchanges put in beside the counselor's turns (round 91): each a counselor small-talk line
    (``texts``) and a short client reply (``replies``, default :data:`SMALL_TALK_REPLIES`), after the client turn that
    follows a random counselor turn (after the counselor turn where no client turn follows). Nothing is taken out, so
    the session loses no work and gains only talk that serves no phase - the degradation the issue names, where
    :func:`small_talk_replacing` also takes the replaced turns' own behaviour out (round 81). Nested across k; turns
    renumbered; the new turns carry no labels."""
    replies = replies or SMALL_TALK_REPLIES
    turns = list(session.turns)
    counselor = counselor_indices(session)
    after: dict[int, list[int]] = {}
    for j, pos in enumerate(random_positions(session, "small_talk_beside", k, draw)):
        i = counselor[pos]
        after.setdefault(i + 1 if i + 1 < len(turns) and turns[i + 1].role == "client" else i, []).append(j)
    out = []
    for i, t in enumerate(turns):
        out.append(t)
        for j in after.get(i, []):
            out.append(type(t)(idx=0, role="counselor", text=texts[(j + draw) % len(texts)]))
            out.append(type(t)(idx=0, role="client", text=replies[(j + draw) % len(replies)]))
    return session.model_copy(update={"turns": [t.model_copy(update={"idx": n}) for n, t in enumerate(out)]})


def small_talk_replacing(session: Session, k: int, reflective: list[int] = (), texts: tuple[str, ...] = SMALL_TALK,
                         labels: dict | None = None, draw: int = 0) -> Session:
    """k random counselor turns become small talk (the small-talk degradation until round 91; reported, not a check,
    since each step trades the replaced turn's behaviour for the small talk)."""
    return replace_turns(session, random_positions(session, "small_talk", k, draw), texts, labels)


def shuffled(session: Session, k: int, reflective: list[int] = (), keep_labels: bool = False, draw: int = 0) -> Session:
    """A share k/4 of the counselor turns (a nested random subset) permuted among their own slots; a moved
    turn keeps its labels only with ``keep_labels``."""
    rng = _rng(session, "shuffle", draw)
    counselor = counselor_indices(session)
    chosen = sorted(rng.permutation(len(counselor))[: round(len(counselor) * k / max(LEVELS))].tolist())
    perm = rng.permutation(len(chosen))
    turns = list(session.turns)
    for dst, src in zip(chosen, (chosen[p] for p in perm)):
        old = session.turns[counselor[src]]
        turns[counselor[dst]] = turns[counselor[dst]].model_copy(
            update={"text": old.text, "labels": dict(old.labels) if keep_labels else {}})
    return session.model_copy(update={"turns": turns})


DEGRADATIONS: dict[str, Callable[..., Session]] = {
    "early_advice": early_advice, "questions_for_reflections": questions_for_reflections, "lecture": lecture,
    "small_talk": small_talk, "shuffle": shuffled, "small_talk_replacing": small_talk_replacing,
}
# Reported beside the checks, not one of them (benchmarks/validate_quality.py).
REPORTED_ONLY = frozenset({"small_talk_replacing"})


# Minimal encouragers a transcriber gives their own counselor turn (round 56): splicing them into client turns should
# change no quality measure, since MITI does not code them.
BACKCHANNELS = ("Mm-hmm.", "Right.", "Yeah.", "Okay.", "I see.", "Mm.", "Uh-huh.", "Go on.")


def _split_point(text: str) -> int | None:
    """Where to cut a client turn for a backchannel: after its first sentence if it has two or more, else after
    its first comma, else after the middle word; None for a turn of fewer than four words."""
    ends = [m.end() for m in re.finditer(r"[.!?]+\s+", text) if m.end() < len(text.rstrip())]
    if ends:
        return ends[0]
    comma = text.find(", ")
    if 0 < comma < len(text) - 2:
        return comma + 2
    words = text.split()
    if len(words) < 4:
        return None
    return len(" ".join(words[: len(words) // 2])) + 1


def _statement_end(text: str) -> int | None:
    """After the first sentence that is not a question, when more text follows; else None. A listener's "yeah"
    after a question is an answer, not a backchannel, so a counselor turn is cut only after a statement."""
    for m in re.finditer(r"[.!]+\s+", text):
        if m.end() < len(text.rstrip()):
            return m.end()
    return None


def with_backchannels(session: Session, share: float, draw: int = 0, texts: tuple[str, ...] = BACKCHANNELS,
                      cut: str = "client") -> Session:
    """An invariance probe, not a degradation: a random ``share`` of the ``cut`` speaker's turns (those of four words
    or more) is cut in two, with a backchannel by the other speaker between the halves, as a verbatim transcript
    writes a counselor's "mm-hmm" while the client talks (``cut="client"``: after the first sentence, a comma or the
    middle word) or a client's "yeah" in the middle of a counselor's explanation (``cut="counselor"``: after the
    first sentence that is not a question, in turns that go on after it). Nested across shares within a draw; turns renumbered; the cut
    and new turns carry no labels (label the session again before measuring it)."""
    other = "counselor" if cut == "client" else "client"
    rng = _rng(session, "backchannels" if cut == "client" else "backchannels-counselor", draw)
    split_at = _split_point if cut == "client" else _statement_end
    eligible = [i for i, t in enumerate(session.turns) if t.role == cut and split_at(t.text) is not None]
    chosen = {eligible[j] for j in rng.permutation(len(eligible))[: round(len(eligible) * share)].tolist()}
    turns: list = []
    for j, t in enumerate(session.turns):
        if j not in chosen:
            turns.append(t)
            continue
        split = split_at(t.text)
        turns.append(t.model_copy(update={"text": t.text[:split].rstrip(), "labels": {}}))
        turns.append(type(t)(idx=0, role=other, text=texts[(j + draw) % len(texts)]))
        turns.append(t.model_copy(update={"text": t.text[split:].strip(), "labels": {}}))
    return session.model_copy(update={"turns": [t.model_copy(update={"idx": i}) for i, t in enumerate(turns)]})


def reflective_positions(labelled: Session) -> list[int]:
    """Counselor positions whose MI codes (helpert.label) include a reflection."""
    from helpert.label.mi import REFLECTION

    return [j for j, t in enumerate(labelled.counselor_turns) if any(c in REFLECTION for c in t.labels.get("mi", []))]


def degrade(session: Session, kind: str, k: int, reflective: list[int] = (), **options: Any) -> Session:
    """``session`` degraded by ``kind`` (a key of :data:`DEGRADATIONS`) at strength ``k``."""
    return DEGRADATIONS[kind](session, k, reflective, **options)
