"""Train the crisis-risk head that reads the shared sentence encoder (``helpert/data/risk_head.npz``), choose
its two thresholds out of fold, and report the figures the thresholds were *not* chosen on.

The detector (``helpert.safety.risk.EncoderRiskModel``): the int8 all-MiniLM-L6-v2 of
``helpert.text.encoder`` (the same runtime and model file as the MI labeller) gives every word piece of a
client turn a contextual state; a small trained head reads them all. Each state goes through a dense layer
(384 -> ``HIDDEN``, GELU); the turn is the max and the mean of those vectors over its word pieces (the max
finds one risky phrase in a long post, the mean reads the tone); a linear layer gives the log-odds of risk,
a second one the kind (suicide, self-harm, harm to others, abuse). A text longer than one encoder window
is cut at sentence ends into chunks of at most ``helpert.safety.risk.CHUNK_WORDS`` words and the word
pieces of all chunks are pooled together. Only the head is trained (PyTorch, the optional ``train``
extra); at run time the head is numpy. Fine-tuning the whole encoder (``risk_finetune_probe.py``) did
better out of fold, but needs PyTorch at run time or a second 23 MB encoder file beside the MI labeller's.

Data (labels ``tests/data/risk_labels.jsonl``, texts from ../shared/data; the labelling rule and the sets
are in benchmarks/README.md):

* positives and negatives: CounselChat (both halves), EPITOME A-I, the hand-written sentences;
* one-turn client statements: T (``tests/data/risk_statements_t.jsonl``, 450 statements written for round 11:
  veiled and conversational risk of every kind, and hard negatives - idioms, bereavement, fiction, everyday
  stress) and the spent held-out sets, each reported once and then trained on: K (round 10's, since round 11),
  L and M (round 11's, since round 12), N (round 12's, since round 12b), O and P (round 12's, since round 13),
  Q and R (round 13's) and S and U (written for round 14), all four since round 15, V and W (round 15's) since
  round 16, X, Y and Z1 to Z6 (the choices of rounds 16 to 19) since round 20, Z9 to Z14 (the choices of rounds 21 to
  23) since round 33
  (``tests/data/risk_heldout_{k,...,z6}.jsonl``), less those nearly repeating a statement of the held-out sets
  Z7 or Z8; the head only (the n-gram model, trained by ``train_risk_model.py``, does not read them);
* ordinary conversation, negatives: the client turns of half of the sessions of two corpora, minus any turn
  the lexicon fires on: MIBot (real smokers in a text chat, ``mi/mibot_v63a.jsonl``) and, since round 12b, the
  ESConv dev conversations not scored by ``validate_risk.py`` (emotional-support chats,
  ``esconv/devWithStrategy_short.tsv``; :func:`esconv_dev_sessions`). The half is fixed by a hash of the session
  id (:func:`session_half`); the other halves are the *tuning* conversations (never trained on).
* ordinary transcribed sessions, negatives (since round 20; all of them, not tuned on): the 72 of
  :data:`SPOKEN_ORDINARY`, written for rounds 18 and 19 (round 19 trained on the first 48 alone), and since round 33
  the 96 of ``validate_risk.SPENT_TRANSCRIPTS`` (the choices of rounds 20 to 23; :func:`blind_read_negatives`).
* never trained or tuned on, scored once after the thresholds are fixed: EPITOME J (300 Reddit posts,
  labelled blind twice), the hand-written held-out sets Z7 and Z8 (``tests/data/risk_heldout_{z7,z8}.jsonl``, 200
  client statements each, written for round 20 before its candidate was trained, each labelled by its writer and
  blind by a second annotator), every ESConv help-seeker turn of the validation conversations in its dialogue,
  the HOPE therapy transcripts and the written ordinary transcripts (unlabelled or screened: how many get a safety
  turn) (``benchmarks/validate_risk.py --tiers``).

Thresholds, on the shipped head's scores of the tuning conversations (the lexicon OR the score; since round 12,
before on a head fitted without EPITOME H and I): ``check`` (one direct safety question) is the lowest at which
every tuning corpus stays within its ``CHECK_SESSION_BUDGET`` of conversations with any safety turn, ``crisis``
(the full safety response) the lowest, at or above it, at which at most ``CRISIS_BUDGET`` of the tuning conversations of
both corpora together have a turn whose own score reaches it. The learned score reads each turn without its denied clauses
(``helpert.safety.risk.without_denials``), here as at run time.

    pip install torch==2.13.0 && pip install -e .[train]      # PyTorch only for training
    .venv/bin/python benchmarks/train_risk_encoder.py          # cross-validate, choose thresholds, write the head
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any, Callable, Sequence

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))
from _common import esconv_tsv_dialogues  # noqa: E402
from validate_risk import (CONVERSATION, ESCONV, HELD_OUT, HELD_OUT_STATEMENTS, SHARED, SPENT_STATEMENTS, SPENT_TRANSCRIPTS, TRAINING_STATEMENTS,  # noqa: E402
                           NearRepeats, load_items, read_jsonl, shared_posts)

from helpert.safety.risk import RISK_HEAD, RISK_KINDS, detect_risk, without_denials  # noqa: E402

MIBOT = SHARED / "mi" / "mibot_v63a.jsonl"
RESULTS = REPO / "benchmarks" / "results" / "train_risk_encoder.json"
SEED = 0
HIDDEN = 96
EPOCHS = 20
BATCH = 32
LR = 2e-3
WEIGHT_DECAY = 1e-2
DROPOUT = 0.1
CONVERSATION_WEIGHT = 2.0  # ordinary conversation is what the detector must leave alone ("cut down", "die early" of smoking)
LEXICON_UNSEEN = ("epitome_h", "epitome_i")
# False-alarm budgets, as the share of each corpus' tuning conversations with any safety turn (check) or any
# full response (crisis). Recall budgets (95% / 85% on EPITOME H and I) put a safety turn in 65% of the MIBot
# tuning conversations: a safety path that interrupts most ordinary sessions. Round 12 raised the MIBot check
# budget from 10% to 15%, the bound the issue sets for ordinary sessions (#16): one direct safety question is
# cheap, a missed disclosure is not. Scored, that put a safety turn in 17.2% of the ordinary ESConv validation
# sessions (2.2% in round 11), on turns such as "That's a good idea.": the smokers' chats did not stand for
# emotional-support chats. Round 12b adds ESConv dev conversations, to training and to tuning with a 10%
# budget (they include unlabelled risk sessions, so their rate overstates the false alarms).
CHECK_SESSION_BUDGET = {"mibot": 0.15, "esconv_dev": 0.125}
# The full response: at most 5% of the tuning conversations of both corpora together (round 38; before, 5% of each).
# Per corpus, MIBot's 54 tuning conversations let 2 have a full response, so the third-highest of 54 scores set the
# threshold: round 37's head, with a better ranking of every fresh set than round 35's, got a crisis threshold 0.09
# higher from it, and 15 fewer full responses on its fresh statements (benchmarks/README.md, round 37). Pooled, the
# 130 conversations allow 6. Round 46: 6% (7 of 130): the full response followed 79.1% of the fresh risk statements
# (Z33-Z38; the issue asks 80%), and the crisis threshold moves which flagged turns get the full response rather than
# one question, not how many turns are flagged (the check budgets bound those).
CRISIS_BUDGET = 0.06
# Tried in round 12c and dropped: a budget per turn as well (0.35% of all tuning turns, ~10% of ordinary sessions
# of 30 client turns), since round 12b put a safety turn in 5 of the 8 HOPE therapy transcripts (2 before). It
# raised the check threshold enough to cost 10 points of recall on O (second look: 80% against 90%) and left 4
# of the 8 HOPE sessions flagged: their false alarms score high (benchmarks/README.md, round 12).
# Blind labels of the ordinary conversations' client turns that round 15's detector scored at a probability of
# 0.05 or more (both halves; keys and labels only, the texts stay in ../shared; benchmarks/README.md, round 16).
# Since round 16 a training turn either annotator calls risk is not trained on as a negative, and a tuning
# conversation with a turn both call risk is left out of the budgets: they bound false alarms, and a
# disclosure in an ordinary chat (MIBot: "I have an emotionally abusive roommate") should get the full response.
CONVERSATION_LABELS = REPO / "tests" / "data" / "risk_conversation_labels.jsonl"


def text_key(text: str) -> str:
    """A short hash of a turn's text, kept with its label so that a changed source is noticed."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]


