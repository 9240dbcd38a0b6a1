"""Role names seen in the wild, normalised to ``counselor`` / ``client``."""

from __future__ import annotations

from helpert.session import Role

_COUNSELOR = {"counselor", "counsellor", "therapist", "supporter", "listener", "helper", "sys", "system",
              "assistant", "bot", "t", "th", "coach", "peer", "peer counselor", "psychologist",
              "interviewer", "clinician", "practitioner"}  # MI and clinical transcripts name the counselor so
_CLIENT = {"client", "patient", "seeker", "help-seeker", "help seeker", "user", "usr", "speaker", "c", "p",
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
