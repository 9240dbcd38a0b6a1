"""Does a transcript read as English? Every rule labeller, the MI codes, the crisis detector and the embedded
model were built on English text only, so their numbers on a session in another language mean nothing: a
Japanese peer session measured as if it were English gets a drift of 0.8 and every counselor turn
"degenerate", with no error. The measures leave such a session empty and say why (docs/metrics.md,
"Language"); ``helpert screen`` names its turns ``not_english`` instead of reading them.

Two tests on the text of every turn of a session, both of which an English transcript passes:

* **script**: the share of letters that are ASCII (:func:`english_share`). Under :data:`MIN_ASCII_LETTERS`
  the text is mostly another script (Japanese, Chinese, Korean, Arabic, Cyrillic, Devanagari ...).
* **function words**: among at least :data:`MIN_WORDS` words, the share that are English function words found
  in no other common Latin-script language (:data:`ENGLISH_ONLY`: "the", "and", "you", "what", "it's", not
  "a", "no", "me", "in", "so", "is", "was", "on", "an", "will", "i"). Under :data:`MIN_FUNCTION_SHARE` the text is
  another Latin-script language (Spanish, French, German, Portuguese, Italian, Dutch, Indonesian, romanised
  Hindi or Japanese ...).

The thresholds were set once, on English corpora and on one exchange written in ten other languages
(``benchmarks/language_check.py`` reruns both; ``benchmarks/README.md``, "Language check"): whole English sessions
have at least 0.27 of their words in the list, single English statements of 30 words or more at least 0.09 (a
non-native writer's "Yesterday I took knife from kitchen ..."), the written exchanges 0.00 to 0.02. A text shorter
than :data:`MIN_WORDS` words is judged by its script alone. The check says "not English", not which language.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable

MIN_ASCII_LETTERS = 0.8   # share of letters that are ASCII under which a text is in another script
MIN_WORDS = 30            # words a text needs before its function words are counted
MIN_FUNCTION_SHARE = 0.06  # share of ENGLISH_ONLY words under which a Latin-script text is not English

# English function words (the replay's off-language check reads them too: helpert.replay.llm.degenerate).
FUNCTION_WORDS = frozenset(
    "i you he she it we they me my your our their is are was were be been am do does did have has had "
    "the a an and or but if so to of in on at for with about that this what how why when not no can "
    "will would could should just it's i'm you're don't that's".split()
)
# ... less the ones other Latin-script languages also write often (Spanish/Italian "a", "no", "me"; German
# "in", "so", "was", "will", "an"; French "on"; Italian "i"; Dutch "is").
# Typed chat drops apostrophes and spells short ("im", "dont", "idk", "thx"), so those forms count too.
ENGLISH_ONLY = (FUNCTION_WORDS - frozenset("a no me in so an is was will on i".split())) | frozenset(
    "yeah yes im ive dont cant didnt doesnt isnt wasnt youre thats whats idk lol thx thanks really very because "
    "there then than".split()
)

_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")


def english_share(text: str) -> float:
    """Share of letters that are ASCII (1.0 for a text without letters)."""
    letters = [c for c in text if c.isalpha()]
    return sum(c.isascii() for c in letters) / len(letters) if letters else 1.0


@dataclass(frozen=True)
class LanguageCheck:
    """What :func:`check_english` found in a text."""

    english: bool
    ascii_letters: float   # share of letters that are ASCII
    function_share: float  # share of words in ENGLISH_ONLY (1.0 when there are no words)
    words: int

    @property
    def reason(self) -> str:
        """Why the text is not English, in a few words ("" when it is)."""
        if self.english:
            return ""
        if self.ascii_letters < MIN_ASCII_LETTERS:
            return f"{self.ascii_letters:.0%} of its letters are Latin (ASCII)"
        return f"{self.function_share:.0%} of its {self.words} words are English function words"


def check_english(texts: Iterable[str]) -> LanguageCheck:
    """Whether ``texts`` (e.g. every turn of a session), read together, are English: see the module docstring."""
    text = "\n".join(texts)
    ascii_letters = english_share(text)
    tokens = [w.replace("’", "'") for w in _WORD.findall(text.lower())]
    share = sum(w in ENGLISH_ONLY for w in tokens) / len(tokens) if tokens else 1.0
    english = ascii_letters >= MIN_ASCII_LETTERS and (len(tokens) < MIN_WORDS or share >= MIN_FUNCTION_SHARE)
    return LanguageCheck(english, ascii_letters, share, len(tokens))


def not_english_warning(ids: list[str], what: str = "measured") -> str:
    """The one-line warning the commands print for the sessions :func:`check_english` finds not English."""
    from helpert.io.errors import first_few

    return (f"warning: {len(ids)} session(s) not {what}, their text is not English ({first_few(ids)}): helpert's labellers and "
            "crisis detector read English only, so their metrics are left empty rather than guessed; translate the "
            "transcripts, or score CTRS with --judge-model and a model that reads their language")
