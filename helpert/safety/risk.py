"""Crisis-risk detection on client turns: suicide, self-harm, harm to others, abuse.

Three parts. A lexicon of phrases: it must not miss an explicit statement, clinicians must be able to read
and extend it, and it runs on every client turn for free. A learned score for the veiled statements no
phrase list covers (:class:`EncoderRiskModel`: a small head over the shared sentence encoder's token
states, mixed with the n-gram model :class:`RiskModel`). And the conversation: each turn is read with the
client's :data:`CONTEXT_TURNS` earlier turns (:func:`assess_turns`), because risk builds up.
:func:`assess_turns` gives each turn a tier, ``crisis`` / ``check`` / ``none`` (:class:`RiskAssessment`);
the graph's router and ``helpert screen`` use it. Validated on hand-labelled CounselChat and Reddit
(EPITOME) posts, hand-written statements and every ESConv help-seeker turn (benchmarks/validate_risk.py;
figures in benchmarks/README.md, design and limits in docs/safety.md). Read those figures before trusting
it (docs/safety.md, section 5, with every set; tests/test_risk.py pins them): on held-out one-turn client statements
a safety turn follows 92-96% of the risk statements by group of sets, not the 95% asked on every one (74% where a
client reports a screening question and the answer), false alarms exceed 10% on some sets (22% on custody talk), and
ordinary long transcripts still get some safety turns.

Refinements that keep false alarms low without giving up recall:

* phrases need a person: "abuse" fires for "he was abusive", not for "substance abuse"; "hurt" fires
  for "I want to hurt him", not for "I hurt my back" or "hurt her feelings";
* figures of speech are not listed ("this exam is killing me", "my dad beat me at chess");
* someone else's completed suicide ("my dad's suicide") is bereavement: it does not fire by itself;
* a phrase negated in its own clause ("I'm not suicidal", "I would never hurt my kids") does not fire by
  itself: clients say so to be understood. Any other risk phrase in the turn still fires, and hedged
  denials ("not really suicidal"), inability ("I just can't kill myself"), effort ("trying not to cut")
  and recovery statements ("I haven't cut in a year") do fire; so does a denial that tapers ("I don't
  have thoughts of suicide very often");
* talk about risk that discloses none (round 12: general questions about other people, coursework and
  fiction frames, someone else's suicide told as the act, idioms of exasperation, accidents, one
  unspecified threat) does not fire by itself (:func:`_talk_about`); the learned score still reads it;
* the learned score reads a turn without its denied clauses (:func:`without_denials`);
* :func:`assess_turns` reads spellings written around content filters as the words they stand for
  (:func:`decoded`: "su1c1de", "sewerslide", "unaliving myself", "s/h", "sh'ing", round 69; emoji for a means or an
  act, "🪢", "💊", "🔪", round 71).

How the graph uses them (:func:`assess_turns`, ``--risk-sensitivity``):

* ``"stepped"`` (the default): tiers as in :func:`assess_turns`; the router gives ``crisis`` the full
  safety response and ``check`` one direct safety question (once per session, again only for a turn scored
  higher than the one that triggered it: ``helpert.replay.graph.router``).
* ``"lexicon"``, ``"balanced"``, ``"high"``, ``"screen"`` (:func:`detect_risk` sensitivities of rounds 1-9;
  the safety metrics use ``"lexicon"``): every turn flagged goes to the full response; the phrases alone, or
  the phrases OR the n-gram model at a threshold chosen by leave-one-set-out cross-validation. On EPITOME
  J: lexicon 63.5% / 2.3% false alarms, 77.6% / 4.7% (balanced), 83.5% / 11.6% (high), 91.8% / 36.3%
  (screen). A turn only the model flags gets the kind ``MODEL_KIND``.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, Sequence

from helpert.safety.policy import DEFAULT_POLICY, SAFETY_POLICIES, SENSITIVITIES, STEPPED
from helpert.text.lexicon import NEGATOR, PhraseSet, clause_window, normalise

if TYPE_CHECKING:
    import numpy as np

RISK_MODEL = Path(__file__).resolve().parent.parent / "data" / "risk_model.npz"
MODEL_KIND = "unspecified_risk"  # what a turn that only the learned model flags is tagged with

_SELF = r"(myself|my self|herself|himself|themselves|themself)"
_KIN = (r"(wife|husband|partner|boyfriend|girlfriend|fianc[eé]e?|ex|spouse|mom|mum|mother|dad|father|stepdad|"
        r"stepfather|stepmom|stepmother|brother|sister|son|daughter|kids?|children|child|baby|uncle|aunt|cousin|"
        r"grandfather|grandpa|boss|roommate|teacher|coworker|friend|neighbou?r)")
_PERSON = rf"(him|her|them|someone|somebody|anyone|people|my (\w+ )?{_KIN})"
_ABUSER = rf"(he|she|they|my (\w+ )?{_KIN}|(step)?(dad|father|mom|mother))"
_FILLER = r"( (?!(never|not|\w+n't)\b(?! (stop|quit)))[\w,']+)"  # words between a subject and its verb; no negation but "won't stop"
_VIOLENCE = (r"(hit|hits|hitting|beat|beats|beating|punch(es|ed|ing)?|slap(s|ped|ping)?|kick(s|ed|ing)?|chok(e|es|ed|ing)|"
             r"strangl(e|es|ed|ing)|shov(e|es|ed|ing)|push(es|ed|ing)?|stab(s|bed|bing)?|burn(s|ed|t)?|"
             r"throw(s|ing)? things at|threw things at|injur(e|es|ed|ing))")
_NOT_FIGURATIVE_DIE = r"(?! (of|from) (embarrassment|shame|laughter|laughing)\b)"
_NOT_A_RELATIONSHIP = r"(?! (with|between|off|for (him|her|them|us)|relationship|marriage|friendship|engagement|conversation|job)\b)"
_NOT_A_PLACE = r"(?! (in|with|here|there|at|near)\b)"
_NOT_EVERYDAY_CUT = (r"(?! (back|down|costs?|staff|jobs|hours|ties|corners|out|off|class|school|carbs|pay|wages|sal\w*|budgets?|prices|"
                     r"spending|expenses|funding|people|loose)\b)")
_OUTCOME = r"(?! (away|aside|at|in|to|by|up|out)\b)"  # "pushed her away", "beat me at chess"
# Round 12: everyday objects of the idioms and accidents that share a risk phrase's words.
_NOT_FIGURATIVE_OD = (r"(?! on (netflix|tv|television|youtube|tiktok|instagram|social media|coffee|caffeine|sugar|chocolate|candy|"
                      r"sweets|carbs|junk food|pizza|work|studying|reality tv|anime|podcasts|shopping|sunshine|cuteness|nostalgia|"
                      r"memes|christmas|music|k-?dramas|video games|games|love)\b)")  # "overdosed on Netflix"
_NOT_AN_ACCIDENT = (r"(?! ((while|when) )?(shaving|cooking|chopping|slicing|baking|ironing|gardening)\b|"
                    r" on (a|an|the|some|my) (broken |sharp )?(glass|paper|tin|can|fence|nail|rock|shell|bottle|wire|edge|stove|"
                    r"oven|pan|iron|kettle|grill)\b| (\w+ ){0,3}(?<!not )(by accident|accidentally)\b)")  # "cut myself shaving"
_NOT_A_GETAWAY = (r"(?! (to|into) (a|an|the|my|some) (\w+ )?(cabin|beach|island|mountains?|woods|forest|countryside|village|cottage|"
                  r"retreat|spa|hotel|bedroom|room|cave|bubble|library|corner|farm)\b| for (a|the|an|one|two|three|a few|few|\d+|some)\b|"
                  r" on (a|an) (holiday|vacation|trip|retreat)\b)")  # "disappear to a cabin for a month"

RISK_PATTERNS: dict[str, tuple[str, ...]] = {
    "suicide": (
        # naming it
        r"\b(suicid(e|al)|sucid(e|al)|suicde|suiside)\b(?! (prevention|awareness|hotline|line|helpline))",
        rf"\bkill(s|ed|ing)? ({_SELF}|yourself|urself)\b", r"\b(kms|kys|unalive)\b", r"(?-i:\bSI\b)",
        rf"\b(shoot|shooting|stab|stabbing|drown|drowning|poison|poisoning|gas|gassing) {_SELF}\b",
        r"\b(hang|hanging|hanged|hung) (myself|herself|himself|themselves|yourself)\b", r"\bslit (my|her|his|your) wrists?\b",
        r"\b(end|ending|ended|take|taking|took) (it all|my (own )?life|her (own )?life|his (own )?life)\b",
        # wanting to die or not to exist
        r"\bwants to die\b", r"\b(want|wanna|wanted|wanting|wish|wishes|wishing|wished|hope|hoping|ready|deserve|like|long|longing|rather|prefer)\b"
        rf"( to)*( \w+){{0,3}}? (to )?(die|be dead|not (be alive|exist|be here)|stop existing|cease to exist)\b{_NOT_FIGURATIVE_DIE}",
        r"\bwish(ed|es|ing)? (that )?I (was|were|had been) dead\b", r"\bhope (I'?m|I am|I'?ll be|I will be|to be) dead\b",
        r"\bdie in my sleep\b", r"\bcan'?t (even )?die\b", r"\b(please|someone|somebody|just) (\w+ ){0,2}kill me\b",
        r"\b(do not|don'?t|doesn'?t|not|no longer) (even |really |just )?want(s|ing)? to (live|be alive|exist|wake up|be here any ?more|"
        r"be (on|in) this (world|earth|planet))\b",
        r"\b(don'?t|do not) (even )?(like|enjoy|want) (living|being alive|existing)\b",
        rf"\b(hate|hated|hating) (existing|being alive|living|my existence)\b{_NOT_A_PLACE}",
        r"\bover (existing|living|being alive)\b", r"\b(tired|sick) of (living|being alive|life)\b",
        r"(\bnever|\bnot|n'?t) (have )?(to )?wake up\b", r"\b(stop|quit) waking up\b", r"\bcare (if|whether) I live or die\b",
        r"\bdisappear (forever|for good|permanently)\b", r"\b(wished|wish|hope|hoped) for an accident\b",
        r"\bdeath (would be|will be|is|as) (a |the )?(relief|release|escape|mercy)\b",
        r"\b(think|thinking|thought|thoughts) (a lot )?(about|of) (death|dying|being dead)\b", r"\bobsessed with (death|dying)\b",
        # ending it
        r"\b(I'?ll|I will|'ll|will|gonna|going to|want to|wanna|wanted to|wish to|wish I could|courage to|guts to|consider|"
        r"considering|thinking (about|of)|think about|plan\w* (to|on)|ready to|until I( just)?|just|like to|keep\w* me from|"
        rf"stop\w* me from) end(ing)? (it|it all|everything|this|my life)\b{_NOT_A_RELATIONSHIP}",
        r"\bwant(s|ed)? (it|it all|everything|my life|your life) to (end|be over|stop)\b", r"\bfor it (all )?to be over\b",
        # no reason to live
        r"\b(no|any) (reason|point)s? (left )?(to|in|of) (live|living|life|go on|going on|being alive|being here)\b",
        r"\bpoint (of|in) (living|being alive|going on)\b", r"\b(not|isn'?t) worth living\b",
        r"\b(is|isn'?t) (life|living) (even |really )?worth (it|living)\b|\b(is|isn'?t) it (even |really )?worth living\b", r"\b(no|lost (my|the)) (will|desire|wish) to live\b",
        r"\b(nothing|not (have )?anything|don'?t have (anything|what)|no one|nobody) (left )?to live for\b",
        rf"\bwhy (am|should|do|must|would) I (\w+ ){{0,3}}(alive|be alive|stay alive|live|living|exist|existing|born)\b{_NOT_A_PLACE}",
        rf"\bwhy (do I |should I |would I |even |bother |do I even |should I even )*(live|keep living|stay alive|go on)\b{_NOT_A_PLACE}",
        r"\bwhy am I still (here|alive)\b", r"\bwhy was I (\w+ )?born\b",
        r"\bwish(ed)? (I )?(was|were|had|would)( not|n'?t)( have)? (been )?born\b",
        r"\b(should ?n'?t|should not|don'?t deserve to) be (here|alive)\b", r"\b(don'?t |do not )?deserve to (exist|live|be alive)\b",
        r"\bcontinue to exist\b", r"\bbetter off (dead|without (me|my))\b",
        r"\b(reason|thing) (\w+ ){0,4}(I'?m|I am) (not dead|still (here|alive))\b",
        # veiled, in Reddit's register: wanting out, not lasting, life as something to return or endure
        r"\b(just |I )want(s|ed)? out\b(?! (of|there|here|with|for|and)\b)",
        r"\b(I'?m|I am) not (gonna|going to) (last|make it)( (much |very )?(longer|long))?\b(?! (to|at|in|through|on|with|for)\b)",
        r"\b(I'?m|I am) ready to go\b(?! (to|out|back|home|on|through|in|for|and)\b)", r"\b(grim reaper|death),? (please |just )?take me\b",
        r"\b(don'?t think I can|can'?t|cannot|can not) (live|keep living)\b(?! (with|without|like|in|on|off|here|there|through)\b)",
        r"\b(I'?m|I am) still (alive|here)\b(?! (at|in|with|for|and|but)\b)", r"\b(have to|going to|gonna|keep|keeping) (myself )?(stay|staying) alive\b",
        r"\bdon'?t want (to )?(experience|live|endure|go through) any ?more of (it|this|life)\b", r"\bfinally (\w+ )?die\b",
        r"\bwhy (the (hell|fuck) )?(did|do|would) (she|they|you|my (mom|mother|parents|dad|father)) (give birth to|have|make) me\b",
        r"\bby (just |simply |even |merely )?existing\b",
        # round 7 (benchmarks/README.md), from EPITOME D's misses after its single scoring: idioms of ideation
        r"\b(desperate|yearning|longing|praying|pray|begging) (\w+ ){0,2}to (die|be dead|not wake up|disappear)\b",
        r"\b(how|ways?|quickest way|fastest way|easiest way) (to|do I|can I|could I|should I|of) (die|dying|kill myself|end (it|my life))\b",
        r"\b(die|dying|kill myself|end it) (painlessly|quickly|peacefully)\b", r"\bnoose\b",
        r"(^|[.!?] )(\w+ )?(just |please |somebody |someone )*kill me\b(?! (if|when|for|with)\b)",
        r"\b(eat|eating|put|putting) a bullet\b", r"\bbullet (in|through) my (head|brain|skull)\b",
        r"\b(attempt|attempting|attempted) (it|again|suicide)\b(?! (to|at)\b)", r"\b(suicide )?attempts?\b(?= (tonight|today|tomorrow))",
        r"\b(find|finds|found|discovers?) my (dead )?body\b", r"\b(people|person) (that|who) (will )?finds? me\b",
        r"\bgo(ing)? through with (it|my plans?)\b",
        r"\b(won'?t|will not|not going to|don'?t think I'?ll) (be )?(alive|around|live|survive) (past|by|until|much|to see|for)\b",
        r"\bmy death is (near|coming|close)\b", r"\bdeath is (the only|my only|the best|an?) (way|answer|option|escape|solution)\b",
        r"\b(can'?t|cannot|can not) go on\b(?! (alone|with|without)\b)", r"\bwhy (even )?(continue|keep going|go on)\?",
        r"\b(convince|talk|stop|keep) (\w+ )?myself (not to|out of|from) (do(ing)? it|it)\b",
        r"\b(no|lost|lost all|don'?t have any) (interest|desire|will|wish) (in|for) (living|life|being alive)\b",
        r"\b(whether|if|weather) (life|living|it) is (even |really )?worth (it|living)\b",
        r"\b(see|find|is) (a |any |the )?(point|reason|purpose) (in|to|of|for) (living|life|live|going on|being alive|existing)\b(?!'s)",
        r"\b(nothing|no one|nobody|not anything|anything) (\w+ ){0,2}(worth )?(living|to live|to go on|going on) for\b",
        r"\bwhat is there to (even )?(live|go on|keep going) for\b",
        r"\bif I (die|died|was dead|were dead|kill myself)\b", r"\bwhy (didn'?t|did not|couldn'?t) I (just )?(get hit|die|crash)\b",
        r"\b(just )?not be here (any ?more|anymore)?\?", rf"\b(want|wish|wanted|wanna) (\w+ ){{0,4}}(is )?to disappear\b{_NOT_A_GETAWAY}",
        r"\bsleep forever\b", r"\bdidn'?t ask to be born\b",
        r"\b(continue|go on|move on|be fine|be happier|be better) (w/?out|without) me\b",
        r"\bwouldn'?t mind (dying|being dead|not waking up|if I died|eating)\b", r"\b(just|should|might as well) (\w+ )?die( already)?\b",
        r"\bdo (the world|everyone|everybody) a favou?r\b", r"\bcan I (please )?be done\b",
        r"\b(drink|drinking|drank) myself (to death|into oblivion)\b", r"\bso long,? (and goodnight|everyone|world)\b",
        r"\bwish (it |this |everything |life )?(would |could )?(just )?end( already)?\b(?! (up|with|of)\b)",
        r"\bwhat (happens|would happen|will happen) if (you|I|someone|a person) (take|took|swallow\w*|overdos\w*)\b",
        r"\b(who has|who have|who's|have you ever|anyone ever|ever) attempted\b(?! to)",
        # round 8, from EPITOME E's misses after its single scoring
        r"\bwish(ing|ed)? (that )?(I|you) (weren'?t|wasn'?t|were not|was not|hadn'?t been|had not been|had never been|was never|were never) born\b",
        r"\b(give me|need|have|find|looking for|tell me) (\w+ ){0,2}reasons? (\w+ ){0,2}(not to|to not) (commit suicide|kill myself|die|end (it|my life))\b",
        r"\b(in|into) (a|my) grave\b", r"\blet me (just )?die\b", r"\beuthanasia\b", r"\bleave this (world|earth|life)\b(?! (a|better|behind)\b)",
        r"\b(only|the) reason (why )?I (haven'?t|have not|didn'?t|did not|am not|'m not) (ended|killed|gone through|done it)\b",
        r"\bwhy is (staying alive|living|being alive)\b", r"\b(too tired|too exhausted|too weak) to (live|go on|keep living|exist)\b",
        r"\bwouldn'?t mind if I (did|died|die|was dead|were dead)\b",
        r"\b(tried|try|trying|attempted|going|wanted|want) to od\b",
        r"\bwould (have )?(probably |likely |definitely )?(died|be dead|killed myself|not be (here|alive)) (by now|already)\b",
        # round 8, from the misses of EPITOME G (a training sample labelled for round 8)
        r"\b(susicide|suicidle|sucide)\b", r"\b(will|it'?ll|it will|gonna|going to) kill me (faster|sooner|quicker|eventually)\b",
        r"\b(balls|nerve|strength) to end (it|it all|my life)\b", r"\b(delete|erase|end) my (own )?existence\b",
        r"\bnot be in this (life|world)( any ?more)?\b", r"\bI (will not|won'?t) (last|make it)\b(?! (to|at|in|through|on|with|for)\b)",
        r"\brelaps\w* (\w+ ){0,3}(cut|cutting|self[- ]?harm\w*)\b", r"\bto be my last\b", r"\bwant (it|it all|everything) (to be )?over\b",
        r"\bhow (much )?(longer|long) (more )?I can (hang on|hold on|keep going|go on|last|do this)\b", r"\bstill (alive|here) for now\b",
        r"\breasons? (is there |are there )?to (live|keep living|stay alive|go on living)\b", r"\bmy own death\b",
        # round 8, from the misses of EPITOME F (a training sample labelled for round 8)
        r"\bdeserve (death|to die|to be dead)\b", r"\bclose to ending (it|it all|everything|my life)\b",
        r"\ball I (can |ever )?think (about|of) (\w+ ){0,4}is (dying|death|ending (it|the pain|my life))\b",
        r"\b(could|can|would|will|should) I od\b|\bod on\b",
        r"\b(didn'?t|did not|haven'?t|have not) cut\b(?! (my|the|her|his|it|them|back|down|class|school|ties|corners|out|off|in)\b)",
        r"\bwhy should I (stay|keep going|go on|bother)\?",
        r"\b(not sure|don'?t know|wonder) (if|whether) I('ll| will) (survive|live|make it|be alive|be here) (past|to|through|until|much)\b",
        r"\bgoodbye (to )?(this|the|cruel) (\w+ ){0,2}world\b",
        r"\b(hope|wish|wishing|hoping) (\w+ ){0,3}(get|gets|got) (run over|hit by a (car|bus|truck|train))\b",
        r"\b(hit|run over) and kill (me|you)\b", r"\bwish(ed)? I (never|hadn'?t|had not|didn'?t) (existed|exist)\b",
        r"\bwhy (\w+ ){0,3}(continue|keep) living\b", r"\bI (won'?t|will not) be (there|here|around) any ?more\b",
        # plans and means
        r"\b(I|I'?ve|I'?d|I'?ll|tried to|try to|attempted to|want to|wanted to|going to|thought about|thinking about|took an?) "
        rf"(\w+ )?overdos\w*\b{_NOT_FIGURATIVE_OD}",
        r"\b(pills|tablets) (saved|stockpiled|hoarded)|\b(saved|saving|stockpil\w*|hoard\w*) (up )?(my |some )?(\w+ )?"
        r"(pills|tablets|meds|medication)\b",
        r"\b(rest of|extra|spare|stash of|hidden|saved (up )?(a lot of )?) (my |the |them |those )?(pills|meds|tablets)\b",
        r"\b(take|took|taking|swallow\w*) (\d+|a (lot|bunch|handful)|all|the whole|an entire)( of)? (my |the |these |those )?"
        r"(\w+ ){0,2}\(?(pills|tablets|meds|capsules)\b",
        r"\b(painless|quick|easy|easiest|fastest|best) ways? (to|of) (die|dying|kill|commit|end)\b",
        r"\bjump (off|in front of)\b", r"\bin front of a (train|car|bus|truck)\b", r"\b(got|have|bought|own|buy|get|getting) a (gun|rope|noose)\b",
        r"\b(goodbye|suicide) (letters?|notes?)\b", r"\bmy (suicide )?notes? (is |are )?(written|ready|done)\b",
        r"\b(I'?ll|I will) be gone (by|before|tomorrow|tonight|soon)\b",
    ),
    "self_harm": (
        r"\b(cut|cuts|cutting|burn|burns|burning|burned|hurt|hurts|hurting|harm|harms|harming|scratch\w*|hit|hitting|"
        rf"punish\w*|starv\w*|injur\w*|chok(e|es|ed|ing)|strangl(e|es|ed|ing)) {_SELF}\b{_NOT_AN_ACCIDENT}",
        r"\bself[- ]?(harm|injur|mutilat)\w*", r"\bself[- ]destructive\b", rf"\bthings to {_SELF}",
        rf"\b(urge|urges|want|wanted|wanting|wanna|need|needed|started|start|stop|stopped|quit) (to )?cut(ting)?\b{_NOT_EVERYDAY_CUT}",
        r"\b(decide|decided|decides|whenever I|when I|I) (to )?cut\b"
        r"(?! (my|her|his|the|a|an|them|him|her|it|back|down|off|out|class|school|ties|corners|in|through|across|and)\b|"
        r" myself ((while|when) )?(shaving|cooking|chopping|slicing|baking|gardening)\b)",
        r"\bcutting again\b", r"\b(been|keep|kept) cutting\b(?! (back|down|out|off|class|school|carbs|corners|ties)\b)",
        r"\bused to cut\b(?! (my|her|his) hair| (it|back|down|class|school))",
        r"\b(streak|months?|weeks?|days?|years?) (of )?(no|without) (cutting|self[- ]?harm\w*)\b",
        r"\b(clean|free) (from|of) (cutting|self[- ]?harm\w*)\b",
        r"\bcut(s|ting)? (my|her|his) (arms?|wrists?|legs?|thighs?|skin|stomach|body)\b",
        r"\b(knife|blade|razor) (into|in|to|on|across) my (skin|arms?|wrists?|legs?|thighs?)\b",
        r"\b(bit|bite|biting|scratch\w*|punch\w*|pinch\w*|hit|hitting|burn\w*) my (own )?"
        r"(arms?|wrists?|legs?|thighs?|face|skin|fingers?|stomach)\b",
        r"\b(bang\w*|hit\w*) (my|her|his) (own )?(head|face)\b", r"\bhead (against|into) (the|a) wall\b",
        r"\buntil (it|I|they|she|he) bleeds?\b",
        # purging and starving
        r"\b(purg(e|es|ed|ing)|bulimi\w*|anorexi\w*)\b", r"\b(make|made|making|trying to|try to) (myself )?(throw up|vomit)\b",
        r"\bon purpose\b.{0,30}\beat|\beat\w*\b.{0,40}\bon purpose\b",
    ),
    "harm_to_others": (
        rf"\b(kill|killing|murder\w*|stab|stabbing|shoot|shooting|strangle|strangling) {_PERSON}\b",
        rf"\b(want|wanted|going|urge|urges|tempted|afraid I('ll| will| might)|scared I('ll| will| might)|might|could) (to )?"
        rf"(physically )?(hurt|harm|kill|attack|hit|punch|beat|strangle|stab|shoot|choke) {_PERSON}\b(?! ?'?s? feelings)",
        r"\b(thoughts?|thinking|fantas\w+|picturing|imagining|dreams?) (of|about )?(killing|hurting|harming|attacking) "
        r"(?!(my ?self|me|my own (body|life))\b)",  # "thinking about killing myself" is the suicide kind's, not this one
        r"\b(violent|homicidal) (thoughts|urges|fantasies|impulses)\b", r"\bhomicidal\b",
        r"\bI (get|become|can be|was|am|'m) (\w+ )?violent\b", rf"\bI('ve| have)?( \w+){{0,3}} {_VIOLENCE} {_PERSON}\b{_OUTCOME}",
        r"\bmake (him|her|them) (pay|suffer)\b", r"\b(get|buy|bring|bringing|take|taking) a (gun|knife|weapon)\b",
        r"\b(lash|lashing|lashed) out (physically|at (him|her|them|my))",
        r"\b(close to|came close to|nearly|almost) (hitting|hurting|killing|punching|attacking|strangling|stabbing|choking) (\w+ )?(person|someone|somebody|him|her|them|people)\b",
    ),
    "abuse": (
        r"\babusive\b", r"\babuser\b", r"\b(was|were|been|being|got|get|is|am) abused\b",
        r"\b(sexual|sexually|physical|physically|emotional|emotionally|verbal|verbally|child|domestic|mental|mentally|"
        r"psychological) abus\w*",
        r"\babused (\w+ )?(child|children|kids?|daughter|son|wife|woman|women|spouse|partner)\b",
        r"\babus(e|es|ed|ing) (me|us|her|him|them|my (\w+ )?(kids?|children|son|daughter|sister|brother|mom|mother))\b"
        r"(?! (\w+ )?(prescription|medication|meds|pills|drugs|alcohol|substances?|power|position|trust)\b)",
        r"\babuse (from|by)\b", r"\b(history|victim|survivor)s? of (\w+ )?abuse\b",
        r"\babuse (as a (child|kid|teen\w*)|growing up|in (my|the|our) (childhood|past|family|home|marriage|relationship))\b",
        r"\b(suffered|endured|experienced|went through|survived|witnessed) (\w+ )?abuse\b",
        # violence
        r"\bdomestic violence\b", r"\bviolence (at|in) (home|the house|my (home|house|family|relationship|marriage))\b",
        rf"\b{_ABUSER}('s| is| was| gets| got| can be| becomes| became) (\w+ )?violent\b",
        r"\bviolent (outbursts?|behaviou?r|temper|rages?|episodes?)\b", r"\b(hit|hitting|hits) each other\b",
        rf"\b{_ABUSER}{_FILLER}{{0,4}} {_VIOLENCE} (me|us)\b{_OUTCOME}", rf"\b{_VIOLENCE} (my|his|her|their) (\w+ )?{_KIN}\b{_OUTCOME}",
        r"\b(get|gets|getting|got|be|being|been) (hit|beaten|slapped|punched|choked)\b(?! (by (a|the) (car|bus|truck|ball)|up)\b)",
        r"\b(hurts?|hurt|hurting) me physically\b", r"\bphysically (hurt|hurts|hurting|harmed|attacked) me\b",
        r"\b(put|puts|putting) (his|her|their) hands on (me|her|him|my)\b",
        r"\b(push|pushed|pushes|shove|shoved|shoves) me (down|into|against|off|to the (ground|floor))\b",
        r"\block(s|ed)? me (in|up)\b", r"\b(afraid|scared|terrified) (to go|of going) home\b",
        # threats and stalking
        rf"\bthreaten(s|ed|ing)? ((me|us|her|him|them|my (\w+ )?{_KIN}) )?(with (a |his |her |their )?(knife|gun|weapon|violence|"
        r"beating|death|bat|hammer)|to (kill|hurt|harm|beat|shoot|stab|burn|break|hit|choke|strangle|rape))\b",
        r"\b(keeps|kept|keep|always|constantly|repeatedly|regularly) threaten\w* (me|us)\b",
        r"\bthreaten(s|ed|ing)? (me|us) (all the time|every day|constantly|again and again|daily|regularly)\b", r"\b(said|says|told me) (he|she|they)('d| would| will|'ll) (hurt|kill|beat) me\b",
        r"\b(hurt|kill|beat) me if I (ever )?(leave|left|tell|told)\b", r"\bstalk(s|ed|ing)? (me|her|him)\b", r"\bstalker\b",
        r"\brestraining order\b",
        # sexual violence
        r"\braped\b", r"\b(date|gang) rape\b", r"\brapist\b", r"\b(my|his|her) rape\b", r"\brape (me|her|him)\b", r"\bmolest\w*",
        r"\bincest\b", r"\b(sexual(ly)? )?assault(ed)? (me|her|him)\b", r"\bsexual(ly)? assault\w*", r"\b(was|been|got) assaulted\b",
        r"\bforc(e|es|ed|ing) me to (have sex|do)\b",
        r"\b(touch|touched|touches|touching) me (inappropriately|sexually|there|down there|while I (was |am |'m )?(asleep|sleeping))\b",
        r"\b(comes?|came|coming|sneaks?|snuck) into my (room|bed) at night\b",
    ),
}
RISK_KINDS: tuple[str, ...] = tuple(RISK_PATTERNS)
_PHRASES = PhraseSet(RISK_PATTERNS)

# Round 69: risk written around content filters - algospeak and leetspeak ("sewerslide", "su1c1de", "k!ll myself",
# "unaliving myself", "s3lf h4rm", "s/h", "sh'ing"). The learned head never read these spellings (the encoder cuts
# "su1c1de" into pieces it was not trained on) and the phrases above do not name them, so they went unread; read as
# the plain words they stand for, every rule of the detector applies to them as to those words (a denial, talk about
# someone else, a past told as over, and the learned score that stands a phrase down). Each needs a substituted
# character or a coinage nobody writes by accident; ambiguous abbreviations ("sh", "ctb") are not read.
_DECODINGS: tuple[tuple[re.Pattern[str], str], ...] = tuple((re.compile(p, re.IGNORECASE), r) for p, r in (
    (r"\bsewer[- ]?slides?\b", "suicide"),
    (r"\bs(?=[a-z1!*3]*[1!*3])[u*][i1!*]c[i1!*]d(?:e|3)\b", "suicide"),
    (r"\bs(?=[a-z1!*]*[1!*])[u*][i1!*]c[i1!*]dal\b", "suicidal"),
    (r"\bk[1!*|]ll(?=(?:s|ed|ing)?\b)", "kill"),
    (r"\bd[1!*]e\b", "die"),
    (r"\bd[1!*]ed\b", "died"),
    (rf"\bunalive(?= ({_SELF}|me)\b)", "kill"),
    (rf"\bunalives(?= ({_SELF}|me)\b)", "kills"),
    (rf"\bunalived(?= ({_SELF}|me)\b)", "killed"),
    (rf"\bunaliving(?= ({_SELF}|me)\b)", "killing"),
    (r"\b(?:s3lf[- ]?h[a4@]rm|self[- ]?h[4@]rm)(?=(?:s|ed|ing)?\b)", "self harm"),
    (r"\bs/h[- ']?ing\b|\bsh[-']ing\b", "self harming"),
    (r"\bs/h(?:[- ']?ed|'d)\b|\bsh'(?:d|ed)\b", "self harmed"),
    (r"\bs/h\b", "self harm"),
    # round 71: emoji that stand for a means or an act, read as the word (then the learned score reads the sentence):
    # knife, dagger, razor, pill, knot (a rope), drop of blood, adhesive bandage, coffin, headstone, pistol; "🍇'd"
    # ("grape", algospeak for rape). Not the skull or the skull and crossbones ("i'm 💀": laughing), nor any face.
    ("\U0001F52A\uFE0F?", " knife "), ("\U0001F5E1\uFE0F?", " knife "), ("\U0001FA92\uFE0F?", " razor "),
    ("\U0001F48A\uFE0F?", " pills "), ("\U0001FAA2\uFE0F?", " rope "), ("\U0001FA78\uFE0F?", " blood "),
    ("\U0001FA79\uFE0F?", " plasters "), ("\u26B0\uFE0F?", " coffin "), ("\U0001FAA6\uFE0F?", " grave "),
    ("\U0001F52B\uFE0F?", " gun "), ("\U0001F347\uFE0F?(?:'?d|ed)\\b", "raped"),
))
_ANY_CODED = re.compile("|".join(f"(?:{p.pattern})" for p, _ in _DECODINGS), re.IGNORECASE)


def decoded(text: str) -> str:
    """``text`` with spellings written around content filters read as the words they stand for (rounds 69 and 71;
    see :data:`_DECODINGS`): "been sh'ing again" -> "been self harming again", "got the 🪢 sorted" -> "got the rope
    sorted". ``text`` itself when it holds none."""
    if not _ANY_CODED.search(text):  # one search for the ordinary turn
        return text
    for pattern, plain in _DECODINGS:
        text = pattern.sub(plain, text)
    return re.sub(r" {2,}", " ", text).strip()  # an emoji read as " word " leaves no space doubled or at an end

