"""Degenerate model turns: one list of checks, shared by the counselor and the simulated client.

Small quantized models loop (the same paragraph every turn), copy the other speaker's words as their
own, narrate instead of speaking ("They said ..."), comment on the other speaker's words as if analysing a
text ("This is a great example of how ..."), leak role words, refuse, or leave English. Each
check below is a pure function of the turn's text and the dialogue so far; every check is listed in
:data:`CHECKS` with an example it catches. A generated turn that fails a check is retried (see
:func:`helpert.replay.graph.build._generate`); a turn still failing after the retries is kept and flagged
``degenerate`` plus ``degenerate:<check>`` in ``meta.flags``.

The checks are deliberately conservative: a flagged turn is one a reader would call broken, not merely
plain. Near-copy and copy thresholds were set so that the human turns of the ESConv sessions in
``../shared`` (peer supporters, real help-seekers) are almost never flagged
(``benchmarks/degenerate_turns.py`` reports that false-alarm rate beside the model's figures).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Literal, Sequence

from helpert.replay.llm.cleaning import STAGE_DIRECTION
from helpert.text.language import FUNCTION_WORDS, MIN_ASCII_LETTERS, english_share

Speaker = Literal["counselor", "client"]

NEAR_COPY_CONTAINMENT = 0.5   # share of a turn's word trigrams found in one earlier own turn
NEAR_COPY_RUN_WORDS = 8       # or a run of this many words repeated from one earlier own turn
NEAR_COPY_MIN_TRIGRAMS = 4    # shorter turns (4+ words) count as copies only when identical
COPY_RUN_WORDS = 10           # a run of this many words copied from the other speaker's recent turns
COPY_COVERAGE = 0.6           # or this share of the turn's words inside copied runs of >= 5 words
COPY_MIN_WORDS = 10           # shorter turns (pleasantries: "Have a great day!") are never copies
COPY_LOOKBACK = 2             # how many of the other speaker's latest turns a copy is checked against
OPENING_WORDS = 5             # a turn's opening: its first words ("i'm so sorry to hear")
OPENING_LOOKBACK = 2          # a formula loop: the same opening as one of the speaker's latest this-many turns

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def _ngrams(tokens: Sequence[str], n: int) -> list[tuple[str, ...]]:
    return [tuple(tokens[i: i + n]) for i in range(len(tokens) - n + 1)]


def containment(text: str, other: str, n: int = 3) -> float:
    """Share of ``text``'s word n-grams that also occur in ``other`` (0 when ``text`` has none)."""
    mine = _ngrams(words(text), n)
    if not mine:
        return 0.0
    theirs = set(_ngrams(words(other), n))
    return sum(g in theirs for g in mine) / len(mine)


def copied_runs(text: str, others: Sequence[str], min_run: int = 5) -> tuple[int, float]:
    """Longest run of consecutive words of ``text`` that appears verbatim in one of ``others``, and the
    share of ``text``'s words that lie inside such runs of at least ``min_run`` words."""
    mine = words(text)
    if not mine:
        return 0, 0.0
    seqs = [words(o) for o in others]
    grams = {g for s in seqs for g in _ngrams(s, min_run)}
    covered = [False] * len(mine)
    for i, g in enumerate(_ngrams(mine, min_run)):
        if g in grams:
            for j in range(i, i + min_run):
                covered[j] = True
    longest = run = 0
    for c in covered:
        run = run + 1 if c else 0
        longest = max(longest, run)
    return longest, sum(covered) / len(mine)


@dataclass(frozen=True)
class Context:
    """What a check may look at besides the turn: the speaker's own earlier turns and the other
    speaker's turns so far (latest last)."""

    speaker: Speaker = "counselor"
    own_earlier: tuple[str, ...] = ()
    other_earlier: tuple[str, ...] = ()


@dataclass(frozen=True)
class Check:
    name: str
    speakers: tuple[Speaker, ...]
    example: str       # a turn this check flags (tests assert that it does)
    why: str
    test: Callable[[str, Context], bool]
    example_context: "Context | None" = None


def _near_copy(text: str, ctx: Context) -> bool:
    norm = " ".join(words(text))
    if not norm:
        return False
    n = len(words(text))
    short = n < NEAR_COPY_MIN_TRIGRAMS + 2
    for earlier in ctx.own_earlier:
        if n >= 4 and norm == " ".join(words(earlier)):
            return True
        if not short and containment(text, earlier) >= NEAR_COPY_CONTAINMENT:
            return True
    return bool(ctx.own_earlier) and copied_runs(text, ctx.own_earlier, NEAR_COPY_RUN_WORDS)[0] >= NEAR_COPY_RUN_WORDS


