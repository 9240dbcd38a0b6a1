"""Off-topic small talk: a counselor turn about neither the client's talk nor the work of counseling.

A turn is *off-topic* when all of these hold (nothing here reads the protocol, so the rule serves every
protocol):

1. it has a topic: at least ``MIN_CONTENT`` content words (the words left after removing
   :data:`STOP_WORDS`: function words, chat fillers and the most general verbs, nouns and adjectives of
   conversation), and more than ``SHORT_WORDS`` words ("I see", "mm-hmm, go on" are acknowledgements);
2. no lexical cohesion with the client: none of its content words, after light stemming (:func:`stem`),
   occurs in the client's turns so far (up to and including the one right before it). Only the client's
   talk counts, so a counselor who keeps up a topic of their own stays off-topic;
3. no counseling vocabulary: none of :data:`SUPPORT_WORDS` (feelings, thoughts, problems, coping, help,
   care, pleasant activities, talk about the conversation) and none of :data:`LIFE_WORDS` (the life
   domains a psychosocial assessment asks about: family, relationships, work, school, money, health,
   substances) unless it is the counselor's own ("my sister", "our kids": self-talk, not the client's
   life). Both lists are general words of counseling talk, none taken from small-talk examples; some
   were added after reading false alarms on real sessions (benchmarks/README.md, "Drift validation");
4. no other tie to the client: not a statement about the client ("you deserve ...", "you should ...") or
   advice opening a sentence with a directive ("try ...", "don't beat yourself up"), no demonstrative
   pointing back at what was said ("why is that?", "that's ..."), no social ritual (a greeting or thanks
   phrase, or a word of closings and introductions, :data:`RITUAL_WORDS`), no reviewing or closing of the
   conversation (:data:`CLOSING`, round 99: "what stands out for you from today?", "let's pull it together").

The caller adds the protocol-specific exemptions (a phase cue of the protocol, crisis language, greetings,
which have rules of their own): :func:`helpert.label.phase.session_phases`. Lexical cohesion - repetition
of the words of earlier talk - is the classic marker of staying on a topic (Halliday & Hasan 1976,
*Cohesion in English*); talk that shares no word with the client and uses no word of counseling has left
the client's concern. Known misses: small talk that happens to reuse a client's word or a counseling word
("what music do you listen to?", "I'm hoping to learn the guitar").
"""

from __future__ import annotations

import re

from helpert.text.features import cue_flags, normalise, words

MIN_CONTENT = 2
SHORT_WORDS = 3

# Function words, chat fillers and the most general verbs, nouns and adjectives of conversation.
STOP_WORDS = frozenset("""
a about above after again against ago all almost already also although always am among an and another any
anybody anyone anything anyway anywhere are aren't around as at away back be became because become been
before being below besides between beyond both but by can can't cannot could couldn't did didn't do does
doesn't doing don't done down during each either else enough especially even ever every everybody everyone
everything everywhere few for from further get gets getting go goes going gone got gotten had hadn't has
hasn't have haven't having he he'd he'll he's her here here's hers herself him himself his how how's however
i i'd i'll i'm i've if in instead into is isn't it it'd it'll it's its itself just least less let let's
like likely made make makes making many may maybe me might mine more most much must my myself near need
needs neither never next no nobody none nor not nothing now nowhere of off often oh ok okay on once one
ones only onto or other others otherwise our ours ourselves out over per perhaps please pretty quite
rather really right same say says said see seems seen shall she she'd she'll she's should shouldn't
since so some somebody someone something sometimes somewhat somewhere soon still such sure than that
that'll that's the their theirs them themselves then there there's these they they'd they'll they're
they've thing things think thinking this those though through thus till to together too toward towards
under unless until up upon us very via was wasn't way ways we we'd we'll we're we've well went were weren't
what what's whatever when whenever where where's whether which while who who'd who'll who's whole whom
whose why will with within without won't would wouldn't yet you you'd you'll you're you've your yours
yourselves yeah yes yep yup nope hmm hm mm mhm uh um umm ah aw wow haha hahaha lol lmao hehe ha gonna
wanna gotta kinda sorta lot lots bit little kind sort stuff time times day days today week weeks month
months year years people person guy guys ask asked asking tell told telling know knew known knowing mean
means meant come came coming take took taken taking give gave given giving put keep kept look looking
looked want wanted wants try tried trying use used find found seem seemed great good nice fine cool new
old first last long able own different real true mostly totally actually basically literally definitely
probably certainly honestly course thanks thank hi hello hey bye better best worse
""".split())