# A phrase negated in its own clause does not fire, except where the negation is not a denial.
# "can't" is not a negator (lexicon.NEGATOR): "I just can't kill myself" tells of the wish.
_HEDGE = re.compile(r"\b(not|never) (really|exactly|quite|actively|sure|necessarily|always)\b|\bnever (been|felt) (so|this)\b",
                    re.IGNORECASE)  # "never been so close to hitting someone" intensifies
_UNSTOPPED = re.compile(r"\b(not|never|\w+n't) (stop|stops|quit|end)\b", re.IGNORECASE)  # "won't stop hitting me"
_EFFORT = re.compile(r"\b(not to|to not)$", re.IGNORECASE)  # "all I have not to kill myself", "manage to not kill myself"
_WHY_NOT = re.compile(r"\bwhy not\s*$", re.IGNORECASE)  # "why not suicide?" asks, it does not deny
# Someone else's completed suicide is bereavement, not a crisis statement (their attempt still fires).
_BEREAVED = re.compile(r"((committed|died by|death by|(lost|loss of) (\w+ ){0,3}to|'s|s'|after (his|her|their)) suicide|"
                       r"\b(he|she|they|\w+ \w+) (killed|hanged|hung) (himself|herself|themselves)|"
                       r"\b(he|she|they|\w+) (took|had taken|ended) (his|her|their) (own )?life)$", re.IGNORECASE)