def conversation_labels(sessions: dict[str, dict[str, list[str]]] | None = None,
                        path: Path = CONVERSATION_LABELS) -> dict[tuple[str, str, int], dict[str, Any]]:
    """The labelled turns by (corpus, session id, client-turn index); raises when a labelled turn's text is not the
    one labelled (the shared data changed)."""
    sessions = sessions if sessions is not None else ordinary_conversations()
    out = {}
    for row in read_jsonl(path):
        turns = sessions[row["corpus"]].get(row["session"], [])
        if row["idx"] >= len(turns) or text_key(turns[row["idx"]]) != row["text_sha1"]:
            raise ValueError(f"{path.name}: {row['corpus']} {row['session']} turn {row['idx']} is not the text labelled")
        out[(row["corpus"], row["session"], row["idx"])] = row
    return out


def any_says_risk(row: dict[str, Any]) -> bool:
    return any(a["risk"] for a in row["annotators"].values())


def all_say_risk(row: dict[str, Any]) -> bool:
    return all(a["risk"] for a in row["annotators"].values())


def disclosed(labels: dict[tuple[str, str, int], dict[str, Any]]) -> set[tuple[str, str]]:
    """(corpus, session id) of the conversations with a turn every annotator labelled risk."""
    return {(c, s) for (c, s, _), row in labels.items() if all_say_risk(row)}


ENCODER_WEIGHT = 0.75  # the score: this weight on the head's z-score, the rest on the n-gram model's
PREFILTER_RECALL = 0.995  # the encoder runs only where the n-gram score keeps this share of risk items (speed)


