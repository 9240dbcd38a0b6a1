"""Target: label + measure 1,000 sessions in < 30 s on 2 cores, without any model.

Sessions are real ESConv dialogues from ../shared (cycled to 1,000; ~23 turns each), or the bundled
sessions when ../shared is absent. Best of three timed passes is reported next to the median. The sentence
encoder (MI codes) embeds each distinct text once per process, so cycled sessions would be cheaper than
new ones: every pass starts with that cache empty, and the time of the distinct sessions alone, scaled to
1,000 (``unique_scaled_s``), is the honest figure for a corpus of 1,000 different sessions."""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO, SHARED, report  # noqa: E402


def main(n: int = 1000, repeats: int = 3) -> None:
    from helpert.io import read_sessions
    from helpert.text import encoder
    from helpert.metrics import measure_sessions
    from helpert.protocols import load_protocol

    source = SHARED / "esconv" / "esconv_valid_195.jsonl"
    pool = read_sessions(source if source.is_file() else REPO / "sessions")
    sessions = [pool[i % len(pool)].model_copy(update={"dialogue_id": f"s{i}"}) for i in range(n)]
    turns = sum(len(s.turns) for s in sessions)
    proto = load_protocol("cbt_session")
    times, unique = [], []
    for _ in range(repeats):
        encoder._cache.clear()
        t0 = time.perf_counter()
        measure_sessions(pool, proto)
        unique.append((time.perf_counter() - t0) * n / len(pool))
        encoder._cache.clear()
        t0 = time.perf_counter()
        frame = measure_sessions(sessions, proto)  # labels first: the sessions carry no phase labels
        times.append(time.perf_counter() - t0)
        assert len(frame) == n
    report("measure_speed", {
        "sessions": n, "turns": turns, "source": str(source if source.is_file() else "sessions/"),
        "seconds": [round(t, 2) for t in times], "best_s": round(min(times), 2), "median_s": round(statistics.median(times), 2),
        "unique_sessions": len(pool), "unique_scaled_s": [round(t, 1) for t in unique],
        "unique_scaled_median_s": round(statistics.median(unique), 1),
        "target_s": 30, "met": statistics.median(unique) < 30,
    })


if __name__ == "__main__":
    main()
