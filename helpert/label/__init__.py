"""Label counselor turns: phase, behaviour, MITI-style utterance codes, ESConv strategy, helping-skills stage
and EPITOME empathy.

No LLM: linear models shipped in ``helpert/data/labellers.npz`` and ``helpert/data/mi_model.npz`` (the
latter over sentence embeddings, :mod:`helpert.text.encoder`) plus documented rules. :func:`label_sessions` vectorises every counselor turn of every
session in one batch; phases are then assigned session by session.

Keys written into ``Turn.labels`` of counselor turns: ``phase``, ``behaviour``, ``mi`` (one code per
sentence, :mod:`helpert.label.mi`), ``strategy_pred``, ``stage_pred``, ``empathy``. Client turns are copied
unchanged.
"""

from __future__ import annotations

from typing import Sequence

from helpert.protocols import OFF_PROTOCOL, Protocol
from helpert.session import Session, Turn

LABEL_KEYS = ("phase", "behaviour", "mi", "strategy_pred", "stage_pred", "empathy")


def _units(session: Session, plain: list[str], heard: list[str]) -> list:
    """A classifier unit per counselor turn: text, client turns around it, relative position. A transcriber's
    "mm-hmm" turn cuts one client turn in two (round 56), so the client's talk is read through the counselor's minimal
    encouragers on both sides: before a turn, what the client said since the counselor's last turn that was not an
    encourager; after it, what the client says until the counselor's next such turn (round 66); and the relative
    position counts neither an encourager nor the part of a client turn after it."""
    from helpert.label.mi import is_minimal_encourager_text
    from helpert.text.features import Unit

    turns = session.turns
    n = len(turns)
    counselor = [i for i, t in enumerate(turns) if t.role == "counselor"]
    encourager = [t.role == "counselor" and is_minimal_encourager_text(t.text) for t in turns]
    # a turn's place among the turns an encourager does not cut: an encourager, and a client turn that goes on after
    # one, add no place
    place, k = [], -1
    for j, t in enumerate(turns):
        goes_on = t.role == "client" and j >= 2 and encourager[j - 1] and turns[j - 2].role == "client"
        k += not (encourager[j] or goes_on)
        place.append(max(k, 0))
    places = max(place[-1], 1) if place else 1
    units = []
    for c, i in enumerate(counselor):
        prev = heard[c] if heard[c] != plain[c] else next(
            (turns[j].text for j in range(i - 1, -1, -1) if turns[j].role == "client"), "")
        said = []
        for j in range(i + 1, n):
            if turns[j].role == "client":
                said.append(turns[j].text)
            elif said and not encourager[j]:
                break
        units.append(Unit(turns[i].text, prev, " ".join(said), place[i] / places, i == counselor[0], i == counselor[-1]))
    return units


def client_between(session: Session, through_encouragers: bool = False) -> list[str]:
    """Per counselor turn, what the client said since the previous counselor turn ("" for nothing); with
    ``through_encouragers``, since the previous counselor turn that was not a minimal encourager."""
    from helpert.label.mi import is_minimal_encourager_text

    out: list[str] = []
    said: list[str] = []
    for t in session.turns:
        if t.role == "counselor":
            out.append(" ".join(said))
            if not (through_encouragers and is_minimal_encourager_text(t.text)):
                said = []
        else:
            said.append(t.text)
    return out


PHASE_LABELLERS = ("auto", "rules", "model")


def _model_phases(model, logp, rows: list[int | None]) -> list[str]:
    """One session's phases by the learned model: its turns' ``rows`` of ``logp`` (None for a minimal encourager,
    which the model does not read, round 92) decoded as one sequence; an encourager takes the phase of the turn
    before it (the first read turn's when it opens the session; off-protocol when the session has no other)."""
    read = [r for r in rows if r is not None]
    decoded = iter(model.decode(logp[read]) if read else [])
    out: list[str] = []
    for r in rows:
        out.append(next(decoded) if r is not None else (out[-1] if out else None))
    first = next((p for p in out if p is not None), OFF_PROTOCOL)
    return [first if p is None else p for p in out]


