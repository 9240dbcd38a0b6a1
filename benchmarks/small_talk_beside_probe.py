"""Small talk put in *beside* the counselor's turns rather than in their place: a probe for the next phase-labeller round.

The standard small-talk degradation (``helpert.probe.degrade.small_talk``) replaces k counselor turns by small talk, so
each step takes a turn's own work out as the small talk comes in; round 81 (benchmarks/README.md, "Phase labeller")
found the learned phase model's CTRS mean not falling at its last steps for that reason (the replaced turns had
advised or directed, which the collaboration and guided-discovery items count against the counselor) and proposed a
check that inserts the small talk instead - "a change to the check, to be written before it is run". This script is
not that check and changes no guard: it reports, for the rules and for the learned phase model, what inserting does
on the sessions no labeller saw (``validate_quality.unseen_sessions``: the HOPE sample and the two expert
transcripts), so that a later round can write its rule knowing the instrument. At strength k, k exchanges are
inserted, each a counselor small-talk line (the standard texts, ``degrade.SMALL_TALK``) and a client backchannel
("Yeah." ...), after the client turn that follows a random counselor turn (nested across k; ``DRAWS`` draws).

    .venv/bin/python benchmarks/small_talk_beside_probe.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import report  # noqa: E402

DRAWS = 5


def beside(session, k: int, draw: int):
    """``session`` with k small-talk exchanges inserted (see the module docstring), as the probe ran it: the check
    that round 91 made of it (``helpert.probe.degrade.small_talk``) with the client replies of this probe."""
    from helpert.probe.degrade import BACKCHANNELS, small_talk

    return small_talk(session, k, replies=BACKCHANNELS, draw=draw)


def main() -> int:
    import numpy as np
    import validate_quality as vq

    from helpert.label import label_sessions
    from helpert.metrics import measure_labelled
    from helpert.protocols import load_protocol

    protocol = load_protocol("cbt_session")
    sessions = vq.unseen_sessions()
    result = {"sessions": len(sessions), "draws": DRAWS, "levels": [0, 1, 2, 3, 4], "labellers": {}}
    for labeller in ("rules", "model"):
        means = {"drift.score": [], "ctrs.mean": []}
        for k in result["levels"]:
            degraded = [beside(s, k, d) for d in range(DRAWS) for s in sessions]
            rows = [measure_labelled(s, protocol) for s in label_sessions(degraded, protocol, phase_labeller=labeller)]
            for key in means:
                means[key].append(round(float(np.nanmean([np.nan if r[key] is None else r[key] for r in rows])), 4))
        result["labellers"][labeller] = {
            "means": means,
            "drift_rises": all(b > a for a, b in zip(means["drift.score"], means["drift.score"][1:])),
            "ctrs_falls": all(b < a for a, b in zip(means["ctrs.mean"], means["ctrs.mean"][1:])),
        }
    report("small_talk_beside_probe", result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
