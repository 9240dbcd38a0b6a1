"""Targets: `helpert --help` < 0.3 s (heavy imports lazy); peak RSS of a replay on the default model
< 600 MB. Both measured on fresh subprocesses, as a user would run them."""

from __future__ import annotations

import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO, report  # noqa: E402

HELPERT = [sys.executable, "-m", "helpert"]


def main(runs: int = 10) -> None:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run([str(Path(sys.executable).parent / "helpert"), "--help"], check=True, capture_output=True)
        times.append(time.perf_counter() - t0)
    with tempfile.TemporaryDirectory() as tmp:
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        subprocess.run([*HELPERT, "replay", str(REPO / "sessions" / "exam_anxiety.txt"), "--out", tmp, "--max-turns", "8"],
                       check=True, capture_output=True)
        peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    report("startup_memory", {
        "help_seconds": [round(t, 3) for t in times], "help_median_s": round(statistics.median(times), 3),
        "help_target_s": 0.3, "replay_peak_rss_mb": round(peak_kb / 1024, 1), "rss_target_mb": 600,
        "note": "ru_maxrss of the largest child so far" if before else "ru_maxrss of the replay process",
        "met": statistics.median(times) < 0.3 and peak_kb / 1024 < 600,
    })


if __name__ == "__main__":
    main()