# Feelings, thoughts, problems, coping, help and care, pleasant activities, and talk about the conversation.
SUPPORT_WORDS = """
feel feels felt feeling feelings emotion emotional mood sad sadness unhappy upset angry anger mad furious
anxious anxiety nervous worry worried worries fear afraid scared panic depressed depression lonely
loneliness alone hurt hurting pain painful cry crying guilt guilty shame ashamed embarrassed jealous
frustrated frustration overwhelmed hopeless hope hopeful helpless happy glad proud calm relax comfort
confident confidence motivation disappointed grief grieve loss miss heartbroken
thought thoughts belief beliefs mind mental stress stressful pressure struggle problem issue concern
situation trouble bother difficult difficulty hard tough challenge deal cope coping handle manage overcome control
help helpful support supportive advice suggest suggestion recommend listen share understand sorry care
safe safety trust respect deserve blame fault mistake forgive accept patience positive negative
yourself self esteem worth value strength strong brave courage goal step change decision choice option
breathe breathing meditation meditate mindfulness journal wellbeing
boundary life experience solution relate encourage cheer enjoy fun hobby activity exercise trigger relief
talk talking speak discuss chat conversation session
"""
# The life domains of a psychosocial assessment: family, relationships, work, school, money, health, substances.
LIFE_WORDS = """
family parent mother mom father dad husband wife partner spouse child children son daughter kid brother
sister sibling grandparent relative friend friendship relationship boyfriend girlfriend ex marriage married
divorce breakup cheat
job work career boss manager coworker colleague employer employment unemployment income money salary pay
debt bill rent school college university class teacher exam grade study student education
health sleep tired exhausted energy appetite body sick illness symptom diagnosis medical doctor hospital
medication medicine treatment therapy therapist counselor counseling counselling psychologist psychiatrist
professional alcohol drink drinking drug smoking
"""
# Closings and introductions are social ritual, not small talk.
RITUAL_WORDS = "welcome wish luck bless blessed pleasure meet name goodbye goodnight"
_ABOUT_CLIENT = re.compile(
    r"(?:^|[.!?,] |\b(?:and|but|so|i think|i know|i hope|i'm sure|maybe|then) )(?:you are|you're|you were|you've|"
    r"you (?:really |just |also |still |probably |definitely )?(?:sound|seem|deserve|have to|need|should|can|could|"
    r"might|will|must))\b|\bdo you (?:think|believe|feel)\b"
    # a directive opening a sentence: advice to the client, not talk about the world
    r"|(?:^|[.!?] )(?:just |maybe |also |then |so )?(?:try|give|get|take|go|make|search|focus|remember|keep|stay|"
    r"set|find|consider|don't|do not|why not)\b"
)
_POINTS_BACK = re.compile(
    r"\b(?:this|that)(?:[.?!,]|$| (?:is|was|must|sounds|seems|makes|made|has|happened|would|could|might)\b)|\bthat's\b"
)
# Reviewing or closing the conversation (round 99): a session's last turns carry no topic of their own ("Let's pull
# today together. What stands out for you from today?"), but they are counseling, not small talk.
CLOSING = re.compile(
    r"\b(?:stands? out|stood out|tak(?:e|ing) (?:away|home)|takeaways?|pull (?:\w+ ){0,2}together|sum (?:\w+ )?up|"
    r"summar(?:y|ies|ise|ize|ising|izing)|recap|wrap(?:ping)? (?:\w+ )?up|main (?:points?|things?)|"
    r"learn(?:ed|t)? (?:today|from (?:this|today|our|what))|(?:next|last) (?:time|appointment|meeting)|"
    r"time(?:'s| is) (?:\w+ )?up|minutes (?:left|to go)|before we (?:finish|stop|end|close|wrap)|"
    r"(?:do|did|would|should|could) (?:\w+ ){0,2}differently|the pace|today (?:was|went|has been)|"
    r"how (?:was|did|has) today|(?:of|from|about) today|today for you|this hour|"
    r"our (?:time|hour|chat|conversation|work))\b"
)
_OWN = frozenset(("my", "our"))
_TOKEN = re.compile(r"^[a-z][a-z']*$")
_INNER = ("ingly", "edly", "ness", "ment", "ing", "ed")
_SUFFIXES = ("ingly", "edly", "ness", "ment", "ing", "ies", "ied", "ed", "es", "ly", "s")