_NOT_COMPLETED = re.compile(r"\b(almost|nearly|tried|attempted|tries|try|trying|wanted|wants|threatened)\b", re.IGNORECASE)


# A denial that names what is denied: "not having any thoughts of suicide", "no plans to end my life" (round 12).
_DENIAL = re.compile(r"\b(no|not|never|without|\w+n't) (\w+ ){0,2}(thoughts?|plans?|intentions?|urges?|ideas?|desire|wish|"
                     r"history|intent) (of|to|about|for)( \w+)?$", re.IGNORECASE)


_TAPER = re.compile(r"\s*,?\s*(very |that |as |so |too )?(often|much|frequently|any ?more|lately|these days|right now|at the moment)\b",
                    re.IGNORECASE)  # "I don't have thoughts of suicide very often", "not suicidal right now": not a denial


def _negated(text: str, start: int, end: int | None = None) -> bool:
    if end is not None and _TAPER.match(text, end):
        return False
    window = clause_window(text, start)
    if _WHY_NOT.search(text[max(0, start - 12):start]) or _EFFORT.search(window) or _HEDGE.search(window) or _UNSTOPPED.search(window):
        return False
    if NEGATOR.search(window):
        return True
    wide = clause_window(text, start, 8)
    return bool(_DENIAL.search(wide)) and not _HEDGE.search(wide)


