"""The 12 behaviour codes of a counselor turn, from the predicted ESConv strategy plus documented rules.

The strategy model knows ESConv's eight strategies; CBT needs a few acts ESConv has no name for, and a
finer split of two it has. Rules, in order (the first that applies wins):

1. ``greeting`` - every sentence is social: a greeting, goodbye or thanks of at most 8 words, or a bare
   "how are you (doing today)?".
2. ``homework`` - the turn sets or reviews practice between contacts (homework, thought record, "before
   next time", "this week, could you ...", "keep track", "write down" ...).
3. ``structuring`` - the turn manages the session: agenda, what to work on today, moving on, time left,
   asking for feedback on the session.
4. Otherwise the strategy decides: Question -> ``open_question``/``closed_question`` by the question's
   form; Restatement -> ``restatement``; Reflection of feelings -> ``reflection``; Self-disclosure ->
   ``self_disclosure``; Affirmation and Reassurance -> ``affirmation``; Providing Suggestions or
   Information -> ``suggestion`` when it proposes something the client could do (``you could``, ``have you
   tried`` ...), else ``information``; Greeting without a social phrase and Others -> the question form if
   the turn asks something, else ``other``.

Question form: the first sentence with a question mark, leading fillers dropped ("and", "so", "okay",
"I wonder"); open when it starts with what/how/why/tell me/describe or asks to tell ("can you tell me ..."), but
"how many/much/long/often" and rating-scale questions are closed; everything else (do, are, have, can,
when, where, a declarative with a question mark) is closed.
"""

from __future__ import annotations

import re
from typing import Sequence

from helpert.text.features import cue_flags, normalise, sentences, words

BEHAVIOURS = (
    "open_question", "closed_question", "reflection", "restatement", "affirmation", "self_disclosure",
    "suggestion", "information", "structuring", "homework", "greeting", "other",
)
BY_STRATEGY = {
    "Restatement or Paraphrasing": "restatement",
    "Reflection of feelings": "reflection",
    "Self-disclosure": "self_disclosure",
    "Affirmation and Reassurance": "affirmation",
}

HOMEWORK = re.compile(
    r"\b(?:homework|assignment|thought record|before (?:we|our) next|before next time|between now and|"
    r"until (?:we|our) next|(?:this|the coming|next) week,? (?:could|would|can|will|might) you|"
    r"over the (?:next|coming) (?:week|few days)|keep (?:a log|a diary|a journal|a record|track)|"
    r"write (?:it |them |that |those )?down|practi[cs]e (?:this|it|that)|"
    r"how did (?:the|your) (?:practice|exercise|homework|experiment))\b"
)
STRUCTURING = re.compile(
    r"\b(?:agenda|(?:would|do) you (?:like|want) to (?:work on|focus on|talk about|start with)|"
    r"(?:work|focus) on today|talk about today|let's (?:start|begin|move on|turn to|focus|come back|go back|spend)|"
    r"let us (?:start|begin|move on|turn to|focus)|for today|before we (?:finish|end|wrap|stop)|"
    r"(?:minutes|time) (?:left|we have)|wrap up|move on to|how was (?:this|today|our) (?:session|conversation|chat)?|"
    r"feedback|anything (?:i|we) (?:could|should) (?:do|have done) differently|bothered you about)\b"
)
_SOCIAL_QUESTION = re.compile(r"^(?:hi|hello|hey|good (?:morning|afternoon|evening))?[ ,!.]*how are you(?: doing)?(?: today)?\??$")
FILLERS = frozenset({"and", "so", "ok", "okay", "well", "but", "now", "also", "then", "alright", "right", "hmm", "oh"})  # before a question
_OPEN_START = {"what", "what's", "whats", "how", "how's", "why", "tell", "describe", "explain"}
_ASK_TO_TELL = re.compile(r"^(?:can|could|would|will) you (?:tell|describe|say more|explain|share)\b")
_CLOSED_HOW = re.compile(r"^how (?:many|much|long|often|old|far)\b|\bscale\b|\bout of (?:10|ten)\b|\b0 to 10\b")
_WONDER = re.compile(r"^i (?:wonder|am wondering|'m wondering|am curious|'m curious)\b")


def is_social(text: str) -> bool:
    """Every sentence of normalised ``text`` is a greeting, goodbye or thanks (small talk)."""
    for s in sentences(text):
        if _SOCIAL_QUESTION.match(s.strip(" !.")):
            continue
        flags = cue_flags(s)
        if not ({"greeting", "thanks"} & set(flags)) or len(words(s)) > 8:
            return False
    return True


def question_kind(text: str) -> str | None:
    """``open_question``/``closed_question`` by the form of the first question in normalised ``text``."""
    asked = [s for s in sentences(text) if "?" in s]
    if not asked:
        return None
    q = asked[0]
    if _WONDER.match(q):
        return "open_question"
    toks = [t for t in words(q) if t not in ("?", "!")]
    while toks and toks[0] in FILLERS:
        toks = toks[1:]
    if not toks:
        return "closed_question"
    if _CLOSED_HOW.search(" ".join(toks)):
        return "closed_question"
    if toks[0] in _OPEN_START or _ASK_TO_TELL.match(" ".join(toks)):
        return "open_question"
    return "closed_question"  # auxiliary first, or a declarative with a question mark: yes/no answers


def behaviour(text: str, strategy: str) -> str:
    """Behaviour code of one counselor turn given its predicted ESConv strategy (rules: module docstring)."""
    t = normalise(text)
    if is_social(t):
        return "greeting"
    if HOMEWORK.search(t):
        return "homework"
    if STRUCTURING.search(t):
        return "structuring"
    if strategy == "Question":
        return question_kind(t) or "open_question"
    if strategy in BY_STRATEGY:
        return BY_STRATEGY[strategy]
    if strategy == "Providing Suggestions or Information":
        return "suggestion" if "you_could" in cue_flags(t) else "information"
    return question_kind(t) or "other"


def behaviours(texts: Sequence[str], strategies: Sequence[str]) -> list[str]:
    return [behaviour(t, s) for t, s in zip(texts, strategies)]