def session_half(session_id: str) -> str:
    """'train' or 'tune' (an ordinary conversation's half), fixed by a hash of the session id."""
    return "train" if int(hashlib.sha256(session_id.encode()).hexdigest(), 16) % 2 == 0 else "tune"


ESCONV_DEV = SHARED / "esconv" / "devWithStrategy_short.tsv"


def esconv_dev_sessions(path: Path = ESCONV_DEV, held_out: Path = ESCONV) -> dict[str, list[str]]:
    """The ESConv *dev* split's conversations (``devWithStrategy_short.tsv``: one line per supporter response with
    the turns before it), as session key -> the help-seeker's turns in order. A conversation starts where the
    turn index restarts. The file holds many of the conversations that ``validate_risk.py`` scores (ESConv's
    validation set, tokenised differently): a conversation that shares with them any help-seeker turn of six
    or more words, or the first 40 letters and digits of one, is dropped (39 of 195; 156 are left).
    Unlabelled: used as ordinary conversation."""
    import re

    from helpert.io import read_sessions

    def key(text: str) -> str:
        return re.sub(r"[^a-z0-9]", "", text.lower())

    scored = [t.text for s in read_sessions(held_out) for t in s.client_turns] if held_out.is_file() else []
    whole = {key(t) for t in scored if len(t.split()) >= 6}
    prefixes = {key(t)[:40] for t in scored if len(key(t)) >= 40}

    def seen(text: str) -> bool:
        return key(text) in whole or (len(key(text)) >= 40 and key(text)[:40] in prefixes)

    groups = [{i: text for i, (speaker, text) in segments.items() if speaker == "0"} for _, segments in esconv_tsv_dialogues(path)]
    out = {}
    for clients in groups:
        turns = [clients[i] for i in sorted(clients) if clients[i]]
        if turns and not any(seen(t) for t in turns):
            out[hashlib.sha256("\n".join(turns).encode()).hexdigest()[:16]] = turns
    return out


def mibot_sessions(path: Path = MIBOT) -> dict[str, list[str]]:
    """session id -> the client's turns in order (consecutive client utterances joined into one turn)."""
    from helpert.io import read_sessions
    from helpert.session import merge_consecutive

    return {s.dialogue_id: [t.text for t in merge_consecutive(s.turns) if t.role == "client" and t.text.strip()]
            for s in read_sessions(path)}


# one-turn client statements, in the head's training only (their ``source``: T and the spent sets)
SHORT_STATEMENTS = tuple(f"handwritten_{name.lower()}" for name in (*SPENT_STATEMENTS, *TRAINING_STATEMENTS))


def held_out_texts() -> list[str]:
    """The statements of the held-out sets (:data:`validate_risk.HELD_OUT_STATEMENTS`): no training item may
    nearly repeat one (:func:`validate_risk.near_duplicate`)."""
    return [it["text"] for path in HELD_OUT_STATEMENTS.values() for it in read_jsonl(path)]