def _bereaved(text: str, start: int, end: int) -> bool:
    return (bool(_BEREAVED.search(text[max(0, start - 40):end])) and not text[end:end + 10].lstrip().startswith("attempt")
            and not _NOT_COMPLETED.search(clause_window(text, start, 3)))


# Talk *about* risk that discloses none (round 12; the labelling rule's "general questions that disclose nothing",
# fiction, coursework, idioms, accidents). Such a phrase does not fire by itself: the learned score still reads
# the turn. A first-person word keeps a phrase firing, since a disclosure can come in any frame.
_FIRST_PERSON = re.compile(r"\b(I|I'm|I've|I'd|I'll|im|ive|me|my|myself|mine|we|our|us)\b", re.IGNORECASE)
# Who a general question is about. Not "anyone", "a person" or "people": "Does anyone else want to die?" and "When a
# person has nothing, what is there to go on for?" are how Reddit's posters speak of themselves.
_GENERIC = re.compile(r"\b(someone|somebody|teens|teenagers|adolescents|kids|children|boys|girls|students|pupils|patients|"
                      r"clients|veterans|young people|(a|an) (student|pupil|patient|client|child|kid|teen|teenager|customer))\b",
                      re.IGNORECASE)
_ELSE = re.compile(r"\b(else|like me|of us)\b", re.IGNORECASE)
_FRAME = re.compile(r"\b(novel|story|stories|book|memoir|film|movie|show|series|episode|documentary|podcast|game|play|script|"
                    r"article|essay|project|paper|assignment|thesis|presentation|lecture|course|module|training|workshop|song|"
                    r"lyrics|character|protagonist|news|case study|study|studies|survey|research|statistics)\b( [^.?!\s]+){0,4}? "
                    r"(where|in which|about|on|who|whose|that)\b[^.?!]*$", re.IGNORECASE)
