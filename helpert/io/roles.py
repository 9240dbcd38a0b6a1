"""Role names seen in the wild, normalised to ``counselor`` / ``client``."""

from __future__ import annotations

import re
from typing import Literal, Mapping

from helpert.session import Role

# A speaker whose lines are left out (``--speaker Interpreter=skip``): an interpreter, a note-taker, a narrator's
# lines, a third person whose words are neither the counselor's nor the client's.
SKIP = "skip"
_SKIP_NAMES = {"skip", "ignore", "drop", "none"}

# A transcript's own speaker names mapped to roles ("SPEAKER_00" -> counselor, "Dr. Smith" -> counselor), or to
# :data:`SKIP`, as a user gives them (``--speaker NAME=ROLE``); keys are lower case, stripped (:func:`parse_speakers`).
Speakers = Mapping[str, "Role | Literal['skip']"]


def _key(raw: str) -> str:
    return raw.strip().lower().rstrip(":").strip()

_COUNSELOR = {"counselor", "counsellor", "therapist", "supporter", "listener", "helper", "sys", "system",
              "assistant", "bot", "t", "th", "coach", "peer", "peer counselor", "peer counsellor", "psychologist",
              "interviewer", "clinician", "practitioner"}  # MI and clinical transcripts name the counselor so
_CLIENT = {"client", "patient", "seeker", "help-seeker", "help seeker", "helpseeker", "user", "usr", "speaker", "c", "p",
           "pt", "member", "interviewee"}


def normalize_role(raw: object, speakers: Speakers | None = None) -> Role | None:
    """Map a speaker label to a role, or None when it is not one we know; ``speakers`` names a transcript's own
    speakers (:func:`parse_speakers`), read before the role names."""
    if not isinstance(raw, str):
        return None
    key = _key(raw)
    if speakers and key in speakers:
        role = speakers[key]
        return None if role == SKIP else role  # type: ignore[return-value]
    if key in _COUNSELOR:
        return "counselor"
    if key in _CLIENT:
        return "client"
    return None


def speaker_role(raw: object, speakers: Speakers | None = None) -> "Role | Literal['skip'] | None":
    """What a reader does with a speaker label: the role it names, :data:`SKIP` for a speaker the user asked to leave
    out (``--speaker NAME=skip``), or None when it names no role helpert knows."""
    if speakers and isinstance(raw, str) and speakers.get(_key(raw)) == SKIP:
        return SKIP
    return normalize_role(raw, speakers)


KNOWN_ROLE_NAMES = sorted(_COUNSELOR | _CLIENT)


# A speaker label a diariser writes ("SPEAKER_02", "Speaker 3", "spk_1"): never words of a turn, in any format.
DIARISED = re.compile(r"^(?:speaker|spk)[ _-]?\d+$", re.IGNORECASE)


def speaker_hint(raw: object) -> str:
    """How to map an unknown speaker name, for an error message: ``--speaker 'SPEAKER_00=counselor'``."""
    import shlex

    name = str(raw).strip().rstrip(":").strip()[:40]
    return f"--speaker {shlex.quote(name + '=counselor')} (or =client, or =skip to leave its lines out)"


def speaker_map(mapping: "Mapping[str, str]") -> "dict[str, Role | Literal['skip']]":
    """A user's speaker names -> roles as the readers use them: names stripped and lower case, roles normalised
    (``{"SPEAKER_00": "therapist"}`` -> ``{"speaker_00": "counselor"}``). Raises ValueError naming a role it cannot
    read."""
    return parse_speakers([f"{name}={role}" for name, role in mapping.items()])


def parse_speakers(specs: "list[str] | tuple[str, ...]") -> "dict[str, Role | Literal['skip']]":
    """``["SPEAKER_00=counselor", "Jane=client"]`` -> ``{"speaker_00": "counselor", "jane": "client"}``. The role may be
    any name :func:`normalize_role` knows ("therapist", "patient"), or ``skip`` (the speaker's lines are left out).
    Raises ValueError with the reason."""
    out: dict[str, Role | Literal["skip"]] = {}
    for spec in specs:
        name, sep, role_name = spec.rpartition("=")
        name = name.strip().rstrip(":").strip()
        if not sep or not name:
            raise ValueError(f"{spec!r}: expected NAME=ROLE, e.g. SPEAKER_00=counselor")
        role: "Role | Literal['skip'] | None" = SKIP if _key(role_name) in _SKIP_NAMES else normalize_role(role_name)
        if role is None:
            raise ValueError(f"{spec!r}: unknown role {role_name.strip()!r} (use counselor, client or skip)")
        key = name.lower()
        if out.get(key, role) != role:
            raise ValueError(f"{spec!r}: {name!r} is already mapped to {out[key]}")
        out[key] = role
    return out


# A person's label before a colon: one to three capitalised words, a title allowed before them ("Mum", "Jamie",
# "Dr. Lee", "Mary Ann", "Nurse Patel"). Inside a transcript such a label is another speaker: read as words of the turn
# before, a third person's "Mum: she told me she wants to kill herself" would join the counselor's turn and never be
# screened as a client's (a fresh-user review, 2026-12-07). Headings a counselor or a worksheet writes at the start of
# a line (:data:`_HEADINGS`: "Homework:", "Thought:", "Evidence for:" is lower case after its first word anyway) are
# not people.
_PERSON = re.compile(r"^(?:(?:dr|mr|mrs|ms|mx|prof|miss|sr|fr)\.?\s+)?[A-Z][\w'’-]*(?:\s+[A-Z][\w'’.-]*){0,2}$",
                     re.IGNORECASE)
_HEADINGS = frozenset("""
note notes homework plan plans goal goals step steps thought thoughts situation evidence feeling feelings emotion
emotions mood behaviour behavior summary agenda action actions example examples question questions answer answers
reminder reminders tip tips update edit warning trigger triggers ps p.s task tasks practice exercise outcome result
results reason reasons rating ratings belief beliefs alternative balanced pros cons advantages disadvantages
options option problem problems topic topics date time today tonight tomorrow yesterday morning evening afternoon
night monday tuesday wednesday thursday friday saturday sunday week weekend also and but so then because first
second third finally next last later before after again yes no ok okay well anyway quote source link
""".split())


def looks_like_speaker(raw: str) -> bool:
    """Whether a label before a colon at the start of a line reads as a person's name or title (:data:`_PERSON`:
    every word capitalised, at most three) rather than a heading (:data:`_HEADINGS`) or words of a sentence ("my
    thought was: ...")."""
    name = raw.strip().strip("*[]").strip()
    words = name.replace(".", ". ").split()
    if not name or not words or len(name) > 30 or not _PERSON.match(name):
        return False
    if not all(w[0].isupper() for w in words if w[0].isalpha()):
        return False
    return name.lower().rstrip(".") not in _HEADINGS and words[0].lower().rstrip(".") not in _HEADINGS


def near_role(raw: str) -> str | None:
    """The known role name that ``raw`` most likely misspells ("Clinet", "Therpist", "Councelor"), or None. Only
    names of 4 letters or more are compared, at a similarity of at least 0.8 (difflib's ratio: one swapped,
    dropped or doubled letter in a name of five or more), so that ordinary words before a colon ("Note", "Then",
    "Quote") are not taken for speakers."""
    import difflib

    key = raw.strip().lower()
    if len(key) < 4 or normalize_role(key) is not None:
        return None
    names = [n for n in KNOWN_ROLE_NAMES if len(n) >= 4]
    match = difflib.get_close_matches(key, names, n=1, cutoff=0.8)
    return match[0] if match else None
