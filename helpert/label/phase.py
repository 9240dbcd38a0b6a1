"""Phase of each counselor turn under a protocol, from evidence in the turn itself.

Evidence, per phase (protocol-agnostic: it reads the phases' ``cues`` and ``ctrs`` from the YAML):

* cue phrases: every cue of the phase found in the turn (whole words) adds 1, plus 0.25 per extra word
  of the cue (longer cues are more specific);
* behaviour: ``homework`` adds 1 to phases serving the CTRS item ``homework``, ``structuring`` to phases
  serving ``agenda`` and ``suggestion`` to phases serving ``strategy_for_change``; other behaviours are
  too unspecific to point at a phase.

The phase with the highest evidence wins; a tie goes to the previous turn's phase when it is among the
best, else to the phase listed first in the YAML. A turn without evidence carries forward the phase of the
last turn that had one (a reflection or an "I see" continues the phase it is in; off-protocol turns in
between do not interrupt it) - except off-topic small talk, greetings, self-disclosure and other talk of
more than 6 words, which are ``off_protocol``; before any evidence a turn is ``off_protocol`` too. A turn
with crisis language is ``safety`` whatever else it contains.

Off-topic small talk (:mod:`helpert.label.off_topic`) is the same rule under every protocol: a turn
without evidence for any phase (as above, also under a stage protocol) that shares no content word with
the client's talk so far, uses no counseling vocabulary and is no acknowledgement, statement about or
advice to the client, or social ritual ("did you see the match on Sunday?", "my cat knocked a glass off
the counter"). Its behaviour code stays what the behaviour rules say (a small-talk question is still a
question in form); only its phase says that it is not protocol work.

What is deliberately NOT used: the protocol's allowed transitions, its canonical order and its start
and end phases. Adherence scores compare the labelled phases with exactly those, so using them here
would make the scores circular. Position in the session is not used either.

A protocol whose phases are the helping-skills stages (exploration, comforting, action) is labelled by
the predicted stage instead, and turns predicted Greeting or Others are ``off_protocol`` (the same
mapping as ESConv's gold labels in benchmarks/validate_drift.py), and so are off-topic turns: the stage
comes from the predicted ESConv strategy, which names the form of a turn, not its topic ("did you see the
match?" is a Question, but no exploration of the client's problem).
"""

from __future__ import annotations

import re
from typing import Sequence

from helpert.text.features import normalise, words
from helpert.label.off_topic import ClientTalk, is_off_topic
from helpert.label.strategy import STAGES
from helpert.protocols import OFF_PROTOCOL, SAFETY, Protocol

BEHAVIOUR_CTRS = {"homework": "homework", "structuring": "agenda", "suggestion": "strategy_for_change"}
OFF_WHEN_UNSUPPORTED = {"greeting", "self_disclosure"}
SMALL_TALK_WORDS = 6
SAFETY_CUES = re.compile(
    r"\b(?:suicid\w*|kill(?:ing)? yourself|end(?:ing)? your life|hurt(?:ing)? yourself|harm(?:ing)? yourself|"
    r"self[- ]harm|crisis (?:line|text line|team|service)|hotline|lifeline|samaritans|988|911|999|112|"
    r"emergency (?:services|room|number|department)|are you safe|keep yourself safe|safety plan)\b"
)


class CueMatcher:
    """Compiled cue phrases of a protocol's phases, scored as in the module docstring."""

    def __init__(self, protocol: Protocol) -> None:
        self.phase_ids = [p.id for p in protocol.phases]
        self.cues = []
        for p in protocol.phases:
            compiled = [
                (re.compile(r"(?<![a-z0-9'])" + re.escape(normalise(c)) + r"(?![a-z0-9'])"), 1.0 + 0.25 * (len(c.split()) - 1))
                for c in p.cues
                if c.strip()
            ]
            self.cues.append(compiled)
        self.behaviour_phases = {
            b: [i for i, p in enumerate(protocol.phases) if item in p.ctrs] for b, item in BEHAVIOUR_CTRS.items()
        }

    def evidence(self, text: str, behaviour: str) -> list[float]:
        """Evidence for each phase (list order = protocol.phases) in normalised ``text``."""
        scores = [sum(w for rx, w in cues if rx.search(text)) for cues in self.cues]
        for i in self.behaviour_phases.get(behaviour, ()):
            scores[i] += 1.0
        return scores


def is_stage_protocol(protocol: Protocol) -> bool:
    return {p.id for p in protocol.phases} == set(STAGES)


def off_topic_turns(norm: Sequence[str], behaviours: Sequence[str], protocol: Protocol, matcher: CueMatcher | None = None,
                    *, client: Sequence[str]) -> tuple[list[list[float]], list[bool]]:
    """Per counselor turn of one session (normalised texts): its cue evidence, and whether it is off-topic small talk -
    no cue evidence and :func:`helpert.label.off_topic.is_off_topic` given the client's talk so far (``client`` as for
    :func:`session_phases`). The learned phase model defers to this verdict too (round 93)."""
    matcher = matcher or CueMatcher(protocol)
    heard = ClientTalk()  # the client's talk so far
    evidence, off_topic = [], []
    for text, beh, said in zip(norm, behaviours, client, strict=True):
        heard.add(said)
        ev = matcher.evidence(text, beh)
        evidence.append(ev)
        off_topic.append(max(ev) <= 0 and is_off_topic(text, heard))
    return evidence, off_topic


def session_phases(
    texts: Sequence[str],
    behaviours: Sequence[str],
    strategies: Sequence[str],
    stages: Sequence[str],
    protocol: Protocol,
    matcher: CueMatcher | None = None,
    *,
    client: Sequence[str],
) -> list[str]:
    """Phases of one session's counselor turns, in order (see the module docstring for the rules).

    ``client[i]`` is what the client said between counselor turns ``i - 1`` and ``i`` ("" for nothing):
    the off-topic rule needs the client's talk so far.
    """
    norm = [normalise(t) for t in texts]
    matcher = matcher or CueMatcher(protocol)
    evidence, off_topic = off_topic_turns(norm, behaviours, protocol, matcher, client=client)
    if is_stage_protocol(protocol):
        return [
            SAFETY if SAFETY_CUES.search(t)
            else OFF_PROTOCOL if off or s in ("Greeting", "Others") or b == "greeting"
            else g
            for t, b, s, g, off in zip(norm, behaviours, strategies, stages, off_topic)
        ]
    out: list[str] = []
    previous = OFF_PROTOCOL  # the last phase that was not off_protocol
    for text, beh, ev, off in zip(norm, behaviours, evidence, off_topic):
        best = max(ev)
        if SAFETY_CUES.search(text):
            phase = SAFETY
        elif best > 0:
            tied = [matcher.phase_ids[i] for i, e in enumerate(ev) if e == best]
            phase = previous if previous in tied else tied[0]
        elif off or beh in OFF_WHEN_UNSUPPORTED or (beh == "other" and len(words(text)) > SMALL_TALK_WORDS):
            phase = OFF_PROTOCOL
        else:
            phase = previous
        out.append(phase)
        if phase != OFF_PROTOCOL:
            previous = phase
    return out