_IDIOM_COULD = re.compile(r"\bcould (have |'ve )?(just |really )?(kill|killed|strangle|strangled|murder|murdered|throttle|throttled)\b",
                          re.IGNORECASE)  # "I could strangle my roommate", "I could have strangled him"
_FEAR = re.compile(r"\b(afraid|scared|worried|terrified|frightened|fear|feel like)\b", re.IGNORECASE)
_YOU = re.compile(r"\byou\b", re.IGNORECASE)
_HEAD = re.compile(r"\b(head|face)\b", re.IGNORECASE)  # an accident is read for a knock to the head or face only
_ACCIDENT = re.compile(r"\b(slipped|tripped|crashed|bumped|knocked|collided|accidentally|by accident|fell (off|over|down|from|out))\b",
                       re.IGNORECASE)


def _sentence(text: str, start: int, end: int) -> tuple[int, str]:
    """The sentence around a match: (its start offset, its text)."""
    a = max(text.rfind(c, 0, start) for c in ".!?\n") + 1
    ends = [i for i in (text.find(c, end) for c in ".!?\n") if i != -1]
    return a, text[a:min(ends) + 1 if ends else len(text)]


def _talk_about(text: str, start: int, end: int) -> bool:
    """Whether a phrase is talk about risk that discloses none: a general question about other people, a
    phrase inside a frame such as "a novel where ..." or "a project on ...", an idiom of exasperation, an
    accident."""
    a, sentence = _sentence(text, start, end)
    phrase = text[start:end]
    if ("?" in sentence and _GENERIC.search(sentence) and not _FIRST_PERSON.search(sentence) and not _ELSE.search(sentence)
            and not _YOU.search(clause_window(text, start, 3))):  # "you just want to disappear" is the self
        return True  # "How do you tell if someone is suicidal?", "Is self-harm more common in boys or girls?"
    frame = _FRAME.search(text[a:start])
    if frame and not _FIRST_PERSON.search(frame.group(0)) and not _FIRST_PERSON.search(phrase):
        return True  # "a novel where the main character self-harms", "a documentary about domestic violence"
    lo = max(a, start - 24)
    idiom = _IDIOM_COULD.search(text[lo:end])
    if idiom and lo + idiom.end() > start and not _FEAR.search(clause_window(text, lo + idiom.start(), 6)):
        return True
    return bool(_ACCIDENT.search(clause_window(text, start, 8))) and bool(_HEAD.search(phrase))