def label_sessions(sessions: Sequence[Session], protocol: Protocol, weights: str | None = None,
                   phase_labeller: str = "auto") -> list[Session]:
    """Copies of ``sessions`` with labels written into every counselor turn (inputs are not modified). The labellers
    read each turn without its times, transcribers' notes, fillers and a repeated own label
    (:func:`helpert.text.transcript.speech_view`); the copies keep the text as it was.

    ``weights`` is another ``labellers.npz`` (default: the shipped one). ``phase_labeller``: "auto" (the default since
    round 91: the learned phase model of :mod:`helpert.label.phase_model` where it serves - ``cbt_session`` and its
    unedited copies - and the cue rules of :mod:`helpert.label.phase` for every other protocol), "rules" (the cue rules,
    every protocol) or "model" (the learned model; an error for a protocol it was not trained for). On fresh annotated
    sessions the model agrees with the annotators on 75-80% of the turns, the rules on 33-40% (benchmarks/README.md,
    "Phase labeller").
    """
    from helpert.label.behaviour import behaviours
    from helpert.label.empathy import empathy_from_scores
    from helpert.text.linear import load_bundle
    from helpert.label.mi import code_turns
    from helpert.label.phase import SAFETY_CUES, CueMatcher, off_topic_turns, session_phases
    from helpert.protocols import SAFETY
    from helpert.text.features import normalise
    from helpert.label.strategy import stage_from_scores, strategy_from_scores
    from helpert.text.transcript import speech_view

    originals = sessions
    # the labellers read what was said: times, transcribers' notes, fillers and a repeated own label out
    # (helpert.text.transcript); the labels go onto the original turns below
    sessions = [speech_view(s) for s in sessions]
    bundle = load_bundle(weights)
    # per counselor turn: the client's talk since the last counselor turn, and since the last that was not an encourager
    contexts = [(client_between(s), client_between(s, through_encouragers=True)) for s in sessions]
    units = [u for s, (plain, heard) in zip(sessions, contexts) for u in _units(s, plain, heard)]
    scores = bundle.scores(units)
    classes = {n: m.classes for n, m in bundle.models.items()}
    strategies = strategy_from_scores(scores["strategy"], classes["strategy"], [normalise(u.text) for u in units])
    stages = stage_from_scores(scores["strategy"], classes["strategy"])
    acts = behaviours([u.text for u in units], strategies)
    empathy = empathy_from_scores(scores, classes)
    matcher = CueMatcher(protocol)
    between = [c for plain, _ in contexts for c in plain]  # per counselor turn, as ``units``
    heard = [c for _, through in contexts for c in through]
    mi = code_turns([u.text for u in units], heard)
    model = phase_model_for(protocol, phase_labeller)
    counts = [sum(t.role == "counselor" for t in s.turns) for s in sessions]
    if model is not None:  # every turn of the batch at once, less minimal encouragers; each session decoded below
        from helpert.label.mi import is_minimal_encourager_text

        norm = [normalise(u.text) for u in units]
        evidence: list[list[float]] = []  # per turn: the cue evidence, which the model reads too
        off_topic: list[bool] = []  # and the off-topic rule's verdict, which overrules it (round 93)
        k = 0
        for n in counts:  # the off-topic rule reads the client's talk so far: session by session
            ev, off = off_topic_turns(norm[k:k + n], acts[k:k + n], protocol, matcher, client=between[k:k + n])
            evidence += ev
            off_topic += off
            k += n
        read = [i for i, u in enumerate(units) if not is_minimal_encourager_text(u.text)]
        logp = model.log_proba([units[i].text for i in read], [heard[i] for i in read], [evidence[i] for i in read],
                               [acts[i] for i in read]) if read else None
        row = {i: r for r, i in enumerate(read)}

    out: list[Session] = []
    k = 0
    for original, n in zip(originals, counts, strict=True):
        sl = slice(k, k + n)
        if model is None:
            phases = session_phases([u.text for u in units[sl]], acts[sl], strategies[sl], stages[sl], protocol, matcher,
                                    client=between[sl])
        else:  # crisis language is the safety phase and off-topic small talk off-protocol whatever the model says,
            # as under the rules
            decoded = _model_phases(model, logp, [row.get(i) for i in range(k, k + n)])
            phases = [SAFETY if SAFETY_CUES.search(norm[i]) else OFF_PROTOCOL if off_topic[i] else p
                      for i, p in zip(range(k, k + n), decoded)]
        turns: list[Turn] = []
        j = 0
        for t in original.turns:
            labels = dict(t.labels)
            if t.role == "counselor":
                i = k + j
                labels.update(
                    phase=phases[j], behaviour=acts[i], mi=mi[i], strategy_pred=strategies[i], stage_pred=stages[i],
                    empathy=empathy[i],
                )
                j += 1
            turns.append(t.model_copy(update={"labels": labels}))
        out.append(original.model_copy(update={"turns": turns, "meta": dict(original.meta)}))
        k += n
    return out


def phase_model_for(protocol: Protocol, phase_labeller: str):
    """The learned phase model that ``phase_labeller`` asks for ``protocol`` (:data:`PHASE_LABELLERS`), or None for the
    cue rules; raises ValueError, with the reason, for "model" where no model serves the protocol. The CLI asks it
    before reading any transcript."""
    if phase_labeller not in PHASE_LABELLERS:
        raise ValueError(f"phase_labeller {phase_labeller!r}: use one of {', '.join(PHASE_LABELLERS)}")
    if phase_labeller == "rules":
        return None
    from helpert.label.phase_model import load_phase_model

    model = load_phase_model()
    if model is not None and model.applies(protocol):
        return model
    if phase_labeller == "model":
        why = model.refusal(protocol) if model is not None else "none is installed"
        raise ValueError(f"no learned phase model serves protocol {protocol.name!r} ({why}): use the rules")
    return None


def label_session(session: Session, protocol: Protocol) -> Session:
    """A copy of ``session`` with labels written into its counselor turns."""
    return label_sessions([session], protocol)[0]


__all__ = ["LABEL_KEYS", "PHASE_LABELLERS", "client_between", "label_session", "label_sessions", "phase_model_for"]
