"""Redraw the EPITOME samples of the crisis-risk evaluation, so that anyone can check which posts each
labelled set holds (tests/data/risk_labels.jsonl keeps only ids and labels).

Each draw takes the EPITOME seeker posts (``validate_risk.epitome_posts``) not labelled before it, sorted
by ``sp_id``, and samples them with a fixed seed:

* ``e``: 250 posts not in A-D, ``random.Random(20261201)``;
* ``fgh``: 850 posts not in A-E, ``random.Random(20261202)``, split in order into H (250, held out), F and
  G (300 each);
* ``ij``: every post not in A-H, shuffled by ``random.Random(20261203)``, split in order into J (300, held
  out) and I (the rest).

Samples A-D were drawn the same way by earlier rounds (seeds in benchmarks/README.md).

    .venv/bin/python benchmarks/risk_samples.py fgh --out /tmp/samples     # one JSON file per sample
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from validate_risk import LABELS, epitome_posts  # noqa: E402

DRAWS = {
    "e": (("epitome_a", "epitome_b", "epitome_c", "epitome_d"), 20261201, (("epitome_e", 250),)),
    "fgh": (("epitome_a", "epitome_b", "epitome_c", "epitome_d", "epitome_e"), 20261202,
            (("epitome_h", 250), ("epitome_f", 300), ("epitome_g", 300))),
    "ij": (("epitome_a", "epitome_b", "epitome_c", "epitome_d", "epitome_e", "epitome_f", "epitome_g", "epitome_h"),
           20261203, (("epitome_j", 300), ("epitome_i", None))),  # None: the rest of the pool
}


def draw(name: str) -> dict[str, list[str]]:
    """The ids of each sample of draw ``name``."""
    before, seed, parts = DRAWS[name]
    rows = [json.loads(line) for line in LABELS.read_text(encoding="utf-8").splitlines()]
    labelled = {r["id"] for r in rows if r["source"] == "epitome" and r["half"] in before}
    pool = sorted(set(epitome_posts()) - labelled)
    size = len(pool) if any(n is None for _, n in parts) else sum(n for _, n in parts)
    ids = random.Random(seed).sample(pool, size)
    out, start = {}, 0
    for half, n in parts:
        out[half] = ids[start:] if n is None else ids[start:start + n]
        start += len(out[half])
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("draw", choices=sorted(DRAWS))
    ap.add_argument("--out", type=Path, help="write <sample>.json ([id, text] pairs) here; default: check the labels")
    args = ap.parse_args(argv)
    samples = draw(args.draw)
    if args.out:
        posts = epitome_posts()
        args.out.mkdir(parents=True, exist_ok=True)
        for half, ids in samples.items():
            (args.out / f"{half}.json").write_text(json.dumps([[i, posts[i]] for i in ids]), encoding="utf-8")
        return 0
    rows = [json.loads(line) for line in LABELS.read_text(encoding="utf-8").splitlines()]
    ok = True
    for half, ids in samples.items():
        labelled = [r["id"] for r in rows if r.get("half") == half]
        same = labelled == ids
        ok &= same
        print(f"{half}: {len(ids)} drawn, {len(labelled)} labelled, {'same ids, same order' if same else 'DIFFERENT'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