def _copies_other(text: str, ctx: Context) -> bool:
    recent = ctx.other_earlier[-COPY_LOOKBACK:]
    n = len(words(text))
    if not recent:
        return False
    if n >= 3 and " ".join(words(text)) in {" ".join(words(o)) for o in recent}:
        return True  # an echo: the other's turn given back word for word
    if n < COPY_MIN_WORDS:
        return False
    longest, coverage = copied_runs(text, recent)
    return longest >= COPY_RUN_WORDS or coverage >= COPY_COVERAGE


_NARRATION = re.compile(
    r"^\W*(?:(?:they|he|she)\s+(?:said|says|asked|asks|replied|replies|told\s+me|answered)\s*[,:]?\s*[\"“]"
    r"|the\s+(?:client|counselou?r|therapist|seeker|supporter|patient|user|speaker|listener)\s+"
    r"(?:said|says|asked|asks|replied|replies|respond|responds|responded|nods|smiles|pauses|sighs|looks)\b"
    r"|(?:scene|narrator|setting|end\s+of\s+(?:the\s+)?(?:session|conversation|dialogue))\b)",
    re.IGNORECASE,
)


# A counselor who speaks of the client in the third person ("I love the detail. The client wants to know what's going
# on") is narrating, whatever the verb: no counselor turn of ESConv, HOPE, MIBot, the bundled, expert and rated
# transcripts (about 13,000) has a sentence that opens so. Counselor turns only: a client may speak of a client of hers.
_ABOUT_THE_CLIENT = re.compile(r"(?:^|[.!?]\s+)\W*the\s+(?:client|patient|seeker|help-?seeker|user)\s+\w", re.IGNORECASE)


def _narration(text: str, ctx: Context) -> bool:
    return bool(_NARRATION.search(text) or STAGE_DIRECTION.search(text)
                or (ctx.speaker == "counselor" and _ABOUT_THE_CLIENT.search(text)))


_ROLE_WORD = re.compile(
    r"(?:^|\n|[.!?]\s+)(?:assistant|user|system|counselou?r|therapist|client|seeker|supporter)\b(?!['’])"
    r"(?=\s*(?:\n|$|(?-i:[A-Z])))",
    re.IGNORECASE,
)
_ROLE_WORD_SIMPLE = re.compile(r"^\s*(?:assistant|user|system)\b", re.IGNORECASE)


def _role_word(text: str, ctx: Context) -> bool:
    return bool(_ROLE_WORD_SIMPLE.match(text) or _ROLE_WORD.search(text))


_REFUSAL = re.compile(
    r"\b(?:i'?m sorry,?\s+(?:but\s+)?i\s+(?:can(?:no|')t|am\s+(?:not\s+able|unable)|won'?t)\s+(?:help|assist|provide|do|answer|continue|comply|engage|support)"
    r"|i\s+(?:can(?:no|')t|am\s+unable\s+to|am\s+not\s+able\s+to)\s+(?:help|assist)\s+(?:you\s+)?with\s+(?:that|this)"
    r"|as\s+an?\s+(?:ai|language\s+model|artificial\s+intelligence|assistant|chatbot|bot|virtual\s+assistant)\b"
    r"|i'?m\s+(?:just\s+|only\s+)?an?\s+(?:ai|language\s+model|chatbot|bot|virtual\s+assistant)\b"
    r"|i\s+(?:do\s+not|don'?t)\s+have\s+(?:personal\s+)?(?:feelings|emotions|experiences)\b)",
    re.IGNORECASE,
)


def _refusal(text: str, ctx: Context) -> bool:
    return bool(_REFUSAL.search(text.replace("’", "'")))


def _off_language(text: str, ctx: Context) -> bool:
    if not text.strip():
        return False
    if english_share(text) < MIN_ASCII_LETTERS:
        return True
    tokens = words(text)
    return len(tokens) >= 8 and not any(t in FUNCTION_WORDS for t in tokens)


_SPLIT = re.compile(r"(?<=[.!?])\s+")


