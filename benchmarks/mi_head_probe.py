"""Would a trained head over the shared encoder's token states code MI utterances better than the shipped
linear model? A probe (issue 13), not a shipped labeller.

The head is the risk detector's design (``train_risk_encoder.py``) for MI: each word-piece state of a
counselor sentence (int8 all-MiniLM-L6-v2, ``helpert.text.encoder.token_states``) goes through a dense layer
(384 -> HID, GELU), max and mean over the sentence, beside context features of the client turn before it
(share of content words re-used, cosine of the mean states, the mean/max over the sentence's word pieces of
their best cosine with a context word piece, and a projection of the product of the two mean states); a
group head (MITI groups) and a code head (15 codes), class-weighted cross-entropy, automatic labels weight
0.5, MIBot rows train the group head only - the data and 5 folds of ``train_mi_labeller.py``, whose linear
model (``lr``) and the average of both log-probabilities (``ens``) are scored on the same folds. Needs PyTorch
(extra ``train``); about 15 minutes on 2 cores.

    .venv/bin/python benchmarks/mi_head_probe.py [HID] [EPOCHS] [--lr]
"""
import sys, time, json
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[1])); sys.path.insert(0, str(Path(__file__).resolve().parent))
import numpy as np, torch
from train_mi_labeller import load_data, load_mibot, fit, with_ci, session_agreement, FOLDS, SEED, AUTO_WEIGHT, mibot_rows
from helpert.label.mi import GROUP, GROUPS, SOURCE_CODES, overlap, decode, apply_rules
from sklearn.model_selection import StratifiedKFold
from _common import report
import subprocess
from datetime import date
torch.set_num_threads(2)
HID = int(sys.argv[1]) if len(sys.argv) > 1 else 128
EPOCHS = int(sys.argv[2]) if len(sys.argv) > 2 else 12
DO_LR = "--lr" in sys.argv
from helpert.text.encoder import token_states
gold, aug = load_data(); mibot = load_mibot()
_units = [u for u, _ in gold] + [u for u, _ in aug] + [u for _, _, rows in mibot for u, _ in rows]
_texts = sorted({u.text for u in _units} | {u.context for u in _units if u.context.strip()})
cache = {t: st.astype(np.float16) for t, st in zip(_texts, token_states(_texts))}
G = list(GROUPS); C = list(SOURCE_CODES.values())

def unit_feats(u):
    s = cache[u.text].astype(np.float32)
    sm = s[1:-1].mean(0) if len(s) > 2 else s.mean(0); sm /= np.linalg.norm(sm) + 1e-9
    if u.context.strip():
        c = cache[u.context].astype(np.float32); cm = c[1:-1].mean(0) if len(c) > 2 else c.mean(0); cm /= np.linalg.norm(cm) + 1e-9
        sn = s[1:-1] if len(s) > 2 else s; sn = sn / (np.linalg.norm(sn, axis=1, keepdims=True) + 1e-9)
        cn = c[1:-1] if len(c) > 2 else c; cn = cn / (np.linalg.norm(cn, axis=1, keepdims=True) + 1e-9)
        mc = (sn @ cn.T).max(1)
        f = [1.0, overlap(u.text, u.context), float(sm @ cm), float(mc.mean()), float(mc.max()), float((mc > 0.7).mean())]
        prod = sm * cm
    else:
        f = [0.0] * 6; prod = np.zeros(384, np.float32)
    return np.concatenate([np.array(f, np.float32), prod * 10])

allu = [u for u, _ in gold] + [u for u, _ in aug] + [u for _, _, rows in mibot for u, _ in rows]
t0 = time.time()
F = {id(u): unit_feats(u) for u in allu}
print("feats", time.time() - t0, flush=True)

class Head(torch.nn.Module):
    def __init__(s):
        super().__init__()
        s.dense = torch.nn.Linear(384, HID); s.ctx = torch.nn.Linear(390, 32); s.drop = torch.nn.Dropout(0.1)
        s.g = torch.nn.Linear(2 * HID + 32 + 6, len(G)); s.c = torch.nn.Linear(2 * HID + 32 + 6, len(C))
    def forward(s, x, mask, f):
        h = torch.nn.functional.gelu(s.dense(s.drop(x))); m = mask.unsqueeze(-1)
        mx = h.masked_fill(m == 0, -1e4).max(1).values; mean = (h * m).sum(1) / m.sum(1).clamp(min=1)
        z = s.drop(torch.cat([mx, mean, torch.nn.functional.gelu(s.ctx(f)), f[:, :6]], 1))
        return s.g(z), s.c(z)

def batch(units):
    n = max(len(cache[u.text]) for u in units)
    x = torch.zeros(len(units), n, 384); mask = torch.zeros(len(units), n)
    for r, u in enumerate(units):
        s = cache[u.text]; x[r, :len(s)] = torch.from_numpy(s.astype(np.float32)); mask[r, :len(s)] = 1
    f = torch.from_numpy(np.stack([F[id(u)] for u in units]))
    return x, mask, f