class PhraseHit(NamedTuple):
    """One risk phrase found in a turn's normalised text, and what the rules make of it: ``"fires"``,
    ``"denied"`` (negated in its own clause) or ``"talk"`` (bereavement or talk about risk)."""

    kind: str
    start: int
    end: int
    verdict: str


@lru_cache(maxsize=50_000)
def phrase_hits(text: str, prefilter: bool = True) -> tuple[str, tuple[PhraseHit, ...]]:
    """(``text`` normalised, every risk phrase in it with its verdict): the one pass of the phrase tier that
    :func:`risk_matches` and :func:`without_denials` both read (cached: the graph and ``helpert screen`` ask
    for both on every client turn). ``prefilter=False`` runs every pattern."""
    norm = normalise(text)
    hits = []
    for kind, m in _PHRASES.finditer(norm, prefilter):
        a, b = m.start(), m.end()
        verdict = "denied" if _negated(norm, a, b) else "talk" if _bereaved(norm, a, b) or _talk_about(norm, a, b) else "fires"
        hits.append(PhraseHit(kind, a, b, verdict))
    return norm, tuple(hits)


_CLAUSE_END = re.compile(r"[.;:!?,\n]|\bbut\b", re.IGNORECASE)


def without_denials(text: str) -> str:
    """``text`` as the learned score reads it: without the clauses in which a risk phrase is denied ("No, I'm
    not suicidal. I just feel flat." is read as "No, I just feel flat."). A bare denial is not risk (the
    labelling rule), but a model trained on words reads the words it denies as risk. What else the turn
    says is still read, so "I'm not suicidal, I just don't see the point any more" keeps its second clause.
    ``text`` itself when nothing in it is denied."""
    norm, hits = phrase_hits(text)
    spans = []
    for hit in hits:
        if hit.verdict == "denied":
            cuts = [c.end() for c in _CLAUSE_END.finditer(norm, 0, hit.start)]
            after = _CLAUSE_END.search(norm, hit.end)
            end = len(norm) if not after else after.end() if after.group(0) in ".;:!?,\n" else after.start()
            spans.append((cuts[-1] if cuts else 0, end))
    if not spans:
        return text
    kept, pos = [], 0
    for a, b in sorted(spans):
        kept.append(norm[pos:max(pos, a)])
        pos = max(pos, b)
    kept.append(norm[pos:])
    return " ".join("".join(kept).split())


def risk_matches(text: str, prefilter: bool = True) -> list[tuple[str, str]]:
    """(kind, matched phrase) for every risk phrase in ``text`` that is neither negated, bereavement nor talk
    about risk. ``prefilter=False`` runs every pattern (the reference the prefilter is tested against)."""
    norm, hits = phrase_hits(text) if prefilter else phrase_hits(text, False)  # one cache entry with without_denials
    return [(hit.kind, norm[hit.start:hit.end]) for hit in hits if hit.verdict == "fires"]


def detect_risk(text: str, prefilter: bool = True, sensitivity: str = "lexicon") -> list[str]:
    """The kinds of risk a client turn mentions (empty when none), in RISK_KINDS order.

    ``sensitivity`` (see the module docstring): "lexicon" (default) the phrases alone; "balanced" or
    "high" the phrases OR the learned model at that threshold. A turn only the model flags gets the kind
    ``MODEL_KIND``; the model never removes a kind the phrases found."""
    kinds = {kind for kind, _ in risk_matches(text, prefilter)}
    found = [k for k in RISK_KINDS if k in kinds]
    if sensitivity == "lexicon":
        return found
    if sensitivity not in SENSITIVITIES:
        raise ValueError(f"sensitivity must be one of {', '.join(SENSITIVITIES)}, not {sensitivity!r}")
    if found:
        return found
    model = load_risk_model()
    return [MODEL_KIND] if model.score(text) >= model.thresholds[sensitivity] else []


CONTEXT_TURNS = 3  # earlier client turns read with each turn (risk builds up over a conversation)


@dataclass(frozen=True)
class RiskAssessment:
    """What the safety path makes of one client turn, read with the client's earlier turns.

    ``tier``: "crisis" (the full safety response), "check" (one direct safety question) or "none";
    ``kinds``: the kinds of risk named (RISK_KINDS, or ``MODEL_KIND`` when only the learned detector fired);
    ``score``: the learned detector's probability of risk for the turn in its context (0-1)."""

    tier: str
    kinds: tuple[str, ...] = ()
    score: float = 0.0

    @property
    def flagged(self) -> bool:
        return self.tier != "none"


def assess_turns(texts: Sequence[str], policy: str = DEFAULT_POLICY) -> list[RiskAssessment]:
    """One :class:`RiskAssessment` per client turn of one conversation, in order; each turn is read with the
    :data:`CONTEXT_TURNS` client turns before it.

    Under ``"stepped"`` (the default): a risk phrase of the lexicon (unless :func:`read_as_idiom`), or the encoder
    head's score at its ``crisis`` threshold, gives ``crisis``; a score at its ``check`` threshold gives ``check``.
    Within :data:`CONTEXT_TURNS` of a flagged turn (risk builds up: a burden statement, then method research two
    turns later) a turn at the ``check`` threshold, or one that takes the earlier turn further
    (:data:`CONTEXT_REFERENCE`: research into a method, means, a plan, a farewell), is ``crisis``. ``"lexicon"``: the phrases alone, each hit
    ``crisis``. The older single-detector policies ("balanced", "high", "screen": the n-gram model) give
    ``crisis`` on any hit."""
    # spellings written around content filters read as what they stand for
    return _assess_read([decoded(t) for t in texts], policy)


def _assess_read(texts: list[str], policy: str) -> list[RiskAssessment]:
    """:func:`assess_turns` of turns already read through :func:`decoded`."""
    if policy not in SAFETY_POLICIES:
        raise ValueError(f"safety policy must be one of {', '.join(SAFETY_POLICIES)}, not {policy!r}")
    if policy != STEPPED:
        return [RiskAssessment("crisis", tuple(k), 1.0) if (k := detect_risk(t, sensitivity=policy)) else RiskAssessment("none")
                for t in texts]
    model = load_encoder_risk_model()
    return tier_turns(turn_evidence(texts), model.thresholds["check"], model.thresholds["crisis"])


def turn_evidence(texts: Sequence[str]) -> list["TurnEvidence"]:
    """What the stepped policy reads of each client turn, read alone: its phrase kinds, the learned score (of the turn
    without its denials), probability and kind, and whether it refers back (:data:`CONTEXT_REFERENCE`)."""
    model = load_encoder_risk_model()
    texts = list(texts)
    read = [without_denials(t) for t in texts]
    scores = model.scores(read)
    return [TurnEvidence(tuple(detect_risk(t)), float(s), model.probability(float(s)), kind, bool(CONTEXT_REFERENCE.search(t)))
            for t, s, kind in zip(texts, scores, model.kinds(read))]


@dataclass(frozen=True)
class TurnEvidence:
    """What the stepped policy reads of one client turn: the lexicon's phrase hits, the learned score (and
    its probability and most likely kind), and whether it takes an earlier flagged turn further
    (:data:`CONTEXT_REFERENCE`)."""

    phrases: tuple[str, ...]
    score: float
    probability: float = 0.0
    kind: str = MODEL_KIND
    reference: bool = False


