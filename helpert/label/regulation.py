"""Emotion-regulation strategy of each client turn, by documented lexical rules (docs/regulation.md).

Strategies (Gross's process model and the strategies most studied with it): reappraisal, suppression,
rumination, avoidance (avoidance/withdrawal), problem_solving, acceptance, seeking_support, or none.
Each strategy has cue phrases; a cue negated in its own clause does not count ("I don't talk to
anyone" is no support-seeking). A turn gets the strategy with the most cue hits; ties go to the
strategy listed first in :data:`STRATEGIES`, which puts the rarer, more specific strategies first.

Why rules and not a model: there is no public turn-level gold for client regulation in the shared
data, so a model could only learn our own rules back; rules are at least readable and testable.
"""

from __future__ import annotations

import re
from typing import Any

from helpert.text.lexicon import PhraseSet, negated, normalise
from helpert.session import Session

STRATEGIES: tuple[str, ...] = (
    "reappraisal", "suppression", "acceptance", "seeking_support", "problem_solving", "rumination", "avoidance", "none",
)
_PEOPLE = (r"(friends?|mom|mum|mother|dad|father|parents?|sister|brother|family|partner|husband|wife|boyfriend|girlfriend|"
           r"therapist|counsel+or|doctor|teacher|pastor|someone|somebody|people|coworkers?|colleagues?|boss|roommate)")