def train(units, gy, cy, w, seed=SEED):
    torch.manual_seed(seed); rng = np.random.default_rng(seed)
    gy = np.array(gy); cy = np.array(cy); w = np.array(w, np.float32)
    def cw(y, k, ww=None):
        ww = w if ww is None else ww
        tot = np.array([ww[y == i].sum() for i in range(k)]); return torch.tensor(tot.sum() / (k * np.maximum(tot, 1e-6)), dtype=torch.float32)
    gw = cw(gy, len(G)); has = cy >= 0; cwt = cw(cy[has], len(C), w[has])
    head = Head(); opt = torch.optim.AdamW(head.parameters(), lr=2e-3, weight_decay=1e-2)
    order = np.argsort([len(cache[u.text]) for u in units]); bs = [order[i:i + 64] for i in range(0, len(order), 64)]
    head.train()
    for ep in range(EPOCHS):
        for g in opt.param_groups: g["lr"] = 2e-3 * 0.5 * (1 + np.cos(np.pi * ep / EPOCHS))
        for b in rng.permutation(len(bs)):
            idx = bs[b]; x, m, f = batch([units[i] for i in idx])
            gl, cl = head(x, m, f); wt = torch.from_numpy(w[idx])
            loss = (torch.nn.functional.cross_entropy(gl, torch.from_numpy(gy[idx]), weight=gw, reduction="none") * wt).mean()
            hc = torch.from_numpy(has[idx])
            if hc.any():
                loss = loss + (torch.nn.functional.cross_entropy(cl[hc], torch.from_numpy(cy[idx][has[idx]]), weight=cwt, reduction="none") * wt[hc]).mean()
            opt.zero_grad(); loss.backward(); opt.step()
    head.eval(); return head

def head_logp(head, units):
    out = []
    with torch.no_grad():
        for i in range(0, len(units), 256):
            x, m, f = batch(units[i:i + 256]); gl, cl = head(x, m, f)
            out.append(np.hstack([torch.log_softmax(gl, 1).numpy(), torch.log_softmax(cl, 1).numpy()]))
    return np.vstack(out)

def lr_logp(model, units):
    s = model.scores(units); g = len(model.groups)
    # reorder to G / C order
    gi = [model.groups.index(x) for x in G]; ci = [model.codes.index(x) for x in C]
    sg, sc = s[:, :g][:, gi], s[:, g:][:, ci]
    ls = lambda a: a - np.log(np.exp(a - a.max(1, keepdims=True)).sum(1, keepdims=True)) - a.max(1, keepdims=True)
    return np.hstack([ls(sg), ls(sc)])

def codes_of(lp, units):
    return [apply_rules(u.text, c, u.context) for u, c in zip(units, decode(lp, G, C))]

codes = np.array([c for _, c in gold])
session_fold = np.random.default_rng(SEED).permutation(len(mibot)) % FOLDS
folds = StratifiedKFold(FOLDS, shuffle=True, random_state=SEED)
variants = ["head"] + (["lr", "ens"] if DO_LR else [])
pred = {v: np.empty(len(gold), dtype=object) for v in variants}
mpred = {v: [None] * len(mibot) for v in variants}
for k, (tr, te) in enumerate(folds.split(np.zeros(len(gold)), codes)):
    t1 = time.time()
    mb = [s for s, f in zip(mibot, session_fold) if f != k]
    units = [gold[i][0] for i in tr] + [u for u, _ in aug] + [u for _, _, rows in mb for u, _ in rows]
    gy = [G.index(GROUP[gold[i][1]]) for i in tr] + [G.index(GROUP[c]) for _, c in aug] + [G.index(g) for _, _, rows in mb for _, g in rows]
    cy = [C.index(gold[i][1]) for i in tr] + [C.index(c) for _, c in aug] + [-1] * sum(len(r) for _, _, r in mb)
    w = [1.0] * len(tr) + [AUTO_WEIGHT] * (len(aug) + sum(len(r) for _, _, r in mb))
    head = train(units, gy, cy, w)
    test_units = [gold[i][0] for i in te]
    mi = list(np.flatnonzero(session_fold == k))
    lps = {"head": (head_logp(head, test_units), [head_logp(head, [u for u, _ in mibot[j][2]]) for j in mi])}
    if DO_LR:
        model = fit([gold[i][0] for i in tr] + [u for u, _ in aug], [gold[i][1] for i in tr] + [c for _, c in aug],
                    [1.0] * len(tr) + [AUTO_WEIGHT] * len(aug), mibot_rows(mb))
        lr = (lr_logp(model, test_units), [lr_logp(model, [u for u, _ in mibot[j][2]]) for j in mi])
        lps["lr"] = lr
        lps["ens"] = ((lps["head"][0] + lr[0]) / 2, [(a + b) / 2 for a, b in zip(lps["head"][1], lr[1])])
    for v, (lg, lm) in lps.items():
        pred[v][te] = codes_of(lg, test_units)
        for j, l in zip(mi, lm):
            mpred[v][j] = [GROUP[c] for c in codes_of(l, [u for u, _ in mibot[j][2]])]
    print(f"fold {k} {time.time() - t1:.0f}s", flush=True)
mg = [g for _, _, rows in mibot for _, g in rows]
results = {}
for v in variants:
    gp = [GROUP[c] for c in pred[v]]
    r = with_ci([GROUP[c] for c in codes], gp, G)
    aw = with_ci(list(codes == "advise_without_permission"), list(pred[v] == "advise_without_permission"), [True])["f1"][True]
    mu = with_ci(mg, [g for gs in mpred[v] for g in gs], G)
    sa = session_agreement(mibot, mpred[v])
    print(v, "gold macro", r["macro_f1"], "refl", r["f1"]["reflection"][:3], "awp", aw[:3], "mibot macro", mu["macro_f1"], "refl", mu["f1"]["reflection"][0], "sess", json.dumps(sa), flush=True)
    results[v] = {"gold_groups_macro_f1": r["macro_f1"], "gold_reflection_f1": r["f1"]["reflection"][:3],
                  "gold_advise_without_permission_f1": aw[:3], "mibot_groups_macro_f1": mu["macro_f1"],
                  "mibot_reflection_f1": mu["f1"]["reflection"][0], "mibot_sessions_vs_automisc": sa}
report("mi_head_probe", {"date": date.today().isoformat(), "hidden": HID, "epochs": EPOCHS,
                         "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip(),
                         "results": results})