# A phrase hit that the learned detector does not itself flag is read as an idiom or as talk about risk ("I'd rather
# jump off a cliff than sit through another webinar", "my best mate took an overdose last spring and she's doing so
# much better", a crisis-line volunteer's training, "used to cut in sixth form but I've been clean five years"). Round
# 33 stood such hits down under a learned probability of 0.15 (read off Z15-Z22 and the ordinary transcripts of rounds
# 24-27: benchmarks/phrase_standdown_probe.py). Round 34 tried the check threshold itself and was not adopted (on
# long Reddit posts it lost three safety turns; benchmarks/README.md, round 34); round 38's candidate, with round 37's
# head, uses it again and was adopted in round 40: a phrase of these kinds only decides between the full response and
# one question on a turn the learned detector flags, and adds no safety turn of its own (on Z27-Z32, sets chosen on
# before, most false alarms were such phrase hits; benchmarks/README.md, rounds 38-40). An abuse phrase stands down
# only where the learned probability is far lower, under ABUSE_STANDDOWN (round 44: round 33's cut; the learned score
# once missed abuse disclosures, "she slaps my kids when I'm at work", which it now scores 0.99, and it still scores a
# minimised one, "he only strangled me the once", at 0.31, so the check threshold would be too high a cut for abuse):
# abuse told as over ("Left him in 2017, there's a non-molestation order", 0.14) and intrusive thoughts of harm a
# client knows are OCD. A phrase hit the learned detector did not score (too short, or below its prefilter) or one
# that follows a flagged turn (risk building up) always stands.
IDIOM_KINDS = frozenset({"suicide", "self_harm", "harm_to_others"})
ABUSE_STANDDOWN = 0.15  # the learned probability under which an abuse phrase stands down (round 44)


def read_as_idiom(e: TurnEvidence, window: Sequence[RiskAssessment], check: float) -> bool:
    """Whether the phrase hits of a turn stand down: the learned detector scored the turn, no earlier turn of the
    window was flagged, and either every phrase is of :data:`IDIOM_KINDS` and the score is under the ``check``
    threshold, or the phrases are of those kinds and abuse and the learned probability is under
    :data:`ABUSE_STANDDOWN`."""
    if not e.phrases or not math.isfinite(e.score) or built_up(window):
        return False
    kinds = set(e.phrases)
    if kinds <= IDIOM_KINDS:
        return e.score < check
    return kinds <= IDIOM_KINDS | {"abuse"} and e.probability < ABUSE_STANDDOWN


def tier_turns(evidence: Sequence[TurnEvidence], check: float, crisis: float) -> list[RiskAssessment]:
    """The stepped policy's tiers of one conversation's client turns at thresholds ``check`` and ``crisis``
    (:func:`assess_turns`); a pure function, so that training chooses the thresholds on the tiers the graph
    will give (benchmarks/train_risk_encoder.py). A phrase hit that :func:`read_as_idiom` stands down is tiered
    on the learned score alone."""
    out: list[RiskAssessment] = []
    for i, e in enumerate(evidence):
        window = out[max(0, i - CONTEXT_TURNS):i]
        if e.phrases and not read_as_idiom(e, window, check):
            out.append(RiskAssessment("crisis", e.phrases, e.probability))
        elif e.score >= crisis:
            out.append(RiskAssessment("crisis", (e.kind,), e.probability))
        elif built_up(window) and (e.score >= check or e.reference):
            kinds = next(a.kinds for a in reversed(window) if a.flagged)
            out.append(RiskAssessment("crisis", kinds, e.probability))
        elif e.score >= check:
            out.append(RiskAssessment("check", (e.kind,), e.probability))
        else:
            out.append(RiskAssessment("none", (), e.probability))
    return out


# After a flagged turn, words that take it further without naming it: research into a method, means, a
# plan, a time, a farewell ("I've been looking up ways to do it online", "I bought the pills", "I wrote a
# note"). Out of context they are ordinary; within CONTEXT_TURNS of a flagged turn they make it a crisis.
CONTEXT_REFERENCE = re.compile(
    r"\b((look(ed|ing)?|search(ed|ing)?|read(ing)?|research(ed|ing)?|googl(ed|ing)) (up |online |into |about |for )*"
    r"(ways?|how|methods?|pills|doses?|overdos\w*|heights?|bridges?)|ways? (to|of) (do(ing)?|end(ing)?) it|"
    r"how (to|i('d| would| could| will)) (do|end) it|go(ing)? through with it|(do|doing|end|ending) it (all|tonight|soon|"
    r"this week|tomorrow)|(bought|buy|got|have|saved|sav(ing|e) up|stockpil\w+) (a |the |some |enough |my )*(pills|rope|gun|"
    r"razors?|blades?|tablets|poison)|(wrote|written|writing) (a |the |my )?(note|letters?|goodbye)|"
    r"(said|saying|say) goodbye|(set|picked|chose|chosen) (a |the )?(date|day|time)|have a plan|made a plan|planned it)\b",
    re.IGNORECASE)


def built_up(window: Sequence[RiskAssessment]) -> bool:
    """Whether any earlier turn in the window was flagged (risk builds up over a conversation)."""
    return any(a.flagged for a in window)


def assess_conversations(conversations: Sequence[Sequence[str]], policy: str = DEFAULT_POLICY) -> list[list[RiskAssessment]]:
    """:func:`assess_turns` for many conversations at once: the encoder reads all their turns in one batched
    pass (sorted by length: far less padding than one conversation at a time), then each is tiered."""
    read = [[decoded(t) for t in c] for c in conversations]  # an unknown policy raises in _assess_read
    if policy == STEPPED:
        load_encoder_risk_model().scores([without_denials(t) for c in read for t in c])
    return [_assess_read(c, policy) for c in read]


def assess(text: str, context: Sequence[str] = (), policy: str = DEFAULT_POLICY) -> RiskAssessment:
    """The tier of one client turn given the client's earlier turns (most recent last; the last
    :data:`CONTEXT_TURNS` are read)."""
    return assess_turns([*list(context)[-CONTEXT_TURNS:], text], policy)[-1]


MIN_MODEL_WORDS = 3  # the model was trained on posts of 5+ words; on "Not really." or "Good morning." it guesses


def risk_sentences(text: str) -> list[str]:
    """The sentences the model also scores one by one (a post's risk is often one sentence among many)."""
    from helpert.text.features import normalise as normalise_features, sentences

    return sentences(normalise_features(text))


class RiskModel:
    """The learned half: one linear score over word and character n-grams of the turn (numpy only).

    The score of a turn is the larger of the whole turn's and its best sentence's less an offset chosen by
    cross-validation (``sentence_offset``; none: the whole turn only); turns under ``MIN_MODEL_WORDS``
    words are not scored (-inf). Weights, vocabulary and the thresholds chosen by cross-validation live in
    ``helpert/data/risk_model.npz`` (a :class:`helpert.text.linear.LinearBundle` with one model, "risk");
    written by ``benchmarks/train_risk_model.py``."""

    def __init__(self, path: str | Path = RISK_MODEL) -> None:
        import numpy as np

        from helpert.text.linear import LinearBundle

        bundle = LinearBundle.load(path)
        spec = bundle.models["risk"]
        self.vectoriser = bundle.vectoriser
        self.blocks = tuple(spec.info["config"]["blocks"])
        self.offset: float | None = spec.info["config"].get("sentence_offset")
        self.w = np.ascontiguousarray(bundle.W[:, spec.start], dtype=np.float32)
        self.b = float(bundle.b[spec.start])
        self.thresholds: dict[str, float] = dict(bundle.meta["thresholds"])
        self.meta = bundle.meta
        idf = self.vectoriser.idf.astype(np.float64)  # python floats for the one-turn path
        self._idf_w, self._idf2 = (idf * self.w).tolist(), (idf * idf).tolist()

    def _linear(self, texts: list[str]) -> "np.ndarray":
        import numpy as np

        from helpert.text.features import Unit

        indptr, indices, data = self.vectoriser.transform([Unit(t) for t in texts], self.blocks)
        rows = np.repeat(np.arange(len(texts)), np.diff(indptr))
        return np.bincount(rows, weights=self.w[indices] * data, minlength=len(texts)) + self.b

    def scores(self, texts: list[str]) -> "np.ndarray":
        """Decision scores (log-odds of risk) of ``texts``."""
        import numpy as np

        out = self._linear(texts)
        if self.offset is not None:
            parts = [risk_sentences(t) for t in texts]
            owner = np.repeat(np.arange(len(texts)), [len(p) for p in parts])
            best = np.full(len(texts), -np.inf)
            np.maximum.at(best, owner, self._linear([p for ps in parts for p in ps]))
            out = np.maximum(out, best - self.offset)
        out[[len(t.split()) < MIN_MODEL_WORDS for t in texts]] = -np.inf
        return out

    def score(self, text: str) -> float:
        """Decision score of one turn: the same number as :meth:`scores`, without numpy's per-call overhead."""
        if len(text.split()) < MIN_MODEL_WORDS:
            return -math.inf
        total = self._linear_one(text)
        if self.offset is not None:
            total = max(total, max(self._linear_one(p) for p in risk_sentences(text)) - self.offset)
        return total

    def _linear_one(self, text: str) -> float:
        """Sublinear TF-IDF, L2-normalised per block, as :meth:`Vectoriser.transform` computes it."""
        total = self.b
        for block in self.blocks:
            dot = norm = 0.0
            for j, n in Counter(self.vectoriser.text_columns(text, (block,))).items():
                f = 1.0 + math.log(n) if n > 1 else 1.0
                dot += f * self._idf_w[j]
                norm += f * f * self._idf2[j]
            if norm > 0:
                total += dot / math.sqrt(norm)
        return total