def opening(text: str) -> tuple[str, ...] | None:
    """A turn's first :data:`OPENING_WORDS` words (None for a shorter turn: "Okay." twice is no loop)."""
    tokens = words(text)
    return tuple(tokens[:OPENING_WORDS]) if len(tokens) >= OPENING_WORDS else None


def _repeated_opening(text: str, ctx: Context) -> bool:
    """A formula loop: the turn opens with the same five words as one of the speaker's two latest turns ("I'm so
    sorry to hear that." before seven of twelve replies of the embedded model in the demo, 2026-12-07). The rest
    of each turn differs, so :func:`_near_copy` passes them; the retry's ban on the latest openings mends it."""
    mine = opening(text)
    return mine is not None and any(mine == opening(t) for t in ctx.own_earlier[-OPENING_LOOKBACK:])


def _self_repeat(text: str, ctx: Context) -> bool:
    """The same sentence twice, a word four times running, or one 4-gram three times in one turn."""
    sentences = [" ".join(words(s)) for s in _SPLIT.split(text)]
    sentences = [s for s in sentences if len(s.split()) >= 4]
    if len(sentences) != len(set(sentences)):
        return True
    tokens = words(text)
    if any(len(set(tokens[i: i + 4])) == 1 for i in range(len(tokens) - 3)):
        return True
    counts: dict[tuple[str, ...], int] = {}
    for g in _ngrams(tokens, 4):
        counts[g] = counts.get(g, 0) + 1
    return any(c >= 3 for c in counts.values())


_COUNSELOR_VOICE = re.compile(
    r"\b(?:how\s+can\s+i\s+help(?:\s+you)?|what\s+brings\s+you|tell\s+me\s+(?:a\s+(?:little|bit)\s+)?more|"
    r"how\s+(?:does|did)\s+(?:that|this|it)\s+make\s+you\s+feel|it\s+sounds\s+like\s+you|"
    r"can\s+you\s+give\s+me\s+a\s+better\s+idea|what\s+makes\s+you\s+feel|i'?m\s+here\s+(?:for\s+you|to\s+(?:help|listen|support))|"
    r"how\s+are\s+you\s+(?:feeling|doing|coping)|what(?:'s|\s+is)\s+(?:the\s+most\s+difficult|going\s+on\s+(?:for|with)\s+you)|"
    r"how\s+can\s+i\s+support\s+you|i\s+hear\s+(?:that\s+)?you|thank\s+you\s+for\s+sharing)",
    re.IGNORECASE,
)


def _role_reversal(text: str, ctx: Context) -> bool:
    """The client asks the counselor's questions: counselor phrasing, more "you" than "I" and a question."""
    tokens = words(text)
    second = sum(t in ("you", "your", "you're", "yourself") for t in tokens)
    first = sum(t in ("i", "me", "my", "i'm", "myself", "mine", "i've", "i'd", "i'll") for t in tokens)
    return bool(_COUNSELOR_VOICE.search(text.replace("’", "'"))) and second > first


_TEXT_NOUN = (r"(?:quote|quotation|phrase|saying|passage|text|sentence|statement|excerpt|paradox|metaphor|idiom|proverb|"
              r"mantra|poem|verse|line\s+from|example\s+of\s+(?:how|a|an|the|what|why|someone)|dialogue|conversation\s+between)")
_COMMENTARY = re.compile(
    r"(?:^|[.!?]\s+|\n)\W*(?:"
    rf"this\s+is\s+(?:a|an|the)\s+(?:\w+\s+){{0,3}}?{_TEXT_NOUN}\b"
    rf"|(?:this|the)\s+(?:quote|quotation|phrase|saying|passage|text|sentence|statement|excerpt|poem|verse|dialogue)\s+"
    r"(?:is|was|refers|references|highlights|illustrates|describes|suggests|captures|conveys|reflects|seems|appears|comes|means)\b"
    r"|in\s+this\s+(?:quote|passage|text|excerpt|dialogue|poem|verse|statement|sentence)\b"
    r"|the\s+(?:speaker|author|writer|narrator)(?:'s)?\s+(?:is|was|seems|appears|expresses|describes|refers|uses|words|statement)\b)",
    re.IGNORECASE,
)


def _commentary(text: str, ctx: Context) -> bool:
    """Talking *about* the other speaker's words as a text to analyse (a quote, a saying, an example of
    something) instead of answering them."""
    return bool(_COMMENTARY.search(text.replace("’", "'")))


