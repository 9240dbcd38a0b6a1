"""Targets: replay time grows linearly with turns (the curve, with a linear fit), and
`helpert batch --workers 2` on 2 cores is faster than 1 worker on the same sessions.

The curve is also drawn to benchmarks/results/scaling.png (``--plot`` redraws it from scaling.json)."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO, long_session, report  # noqa: E402

RESULTS = REPO / "benchmarks" / "results"


def plot(result: dict) -> Path:
    """Seconds and seconds per generated token against counselor turns, with the linear fit."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    turns = [c["turns"] for c in result["curve"]]
    secs = [c["seconds"] for c in result["curve"]]
    fig, (a, b) = plt.subplots(1, 2, figsize=(9, 3.4))
    a.plot(turns, secs, "o-", label="replay")
    a.plot(turns, [result["seconds_per_turn"] * t + result["intercept_s"] for t in turns], "--",
           label=f"linear fit (R² {result['linear_r2']:.3f})")
    a.set(xlabel="counselor turns", ylabel="seconds", title=f"replay of {result['session']}")
    a.legend()
    b.plot(turns, [1000 * c["seconds"] / c["tokens"] for c in result["curve"]], "o-")
    b.set(xlabel="counselor turns", ylabel="ms per generated token", ylim=(0, None), title="cost per token")
    fig.tight_layout()
    out = RESULTS / "scaling.png"
    fig.savefig(out, dpi=110)
    return out


def main() -> None:
    import numpy as np

    from helpert.replay.llm import load_backend
    from helpert.protocols import load_protocol
    from helpert.replay import ReplaySettings, replay_session

    session = long_session(30)
    proto = load_protocol("cbt_session")
    backend = load_backend(None, n_ctx=8192)
    curve = []
    for turns in (5, 10, 15, 20, 25, 30):
        backend.reset()
        t0 = time.perf_counter()
        res = replay_session(session, backend, ReplaySettings(proto, seed=0, max_turns=turns))
        curve.append({"turns": turns, "seconds": round(time.perf_counter() - t0, 2), "tokens": res.generated_tokens})
        print(curve[-1], flush=True)
    x = np.array([c["turns"] for c in curve], float)
    y = np.array([c["seconds"] for c in curve], float)
    slope, icept = np.polyfit(x, y, 1)
    r2 = 1 - ((y - (slope * x + icept)) ** 2).sum() / ((y - y.mean()) ** 2).sum()
    quad = np.polyfit(x, y, 2)[0]
    del backend
    walls = {}
    for workers in (1, 2):
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-m", "helpert", "batch", str(REPO / "sessions"), "--out", tmp,
                            "--max-turns", "6", "--workers", str(workers)], check=False, capture_output=True)
            walls[workers] = round(time.perf_counter() - t0, 1)
        print(f"workers={workers}: {walls[workers]} s", flush=True)
    report("scaling", {
        "session": session.dialogue_id, "curve": curve, "seconds_per_turn": round(slope, 3), "intercept_s": round(icept, 2),
        "linear_r2": round(r2, 4), "quadratic_coefficient": round(quad, 5),
        "batch_wall_s": walls, "workers2_speedup": round(walls[1] / walls[2], 2),
        "met": r2 > 0.98 and walls[2] < walls[1],
    })
    print(plot(json.loads((RESULTS / "scaling.json").read_text())))


if __name__ == "__main__":
    if "--plot" in sys.argv[1:]:
        print(plot(json.loads((RESULTS / "scaling.json").read_text())))
    else:
        main()