REGULATION_CUES: dict[str, tuple[str, ...]] = {
    "reappraisal": (
        r"\b(look|looking|see|seeing|think|thinking) (at it |about it )?(differently|another way|in a different way)\b",
        r"\bon the other hand\b", r"\bat least (I|it|he|she|they|we|my|the|this|that)\b", r"\bcould (be|have been) worse\b",
        r"\bsilver lining\b",
        r"\b(in|into) perspective\b", r"\b(better|different|new|another) perspective\b", r"\bkeep (that |this |it |them )?in mind\b",
        r"\b(can|could) (I )?learn from\b", r"\bnot the end of the world\b", r"\blearning (experience|opportunity)\b",
        r"\b(maybe|perhaps) (it'?s|it is|that'?s|that is) not (so|that|as) bad\b", r"\b(maybe|perhaps) (he|she|they) (was|were|is|are) just\b",
        r"\b(doesn'?t|does not) (mean|make) (that )?I'?m\b", r"\b(doesn'?t|does not) define me\b",
        r"\b(an|a) (opportunity|chance) to (learn|grow)\b", r"\bnot (really |entirely )?my fault\b", r"\bgood (thing|side) (is|about)\b",
        r"\bin hindsight\b", r"\bcould (also )?mean\b", r"\bno one is perfect\b",
        r"\b(helps|helped|good) to know\b", r"\b(not|less) (the only one|alone)\b", r"\bother people (have|go through|feel|felt)\b",
        r"\b(so|which|and) (that|it)('s| is) (good|a good thing|a relief|something)\b",
        r"\bfocus (more )?on (the )?(positive|good|enjoying|what I)\b",
        r"\b(that'?s|it'?s|thats|its|that is|it is) (not|un)(reasonable|realistic|fair to myself)\b", r"\b(irrational|overreact\w*)\b",
    ),
    "suppression": (
        r"\bkeep(ing)? (it|things|everything|my feelings|them)( all)? (in|inside|to myself|bottled)\b",
        r"\bbottl(e|ed|ing) (it |things |them )?up\b",
        r"\bhold(ing)? (back )?(my |the )?(tears|feelings|emotions)( back| in)?\b", r"\bhold(ing)? it (in|together)\b",
        r"\bpush(ing)? (it|them|the feelings?|my feelings) (down|away|aside)\b", r"\bhid(e|ing) (my|the) (feelings|emotions|tears|sadness)\b",
        r"\bpretend(ing)? (I'?m|I am|to be|that I'?m|everything is) (fine|ok|okay|happy|alright|good)\b",
        r"\bput(ting)? on a (brave |happy )?face\b", r"\bfak(e|ing) (a )?smil\w*", r"\bact(ing)? like (nothing|everything)\b",
        r"\bswallow(ing)? (it|my (feelings|anger|pride))\b", r"\b(don'?t|never) (let|show) (anyone|people|them) (see|know)\b",
        r"\bstraight face\b", r"\bsuck it up\b",
    ),
    "acceptance": (
        r"\baccept(ed|ing|s)? (it|that|this|the fact|my|how|what|things|the situation|reality|myself|them)\b",
        r"\bit is what it is\b", r"\blet(ting)? (it|them|things) (go|be)\b",
        r"\b(it'?s|that'?s|it is) (ok|okay|alright|fine) (to|that I) (feel|be|cry|not)\b", r"\bokay not to be okay\b",
        r"\b(can'?t|cannot) change (it|that|the past|what happened)\b", r"\bmake (my )?peace with\b",
        r"\b(come|coming|came) to terms\b", r"\bone day at a time\b",
        r"\bsit(ting)? with (it|the feeling|my feelings)\b", r"\ballow(ing)? myself to (feel|be|cry|grieve)\b",
        r"\bthat'?s (just )?life\b", r"\bnothing I can do about\b", r"\bride it out\b",
    ),
    "seeking_support": (
        r"\b(talk|talked|talking|spoke|speak|speaking|vent|vented|venting|open|opened|opening) (up )?(to|with) "
        rf"(my |a |an |the |some )?(\w+ )?{_PEOPLE}\b",
        rf"\b(told|tell|telling|called|call|calling|texted|text|asked|ask|asking) (my |a |the )?(\w+ )?{_PEOPLE}\b",
        r"\breach(ed|ing)? out\b", r"\bask(ed|ing)? for (help|support|advice)\b", r"\blean(ed|ing)? on\b",
        r"\b(need|want|needed|wanted) (someone|somebody|a friend) to talk to\b",
        r"\b(seeing|see|saw|booked|started) (a|my) (therapist|counsel+or|doctor)\b",
        r"\b(a )?hug\b", r"\bthat'?s why I'?m (here|talking to you)\b", r"\bpray(ing|ed|s)?\b",
        r"\b(get|getting|got) (it|them|things|this) off (my|your) chest\b", r"\b(good|helps|helped) to talk\b",
        r"\b(study|peer|online) groups?\b", r"\b(video ?chat\w*|facetim\w*|text messages? to|texts? to)\b", r"\b(church|support group|support groups)\b",
        r"\b(talk|talked|talking) to (him|her|them) about\b", r"\b(good )?listener\b", r"\blistens to me\b", r"\brefer me\b",
        r"\b(get|got|getting) together with\b", r"\b(hang|hanging) out with (my )?friends\b", r"\bspend(ing)? time with (my )?(friends|family)\b",
    ),
    "problem_solving": (
        # a plan in the first person, any verb but states and feelings ("I'll ask him", not "I'll be fine")
        r"\bI('?ll|ll| will| should| could| am going to|'m going to| plan to| plan on| am gonna|'m gonna| must)( \w+ly)? "
        r"(?!(be|feel|have|know|think|hope|wish|say|guess|like|love|hate|want|need|never|not|understand|imagine|believe|tell|"
        r"see why|cry|die|lose|fail|ever)\b)[a-z]{3,}\b",
        r"\b(trying|try|tried) to (find|figure|get|work out|fix|sort|solve|change|plan|save)\b",
        r"\bI('ve| have)? (practi[cs]ed|prepared|studied|planned|saved|applied|booked|budgeted|researched)\b", r"\bgoals?\b",
        r"\bhow (did|do|can|could|should) (you|I) (deal|cope|handle|manage|get|fix|stop|overcome|start)\b",
        r"\bwhat (did|do|can|could|should|would) (you|I) (do|try)\b", r"\bwhat (do|would) you think if I\b", r"\bgive (it|them|that) a (shot|try|go)\b",
        r"\bI('ve| have)? (just )?started (going|doing|working|taking|seeing|exercising|looking|applying|studying|saving)\b",
        r"\bmake (a|my) (plan|list|schedule)\b", r"\bfigure (out|it out) (how|what|a way)\b", r"\bstep by step\b",
        r"\bbreak(ing)? it (down|up|into)\b", r"\bI('ve| have) (started|signed up|applied|booked|made a|set up|been trying to)\b",
        r"\blook(ed|ing)? (into|for) (a|another|new|other|some|ways)\b", r"\bnext step\b", r"\bsolutions?\b",
        r"\bset (a|an|some) (alarm|goal|reminder|schedule|routine)\b", r"\b(to-?do|to do) list\b", r"\bwhat (can|could|should) I do\b",
    ),
    "rumination": (
        r"\b(can'?t|cannot|couldn'?t) stop thinking\b", r"\bkeep(s)? (thinking|going over|replaying|coming back)\b",
        r"\bover and over\b", r"\breplay(ing|s|ed)?\b", r"\b(going|go|went) over (it|and over|what happened)\b",
        r"\ball I (can )?think about\b", r"\bdwell(ing|s)?\b", r"\bobsess(ing|ed)? (over|about)\b", r"\boverthink\w*",
        r"\bwhat if\b", r"\bwhy (did|does|do|didn'?t|can'?t) (I|this|he|she|they|it)\b", r"\bwhy me\b",
        r"\b(can'?t|cannot) get (it|him|her|them|this) out of my (head|mind)\b", r"\bon my mind\b",
        r"\b(lie|lying|lay) awake\b", r"\bround and round\b", r"\bstuck in my (head|thoughts)\b",
        r"\b(keep|kept|can'?t stop) (worrying|wondering|asking myself|crying|going back)\b", r"\bI (still |always |constantly )?worry (that|about|if)\b",
        r"\bfind myself (looking|checking|questioning|thinking|wondering)\b", r"\bquestioning (things|everything|myself)\b",
        r"\b(could|would) have been different\b", r"\bif only\b", r"\b(can'?t|cannot) (shut|switch|turn) (it|my mind|my brain) off\b",
        r"\bworr(y|ying|ied) (all the time|constantly|about everything)\b",
    ),
    "avoidance": (
        r"\bavoid(ing|ed|s)?\b", r"\bstay(ing|ed)? (in|at) (bed|home|my room)\b", r"\b(stay|stayed|staying) away from\b",
        r"\b(don'?t|didn'?t) (want to )?(see|talk to|go out|answer|call|text|leave)\b",
        r"\bstopped (going|seeing|answering|talking|leaving)\b", r"\bignor(e|ed|ing) (it|them|my phone|messages|calls|everyone|the problem)\b",
        r"\bshut(ting)? (myself|everyone|people|them) (out|away|in)\b", r"\bisolat(e|ed|ing)\b", r"\bkeep(ing)? to myself\b",
        r"\bhid(e|ing) (away|in my room|from)\b", r"\bskip(ped|ping)? (class|classes|work|school|lectures?)\b",
        r"\bput(ting)? (it|things) off\b", r"\bprocrastinat\w*", r"\bdistract(ing)? myself\b",
        r"\b(drink|drinking|drank|smoke|smoking|sleep|sleeping) (it away|to forget|to not think|all day|it off)\b",
        r"\b(alcohol|drinking|drugs|weed) to (wipe|forget|numb|cope|escape|get away)\b", r"\bstopped (writing|trying|doing|working on)\b",
        r"\b(don'?t|do not) (want to )?think about (it|that)\b", r"\brun(ning)? away\b", r"\bwithdr(aw|awn|ew)\b",
        r"\b(don'?t|do not) want to deal with\b", r"\b(can'?t|couldn'?t) (seem to )?(start|get started|get myself to)\b",
        r"\b(just )?(want|wanted) to (sleep|hide|be alone|get away)\b", r"\bnumb (myself|the pain)\b",
    ),
}
# Negation matters for some cues and not others: "I don't see my friends" is withdrawal, not an absence of it.
_NEGATION_BLIND = {"avoidance", "rumination"}
# Here inability negates too: "I can't talk to my parents" is no support-seeking.
_NEGATOR = re.compile(r"\b(not|never|no|nor|(do|does|did|would|wo|is|are|was|were|am|ca|could|have|has)n'?t|cannot)\b",
                      re.IGNORECASE)
