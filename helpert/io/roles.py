"""Role names seen in the wild, normalised to ``counselor`` / ``client``."""

from __future__ import annotations

from helpert.session import Role

_COUNSELOR = {"counselor", "counsellor", "therapist", "supporter", "listener", "helper", "sys", "system",
              "assistant", "bot", "t", "th", "coach", "peer", "peer counselor", "peer counsellor", "psychologist",
              "interviewer", "clinician", "practitioner"}  # MI and clinical transcripts name the counselor so
_CLIENT = {"client", "patient", "seeker", "help-seeker", "help seeker", "helpseeker", "user", "usr", "speaker", "c", "p",
           "pt", "member", "interviewee"}


def normalize_role(raw: object) -> Role | None:
    """Map a speaker label to a role, or None when it is not one we know."""
    if not isinstance(raw, str):
        return None
    key = raw.strip().lower().rstrip(":").strip()
    if key in _COUNSELOR:
        return "counselor"
    if key in _CLIENT:
        return "client"
    return None


KNOWN_ROLE_NAMES = sorted(_COUNSELOR | _CLIENT)


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