_LOOP = "That's a beautiful thought. I'll try this next time: writing down what I feel before I sleep."
_CLIENT_SAID = "I have been so stressed at work that I cannot sleep and my boss keeps yelling at me every day."
CHECKS: tuple[Check, ...] = (
    Check("near_copy", ("counselor", "client"),
          "That's a beautiful idea. I'll try this next time: writing down what I feel before I sleep.",
          "a loop: half of the turn's word trigrams are in one earlier turn of the same speaker, or an 8-word "
          "run of it is", _near_copy,
          Context(own_earlier=(_LOOP,))),
    Check("copies_other", ("counselor", "client"),
          "I have been so stressed at work that I cannot sleep and my boss keeps yelling at me.",
          f"the other speaker's words presented as one's own: a {COPY_RUN_WORDS}-word run, or "
          f"{COPY_COVERAGE:.0%} of the turn, copied from their last {COPY_LOOKBACK} turns", _copies_other,
          Context(other_earlier=(_CLIENT_SAID,))),
    Check("narration", ("counselor", "client"),
          'They said "I\'m going to be in a world of my own, where people only talk about what they have."',
          "narrating or quoting speakers instead of speaking in the first person; stage directions "
          "(\"(glancing at the client's face)\") are removed by cleaning, and caught here when they are not",
          _narration),
    Check("commentary", ("counselor", "client"),
          "This is a common quote referencing the 'Fail-safe' mantra, often used to describe a person's resilience.",
          "analysing the other speaker's words as a text (\"This is a great example of how...\", \"The quote "
          "suggests...\") instead of answering them", _commentary),
    Check("role_word", ("counselor", "client"), "That makes sense. user I feel tired.",
          "a chat-template role word left in the text (a leading one is stripped by cleaning)", _role_word),
    Check("refusal", ("counselor", "client"), "I'm sorry, but I can't help you with that.",
          "an assistant refusal or 'as an AI' disclaimer in a counseling turn", _refusal),
    Check("off_language", ("counselor", "client"), "Je comprends, c'est une situation vraiment difficile pour vous.",
          "the turn left English (non-ASCII letters, or no English function word in 8+ words)", _off_language),
    Check("self_repeat", ("counselor", "client"), "I understand how you feel. I understand how you feel. What helps?",
          "babble within one turn: a sentence twice, a word four times running, a 4-gram three times", _self_repeat),
    Check("repeated_opening", ("counselor", "client"), "I'm so sorry to hear that. Exams can feel like a wall.",
          f"a formula loop: the same first {OPENING_WORDS} words as one of the speaker's latest {OPENING_LOOKBACK} "
          "turns, however the rest differs", _repeated_opening,
          Context(own_earlier=("I'm so sorry to hear that you're struggling with sleep.", "What happened next?"))),
    Check("role_reversal", ("client",),
          "Can you give me a better idea of what's going on? What makes you feel unvalued?",
          "the simulated client speaks in the counselor's voice", _role_reversal, Context(speaker="client")),
)
CHECK_NAMES = tuple(c.name for c in CHECKS)
DEGENERATE = "degenerate"


def find_degenerate(text: str, ctx: Context = Context()) -> list[str]:
    """Names of the checks ``text`` fails (empty text fails none: emptiness is handled by cleaning)."""
    if not text.strip():
        return []
    return [c.name for c in CHECKS if ctx.speaker in c.speakers and c.test(text, ctx)]


def degenerate_flags(findings: Sequence[str]) -> list[str]:
    """The flags a kept degenerate turn carries: ``degenerate`` and one ``degenerate:<check>`` per finding."""
    return [DEGENERATE, *(f"{DEGENERATE}:{f}" for f in findings)] if findings else []


def is_flagged(flags: Sequence[str]) -> bool:
    return DEGENERATE in flags


def session_findings(texts: Sequence[tuple[str, str]]) -> list[tuple[int, list[str]]]:
    """Run the counselor checks over a transcript (``(role, text)`` pairs, in order) as the graph
    would have at generation time; returns ``(index, findings)`` for each counselor turn. Used to
    measure human transcripts, which carry no generation flags, with the same rules."""
    out: list[tuple[int, list[str]]] = []
    own: list[str] = []
    other: list[str] = []
    for i, (role, text) in enumerate(texts):
        if role == "counselor":
            out.append((i, find_degenerate(text, Context("counselor", tuple(own), tuple(other)))))
            own.append(text)
        elif role == "client":
            other.append(text)
    return out