_PHRASES = PhraseSet(REGULATION_CUES)


def regulation_cues(text: str) -> dict[str, list[str]]:
    """Strategy -> the cue phrases found in ``text`` (negated cues dropped where negation matters)."""
    text = normalise(text)
    found: dict[str, list[str]] = {}
    for strategy, m in _PHRASES.finditer(text):
        if strategy in _NEGATION_BLIND or not negated(text, m.start(), words=3, negator=_NEGATOR):
            found.setdefault(strategy, []).append(m.group(0))
    return found


def regulation_of(text: str) -> str:
    """The turn's strategy: most cue hits, ties to the earlier of :data:`STRATEGIES`; "none" without cues."""
    cues = regulation_cues(text)
    if not cues:
        return "none"
    return max(cues, key=lambda s: (len(cues[s]), -STRATEGIES.index(s)))


def label_regulation(session: Session) -> Session:
    """A copy of ``session`` with ``labels["regulation"]`` on every client turn."""
    turns = [t.model_copy(update={"labels": {**t.labels, "regulation": regulation_of(t.text)}}) if t.role == "client" else t
             for t in session.turns]
    return session.model_copy(update={"turns": turns})


def regulation_trajectory(session: Session) -> dict[str, Any]:
    """How the client's regulation moves: the share of each strategy among the client turns of the first
    and the second half of the session (an odd middle turn counts in the first), and the change.

    In a replay the client turns are the original's, so this characterises the session, not the
    counselor; it differs between peer and LLM only in simulated sessions. Uses ``labels["regulation"]``
    where present, else labels on the fly."""
    labels = [t.labels.get("regulation") or regulation_of(t.text) for t in session.client_turns]
    half = (len(labels) + 1) // 2
    parts = {"first": labels[:half], "second": labels[half:]}

    def shares(part: list[str]) -> dict[str, float | None]:
        return {s: (part.count(s) / len(part) if part else None) for s in STRATEGIES}

    first, second = shares(parts["first"]), shares(parts["second"])
    change = {s: (None if first[s] is None or second[s] is None else second[s] - first[s]) for s in STRATEGIES}
    return {"first": first, "second": second, "change": change,
            "n_first": len(parts["first"]), "n_second": len(parts["second"])}
