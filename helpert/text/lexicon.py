"""What the lexicon labellers of client turns share (risk, regulation, safety handling): text
normalisation and the clause-local negation window, so that "I don't talk to anyone" is not read as
talking to someone.
"""

from __future__ import annotations

import re
from typing import Iterator, Sequence

NEGATOR = re.compile(r"\b(not|never|no|nor|(do|does|did|would|wo|is|are|was|were|am)n'?t)\b", re.IGNORECASE)
_OPENER = re.compile(r"[.;:!?,\n]|\b(but|why|if|whether|that|because|when|what|how|and I|yet)\b", re.IGNORECASE)


def normalise(text: str) -> str:
    """Straight apostrophes, and ESConv's tokenised contractions joined again ("hasn ' t" -> "hasn't")."""
    return re.sub(r" ' ?(?=[a-z])", "'", text.replace("\u2019", "'").replace("\u2018", "'"))


def clause_window(text: str, start: int, words: int = 4) -> str:
    """The last ``words`` words before ``start`` in the same clause (a punctuation mark or a clause
    opener such as "but" or "why" ends the look-back)."""
    before = text[max(0, start - 80):start]
    cut = list(_OPENER.finditer(before))
    clause = before[cut[-1].end():] if cut else before
    return " ".join(clause.split()[-words:])


def negated(text: str, start: int, words: int = 4, negator: re.Pattern[str] = NEGATOR) -> bool:
    """Whether a negator stands in the clause-local window before ``start``."""
    return bool(negator.search(clause_window(text, start, words)))


# Characters other than ASCII letters that a case-insensitive ``re`` pattern matches to an ASCII letter
# (the Kelvin sign, long s, dotless i, dotted capital I); folding them lets ``literal in fold(text)``
# stand in for what the regex engine would match. tests/test_risk.py checks the table is complete.
_ASCII_FOLD = str.maketrans({"\u212a": "k", "\u017f": "s", "\u0131": "i", "\u0130": "i"})


def ascii_fold(text: str) -> str:
    """``text`` lower-cased the way a case-insensitive pattern sees its ASCII letters."""
    return text.translate(_ASCII_FOLD).lower()


def required_literals(pattern: str, flags: int = re.IGNORECASE) -> tuple[frozenset[str], ...] | None:
    """Sets of lower-case ASCII strings such that every match of ``pattern`` contains at least one string
    of each set (most selective set first), or None when none can be derived (then the pattern must always
    run). Used to skip patterns that cannot match: ``in`` tests over the text cost far less than a regex
    search. Only literal characters, groups, alternations and repeats of at least one are read; anything
    else (classes, boundaries, lookarounds) requires nothing, which keeps the sets sound."""
    from re import _constants as c, _parser

    def best(sets: list[frozenset[str]]) -> frozenset[str] | None:
        return max(sets, key=lambda f: (min(map(len, f)), -len(f))) if sets else None

    def req(seq) -> list[frozenset[str]]:
        found, run = [], ""
        for op, av in seq:
            if op is c.LITERAL and av < 128:
                run += chr(av).lower()
                continue
            if run:
                found.append(frozenset([run]))
                run = ""
            if op is c.SUBPATTERN:
                found += req(av[-1])
            elif op is c.ATOMIC_GROUP:
                found += req(av)
            elif op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT) and av[0] >= 1:
                found += req(av[2])
            elif op is c.BRANCH:  # one string of some alternative's most selective set
                alts = [best(req(a)) for a in av[1]]
                if None not in alts:
                    found.append(frozenset().union(*alts))
        if run:
            found.append(frozenset([run]))
        return found

    sets = sorted(set(req(_parser.parse(pattern, flags))), key=lambda f: (-min(map(len, f)), len(f), sorted(f)))
    # three sets of strings of 3+ characters filter nearly as well as all of them, for less work
    return tuple([f for f in sets if min(map(len, f)) >= 3][:3] or sets[:1]) or None


class PhraseSet:
    """Named groups of case-insensitive patterns, each run only on texts that hold the strings every match
    of it must contain (:func:`required_literals`): the same matches as running every pattern, for a
    fraction of the regex work, since most turns hold none of a lexicon's phrases."""

    def __init__(self, groups: dict[str, Sequence[str]]) -> None:
        self.compiled = {name: [(re.compile(p, re.IGNORECASE), required_literals(p)) for p in pats]
                         for name, pats in groups.items()}
        self.literals = tuple(sorted({s for pats in self.compiled.values() for _, needs in pats for alts in needs or ()
                                      for s in alts}))

    def finditer(self, text: str, prefilter: bool = True) -> Iterator[tuple[str, re.Match[str]]]:
        """(group, match) for every match in ``text``, group by group in the order given.
        ``prefilter=False`` runs every pattern (the reference the prefilter is tested against)."""
        if prefilter:  # each string is looked for once per text, not once per pattern
            folded = ascii_fold(text)
            present = {s for s in self.literals if s in folded}
        for name, pats in self.compiled.items():
            for pattern, needs in pats:
                if prefilter and needs is not None and any(present.isdisjoint(alts) for alts in needs):
                    continue
                for m in pattern.finditer(text):
                    yield name, m