def _strip(word: str, suffixes: tuple[str, ...]) -> tuple[str, str]:
    """``word`` without the first of ``suffixes`` it ends with (a stem of 3+ letters stays), and that suffix."""
    for suffix in suffixes:
        keeps_s = suffix == "s" and word.endswith(("ss", "us", "is"))  # boss, virus, this
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not keeps_s:
            return word[: -len(suffix)] + ("i" if suffix in ("ies", "ied") else ""), suffix
    return word, ""


def stem(word: str) -> str:
    """Light suffix stripping, enough to match "worried"/"worries"/"worry" or "jobs"/"job" (not a full
    Porter stemmer: a few rules keep it fast and predictable)."""
    w = word.strip("'")
    if w.endswith("'s"):
        w = w[:-2]
    w, cut = _strip(w, _SUFFIXES)
    if cut in ("s", "es"):  # a plural, then one more suffix: "feelings" -> "feeling" -> "feel"
        w, _ = _strip(w, _INNER)
    if len(w) >= 4 and w[-1] == w[-2] and w[-1] not in "lsz":  # stopp -> stop, plann -> plan
        w = w[:-1]
    if w.endswith("y") and len(w) >= 4:  # worry -> worri, like worried and worries
        w = w[:-1] + "i"
    if w.endswith("e") and len(w) >= 4:  # hope/hoping, lose/losing
        w = w[:-1]
    return w


_STOP_STEMS = frozenset(stem(w) for w in STOP_WORDS)
_SUPPORT_STEMS = frozenset(stem(w) for w in (SUPPORT_WORDS + RITUAL_WORDS).split())
_LIFE_STEMS = frozenset(stem(w) for w in LIFE_WORDS.split())


def _content(normalised: str) -> list[tuple[str, str]]:
    """(stem, previous word) of each content word of normalised text, in order."""
    out, before = [], ""
    for w in words(normalised):
        if _TOKEN.match(w) and w not in STOP_WORDS:
            s = stem(w)
            if len(s) > 1 and s not in _STOP_STEMS:
                out.append((s, before))
        before = w
    return out


def content_stems(normalised: str) -> set[str]:
    """Stems of the content words of normalised text (no stop words, numbers or punctuation)."""
    return {s for s, _ in _content(normalised)}


class ClientTalk:
    """The client's talk so far, stemmed only when a turn asks (most counselor turns are ruled out by their
    own words before cohesion is checked, so a corpus run stems a fraction of the client turns)."""

    def __init__(self) -> None:
        self._stems: set[str] = set()
        self._pending: list[str] = []

    def add(self, text: str) -> None:
        if text:
            self._pending.append(text)

    def stems(self) -> set[str]:
        for text in self._pending:
            self._stems |= content_stems(normalise(text))
        self._pending.clear()
        return self._stems


def is_off_topic(normalised: str, client: ClientTalk) -> bool:
    """Whether a normalised counselor turn is off-topic, given the client's talk so far (rules 1-4 of the
    module docstring)."""
    if sum(w not in ("?", "!") for w in words(normalised)) <= SHORT_WORDS:
        return False
    content = _content(normalised)
    stems = {s for s, _ in content}
    if len(stems) < MIN_CONTENT or stems & _SUPPORT_STEMS:
        return False
    if any(s in _LIFE_STEMS and before not in _OWN for s, before in content):
        return False
    if _ABOUT_CLIENT.search(normalised) or _POINTS_BACK.search(normalised) or CLOSING.search(normalised):
        return False
    if {"greeting", "thanks"} & set(cue_flags(normalised)):
        return False
    return stems.isdisjoint(client.stems())
