"""The cosine threshold of ``helpert.label.mi.RELATED_COSINE``: how similar (all-MiniLM-L6-v2) a counselor
sentence must be to the client's turn before it to count as relating to it, when it shares no content word.

A null distribution, not a fit to any label: every counselor sentence of the ESConv sessions is paired with
the client turn before a counselor turn of *another* session (a random one, fixed seed); the threshold is the
95th percentile of those unrelated pairs' cosines (a sentence more similar to the client's words than 95% of
unrelated pairs). The matched pairs' distribution is printed beside it for reference.

    .venv/bin/python benchmarks/reflection_threshold.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import SHARED  # noqa: E402


def main() -> None:
    from helpert.io import read_sessions
    from helpert.label import _client_between
    from helpert.label.encoder import embed
    from helpert.label.mi import turn_utterances

    sessions = read_sessions(SHARED / "esconv" / "esconv_valid_195.jsonl")
    pairs = []  # (session index, sentence, context)
    for k, s in enumerate(sessions):
        texts = [t.text for t in s.counselor_turns]
        for text, ctx in zip(texts, _client_between(s)):
            if ctx:
                pairs += [(k, u.text, u.context) for u in turn_utterances(text, ctx)]
    rng = np.random.default_rng(0)
    contexts = [p[2] for p in pairs]
    owner = np.array([p[0] for p in pairs])
    other = []
    for k, _, _ in pairs:
        j = int(rng.integers(len(pairs)))
        while owner[j] == k:
            j = int(rng.integers(len(pairs)))
        other.append(contexts[j])
    s = embed([p[1] for p in pairs])
    matched = (s * embed(contexts)).sum(1)
    unrelated = (s * embed(other)).sum(1)
    print(f"{len(pairs)} sentences; unrelated pairs: 50/90/95/99th percentile "
          f"{np.percentile(unrelated, [50, 90, 95, 99]).round(3).tolist()}; matched: {np.percentile(matched, [25, 50, 75]).round(3).tolist()}")
    print(f"threshold (95th percentile of unrelated pairs): {np.percentile(unrelated, 95):.2f}")


if __name__ == "__main__":
    main()