def short_statements(held_out: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """The hand-written one-turn statements trained on: the training sets (:data:`validate_risk.TRAINING_STATEMENTS`:
    T written for round 11, T37 for round 37) and the spent held-out sets (:data:`validate_risk.SPENT_STATEMENTS`: K
    since round 11, ..., V and W since round 16, X to Z6 since round 20, ...), less any that nearly repeats a held-out
    statement (:func:`held_out_texts`) and any whose annotators disagree on risk (none in the spent sets; some in
    T37, whose blind labels were read after it was written; T has its writer's labels only)."""
    near = NearRepeats(held_out_texts() if held_out is None else held_out)
    rows = [{**it, "half": it["source"]} for path in (*SPENT_STATEMENTS.values(), *TRAINING_STATEMENTS.values()) for it in read_jsonl(path)]
    return [it for it in rows if len({a["risk"] for a in it["annotators"].values()}) == 1 and it["text"] not in near]


def blind_read_negatives(path: Path, held_out: Sequence[str]) -> list[dict[str, Any]]:
    """Every client turn of an ordinary transcript set read blind in full (``<name>_labels.jsonl``: no risk turn) as
    a negative (weight :data:`CONVERSATION_WEIGHT`); raises if a reader found a risk turn. Since round 33, for
    :data:`validate_risk.SPENT_TRANSCRIPTS`. Unlike :func:`conversation_negatives`, the turns the lexicon fires on are
    kept: a blind reader read each one in context, so "this commute is killing me" is a negative the head learns from
    (and ``helpert.safety.risk.read_as_idiom`` can then stand the phrase down)."""
    labels = read_jsonl(path.with_name(path.stem + "_labels.jsonl"))
    flagged = [row["session"] for row in labels for a in row["annotators"].values() if a["risk_turns"]]
    if flagged:
        raise ValueError(f"{path.name}: risk turns found blind in {flagged}; they are not ordinary negatives")
    sessions = mibot_sessions(path)
    near = NearRepeats(held_out)
    return [{"half": "spoken", "id": f"{sid}-{i}", "text": t, "risk": False, "kinds": [], "weight": CONVERSATION_WEIGHT}
            for sid, turns in sessions.items() for i, t in enumerate(turns) if len(t.split()) >= 3 and t not in near]


def conversation_negatives(half: str, sessions: dict[str, list[str]], labels: dict[tuple[str, str, int], dict[str, Any]],
                           held_out: Sequence[str]) -> list[dict[str, Any]]:
    """The client turns of ordinary sessions as negative training items (weight :data:`CONVERSATION_WEIGHT`):
    turns of three words or more that the lexicon does not fire on, that no annotator labelled risk
    (``labels`` by (``half``, session, turn)) and that nearly repeat no held-out statement."""
    near = NearRepeats(held_out)
    return [{"half": half, "id": f"{sid}-{i}", "text": t, "risk": False, "kinds": [], "weight": CONVERSATION_WEIGHT}
            for sid, turns in sessions.items() for i, t in enumerate(turns)
            if len(t.split()) >= 3 and not detect_risk(t)
            and not any_says_risk(labels.get((half, sid, i), {"annotators": {}}))
            and t not in near]


def training_items() -> list[dict[str, Any]]:
    held_out = held_out_texts()
    items = [it for it in load_items(posts=shared_posts()) if it["half"] not in (HELD_OUT, CONVERSATION)]
    items += short_statements(held_out)
    conversations = ordinary_conversations()
    labels = conversation_labels(conversations)
    for corpus, sessions in conversations.items():
        train = {sid: turns for sid, turns in sessions.items() if session_half(sid) == "train"}
        items += conversation_negatives(corpus, train, labels, held_out)
    for path in SPOKEN_ORDINARY:
        spoken = {"spoken": mibot_sessions(path)}
        spoken_labels = conversation_labels(spoken, SPOKEN_LABELS) if path == SPOKEN_ORDINARY[0] else {}
        items += conversation_negatives("spoken", spoken["spoken"], spoken_labels, held_out)
    for path in SPENT_TRANSCRIPTS:
        items += blind_read_negatives(path, held_out)
    return items


# Since round 20: ordinary counseling sessions in the register of transcribed speech, trained on as negatives (all of
# them; not tuned on): the 48 of risk_ordinary_spoken.jsonl (written for round 18; the 639 turns round 16's detector
# scored at 0.05 or more labelled blind by two annotators, no risk: SPOKEN_LABELS) and the 24 of
# risk_ordinary_check.jsonl (written for round 19's choice, scored once then). Round 19 trained on the first 48 alone.
SPOKEN_ORDINARY = (REPO / "tests" / "data" / "risk_ordinary_spoken.jsonl", REPO / "tests" / "data" / "risk_ordinary_check.jsonl")
SPOKEN_LABELS = REPO / "tests" / "data" / "risk_ordinary_spoken_labels.jsonl"


CONVERSATION_CORPORA = ("mibot", "esconv_dev")  # the halves of the ordinary-conversation items (ordinary_conversations)


def ordinary_conversations() -> dict[str, dict[str, list[str]]]:
    """The ordinary conversations, by corpus; each session's half ('train' or 'tune') is :func:`session_half`."""
    return dict(zip(CONVERSATION_CORPORA, (mibot_sessions(), esconv_dev_sessions())))


def item_arrays(items: Sequence[dict[str, Any]]):
    """(texts as the score reads them, risk labels, halves, kind indices (-1: none), weights) of training items."""
    import numpy as np

    texts = [without_denials(it["text"]) for it in items]  # what the score reads, here as at run time
    y = np.array([bool(it["risk"]) for it in items])
    half = np.array([it["half"] for it in items])
    kinds = np.array([RISK_KINDS.index(it["kinds"][0]) if it["risk"] and it["kinds"] and it["kinds"][0] in RISK_KINDS else -1 for it in items])
    weights = np.array([it.get("weight", 1.0) for it in items], dtype=np.float32)
    return texts, y, half, kinds, weights


def cached_features(texts: Sequence[str], cache: Path | None):
    """:func:`features`, kept in ``cache`` (a pickle of the encoder's fingerprint, the texts and their states): the
    texts it already holds are read back from it when the encoder is the same (:func:`encoder_fingerprint`), the
    others computed, and the file rewritten when any were new."""
    import pickle

    known: dict[str, Any] = {}
    fingerprint = encoder_fingerprint()
    if cache and cache.is_file():
        saved = pickle.loads(cache.read_bytes())
        if len(saved) == 3 and saved[0] == fingerprint:
            known = dict(zip(saved[1], saved[2]))
    new = sorted(set(texts) - known.keys())
    if new:
        known.update(zip(new, features(new)))
        if cache:
            cache.write_bytes(pickle.dumps((fingerprint, list(known), list(known.values()))))
    return [known[t] for t in texts]


def encoder_fingerprint() -> str:
    """A digest of what the token states depend on: the encoder files (the PyPI file, the fine-tuned top layers,
    the int8 channels kept in float) and the arithmetic."""
    from helpert.text import encoder

    digest = hashlib.sha256(encoder.arithmetic().encode())
    for path in sorted(set(encoder.files())):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()


def probe_inputs(argv: Sequence[str] | None, description: str):
    """What a probe of the head reads: the command line (``--states-cache``), the training items and their
    arrays (:func:`item_arrays`) and token states (:func:`cached_features`)."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--states-cache", type=Path, help="keep the encoder's token states of the training items in this file")
    args = ap.parse_args(argv)
    items = training_items()
    texts, y, half, kinds, weights = item_arrays(items)
    return items, texts, y, half, kinds, weights, cached_features(texts, args.states_cache)


def features(texts: Sequence[str]):
    """Per text, the encoder's token states of all its chunks ([tokens, 384] float32)."""
    from helpert.safety.risk import text_token_states

    return text_token_states(list(texts))


class Head:
    """The torch twin of ``helpert.safety.risk.EncoderRiskModel``'s numpy head."""

    def __init__(self, torch):
        nn = torch.nn
        self.torch = torch
        self.dense = nn.Linear(384, HIDDEN)
        self.drop = nn.Dropout(DROPOUT)
        self.risk = nn.Linear(2 * HIDDEN, 1)
        self.kind = nn.Linear(2 * HIDDEN, len(RISK_KINDS))
        self.modules = nn.ModuleList([self.dense, self.risk, self.kind])

    def pooled(self, x, mask):
        t = self.torch
        h = t.nn.functional.gelu(self.dense(self.drop(x)))
        m = mask.unsqueeze(-1)
        mx = h.masked_fill(m == 0, -1e4).max(1).values
        mean = (h * m).sum(1) / m.sum(1).clamp(min=1)
        return self.drop(t.cat([mx, mean], 1))

    def __call__(self, x, mask):
        p = self.pooled(x, mask)
        return self.risk(p).squeeze(-1), self.kind(p)

    def export(self) -> dict[str, Any]:
        import numpy as np

        f = lambda p: p.detach().numpy().astype(np.float32)  # noqa: E731
        return {"dense_w": f(self.dense.weight).T, "dense_b": f(self.dense.bias), "risk_w": f(self.risk.weight)[0],
                "risk_b": f(self.risk.bias), "kind_w": f(self.kind.weight).T, "kind_b": f(self.kind.bias)}


def pad(states: list, idx: Sequence[int], torch):
    n = max(len(states[i]) for i in idx)
    x = torch.zeros(len(idx), n, 384)
    mask = torch.zeros(len(idx), n)
    for r, i in enumerate(idx):
        x[r, : len(states[i])] = torch.from_numpy(states[i])
        mask[r, : len(states[i])] = 1
    return x, mask


def risk_loss(torch, logit, kind_logits, y, weights, kinds, pos_weight):
    """The head's training loss: class-weighted binary cross-entropy of risk (each item weighted), plus 0.3 x the
    cross-entropy of the kind where a kind is labelled."""
    loss = (torch.nn.functional.binary_cross_entropy_with_logits(logit, y, pos_weight=pos_weight, reduction="none") * weights).mean()
    has_kind = kinds >= 0
    if has_kind.any():
        loss = loss + 0.3 * torch.nn.functional.cross_entropy(kind_logits[has_kind], kinds[has_kind])
    return loss


def train(states: list, y, kinds, weights, seed: int = SEED, epochs: int = EPOCHS, before=None, before_lr: float = 0.0) -> Head:
    """The head trained on token states. ``before``: a factory of a torch module applied to the states first and
    trained with the head at ``before_lr`` (a probe's extra layer; left on the returned head as ``.before``)."""
    import numpy as np
    import torch

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    head = Head(torch)
    pre = before() if before else None
    groups = [{"params": head.modules.parameters(), "lr": LR}] + ([{"params": pre.parameters(), "lr": before_lr}] if pre else [])
    opt = torch.optim.AdamW(groups, weight_decay=WEIGHT_DECAY)
    base = [g["lr"] for g in opt.param_groups]
    pos = float((y * weights).sum())
    neg = float(((1 - y) * weights).sum())
    pos_weight = torch.tensor(neg / max(pos, 1e-9))
    order = np.argsort([len(s) for s in states])  # batches of similar length, in random batch order
    batches = [order[i:i + BATCH] for i in range(0, len(order), BATCH)]
    yt, wt, kt = torch.tensor(y, dtype=torch.float32), torch.tensor(weights, dtype=torch.float32), torch.tensor(kinds)
    head.modules.train()
    if pre:
        pre.train()
    for epoch in range(epochs):
        for g, lr in zip(opt.param_groups, base):
            g["lr"] = lr * 0.5 * (1 + np.cos(np.pi * epoch / epochs))
        for b in rng.permutation(len(batches)):
            idx = batches[b]
            x, mask = pad(states, idx, torch)
            logit, kind_logits = head(pre(x, mask) if pre else x, mask)
            loss = risk_loss(torch, logit, kind_logits, yt[idx], wt[idx], kt[idx], pos_weight)
            opt.zero_grad()
            loss.backward()
            opt.step()
    head.modules.eval()
    if pre:
        pre.eval()
    head.before = pre
    return head


def numpy_head(head: Head):
    from helpert.safety.risk import EncoderRiskModel

    return EncoderRiskModel.from_arrays(head.export(), thresholds={"check": 0.0, "crisis": 0.0})


def rates(fired, y) -> dict[str, float]:
    return {"recall": round(float(fired[y].mean()), 4), "fpr": round(float(fired[~y].mean()), 4),
            "caught": int(fired[y].sum()), "risk": int(y.sum()), "false_alarms": int(fired[~y].sum()), "no_risk": int((~y).sum())}


def save_head(path: Path, arrays: dict[str, Any], meta: dict[str, Any]) -> None:
    """Write the head as ``helpert.safety.risk.EncoderRiskModel`` reads it: float16 arrays and a JSON ``meta``,
    atomically."""
    import io

    import numpy as np

    from helpert.io.atomic import atomic_write

    buf = io.BytesIO()
    np.savez_compressed(buf, meta=np.array(json.dumps(meta, sort_keys=True)),
                        **{k: np.asarray(v, dtype=np.float16) for k, v in arrays.items()})
    atomic_write(path, lambda fh: fh.write(buf.getvalue()))


def conversation_evidence(tuning: dict[str, Any]) -> list[list[Any]]:
    """Per tuning conversation, the stepped policy's evidence of each client turn (``helpert.safety.risk.TurnEvidence``:
    the lexicon's phrase kinds, score and probability, a reference to an earlier flagged turn) from the scores already
    computed."""
    from helpert.safety.risk import CONTEXT_REFERENCE, TurnEvidence

    flat = [t for turns in tuning["sessions"].values() for t in turns]
    evidence = [TurnEvidence(phrases, float(s), p, reference=bool(CONTEXT_REFERENCE.search(text)))
                for text, s, p, phrases in zip(flat, tuning["scores"], tuning["probability"], tuning["phrases"])]
    out, k = [], 0
    for turns in tuning["sessions"].values():
        out.append(evidence[k:k + len(turns)])
        k += len(turns)
    return out


def lowest_threshold(conversations: Sequence[Sequence[Any]], budget: float, share_at, floor: float = -math.inf) -> float:
    """The lowest threshold (a score of these conversations, at or above ``floor``) at which ``share_at(t)`` - a
    share of the conversations, falling as t rises - is within ``budget``; inf when none is. Found by bisection."""
    import numpy as np

    candidates = np.unique([e.score for conv in conversations for e in conv if np.isfinite(e.score) and e.score >= floor])
    if share_at(math.inf) > budget:
        return math.inf
    lo, hi = 0, len(candidates)  # the answer is candidates[i] for the first i within budget, or inf (i = len)
    while lo < hi:
        mid = (lo + hi) // 2
        if share_at(float(candidates[mid])) <= budget:
            hi = mid
        else:
            lo = mid + 1
    return float(candidates[lo]) if lo < len(candidates) else math.inf


def conversation_share(conversations: Sequence[Sequence[Any]], check: float, crisis: float, tier: str | None = None) -> float:
    """Share of the conversations that ``helpert.safety.risk.tier_turns`` gives any safety turn (``tier`` None)
    or a turn of ``tier`` at these thresholds."""
    from helpert.safety.risk import tier_turns

    hit = (lambda a: a.flagged) if tier is None else (lambda a: a.tier == tier)
    return sum(any(hit(a) for a in tier_turns(conv, check, crisis)) for conv in conversations) / len(conversations)


def check_threshold(conversations: Sequence[Sequence[Any]], budget: float) -> float:
    """The lowest check threshold at which at most ``budget`` of the conversations get any safety turn."""
    return lowest_threshold(conversations, budget, lambda t: conversation_share(conversations, t, math.inf))


def crisis_threshold(conversations: Sequence[Sequence[Any]], check: float, budget: float) -> float:
    """The lowest crisis threshold, at or above ``check``, at which at most ``budget`` of the conversations have a
    turn whose own learned score reaches it. Since round 33 the context rule's escalations (a flagged turn after a
    flagged turn) are not counted here: the crisis threshold does not decide them, the check threshold does, and
    they are within the check budget. Counted here, as in rounds 15 to 23, they could use up the budget on their
    own, and the threshold became infinite: no learned full response at all (round 33's first training run, whose
    MIBot tuning half had two conversations escalated by quit-smoking "plans" and "cutting back")."""
    def share(t: float) -> float:
        return sum(any(e.score >= t for e in conv) for conv in conversations) / len(conversations)

    return lowest_threshold(conversations, budget, share, floor=check)


def ngram_scores(fit_items: Sequence[dict[str, Any]], texts: Sequence[str]):
    """Scores of ``texts`` by the n-gram model (``train_risk_model.py``'s recipe, shipped C and sentence
    offset) fitted on ``fit_items`` only."""
    import numpy as np
    import train_risk_model as ngram

    from helpert.safety.risk import load_risk_model

    shipped = load_risk_model()
    C, offset = shipped.meta["cv"]["C"], shipped.offset
    labelled = [it for it in fit_items if it["half"] not in (*CONVERSATION_CORPORA, "spoken", *SHORT_STATEMENTS)]  # as the shipped n-gram model
    vec, coef, b = ngram.fit([it["text"] for it in labelled], np.array([int(it["risk"]) for it in labelled]), C)
    whole, best = ngram.linear_scores(vec, coef, b, list(texts))
    out = ngram.combine(whole, best, offset)
    out[[len(t.split()) < 3 for t in texts]] = -np.inf
    return out


def fit_head(args: argparse.Namespace, t0: float) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any], Callable[[float, float], dict[str, Any]]]:
    """Train the head: out of fold on EPITOME H and I (the calibration: prefilter, standardisation, Platt), then on
    all the training data. Returns the head's arrays, its meta (no thresholds yet), the result record, and a function
    of (check, crisis) giving the out-of-fold rates at those thresholds."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import average_precision_score

    items = training_items()
    texts, y, half, kinds, weights = item_arrays(items)
    lex = np.array([bool(detect_risk(it["text"])) for it in items])
    print(f"{len(items)} items ({y.sum()} risk; {(half == 'mibot').sum()} MIBot turns)", flush=True)
    states = cached_features(texts, args.states_cache)
    print(f"  token states: {time.time() - t0:.0f} s", flush=True)

    # Out of fold on EPITOME H and I: both detectors fitted without them.
    unseen = np.isin(half, LEXICON_UNSEEN)
    fit = ~unseen
    head = train([states[i] for i in np.flatnonzero(fit)], y[fit].astype(np.float32), kinds[fit], weights[fit])
    enc = np.full(len(items), np.nan)
    enc[unseen] = numpy_head(head).head_scores([states[i] for i in np.flatnonzero(unseen)])
    ng = np.full(len(items), np.nan)
    ng[unseen] = ngram_scores([it for it, f in zip(items, fit) if f], [texts[i] for i in np.flatnonzero(unseen)])
    e, n, yu, lu = enc[unseen], ng[unseen], y[unseen], lex[unseen]
    finite = np.isfinite(n)
    prefilter = float(np.quantile(n[yu & finite], 1 - PREFILTER_RECALL))
    z = {"enc_mean": float(e.mean()), "enc_std": float(e.std()), "ngram_mean": float(n[finite].mean()), "ngram_std": float(n[finite].std())}
    combined = ENCODER_WEIGHT * (e - z["enc_mean"]) / z["enc_std"] + (1 - ENCODER_WEIGHT) * (n - z["ngram_mean"]) / z["ngram_std"]
    combined = np.where(finite & (n >= prefilter), combined, -np.inf)
    platt = LogisticRegression(C=1e6).fit(np.where(np.isfinite(combined), combined, combined[np.isfinite(combined)].min())[:, None], yu)
    print(json.dumps({"average_precision_out_of_fold_h_and_i": {
        "encoder_head": round(float(average_precision_score(yu, e)), 4),
        "combined": round(float(average_precision_score(yu, np.nan_to_num(combined, neginf=-1e9))), 4)}}), flush=True)

    # The shipped head (all the training data); its thresholds are chosen on its own scores of the tuning
    # conversations, which it never trained on, so that the budgets hold for the model that runs.
    head = train(states, y.astype(np.float32), kinds, weights)
    meta = {"prefilter": prefilter, "encoder_weight": ENCODER_WEIGHT,
            "z": z, "platt": [float(platt.coef_[0, 0]), float(platt.intercept_[0])], "hidden": HIDDEN,
            "kinds": list(RISK_KINDS), "trained": date.today().isoformat(), "script": "benchmarks/train_risk_encoder.py"}
    result: dict[str, Any] = {
        "benchmark": "train_risk_encoder", "date": date.today().isoformat(),
        "data": {"items": len(items), "risk": int(y.sum()), "mibot_turns": int((half == "mibot").sum()),
                 "esconv_dev_turns": int((half == "esconv_dev").sum()), "spoken_turns": int((half == "spoken").sum())},
        "out_of_fold_h_and_i": {
            "note": "the head fitted without EPITOME H and I, at the shipped head's thresholds",
            "average_precision": {"encoder_head": round(float(average_precision_score(yu, e)), 4),
                                  "ngram": round(float(average_precision_score(yu[finite], n[finite])), 4),
                                  "combined": round(float(average_precision_score(yu, np.nan_to_num(combined, neginf=-1e9))), 4)},
            "prefilter_passes": {"risk": round(float((n >= prefilter)[yu].mean()), 4), "no_risk": round(float((n >= prefilter)[~yu].mean()), 4)},
            "lexicon": rates(lu, yu)},
    }

    def out_of_fold(check: float, crisis: float) -> dict[str, Any]:
        return {"check": rates((combined >= check) | lu, yu), "crisis": rates((combined >= crisis) | lu, yu)}

    return head.export(), meta, result, out_of_fold


def read_head(path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """The arrays (as stored: float16) and the meta of a head file :func:`save_head` wrote."""
    import numpy as np

    with np.load(path, allow_pickle=False) as data:
        return {k: data[k] for k in data.files if k != "meta"}, json.loads(str(data["meta"]))


def main(argv: Sequence[str] | None = None) -> int:
    from helpert.safety.risk import EncoderRiskModel, assess_turns, load_encoder_risk_model

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=str(RISK_HEAD))
    ap.add_argument("--states-cache", type=Path, help="keep the encoder's token states of the training items in this file")
    ap.add_argument("--thresholds-only", action="store_true",
                    help="keep the head in --out as it is (arrays and calibration) and choose its thresholds again")
    args = ap.parse_args(argv)
    t0 = time.time()
    if args.thresholds_only:
        arrays, meta = read_head(Path(args.out))
        result = json.loads(RESULTS.read_text(encoding="utf-8"))
        if meta.get("data", {}).get("items") != result["data"]["items"]:
            raise SystemExit(f"{RESULTS} records another training run than {args.out}'s head; train it again")
        result["thresholds_chosen_again"] = date.today().isoformat()  # the head and its out-of-fold record as trained
        out_of_fold = None
    else:
        arrays, meta, result, out_of_fold = fit_head(args, t0)
    meta.pop("thresholds", None)
    shipped = EncoderRiskModel.from_arrays(arrays, {"check": math.inf, "crisis": math.inf})
    shipped.meta.update(meta)
    tuning: dict[str, dict[str, Any]] = {}
    conversations_all = ordinary_conversations()
    left_out = disclosed(conversation_labels(conversations_all))  # conversations with a disclosure: not false alarms
    for corpus, sessions in conversations_all.items():
        tune = {sid: turns for sid, turns in sessions.items() if session_half(sid) == "tune" and (corpus, sid) not in left_out}
        raw = [t for turns in tune.values() for t in turns]
        scores = shipped.scores([without_denials(t) for t in raw])
        tuning[corpus] = {"sessions": tune, "scores": scores, "probability": [shipped.probability(float(x)) for x in scores],
                          "phrases": [tuple(detect_risk(t)) for t in raw]}
    # The check threshold: the lowest that keeps every tuning corpus within its budget, read in conversation by the
    # graph's tiering (since round 15; chosen turn by turn, the context rule's escalations were not counted and round
    # 15's first run let one more MIBot conversation get the full response). The crisis threshold, at or above it, on
    # the turns' own scores (since round 33: crisis_threshold), over both corpora's conversations (since round 38).
    conversations = {c: conversation_evidence(t) for c, t in tuning.items()}
    by_corpus = {c: {"check": check_threshold(conv, CHECK_SESSION_BUDGET[c])} for c, conv in conversations.items()}
    check = max(b["check"] for b in by_corpus.values())
    crisis = crisis_threshold([conv for c in conversations.values() for conv in c], check, CRISIS_BUDGET)
    meta["thresholds"] = {"check": check, "crisis": crisis}
    result["settings"] = {"hidden": HIDDEN, "epochs": EPOCHS, "batch": BATCH, "lr": LR, "dropout": DROPOUT, "seed": SEED,
                          "conversation_weight": CONVERSATION_WEIGHT, "encoder_weight": ENCODER_WEIGHT,
                          "prefilter_recall": PREFILTER_RECALL, "check_session_budget": CHECK_SESSION_BUDGET,
                          "crisis_budget_pooled": CRISIS_BUDGET}
    result["data"]["tuning_conversations_left_out_as_disclosures"] = {
        c: sum(k == c and session_half(sid) == "tune" for k, sid in left_out) for c in CONVERSATION_CORPORA}
    oof = result["out_of_fold_h_and_i"]
    for key in ("check", "crisis"):
        oof.pop(key, None)
    if out_of_fold:
        oof.update(out_of_fold(check, crisis))
    else:
        oof["note"] = "the head fitted without EPITOME H and I, as trained; its rates at these thresholds were not measured"
    result["thresholds"] = {"check": check, "crisis": crisis}
    result["check_by_corpus"] = by_corpus  # each corpus' lowest check threshold within its budget; the highest binds
    result.pop("thresholds_by_corpus", None)
    meta["data"] = dict(result["data"])
    save_head(Path(args.out), arrays, meta)
    load_encoder_risk_model.cache_clear()
    result["tuning_shipped_model"] = {}  # in conversation, as the graph reads it (assess_turns: tiers and context)
    for corpus, t in tuning.items():
        tiers = [[a.tier for a in assess_turns(turns)] for turns in t["sessions"].values()]
        any_turn = round(sum(any(x != "none" for x in ts) for ts in tiers) / max(len(tiers), 1), 4)
        full = round(sum("crisis" in ts for ts in tiers) / max(len(tiers), 1), 4)
        result["tuning_shipped_model"][corpus] = {"sessions": len(tiers), "with_any_safety_turn": any_turn, "with_full_response": full}
        print(f"{corpus} tuning half: {any_turn:.1%} of {len(tiers)} sessions get a safety turn, {full:.1%} the full response", flush=True)
    result["seconds"] = round(time.time() - t0, 1)
    RESULTS.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out} and {RESULTS} ({result['seconds']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
