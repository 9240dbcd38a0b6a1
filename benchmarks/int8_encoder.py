"""The encoder's integer products (helpert/text/int8.py): calibration, and what they cost and give against float.

    .venv/bin/python benchmarks/int8_encoder.py --calibrate   # writes helpert/data/minilm_int8_outliers.json
    .venv/bin/python benchmarks/int8_encoder.py               # results/int8_encoder.json

**Calibration** (no labels): the shipped encoder in float reads CounselChat's therapist answers (every 10th row
of ../shared/data/counselchat, ~210 texts, none of them a client turn); for every activation that feeds a weight
product, each input channel's largest magnitude over the real tokens is recorded. A channel whose largest
magnitude exceeds :data:`RATIO` times the median channel's stays in float (at most :data:`MAX_CHANNELS` per
activation, the largest first).

**Measurement** on texts no part of this chose anything on and that carry no label used here: the 2,210 client
turns of the 195 ESConv validation sessions (as the risk detector reads them, denials removed) and the CounselChat
questions (clients' own words, many about risk). Reported for int8 against float: the cosine of the
sentence embeddings, the risk probability's largest and 99th-percentile change, how many texts change tier at the
detector's thresholds (a turn read alone: crisis / check / none), how many MI codes change on the ESConv
supporter turns, and the encoder's time on the same 1,500 turns, alternating the two graphs five times (the
machine's speed varies within minutes: the medians and every run are kept).
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import SHARED, head_commit, report  # noqa: E402

RATIO = 2.5
MAX_CHANNELS = 16
COUNSELCHAT = SHARED / "counselchat" / "20200325_counsel_chat.csv"
ESCONV = SHARED / "esconv" / "esconv_valid_195.jsonl"


def calibration_texts() -> list[str]:
    rows = list(csv.DictReader(COUNSELCHAT.open(encoding="utf-8")))
    return [r["answerText"] for r in rows[::10] if r["answerText"].strip()]


def calibrate() -> None:
    import numpy as np
    import onnx
    import onnxruntime as ort

    from helpert.text import encoder
    from helpert.text.int8 import OUTLIERS, weight_products

    graph = onnx.load_from_string(encoder.stacked_graph(encoder.model_path(), encoder.top_path()))
    targets = weight_products(graph.graph)
    names = list(dict.fromkeys(n.input[0] for n in graph.graph.node if n.name in targets))
    for name in names:
        graph.graph.output.append(onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None))
    session = ort.InferenceSession(graph.SerializeToString(), providers=["CPUExecutionProvider"])
    texts = calibration_texts()
    pieces = encoder.word_pieces(texts)
    peak = {n: None for n in names}
    for start in range(0, len(texts), encoder.BATCH):
        feed = encoder.padded(pieces[start:start + encoder.BATCH])
        mask = feed["attention_mask"]
        outs = session.run(names, feed)
        for name, out in zip(names, outs):
            m = np.abs(out[mask.astype(bool)]).max(0)
            peak[name] = m if peak[name] is None else np.maximum(peak[name], m)
    channels = {}
    for name in names:
        m = peak[name]
        top = [int(c) for c in np.argsort(-m)[:MAX_CHANNELS] if m[c] > RATIO * np.median(m)]
        channels[name] = sorted(top)
    doc = {"what": "input channels of the encoder's weight products kept in float by helpert/text/int8.py",
           "made_by": "benchmarks/int8_encoder.py --calibrate", "commit": head_commit(),
           "data": f"every 10th row of {COUNSELCHAT.relative_to(SHARED.parent.parent)} (answerText), {len(texts)} texts",
           "rule": f"largest |activation| over real tokens > {RATIO} x the median channel's; at most {MAX_CHANNELS}, largest first",
           "channels": channels}
    OUTLIERS.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"{OUTLIERS}: {sum(map(len, channels.values()))} channels over {len(channels)} activations")


def measure() -> None:
    import numpy as np

    from helpert.io import read_sessions
    from helpert.label.mi import code_turns
    from helpert.safety import risk
    from helpert.text import encoder

    sessions = read_sessions(ESCONV)
    client = [risk.without_denials(t.text) for s in sessions for t in s.client_turns]
    questions = sorted({r["questionText"] for r in csv.DictReader(COUNSELCHAT.open(encoding="utf-8")) if r["questionText"].strip()})
    texts = sorted(set(client)) + questions
    helpers, contexts = [], []
    for s in sessions:
        last = ""
        for t in s.turns:
            if t.role == "client":
                last = t.text
            else:
                helpers.append(t.text)
                contexts.append(last)
    model = risk.load_encoder_risk_model()
    th = model.thresholds
    runs = {}
    for arithmetic in ("float", "int8"):
        with encoder.override(arithmetic=arithmetic):
            model._cache.clear()
            emb = encoder.embed(texts)
            scores = model.scores(texts)
            codes = code_turns(helpers, contexts)
        runs[arithmetic] = (emb, scores, codes)
    (e0, s0, c0), (e1, s1, c1) = runs["float"], runs["int8"]
    cos = (e0 * e1).sum(1)
    p0 = np.array([model.probability(s) for s in s0])
    p1 = np.array([model.probability(s) for s in s1])
    read = np.isfinite(s0)
    dp = np.abs(p1 - p0)[read]

    def tier(s):
        return np.where(s >= th["crisis"], 2, np.where(s >= th["check"], 1, 0))

    flips = int((tier(s0) != tier(s1)).sum())
    flat0 = [c for turn in c0 for c in turn]
    flat1 = [c for turn in c1 for c in turn]
    timing = {"float": [], "int8": []}
    sample = client[:1500]
    for _ in range(5):
        for arithmetic in ("float", "int8"):
            with encoder.override(arithmetic=arithmetic):
                encoder.token_states(sample[:8])  # the session is built outside the timing
                t0 = time.perf_counter()
                encoder.token_states(sample)
                timing[arithmetic].append(round(time.perf_counter() - t0, 2))
    report("int8_encoder", {
        "date": time.strftime("%Y-%m-%d"), "commit": head_commit(),
        "texts": len(texts), "texts_esconv_client_turns": len(set(client)), "texts_counselchat_questions": len(questions),
        "embedding_cosine_mean": round(float(cos.mean()), 5), "embedding_cosine_min": round(float(cos.min()), 5),
        "risk_texts_read_by_the_encoder": int(read.sum()),
        "risk_probability_change_max": round(float(dp.max()), 4), "risk_probability_change_p99": round(float(np.quantile(dp, 0.99)), 4),
        "risk_tier_changes": flips, "risk_flagged_float": int((tier(s0) > 0).sum()), "risk_flagged_int8": int((tier(s1) > 0).sum()),
        "mi_utterances": len(flat0), "mi_code_changes": int(sum(a != b for a, b in zip(flat0, flat1))),
        "encoder_s_1500_turns": timing,
        "encoder_s_median": {k: statistics.median(v) for k, v in timing.items()},
    })


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--calibrate", action="store_true", help="write helpert/data/minilm_int8_outliers.json")
    args = ap.parse_args()
    calibrate() if args.calibrate else measure()
