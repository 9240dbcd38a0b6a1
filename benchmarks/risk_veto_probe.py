"""Would the learned score make a good veto on the phrase tier? A probe, not the shipped detector.

Round 14's false alarms on U were mostly phrase hits whose learned probability was low ("I'd rather die than
sing karaoke", "can't go on the trip"). The rule tried: a phrase hit whose learned probability is below x
fires nothing. Measured on the training items only (never on a held-out set): the head and the n-gram model
are cross-fitted in 5 folds (conversation turns grouped by session), each item scored by models that never saw
it, mapped to a probability with the shipped head's standardisation and calibration; then, per x, how many
risk items the veto would lose and how many false alarms it would remove among the phrase tier's hits.
Needs PyTorch (the ``train`` extra):

    .venv/bin/python benchmarks/risk_veto_probe.py [--states-cache /tmp/risk_states.pkl]
"""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import train_risk_encoder as tre  # noqa: E402
from _common import REPO, report  # noqa: E402

from helpert.safety.risk import detect_risk, load_encoder_risk_model  # noqa: E402

FOLDS = 5
VETOES = (0.02, 0.05, 0.1, 0.15, 0.2, 0.3)


def main(argv=None) -> int:
    import numpy as np

    items, texts, y, half, kinds, w, states = tre.probe_inputs(argv, __doc__.split("\n\n")[0])
    lex = np.array([bool(detect_risk(it["text"])) for it in items])
    meta = load_encoder_risk_model().meta
    z, (a, b), weight = meta["z"], meta["platt"], meta["encoder_weight"]
    group = [it["id"].rsplit("-", 1)[0] if it["half"] in tre.CONVERSATION_CORPORA else it["id"] for it in items]
    ids = {g: i for i, g in enumerate(sorted(set(group)))}
    fold = np.array([ids[g] % FOLDS for g in group])
    prob = np.zeros(len(items))
    for f in range(FOLDS):
        test, fit = fold == f, fold != f
        head = tre.train([states[i] for i in np.flatnonzero(fit)], y[fit].astype(np.float32), kinds[fit], w[fit])
        e = tre.numpy_head(head).head_scores([states[i] for i in np.flatnonzero(test)])
        n = tre.ngram_scores([it for it, keep in zip(items, fit) if keep], [texts[i] for i in np.flatnonzero(test)])
        c = weight * (e - z["enc_mean"]) / z["enc_std"] + (1 - weight) * (np.where(np.isfinite(n), n, 0.0) - z["ngram_mean"]) / z["ngram_std"]
        prob[test] = np.where(np.isfinite(n), 1 / (1 + np.exp(-(a * c + b))), 0.0)
    statements = np.isin(half, tre.SHORT_STATEMENTS)
    posts = ~statements & ~np.isin(half, tre.CONVERSATION_CORPORA)  # conversation turns with a phrase hit are not trained on
    result = {"date": date.today().isoformat(),
              "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip(),
              "folds": FOLDS, "items": len(items)}
    for name, g in (("one_turn_statements", statements), ("posts", posts)):
        hits = lex & g
        result[name] = {"phrase_hits_risk": int((hits & y).sum()), "phrase_hits_no_risk": int((hits & ~y).sum()),
                        "veto": {str(x): {"risk_lost": int((hits & y & (prob < x)).sum()), "false_alarms_removed": int((hits & ~y & (prob < x)).sum())}
                                 for x in VETOES}}
    report("risk_veto_probe", result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
