"""A client profile read off a transcript: what a simulated client knows about the person it plays.

Why rules and not a model: the profile must be inspectable and editable (it is written as YAML), and
the same transcript must always give the same profile. The fields follow the cognitive model of CBT
(situation → automatic thoughts → emotions and behaviours, core beliefs in Beck's three categories)
and the six conversational styles of PATIENT-Ψ (Wang et al., 2024).

Extraction rules (client turns only; consecutive client turns merged; ESConv's tokenised spacing
"I ' m" is undone first):

- ``opening``: the first client turn, verbatim (a simulation starts from the original's own words).
- ``presenting_problem``: the first *substantive* client turn — the first with at least 8 words once
  greeting sentences ("Hi, how are you?") and sentences under 4 words ("Probably a 4.") are dropped;
  its first two remaining sentences.
- ``situation``: ``meta.situation`` when the dataset provides one (ESConv does); else the first two
  sentences of the first client turn that names a concrete episode ("yesterday", "last Saturday",
  "this morning", "the other day"), else of the first with a recurring one ("every time",
  "whenever", "at night"); else the presenting problem.
- ``automatic_thoughts`` (≤ 3), from the first two thirds of client turns (later quotes are often the
  balanced alternatives the session worked out): quoted speech, and sentences with thought cues
  ("I thought …" but not "I thought about", "I keep thinking", "I'm such a", "I'll never", "I'm going
  to fail", "nobody wants", "everyone will", "what if", "why bother", "I should have", …).
- ``emotions``: canonical names (anxious, sad, angry, ashamed, guilty, lonely, tired, hurt) of the
  emotion words used, in order of first mention.
- ``behaviours`` (≤ 3): first-person sentences with an avoidance/coping verb (stayed home, shut,
  scrolled, skipped, froze, cancelled, drank, stay in bed, …).
- ``core_belief``: helpless | unlovable | worthless — the category whose keyword lexicon (after
  J. S. Beck's lists) has the most hits in the client's words; None without any hit; ties go to the
  category listed first.
- ``style``: the first rule that holds, in this order — upset: ≥ 30 % of turns have "!" or hostile
  words; tangent: ≥ 20 % of turns have digression markers ("anyway", "by the way", "that reminds
  me"); pleasing: ≥ 40 % of turns open with agreement ("yes", "you're right", "that makes sense",
  "okay") and < 20 % ask a question; verbose: > 40 words per turn; reserved: < 10 words per turn;
  otherwise plain.

Limits: keyword rules miss paraphrase and negation ("I'm not angry" counts as angry) and know only
English. Check the YAML (``helpert simulate … --write-profile``) before relying on a profile.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError

from helpert.session import Session, merge_consecutive

CoreBelief = Literal["helpless", "unlovable", "worthless"]
Style = Literal["plain", "upset", "verbose", "reserved", "tangent", "pleasing"]


class CognitiveModel(BaseModel):
    situation: str = ""
    automatic_thoughts: list[str] = Field(default_factory=list)
    emotions: list[str] = Field(default_factory=list)
    behaviours: list[str] = Field(default_factory=list)
    core_belief: CoreBelief | None = None


class ClientProfile(BaseModel):
    """Who the simulated client is. ``counselor_opens`` mirrors the original (who spoke first)."""

    dialogue_id: str
    presenting_problem: str
    cognitive_model: CognitiveModel = Field(default_factory=CognitiveModel)
    style: Style = "plain"
    opening: str = ""
    counselor_opens: bool = True
    source: str = ""


class ProfileError(ValueError):
    """A profile file that cannot be read; the message names the file and the field."""


# --- text helpers -----------------------------------------------------------------------------------

_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
_GREETING = re.compile(r"^\s*(hi|hello|hey|good (morning|afternoon|evening))\b|how are you", re.IGNORECASE)


def detokenise(text: str) -> str:
    """Undo ESConv/MultiESC tokenised spacing: "I ' m ok , thanks ." -> "I'm ok, thanks."."""
    text = re.sub(r"\s+'\s*(?=(m|s|t|re|ve|ll|d)\b)", "'", text)
    text = re.sub(r"\s+([,.!?;:])", r"\1", text)
    text = re.sub(r"([.!?])(\s*\1)+", r"\1", text)
    return " ".join(text.split())


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(text) if s.strip()]


def _words(text: str) -> int:
    return len(text.split())


def _hits(patterns: list[str], text: str) -> int:
    return sum(len(re.findall(rf"(?<![a-z']){p}(?![a-z])", text.lower())) for p in patterns)


# --- lexicons ---------------------------------------------------------------------------------------

THOUGHT_CUES = [
    r"i (thought|think|keep thinking|kept thinking|tell myself|told myself)(?! about| of)", r"i'm such an?",
    r"i'll never",
    r"i (will|would) never", r"i'm going to fail", r"i'm (a|just a) (burden|failure|loser|fool|mess)",
    r"(nobody|no one|everyone|everybody) (will|would|wants|cares|knows|thinks|hates)", r"what if",
    r"why bother", r"i should have", r"i can't (cope|handle|do anything)", r"it's (all )?my fault",
]
_QUOTE = re.compile(r"[\"“]([^\"”]{8,})[\"”]")

EMOTIONS: dict[str, list[str]] = {
    "anxious": [r"anxious", r"anxiety", r"nervous", r"panic\w*", r"on edge", r"worr\w+", r"scared", r"afraid", r"fear",
                r"stress(ed)?", r"tense", r"overwhelmed", r"pounding"],
    "sad": [r"sad", r"(feel|feeling|felt|i'm|been|pretty|so) (low|down)", r"depress\w+", r"unhappy", r"heav(y|iness)",
            r"hopeless", r"empty", r"cry\w*", r"cried"],
    "angry": [r"angry", r"anger", r"furious", r"annoyed", r"frustrat\w+", r"pissed", r"irritated", r"mad", r"sick of"],
    "ashamed": [r"ashamed", r"shame", r"embarrass\w+", r"humiliat\w+", r"(like|such) a fool"],
    "guilty": [r"guilt\w*"],
    "lonely": [r"lonel\w+", r"alone", r"isolated"],
    "tired": [r"exhausted", r"tired", r"drained", r"can't sleep", r"not sleeping"],
    "hurt": [r"hurt", r"betrayed"],
}

BEHAVIOUR_VERBS = [
    r"stayed (home|in)", r"stay (home|in bed|in)", r"shut", r"closed? (the|my|it|everything)", r"scroll\w*",
    r"avoid\w*", r"skip\w*", r"cancel\w*", r"drank", r"drink\w*", r"froze", r"freeze", r"stopped", r"hid(e|ing)?",
    r"withdr\w+",
    r"watched series", r"snapp?ed", r"shout\w*", r"yell\w*", r"check(ing)? the time", r"lie awake", r"called in sick",
]
_FIRST_PERSON = re.compile(r"(?<![a-z'])(i|i'm|i've|i'd|me|my)(?![a-z])", re.IGNORECASE)

CORE_BELIEFS: dict[str, list[str]] = {
    "helpless": [r"helpless", r"powerless", r"trapped", r"weak", r"vulnerable", r"incompetent", r"inadequate",
                 r"fail\w*", r"loser", r"stuck", r"can't cope", r"can't handle", r"can't do", r"out of control",
                 r"no control", r"not good enough", r"no idea how"],
    "unlovable": [r"unlovable", r"unlikable", r"unwanted", r"reject\w*", r"abandon\w*", r"alone", r"lonel\w+",
                  r"(nobody|no one) (wants|cares|likes|loves)", r"don't fit in", r"left out", r"awkward",
                  r"unattractive", r"don't belong", r"never belonged"],
    "worthless": [r"worthless", r"useless", r"burden", r"a waste", r"nothing", r"don't deserve", r"bad person",
                  r"better off without me", r"no point", r"why bother", r"pointless", r"doesn't matter",
                  r"not that it matters"],
}

_HOSTILE = [r"pissed", r"damn", r"hell", r"stupid", r"hate", r"sick of", r"ridiculous", r"whatever", r"screw\w*"]
_TANGENT = [r"anyway", r"by the way", r"speaking of", r"that reminds me", r"on another note", r"random\w*",
            r"off topic", r"side note"]
_AGREE = re.compile(r"^\s*(yes|yeah|yep|sure|okay|ok|right|true|good point|that makes sense|you're right|i agree|"
                    r"i guess so|definitely|absolutely|thanks|thank you)\b", re.IGNORECASE)


# --- extraction -------------------------------------------------------------------------------------

def _substantive(text: str) -> list[str]:
    return [s for s in sentences(text) if _words(s) >= 4 and not _GREETING.search(s)]


_EPISODE = re.compile(r"\b(yesterday|last (night|week|weekend|month|monday|tuesday|wednesday|thursday|friday|"
                      r"saturday|sunday)(?!')|this (morning|afternoon)|the other day|(a few|two|three) days ago)\b",
                      re.IGNORECASE)
_RECURRING = re.compile(r"\b(every time|whenever|at night|every (day|morning|evening|night))\b", re.IGNORECASE)


def _situation(session: Session, client_texts: list[str], problem: str) -> str:
    given = session.meta.get("situation")
    if isinstance(given, str) and given.strip():
        return detokenise(given)
    for marker in (_EPISODE, _RECURRING):
        turn = next((t for t in client_texts if marker.search(t)), None)
        if turn is not None:
            return " ".join(sentences(turn)[:2])
    return problem


def _thoughts(texts: list[str]) -> list[str]:
    found: list[str] = []
    for text in texts[: max(1, round(2 * len(texts) / 3))]:
        quotes = [q.strip() for q in _QUOTE.findall(text)]
        found.extend(quotes)
        for s in sentences(text):
            if _hits(THOUGHT_CUES, s) and not any(q in s for q in quotes):
                found.append(s)
    return list(dict.fromkeys(found))[:3]


def _emotions(text: str) -> list[str]:
    first: dict[str, int] = {}
    for name, patterns in EMOTIONS.items():
        for p in patterns:
            m = re.search(rf"(?<![a-z']){p}(?![a-z])", text.lower())
            if m:
                first[name] = min(first.get(name, m.start()), m.start())
    return sorted(first, key=first.__getitem__)


def _behaviours(client_sentences: list[str]) -> list[str]:
    return [s for s in client_sentences if _FIRST_PERSON.search(s) and _hits(BEHAVIOUR_VERBS, s)][:3]


def core_belief(text: str) -> str | None:
    scores = {name: _hits(patterns, text) for name, patterns in CORE_BELIEFS.items()}
    best = max(scores, key=lambda k: scores[k])  # dict order breaks ties
    return best if scores[best] else None


def conversational_style(client_texts: list[str]) -> str:
    n = len(client_texts)
    if not n:
        return "plain"
    share = lambda pred: sum(map(pred, client_texts)) / n  # noqa: E731
    if share(lambda t: "!" in t or _hits(_HOSTILE, t) > 0) >= 0.3:
        return "upset"
    if share(lambda t: _hits(_TANGENT, t) > 0) >= 0.2:
        return "tangent"
    if share(lambda t: bool(_AGREE.match(t))) >= 0.4 and share(lambda t: "?" in t) < 0.2:
        return "pleasing"
    mean_words = sum(map(_words, client_texts)) / n
    if mean_words > 40:
        return "verbose"
    if mean_words < 10:
        return "reserved"
    return "plain"


def extract_profile(session: Session) -> ClientProfile:
    """The profile of the session's client, by the rules in this module's docstring."""
    turns = merge_consecutive(session.turns)
    clients = [detokenise(t.text) for t in turns if t.role == "client"]
    if not clients:
        raise ValueError(f"{session.dialogue_id}: no client turn to build a profile from")
    first_real = next((t for t in clients if _words(" ".join(_substantive(t))) >= 8), clients[0])
    problem = " ".join((_substantive(first_real) or sentences(first_real))[:2])
    all_sentences = [s for t in clients for s in sentences(t)]
    everything = " ".join(clients)
    return ClientProfile(
        dialogue_id=session.dialogue_id,
        presenting_problem=problem,
        cognitive_model=CognitiveModel(
            situation=_situation(session, clients, problem), automatic_thoughts=_thoughts(clients),
            emotions=_emotions(everything), behaviours=_behaviours(all_sentences), core_belief=core_belief(everything),
        ),
        style=conversational_style(clients),
        opening=next(t.text for t in turns if t.role == "client"),
        counselor_opens=turns[0].role == "counselor",
        source=f"extracted by helpert from {session.source or session.dataset or 'a transcript'}",
    )


# --- YAML -------------------------------------------------------------------------------------------

def profile_yaml(profile: ClientProfile) -> str:
    import yaml

    return yaml.safe_dump(profile.model_dump(mode="json"), sort_keys=False, allow_unicode=True, width=100)


def write_profile(profile: ClientProfile, path: str | Path) -> None:
    from helpert.io.atomic import atomic_write_text

    atomic_write_text(Path(path), profile_yaml(profile))


def read_profile(path: str | Path) -> ClientProfile:
    """A profile from YAML; raises :class:`ProfileError` naming the file and the bad field."""
    import yaml

    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ProfileError(f"{path}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise ProfileError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(data, dict):
        raise ProfileError(f"{path}: expected a mapping of profile fields")
    try:
        return ClientProfile.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"])
        raise ProfileError(f"{path}: field '{field}': {err['msg']}") from None