@lru_cache(maxsize=2)
def load_risk_model(path: str | None = None) -> RiskModel:
    """The shipped model (cached; loaded on the first turn that asks for it)."""
    return RiskModel(path or RISK_MODEL)


# ---------------------------------------------------------------------------------------------------------
# The encoder detector: a small trained head over the shared sentence encoder's token states.

RISK_HEAD = Path(__file__).resolve().parent.parent / "data" / "risk_head.npz"
CHUNK_WORDS = 90  # a text longer than this is cut at sentence ends into chunks the encoder window holds


def chunks(text: str) -> list[str]:
    """``text`` cut at sentence ends into pieces of at most ~``CHUNK_WORDS`` words (one piece if it fits)."""
    from helpert.text.features import sentences

    text = " ".join(text.split())
    if len(text.split()) <= CHUNK_WORDS:
        return [text]
    out: list[str] = []
    for sent in sentences(text):
        words = sent.split()
        while len(words) > CHUNK_WORDS:  # a run-on "sentence": cut it by words
            out.append(" ".join(words[:CHUNK_WORDS]))
            words = words[CHUNK_WORDS:]
        if out and len(out[-1].split()) + len(words) <= CHUNK_WORDS:
            out[-1] = f"{out[-1]} {' '.join(words)}"
        elif words:
            out.append(" ".join(words))
    return out or [text]


def text_token_states(texts: list[str]) -> "list[np.ndarray]":
    """Per text, the shared encoder's token states of all its chunks, stacked ([tokens, 384])."""
    import numpy as np

    from helpert.text.encoder import token_states

    parts = [chunks(t) for t in texts]
    flat = token_states([c for p in parts for c in p])
    out, k = [], 0
    for p in parts:
        out.append(np.concatenate(flat[k:k + len(p)]) if len(p) > 1 else flat[k])
        k += len(p)
    return out


def _gelu(x: "np.ndarray") -> "np.ndarray":
    import numpy as np

    from scipy.special import erf

    return 0.5 * x * (1.0 + erf(x / np.sqrt(2.0)))


class EncoderRiskModel:
    """Log-odds of crisis risk from the shared encoder's token states (numpy at run time).

    Head: a dense layer with GELU on every token state, the max and the mean of the result over the
    text's tokens, then one linear layer for risk and one for its kind; weights, thresholds ("check",
    "crisis") and provenance in ``helpert/data/risk_head.npz``, written by
    ``benchmarks/train_risk_encoder.py``. Turns under ``MIN_MODEL_WORDS`` words are not scored (-inf)."""

    def __init__(self, path: str | Path = RISK_HEAD) -> None:
        import json

        import numpy as np

        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files if k != "meta"}
            meta = json.loads(str(data["meta"]))
        self._set(arrays, meta)

    @classmethod
    def from_arrays(cls, arrays: dict, thresholds: dict[str, float]) -> "EncoderRiskModel":
        model = cls.__new__(cls)
        model._set(arrays, {"thresholds": thresholds})
        return model

    def _set(self, arrays: dict, meta: dict) -> None:
        import numpy as np

        self.a = {k: np.asarray(v, dtype=np.float32) for k, v in arrays.items()}
        self.meta = meta
        self.thresholds: dict[str, float] = dict(meta["thresholds"])
        self._cache: dict[str, tuple[float, int]] = {}

    def _pooled(self, states: "np.ndarray") -> "np.ndarray":
        import numpy as np

        h = _gelu(states @ self.a["dense_w"] + self.a["dense_b"])
        return np.concatenate([h.max(0), h.mean(0)])

    def head_scores(self, states: "list[np.ndarray]") -> "np.ndarray":
        """Log-odds of risk from token states (what training scores out of fold)."""
        import numpy as np

        return np.array([float(self._pooled(s) @ self.a["risk_w"] + self.a["risk_b"][0]) for s in states])

    def _score_kind(self, texts: list[str]) -> list[tuple[float, int]]:
        """(score, kind index) per text. The score: the head's and the n-gram model's log-odds, each
        standardised on the out-of-fold scores of training, averaged with ``encoder_weight``; the encoder
        runs only on turns whose n-gram score reaches ``prefilter`` (set to keep 99.5% of the risk items out
        of fold), the others score -inf. Turns under ``MIN_MODEL_WORDS`` words are not scored (-inf)."""
        todo = sorted({t for t in texts if t not in self._cache})
        if todo:
            m = self.meta
            ngram = load_risk_model().scores(todo)
            run = [t for t, n in zip(todo, ngram) if n >= m["prefilter"]]
            states = dict(zip(run, text_token_states(run))) if run else {}
            w, z = m["encoder_weight"], m["z"]
            for t, n in zip(todo, ngram):
                if t not in states:
                    self._cache[t] = (-math.inf, -1)
                    continue
                pooled = self._pooled(states[t])
                e = float(pooled @ self.a["risk_w"] + self.a["risk_b"][0])
                score = w * (e - z["enc_mean"]) / z["enc_std"] + (1 - w) * (float(n) - z["ngram_mean"]) / z["ngram_std"]
                self._cache[t] = (score, int((pooled @ self.a["kind_w"] + self.a["kind_b"]).argmax()))
            while len(self._cache) > 50_000:
                self._cache.pop(next(iter(self._cache)))
        return [self._cache[t] for t in texts]

    def probability(self, score: float) -> float:
        """A score as a probability of risk (logistic calibration on the out-of-fold scores of training)."""
        if score == -math.inf:
            return 0.0
        a, b = self.meta["platt"]
        return 1.0 / (1.0 + math.exp(-(a * score + b)))

    def scores(self, texts: list[str]) -> "np.ndarray":
        """Log-odds of risk of ``texts`` (-inf for turns under ``MIN_MODEL_WORDS`` words)."""
        import numpy as np

        return np.array([s for s, _ in self._score_kind(texts)])

    def kinds(self, texts: list[str]) -> list[str]:
        """The most likely kind of risk of each text (RISK_KINDS), whatever its score."""
        return [RISK_KINDS[k] if k >= 0 else MODEL_KIND for _, k in self._score_kind(texts)]


@lru_cache(maxsize=2)
def load_encoder_risk_model(path: str | None = None) -> EncoderRiskModel:
    """The shipped encoder head (cached; loaded on the first turn that asks for it)."""
    return EncoderRiskModel(path or RISK_HEAD)


def load_detector(policy: str = DEFAULT_POLICY) -> None:
    """Load now what ``policy`` reads a turn with (otherwise loaded on the first turn that needs it): a replay
    calls it before loading its chat model, so that the encoder's graph is built while the process is small
    (building it takes about 100 MB for a moment; benchmarks/startup_memory.py)."""
    load_risk_model()
    if policy == STEPPED:
        from helpert.text.encoder import load

        load_encoder_risk_model()
        load()
