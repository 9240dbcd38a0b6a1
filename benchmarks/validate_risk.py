"""Does the crisis-risk detector (helpert/safety/risk.py) catch what a counselor must not miss, and how
often does it interrupt a session for nothing?

Evaluation set: ``tests/data/risk_labels.jsonl``, labels written by hand for helpert (the labelling rule
is in benchmarks/README.md). The file holds only keys and labels; texts are read from ../shared/data:

* **CounselChat** (``counselchat/20200325_counsel_chat.csv``, MIT): every distinct client question
  (title + text; 833), split by a hash of its key into a ``dev`` and a ``heldout`` half.
* **EPITOME** (``epitome/*.csv``, Reddit seeker posts, non-commercial research): random samples of
  distinct posts, ``epitome_a`` (250), ``epitome_b`` (200), ``epitome_c`` (150), each labelled before
  the detector was scored on it and then used to tune it (the order of the rounds is in
  benchmarks/README.md), ``epitome_d`` (250) and ``epitome_e`` (250), each held out for one round, scored
  once and then used for the next, ``epitome_f`` and ``epitome_g`` (300 each, labelled for round 8),
  ``epitome_h`` (250, held out in round 8, then training data of the model), ``epitome_i`` (the 729 posts
  left after J, labelled for round 9) and ``epitome_j`` (300, ``HELD_OUT``), labelled blind and twice, by
  two annotators, before the last change to the detector and scored once after it: the only set whose
  figures estimate recall on unseen text.
* **Hand-written** sentences (48): explicit and veiled statements of each kind and hard negatives
  (figures of speech, negated mentions, everyday uses of the trigger words); their text is in the file.

Recall = share of risk items on which the detector fires (any kind: any firing sends the turn to the
safety node); recall per gold kind likewise; ``kind recall`` also requires the right kind among those
fired. FPR = share of no-risk items on which it fires. ``--detector`` picks the sensitivity of
``detect_risk``: ``lexicon`` (the phrases alone, the default), ``balanced`` or ``high`` (the phrases OR the
learned model of ``benchmarks/train_risk_model.py`` at that threshold; its training sets are every set here
but EPITOME J, so only J and ESConv are out-of-sample for it). ``--esconv`` also counts the firings on the
2,210 ESConv help-seeker turns (``esconv/esconv_valid_195.jsonl``; nearly all of them no risk) and prints
them. ``--compare`` prints one table of EPITOME J and ESConv for every detector. Reproduce::

    .venv/bin/python benchmarks/validate_risk.py --readme benchmarks/README.md
    .venv/bin/python benchmarks/validate_risk.py --compare                # lexicon vs the lexicon OR model
    .venv/bin/python benchmarks/validate_risk.py --errors dev      # the misses and false alarms of a half
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import sys
from pathlib import Path
from typing import Any, Callable, Iterable, NamedTuple

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))
# read_jsonl is read from here too (the tests, risk_round_choice, finetune_encoder)
from _common import read_jsonl, update_readme_section  # noqa: E402, F401

from helpert.safety.policy import SENSITIVITIES  # noqa: E402
from helpert.safety.risk import RISK_KINDS, detect_risk  # noqa: E402

LABELS = REPO / "tests" / "data" / "risk_labels.jsonl"
SHARED = REPO.parent / "shared" / "data"
COUNSELCHAT = SHARED / "counselchat" / "20200325_counsel_chat.csv"
EPITOME = SHARED / "epitome"
ESCONV = SHARED / "esconv" / "esconv_valid_195.jsonl"
SECTION = "validate_risk"
HELD_OUT = "epitome_j"  # the set no round of the lexicon or the model has seen
# every label set ("half" in the labels file), in table order, with its title
SET_TITLES = {"dev": "CounselChat dev half", "heldout": "CounselChat held-out half",
              **{f"epitome_{c}": f"EPITOME sample {c.upper()}" for c in "abcdefghij"}, "handwritten": "hand-written",
              "esconv": "ESConv help-seeker turns (conversation; never trained on)"}
CONVERSATION = "esconv"  # every ESConv help-seeker turn, labelled blind in its dialogue: a test set only, never trained on
SET_TITLES[HELD_OUT] += " (held-out, labelled blind)"


def question_key(question_id: Any, text: str) -> str:
    """A CounselChat question's key: its id plus a hash of its text (some ids carry two questions)."""
    return f"{question_id}-{hashlib.sha1(text.encode()).hexdigest()[:6]}"


def half_of(key: str) -> str:
    """The CounselChat half a question belongs to, fixed by a hash of its key."""
    return "dev" if int(hashlib.sha256(key.encode()).hexdigest(), 16) % 2 == 0 else "heldout"


def counselchat_posts(path: Path = COUNSELCHAT) -> dict[str, str]:
    """key -> the client's post (title, then text, whitespace collapsed)."""
    import pandas as pd

    df = pd.read_csv(path).drop_duplicates(["questionID", "questionText"])
    return {question_key(r.questionID, r.questionText): " ".join(str(r.questionTitle).split()) + "\n" + " ".join(r.questionText.split())
            for r in df.itertuples()}


def epitome_posts(folder: Path = EPITOME) -> dict[str, str]:
    """sp_id -> the seeker's Reddit post (first text of each id over the three EPITOME files)."""
    import pandas as pd

    df = pd.concat([pd.read_csv(f)[["sp_id", "seeker_post"]] for f in sorted(folder.glob("*.csv"))])
    return {r.sp_id: " ".join(str(r.seeker_post).split()) for r in df.drop_duplicates("sp_id").itertuples()}


def shared_posts() -> dict[str, dict[str, str]]:
    """Texts of the shared datasets that are present, by label source."""
    found = {}
    if COUNSELCHAT.is_file():
        found["counselchat"] = counselchat_posts()
    if EPITOME.is_dir():
        found["epitome"] = epitome_posts()
    if ESCONV.is_file():
        found["esconv"] = esconv_turns()
    return found


def esconv_turns(path: Path = ESCONV) -> dict[str, str]:
    """"dialogue_id/idx" -> the text of each ESConv help-seeker turn, as the file numbers them."""
    turns = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        d = json.loads(line)
        turns.update({f"{d['dialogue_id']}/{t['idx']}": t["text"] for t in d["turns"] if t["role"] == "client"})
    return turns


def load_items(labels: Path = LABELS, posts: dict[str, dict[str, str]] | None = None) -> list[dict[str, Any]]:
    """Labelled items with their text; items of a shared dataset only when ``posts`` holds its texts."""
    items = []
    for line in labels.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if row["source"] == "handwritten":
            items.append({**row, "half": "handwritten"})
            continue
        texts = (posts or {}).get(row["source"])
        if texts is None:
            continue
        if row["id"] not in texts:
            raise KeyError(f"{row['source']} {row['id']}: not in the shared data (another version of the file?)")
        items.append({**row, "text": texts[row["id"]]})
    return items


def score(items: Iterable[dict[str, Any]], detect: Callable[[str], list[str]] = detect_risk) -> dict[str, Any]:
    """Recall (overall, per gold kind, kind-exact) and false-positive rate of ``detect`` on ``items``."""
    pos = neg = hit = false_alarms = 0
    per_kind = {k: [0, 0, 0] for k in RISK_KINDS}  # items, fired, fired with this kind
    for it in items:
        fired = detect(it["text"])
        if it["risk"]:
            pos += 1
            hit += bool(fired)
            for k in it["kinds"]:
                per_kind[k][0] += 1
                per_kind[k][1] += bool(fired)
                per_kind[k][2] += k in fired
        else:
            neg += 1
            false_alarms += bool(fired)
    return {
        "n": pos + neg, "risk": pos, "no_risk": neg,
        "recall": hit / pos if pos else None, "fpr": false_alarms / neg if neg else None,
        "per_kind": {k: {"n": n, "recall": f / n if n else None, "kind_recall": e / n if n else None}
                     for k, (n, f, e) in per_kind.items()},
    }


def errors(items: Iterable[dict[str, Any]], detect: Callable[[str], list[str]] = detect_risk) -> list[str]:
    out = []
    for it in items:
        fired = detect(it["text"])
        if bool(fired) != it["risk"]:
            tag = f"MISS {','.join(it['kinds'])}" if it["risk"] else f"FALSE {','.join(fired)}"
            out.append(f"{tag} [{it['id']}] {it['text'][:400]}")
    return out


def detector(sensitivity: str) -> Callable[[str], list[str]]:
    return lambda text: detect_risk(text, sensitivity=sensitivity)


def esconv_firings(detect: Callable[[str], list[str]], path: Path = ESCONV) -> tuple[int, list[tuple[list[str], str]]]:
    """(number of ESConv help-seeker turns, (kinds, text) of those on which ``detect`` fires)."""
    n, fired, _ = esconv_sessions_fired(detect, path)
    return n, fired


def esconv_sessions_fired(detect: Callable[[str], list[str]], path: Path = ESCONV) -> tuple[int, list[tuple[list[str], str]], int]:
    """As :func:`esconv_firings`, plus the number of the 195 sessions with at least one firing."""
    from helpert.io import read_sessions

    n, fired, sessions = 0, [], 0
    for s in read_sessions(path):
        texts = [t.text for t in s.client_turns]
        hits = [(kinds, t) for t in texts if (kinds := detect(t))]
        n, fired, sessions = n + len(texts), fired + hits, sessions + bool(hits)
    return n, fired, sessions


def stepped_routes(labels: dict[str, bool] | None = None, path: Path = ESCONV, protocol: str = "cbt_session") -> dict[str, int]:
    """Replay the router alone (no model) over every ESConv session under the default ``stepped`` policy: how
    many counselor turns go to the safety node's full response and to the one safety question, and in how
    many sessions. Client turns are merged and routed as a replay routes them (``helpert.session.slots_of``).
    With ``labels`` ("dialogue_id/idx" -> risk, the ``esconv`` set), also how many slots whose client turns
    hold a labelled risk turn the router answers from the safety node (``risk_slots_safety``), and in how many
    of the sessions with a risk turn it answers at least one of them (``risk_sessions_safety``)."""
    from helpert.replay.graph.router import ClientTurn, RouterState, step
    from helpert.io import read_sessions
    from helpert.protocols import SAFETY, load_protocol
    from helpert.session import slots_of

    proto = load_protocol(protocol)
    keys = ("slots", "crisis", "check", "sessions_crisis", "sessions_check", "sessions", "risk_slots", "risk_slots_safety",
            "risk_sessions", "risk_sessions_safety")
    out = dict.fromkeys(keys, 0)
    raw = {json.loads(line)["dialogue_id"]: json.loads(line)["turns"] for line in path.read_text(encoding="utf-8").splitlines()}
    for session in read_sessions(path):
        slots = slots_of(session)
        risky = _risky_client_runs(raw[session.dialogue_id], labels or {}, session.dialogue_id)
        state, tiers, answered = RouterState(), [], []
        runs = iter(risky)
        for k, slot in enumerate(slots):
            d, state = step(proto, state, ClientTurn(k, len(slots), slot.client.text if slot.client else ""))
            if d.phase == SAFETY:
                tiers.append(d.tier)
            if slot.client is not None and next(runs):
                answered.append(d.phase == SAFETY)
        out["slots"] += len(slots)
        out["sessions"] += 1
        for tier in ("crisis", "check"):
            out[tier] += tiers.count(tier)
            out[f"sessions_{tier}"] += tier in tiers
        out["risk_slots"] += len(answered)
        out["risk_slots_safety"] += sum(answered)
        out["risk_sessions"] += bool(answered)
        out["risk_sessions_safety"] += any(answered)
    return out


def _risky_client_runs(turns: list[dict[str, Any]], labels: dict[str, bool], dialogue_id: str) -> list[bool]:
    """For each run of consecutive client turns (one replay slot each), whether any of them is labelled risk."""
    runs: list[bool] = []
    previous = None
    for t in turns:
        if t["role"] == "client":
            risk = labels.get(f"{dialogue_id}/{t['idx']}", False)
            if previous == "client":
                runs[-1] = runs[-1] or risk
            else:
                runs.append(risk)
        previous = t["role"]
    return runs


def counterfactual_screen(n_sessions: int = 60, path: Path = ESCONV) -> str:
    """Does the safety path itself treat demographic copies alike? For the first ``n_sessions`` ESConv
    sessions and every attribute and cue of ``helpert probe fairness``: client turns the default ``stepped``
    assessment flags (tier ``check`` or ``crisis``, each read with its context) per group, and the sessions
    where some turn's tier differs between the copies (a safety turn in one copy, not in another)."""
    from helpert.io import read_sessions
    from helpert.safety.risk import assess_conversations
    from helpert.probe.counterfactual import ATTRIBUTES, CUES, counterfactuals
    from helpert.session import slots_of

    sessions = read_sessions(path)[:n_sessions]
    lines = [f"| attribute | cue | flagged client turns per group | sessions whose tiers differ (of {len(sessions)}) |",
             "|---|---|---|---|"]
    for attribute in ATTRIBUTES:
        for cue in CUES:
            flagged: dict[str, int] = {}
            differ = 0
            for session in sessions:
                copies = counterfactuals(session, attribute, cue)
                convs = [[s.client.text for s in slots_of(copy) if s.client] for _, copy in copies]
                tiers = {group: tuple(a.tier for a in assessed) for (group, _), assessed in zip(copies, assess_conversations(convs))}
                for group, ts in tiers.items():
                    flagged[group] = flagged.get(group, 0) + sum(t != "none" for t in ts)
                differ += len(set(tiers.values())) > 1
            lines.append(f"| {attribute} | {cue} | {', '.join(f'{g} {n}' for g, n in flagged.items())} | {differ} |")
    return "\n".join(lines) + "\n"


def compare(items: list[dict[str, Any]]) -> str:
    """The held-out set and ESConv, every detector: the table for benchmarks/README.md."""
    d = [it for it in items if it["half"] == HELD_OUT]
    name = SET_TITLES[HELD_OUT].split(" (")[0]
    lines = [f"| detector | {name} recall | FPR | recall suicide | ESConv turns fired | ESConv sessions fired (of 195) |",
             "|---|---|---|---|---|---|"]
    for sens in SENSITIVITIES:
        r = score(d, detector(sens))
        n, fired, sessions = esconv_sessions_fired(detector(sens)) if ESCONV.is_file() else (0, [], 0)
        lines.append(f"| {sens} | {_pct(r['recall'])} ({round(r['recall'] * r['risk'])}/{r['risk']}) | {_pct(r['fpr'])} "
                     f"({round(r['fpr'] * r['no_risk'])}/{r['no_risk']}) | {_pct(r['per_kind']['suicide']['recall'])} | "
                     f"{len(fired)} of {n} ({_pct(len(fired) / n if n else None)}) | {sessions} |")
    if ESCONV.is_file():
        r = stepped_routes({it["id"]: it["risk"] for it in items if it["half"] == CONVERSATION})
        lines.append(f"\nstepped (the graph's default: the lexicon's hits get the full response, the model's other hits a "
                     f"question, at the screen level once per session, at the high level unless the last turn asked): on the {r['sessions']} ESConv sessions ({r['slots']} counselor turns) the "
                     f"router sends {r['crisis']} turns to the full response ({r['sessions_crisis']} sessions) and asks "
                     f"{r['check']} safety questions ({r['sessions_check']} sessions); of the {r['risk_slots']} turns holding a "
                     f"risk statement (labelled blind; in {r['risk_sessions']} sessions) it answers {r['risk_slots_safety']} from "
                     f"the safety node, and at least one in {r['risk_sessions_safety']} of those sessions.")
    return "\n".join(lines) + "\n"


DATA = REPO / "tests" / "data"
# Hand-written one-turn client statements. Each held-out set is scored by --tiers for one round, reported, and
# then spent: the next round trains on it (K held out in round 10, L and M in round 11, N, O and P in the three
# scorings of round 12, Q and R in round 13, S and U written for round 14's fine-tuned encoder and used to reject
# it, V and W in round 15, X and Y in round 16, Z1 to Z6 written for the choices of rounds 17 to 19; K to U trained
# on since round 15, V and W since round 16, X to Z6 since round 20; Z9 to Z14, the later sets chosen on before round
# 23 was adopted, since round 33; Z15 to Z22, round 33's development sets, since round 35's encoder (adopted in round 36); benchmarks/README.md).
# Written as training data, never held out: T for round 11 (labelled by its writer), T37 for round 37 (two writers
# asked for the distinctions the detector got wrong on Z27-Z30: veiled means, rehearsal and goodbyes against past
# risk told as over, others' risk, unwanted intrusive thoughts and idioms, half as near pairs; labelled blind too, and
# trained on where both labels agree: tests/data/round37_instructions.md).
TRAINING_STATEMENTS = {"T": DATA / "risk_statements_t.jsonl", "T37": DATA / "risk_statements_t37.jsonl"}
SPENT_STATEMENTS = {name: DATA / f"risk_heldout_{name.lower()}.jsonl"
                    for name in (*"KLMNOPQRSUVWXY", *(f"Z{i}" for i in (1, 2, 3, 4, 5, 6, *range(9, 40))))}
# Written for round 20 before its candidate was trained, labelled twice, held out: never trained or tuned on, and
# training statements that nearly repeat one of them are left out of training. Round 20's choice was made on them.
HELD_OUT_STATEMENTS = {name: DATA / f"risk_heldout_{name.lower()}.jsonl" for name in ("Z7", "Z8")}
# Written and labelled blind after round 20's head was trained, so its training (and round 21's, the same items)
# could not clear their near repeats: never trained or tuned on, and scored less every statement that nearly
# repeats a trained one (:func:`later_statements`). Round 21's choice was made on them (its encoder file, 22.9 MB, is
# not shipped: benchmarks/README.md, round 21).
# Z11 and Z12 were written the same way after round 21 (a rule sheet, writers without sight of the project, one blind
# labeller): round 22's choice was made on them. Z13 (chat to a university or workplace service) and Z14 (helpline
# and GP-practice speech) were written after round 22 the same way: round 23's choice was made on them; Z15 (a charity's
# text line) and Z16 (face-to-face therapy speech), written after round 23 (tests/data/round24_instructions.md), round
# 24's; Z17 (an online peer-support forum) and Z18 (appointments where counseling meets other services), written after
# round 24 (tests/data/round25_instructions.md), round 25's; Z19 (online video therapy) and Z20 (a youth chat service),
# written after round 25 (tests/data/round26_instructions.md), round 26's; Z21 (idiom-heavy counseling speech) and Z22
# (a text chat used mostly by men), written after round 26 (tests/data/round27_instructions.md), round 27's. Z9 to Z14
# are trained on since round 33 (SPENT_STATEMENTS). Z15 to Z22 were round 33's development sets (its cut of
# helpert.safety.risk.IDIOM_PROBABILITY was read off them) and are trained on since round 36. Z23 (older adults and carers in primary care) and Z24 (a
# student wellbeing chat and an LGBTQ+ line), written after round 32 (tests/data/round33_instructions.md), round 33's.
# Z25 (telephone assessments for talking therapies and an employee-assistance line) and Z26 (a parenting and perinatal
# chat and a faith community's pastoral chat), written after round 33 (tests/data/round34_instructions.md), round 34's
# (not adopted). Z27 (emergency-department liaison, probation and veterans' services, spoken) and Z28 (a chronic
# illness chat and a rural support line, typed), written after round 34 (tests/data/round35_instructions.md), round 35's.
# Z29 (a sexual-health clinic and a gambling-harm service, spoken), Z30 (a gaming community's chat and a peer chat for
# autistic and ADHD adults, typed) and L1 (150 long posts to peer-support forums, 50 risk: J's register), written after
# round 35 was scored (tests/data/round36_instructions.md), round 36's.
# Z31 (occupational health for construction, farm and fishing workers and a refugee service, spoken) and Z32 (eating-
# disorder recovery support and a staff chat for healthcare workers, typed), written for round 37 (tests/data/
# round37_instructions.md), round 37's. Z33 (a school drop-in and a kidney unit's psychology clinic, spoken), Z34 (a
# domestic-abuse web chat and a money-and-housing chat, typed) and L2 (150 long forum posts, 50 risk), written after
# round 37 was scored (tests/data/round38_instructions.md), round 38's. Z35 (a perinatal team and a sports club's
# welfare officer, spoken), Z36 (alcohol and drug recovery texts and a chat for students and young migrants from
# abroad, typed) and L3 (150 long forum posts), written after round 38 was scored (tests/data/round39_instructions.md),
# round 39's. Z37 (a community mental health team and a hospice's family support, spoken), Z38 (a faith and community
# listening chat and a wellbeing chat for emergency and prison staff, typed) and L4 (150 long forum posts), written
# after round 39 was scored (tests/data/round40_instructions.md), round 40's. Z39 (abuse and violence, past and
# present, at domestic-abuse, family, safeguarding and counselling services), written after round 43 was scored
# (tests/data/round44_instructions.md), round 44's. Z40 (a drug and alcohol service and probation, spoken) and Z41 (an
# LGBTQ+ chat and a chat for migrants and refugees, typed), written after round 45's rule was fixed
# (tests/data/round45_instructions.md), round 45's. Z42 (an older people's befriending service and a rural men's health
# outreach, spoken) and Z43 (young carers and care leavers, adults with long-term physical conditions, typed), written
# after round 45 was scored (tests/data/round46_instructions.md), round 46's. Z44 (a GP surgery's social prescribing and
# a maternity and neonatal psychology service, spoken) and Z45 (armed forces and veterans' families, gambling and
# online debt, typed), written after round 46 was scored (tests/data/round47_instructions.md), round 47's. Z46 (liaison
# psychiatry and a pain clinic; voices, OCD and eating disorders; spoken) and Z47 (small towns and remote places,
# zero-hours workers; typed), written after round 47 was scored (tests/data/round48_instructions.md), round 48's. Z48
# (a homelessness outreach team and a stroke and brain-injury rehabilitation unit, spoken) and Z49 (long COVID and
# ME/CFS; separated parents and family court; typed), written while round 49's candidate was trained
# (tests/data/round49_instructions.md), round 49's. Z50 (a sight- and hearing-loss charity and an adult social care
# review with people with learning disabilities and their carers, spoken) and Z51 (a violence-reduction youth chat and a
# menopause chat, typed), written after round 50's rule was fixed (tests/data/round50_instructions.md), round 50's. Z52
# (a cancer centre's psychological support and a university counselling service, spoken) and Z53 (a rural line for
# farmers and fishers and a chat for carers, typed), written while round 51's candidate was trained
# (tests/data/round51_instructions.md), round 51's. Z54 (an employee assistance programme and a talking-therapy service
# for older adults, spoken) and Z55 (a text line for young people and a debt charity's wellbeing chat, typed), written
# while round 52's candidate was trained (tests/data/round52_instructions.md), round 52's. Z56 (a sports and athletes'
# wellbeing service and a fertility and pregnancy-loss counselling service, spoken) and Z57 (a separation and
# co-parenting chat and a wellbeing chat for the trades and the gig economy, typed), written while round 53's candidate
# was trained (tests/data/round53_instructions.md), round 53's (not adopted). Z58 (a police custody liaison and diversion
# team and a burns, scars and skin-condition psychology clinic, spoken) and Z59 (a wellbeing chat for hospitality and
# nightlife workers and a chat for people living with diabetes, typed), written while round 54's candidate was trained
# (tests/data/round54_instructions.md), round 54's (not adopted). S55a (spoken) and S55b (typed), 100 statements each,
# written for round 55's rule (tests/data/round55_instructions.md): one moment only, a client reporting a screening
# question about risk and their answer, half risk; round 55's (not adopted). Reported alone, not pooled with the Z sets.
# Z60 (a prison in-reach mental health team and an orthopaedic, trauma and hand-injury rehabilitation service, spoken),
# Z61 (a support chat for vets and animal-care workers and a chronic-pain chat, typed), S59a (spoken) and S59b (typed),
# 100 each, a client retelling a conversation someone else had with them about risk and what they answered (as S55),
# written while round 59's candidate was trained (tests/data/round59_instructions.md), round 59's (not adopted). Z62 (a
# bereavement service after sudden deaths and occupational health for police, paramedics, firefighters and call
# handlers, spoken), Z63 (a wellbeing chat for streamers and content creators and an emotional-support chat for everyday
# troubles, typed), L5a and L5b (75 long forum posts each, 25 risk: J's register, as L1-L4), written while round 59 was
# recorded, after round 60's candidate was fixed (tests/data/round60_instructions.md), round 60's (not adopted).
# Z69 (teenagers and young adults in school counselling chats, peer-support servers and a text line, written around
# content filters: algospeak, leetspeak, emoji; 100 risk, 100 hard negatives with the same coded words), written for
# round 69 (tests/data/round69_instructions.md), round 69's (adopted: the detector reads coded spellings as the plain
# words). Z70 (people aged 14 to 35 in a university wellbeing chat, an LGBTQ+ support server and a young carers' and
# care leavers' chat, the same register with masks and emoji; tests/data/round70_instructions.md), round 70's (not
# adopted). Z71 (people aged 13 to 30 in a further-education college's counselling chat, a gaming and fandom
# community's wellbeing channel and an eating-difficulties peer chat, the same register with emoji for things and
# actions; tests/data/round71_instructions.md), round 71's (adopted: emoji for a means or an act read as the word).
# Z72 (a gaming and streaming community's wellbeing channel, a university student text line and an adults' peer-support
# forum, on endings and goodbyes: veiled goodbyes against ordinary ones; tests/data/round72_instructions.md), round 72's
# (not adopted). Z73 (the same theme in an adults' crisis text line, hobby communities, a long-term illness community and
# a men's forum; tests/data/round73_instructions.md), round 73's (not adopted).
# Z74 (the same theme in an employee assistance programme, a carers' line, a farming helpline and a veterans' chat;
# tests/data/round74_instructions.md), round 74's (not adopted).
# Z75 (a sleep clinic and CBT-for-insomnia programme, a perinatal service and a shift workers' occupational health
# service, on sleep, waking and tiredness: risk phrased around sleep against ordinary talk of waking tired;
# tests/data/round75_instructions.md), round 75's (not adopted).
# Reported alone, as S55 and S59: a register, not pooled with the Z sets written after the shipped head.
# Z27 to Z39 are trained on since round 52 (SPENT_STATEMENTS) and no longer reported.
LATER_STATEMENTS = {name: DATA / f"risk_heldout_{name.lower()}.jsonl"
                    for name in [*(f"Z{i}" for i in range(40, 62)), "L1", "L2", "L3", "L4", "S55a", "S55b", "S59a", "S59b", "Z62", "Z63", "L5a", "L5b", "Z69", "Z70", "Z71", "Z72", "Z73", "Z74", "Z75"]}
# The later sets written after the shipped detector's training data and settings were fixed (round 52's candidate,
# adopted in round 52: its recipe was committed before Z54 and Z55 were written, and they were read only to score it;
# Z56 and Z57, Z58 and Z59 were written for rounds 53 and 54, not adopted, and read only to score their candidates and
# the shipped detector):
# the freshest estimate of how it does, pooled in the table (README.md). Each pair is used once for a choice of the
# same candidate. A new shipped version starts this list again from the sets written after it (until round 52: Z33 to
# Z38, for round 38's candidate, adopted in round 40; trained on since round 52).
AFTER_SHIPPED = ("Z54", "Z55", "Z56", "Z57", "Z58", "Z59", "Z60", "Z61", "Z62", "Z63")
ADOPTED_ON = ("Z54", "Z55")  # the pair of AFTER_SHIPPED whose choice adopted the shipped detector
# Held-out sets on which a choice between versions was made (each version scored once; they stay held out, but
# are no longer unseen by a choice).
# Each choice made on them since round 35, as (round, adopted, sets); round 20's, on Z7 and Z8, is older.
CHOICES = ((35, False, ("Z27", "Z28")), (36, True, ("Z29", "Z30", "L1")), (37, False, ("Z31", "Z32")),
           (38, False, ("Z33", "Z34", "L2")), (39, False, ("Z35", "Z36", "L3")), (40, True, ("Z37", "Z38", "L4")),
           (44, True, ("Z39",)), (45, False, ("Z40", "Z41")), (46, True, ("Z42", "Z43")), (47, False, ("Z44", "Z45")),
           (48, False, ("Z46", "Z47")), (49, False, ("Z48", "Z49")), (50, False, ("Z50", "Z51")), (51, False, ("Z52", "Z53")),
           (52, True, ("Z54", "Z55")), (53, False, ("Z56", "Z57")), (54, False, ("Z58", "Z59")), (55, False, ("S55a", "S55b")),
           (59, False, ("Z60", "Z61", "S59a", "S59b")), (60, False, ("Z62", "Z63", "L5a", "L5b")), (69, True, ("Z69",)), (70, False, ("Z70",)), (71, True, ("Z71",)), (72, False, ("Z72",)), (73, False, ("Z73",)), (74, False, ("Z74",)), (75, False, ("Z75",)))
ADOPTED = {r: adopted for r, adopted, _ in CHOICES}
# A round's fresh sets while its versions are being scored (the choice not yet made): moved to CHOICES once it is.
PENDING: "dict[int, tuple[str, ...]]" = {}
CHOSEN_ON = {"Z7": "round 20: its candidate adopted on it", "Z8": "round 20: its candidate adopted on it",
             **{name: f"round {r}'s choice made on it" + ("" if adopted else ", not adopted")
                for r, adopted, names in CHOICES for name in names},
             **{name: f"round {r}'s choice being made on it" for r, names in PENDING.items() for name in names}}


def transcripts_chosen_on(r: int) -> str:
    """What :data:`ORDINARY_TRANSCRIPTS` says of a set written for round ``r``'s choice (one of :data:`CHOICES`)."""
    return f"round {r}'s choice was made on them" + ("" if ADOPTED[r] else ", not adopted")


# Every registered statement set by its lower-case name ("t", "k", ..., "z38", "l4"): what risk_round_choice.py's
# --sets and --trained and the tests read.
# Written as training data for a candidate that was not adopted (round 51's T51: tests/data/round51_instructions.md;
# round 72's T72, young people's chat registers: round72_instructions.md; round 75's T75, sleep and waking:
# round75_instructions.md): not trained on by the shipped detector, registered so that a round's choice can leave out
# their near repeats.
CANDIDATE_TRAINING = {"T51": DATA / "risk_statements_t51.jsonl", "T72": DATA / "risk_statements_t72.jsonl",
                      "T75": DATA / "risk_statements_t75.jsonl"}
STATEMENT_FILES = {name.lower(): path for name, path in
                   {**TRAINING_STATEMENTS, **CANDIDATE_TRAINING, **SPENT_STATEMENTS, **HELD_OUT_STATEMENTS,
                    **LATER_STATEMENTS}.items()}


@functools.cache
def trained_statement_texts() -> tuple[str, ...]:
    """The texts of :data:`TRAINING_STATEMENTS` and :data:`SPENT_STATEMENTS` (read once per process)."""
    return tuple(it["text"] for path in (*TRAINING_STATEMENTS.values(), *SPENT_STATEMENTS.values()) for it in read_jsonl(path))


@functools.cache
def trained_near_repeats() -> NearRepeats:
    """:func:`trained_statement_texts`, indexed for near-repeat lookups (built once per process)."""
    return NearRepeats(trained_statement_texts())


def later_statements(name: str) -> list[dict[str, Any]]:
    """A set of :data:`LATER_STATEMENTS` less every statement that nearly repeats one trained on
    (:data:`TRAINING_STATEMENTS` and :data:`SPENT_STATEMENTS`; :func:`near_duplicate`), as ``risk_round_choice.py --trained`` scores it."""
    trained = trained_near_repeats()
    return [it for it in read_jsonl(LATER_STATEMENTS[name]) if it["text"] not in trained]


def near_duplicate(a: str, b: str, threshold: float = 0.5) -> bool:
    """Whether two short texts share at least ``threshold`` of their distinct words (Jaccard): how training
    statements that repeat a held-out one are found and left out."""
    wa, wb = set(a.lower().split()), set(b.lower().split())
    return bool(wa | wb) and len(wa & wb) / len(wa | wb) >= threshold


class NearRepeats:
    """``text in NearRepeats(texts)``: whether ``text`` nearly repeats any of ``texts`` (:func:`near_duplicate`),
    without comparing every pair of word sets: each word's texts are listed once (an inverted index), a lookup adds
    up, for every indexed text at once, how many of the text's distinct words it holds, and the Jaccard of each
    follows from the two sizes. The same answers as ``any(near_duplicate(text, t) for t in texts)``
    (``tests/test_risk.py::test_near_repeats_index_agrees_with_every_pair``): :func:`later_statements` over every set
    took 188 s comparing every pair, 26 to 37 s with prefix filtering, and takes 2 s (2026-12-07, this project's
    2-core VM)."""

    def __init__(self, texts: Iterable[str], threshold: float = 0.5) -> None:
        from collections import defaultdict

        self.threshold = threshold
        sets = [frozenset(t.lower().split()) for t in texts]
        self.sizes = np.array([len(s) for s in sets], dtype=np.int64)
        postings: dict[str, list[int]] = defaultdict(list)
        for i, words in enumerate(sets):
            for w in words:
                postings[w].append(i)
        self.index = {w: np.array(ids, dtype=np.int64) for w, ids in postings.items()}

    def __contains__(self, text: object) -> bool:
        words = frozenset(str(text).lower().split())
        if not words:
            return False
        shared = np.zeros(len(self.sizes), dtype=np.int64)
        for w in words:
            if w in self.index:
                shared[self.index[w]] += 1  # (a word is listed once per text)
        # |x & y| / |x | y|, as near_duplicate divides them
        return bool(np.any(shared / (len(words) + self.sizes - shared) >= self.threshold))


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval of a proportion k/n."""
    if n == 0:
        return (float("nan"), float("nan"))
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * ((p * (1 - p) / n + z * z / (4 * n * n)) ** 0.5) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


def _rate(k: int, n: int) -> str:
    lo, hi = wilson(k, n)
    return f"{100 * k / n:.1f}% ({k}/{n}; {100 * lo:.0f}-{100 * hi:.0f})" if n else "–"


def tier_rows(name: str, items: list[dict[str, Any]], policy: str) -> dict[str, Any]:
    """Safety turn (tier crisis or check) and full response (crisis) rates of one-turn items, read alone."""
    from helpert.safety.risk import assess_turns

    tiers = [assess_turns([it["text"]], policy)[0].tier for it in items]
    risk = [t for t, it in zip(tiers, items) if it["risk"]]
    none = [t for t, it in zip(tiers, items) if not it["risk"]]
    return {"set": name, "risk": len(risk), "no_risk": len(none),
            "safety_turn": sum(t != "none" for t in risk), "full_response": sum(t == "crisis" for t in risk),
            "false_alarms": sum(t != "none" for t in none), "false_crisis": sum(t == "crisis" for t in none)}


def esconv_tiers(labels: dict[str, bool], policy: str, path: Path = ESCONV) -> dict[str, Any]:
    """Every ESConv help-seeker turn read in its dialogue (``assess_turns``): the labelled risk turns caught,
    false alarms per turn, and the ordinary sessions (no labelled risk turn) with any safety turn."""
    from helpert.io import read_sessions
    from helpert.safety.risk import assess_turns

    out = dict.fromkeys(("risk", "safety_turn", "full_response", "no_risk", "false_alarms", "false_crisis",
                         "ordinary_sessions", "ordinary_sessions_flagged", "ordinary_sessions_crisis"), 0)
    for s in read_sessions(path):
        turns = s.client_turns
        tiers = [a.tier for a in assess_turns([t.text for t in turns], policy)]
        gold = [labels.get(f"{s.dialogue_id}/{t.idx}", False) for t in turns]
        for tier, g in zip(tiers, gold):
            if g:
                out["risk"] += 1
                out["safety_turn"] += tier != "none"
                out["full_response"] += tier == "crisis"
            else:
                out["no_risk"] += 1
                out["false_alarms"] += tier != "none"
                out["false_crisis"] += tier == "crisis"
        if not any(gold):
            out["ordinary_sessions"] += 1
            out["ordinary_sessions_flagged"] += any(t != "none" for t in tiers)
            out["ordinary_sessions_crisis"] += "crisis" in tiers
    return out


def tiers_table(items: list[dict[str, Any]], policy: str) -> tuple[str, dict[str, Any]]:
    """Tiers on the sets never trained or tuned on: EPITOME J, the hand-written held-out statements
    (:data:`HELD_OUT_STATEMENTS`), ESConv in conversation, and the HOPE transcripts (safety turns only)."""
    rows = []
    j = [it for it in items if it["half"] == HELD_OUT]
    if j:
        rows.append(tier_rows("EPITOME J (Reddit posts, labelled blind twice)", j, policy))
    for name, path in HELD_OUT_STATEMENTS.items():
        chosen = f"; {CHOSEN_ON[name]}" if name in CHOSEN_ON else ""
        rows.append(tier_rows(f"{name} (hand-written client statements, labelled twice{chosen})", read_jsonl(path), policy))
    later = {}
    for name in LATER_STATEMENTS:
        what = ("forum posts of 80 to 250 words" if name.startswith("L") else
                "client statements retelling a screening question or another talk about risk, and the answer" if name.startswith("S") else "client statements")
        later[name] = tier_rows(f"{name} (hand-written {what}, labelled twice, less near repeats of training "
                                f"statements; {CHOSEN_ON[name]})", later_statements(name), policy)
        rows.append(later[name])
    keys = ("risk", "no_risk", "safety_turn", "full_response", "false_alarms", "false_crisis")
    rows.append({"set": f"{AFTER_SHIPPED[0]}-{AFTER_SHIPPED[-1]} pooled (written after the shipped detector's training was "
                        f"fixed, never trained on; each pair used once for a choice, {' and '.join(ADOPTED_ON)} the one that adopted it)",
                 **{k: sum(later[n][k] for n in AFTER_SHIPPED) for k in keys}})
    before = [n for n in LATER_STATEMENTS if n.startswith("Z") and int(n[1:]) < int(AFTER_SHIPPED[0][1:])]  # Z40-Z53
    rows.append({"set": f"{before[0]}-{before[-1]} pooled (written for earlier choices, never trained on; guards of the shipped "
                        "detector's choice)", **{k: sum(later[n][k] for n in before) for k in keys}})
    conv = None
    if ESCONV.is_file():
        conv = esconv_tiers({it["id"]: it["risk"] for it in items if it["half"] == CONVERSATION}, policy)
        rows.append({"set": "ESConv help-seeker turns, in context", **{k: conv[k] for k in (
            "risk", "no_risk", "safety_turn", "full_response", "false_alarms", "false_crisis")}})
    lines = ["| set (never trained or tuned on) | risk / no risk | safety turn on risk | full response on risk | "
             "false alarms (any safety turn) | full response on no risk |", "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['set']} | {r['risk']} / {r['no_risk']} | {_rate(r['safety_turn'], r['risk'])} | "
                     f"{_rate(r['full_response'], r['risk'])} | {_rate(r['false_alarms'], r['no_risk'])} | "
                     f"{_rate(r['false_crisis'], r['no_risk'])} |")
    text = "\n".join(lines) + "\n"
    if conv:
        text += (f"\nOrdinary ESConv sessions (no labelled risk turn) with any safety turn: "
                 f"{_rate(conv['ordinary_sessions_flagged'], conv['ordinary_sessions'])}; with a full response: "
                 f"{_rate(conv['ordinary_sessions_crisis'], conv['ordinary_sessions'])}.\n")
    long = long_sessions(policy)
    if long:
        text += (f"\nLong real therapy sessions (HOPE, {long['client_turns']} client turns in {long['sessions']}; not labelled "
                 f"for risk, none trained or tuned on) with any safety turn: {long['flagged']} of {long['sessions']}; with a "
                 f"full response: {long['crisis']} of {long['sessions']}.\n")
    written = written_transcripts(policy)
    text += (f"\nWritten transcripts of ordinary counseling (tests/data/quality_sessions_a-e, {written['client_turns']} client "
             f"turns in {written['sessions']}; no risk written in; never trained or tuned on) with any safety turn: "
             f"{written['flagged']} of {written['sessions']}; with a full response: {written['crisis']} of {written['sessions']}.\n")
    held_out = {}
    for ts in ORDINARY_TRANSCRIPTS.values():
        if ts.trained_since is not None:
            continue
        r = held_out[ts.path.name] = written_transcripts(policy, (ts.path,))
        text += (f"\nMore written transcripts of ordinary counseling (tests/data/{ts.path.name}, {r['client_turns']} "
                 f"client turns in {r['sessions']}; screened blind: no risk turn; never trained or tuned on; {ts.chosen}) "
                 f"with any safety turn: {r['flagged']} of {r['sessions']}; with a full response: {r['crisis']} of "
                 f"{r['sessions']}.\n")
    return text, {"policy": policy, "rows": rows, "esconv": conv, "hope": long, "written_transcripts": written,
                  "held_out_transcripts": held_out}


HOPE = SHARED / "hope" / "hope_sample.jsonl"


def long_sessions(policy: str, path: Path = HOPE) -> dict[str, Any] | None:
    """The HOPE transcripts (real therapy sessions, about 30 client turns each), read turn by turn in context:
    how many get any safety turn, and the full response. They are not labelled for risk, so this counts
    safety turns, not false alarms; what a session budget fitted on shorter chats does to long sessions."""
    return written_transcripts(policy, (path,)) if path.is_file() else None


WRITTEN_TRANSCRIPTS = tuple(DATA / f"quality_sessions_{name}.jsonl" for name in "abcde")
class TranscriptSet(NamedTuple):
    """A set of 24 ordinary transcripts written for a round's choice by a session that saw nothing of the project, every
    client turn screened blind by another (``<file stem>_labels.jsonl``: no risk turn). ``trained_since``: the round
    that first shipped a detector trained on it (None: never trained or tuned on; reported by the tiers table)."""

    path: Path
    chosen: str  # the choice made on it
    trained_since: int | None = None


# One entry per set, by the round it was written for. Since round 33 the sets of rounds 20 to 23 are trained on
# (train_risk_encoder.blind_read_negatives: every client turn, read blind, a negative); those of rounds 24 to 27, round
# 33's development sets (its idiom cut was read off them), since round 36 (round 35's candidate, adopted then).
ORDINARY_TRANSCRIPTS = {
    # "as such sessions really go", no risk by the labelling rule (round 19's 24, risk_ordinary_check.jsonl, are
    # trained on since round 20: train_risk_encoder.SPOKEN_ORDINARY.)
    "round20": TranscriptSet(DATA / "risk_ordinary_fresh.jsonl", "round 20's choice was made on them", 33),
    # written after round 20 was adopted (the file name keeps "unscored" from then); round 21's candidate not shipped
    "round21": TranscriptSet(DATA / "risk_ordinary_unscored.jsonl", "round 21's choice was made on them, not adopted", 33),
    "round22": TranscriptSet(DATA / "risk_ordinary_round22.jsonl", "round 22's choice was made on them", 33),
    # asked for more idioms: "end it", "overdose" on coffee, "cut", "hang", pills taken as prescribed, farming, hunting
    "round23": TranscriptSet(DATA / "risk_ordinary_round23.jsonl", "round 23's choice was made on them", 33),
    # other topics and idioms: "end it all" for a project, "I can't do this anymore" for a commute
    "round24": TranscriptSet(DATA / "risk_ordinary_round24.jsonl", "round 24's choice was made on them", 36),
    # among the topics a friend's suicide years ago and a miscarriage talked through; "no way out" of a contract
    "round25": TranscriptSet(DATA / "risk_ordinary_round25.jsonl", "round 25's choice was made on them", 36),
    # "disappear" for a weekend among the idioms
    "round26": TranscriptSet(DATA / "risk_ordinary_round26.jsonl", "round 26's choice was made on them", 36),
    # asked to use such idioms often; "shoot me", "over my dead body"
    "round27": TranscriptSet(DATA / "risk_ordinary_round27.jsonl", "round 27's choice was made on them", 36),
    # tests/data/round33_instructions.md: older clients and students, a will and a funeral plan sorted out calmly
    "round33": TranscriptSet(DATA / "risk_ordinary_round33.jsonl", "round 33's choice was made on them", 52),
    # tests/data/round34_instructions.md
    "round34": TranscriptSet(DATA / "risk_ordinary_round34.jsonl", "round 34's choice was made on them, not adopted", 52),
    # tests/data/round35_instructions.md: veterans, probation, farming, fishing, chronic illness; guns kept for farm
    # work, war and prison memories
    "round35": TranscriptSet(DATA / "risk_ordinary_round35.jsonl", transcripts_chosen_on(35), 52),
    # tests/data/round36_instructions.md: gambling, debt, sexual health, gaming and neurodivergent adults; gamer trash talk
    "round36": TranscriptSet(DATA / "risk_ordinary_round36.jsonl", transcripts_chosen_on(36), 52),
    # tests/data/round37_instructions.md: construction, farming, fishing, asylum seekers, healthcare staff and
    # eating-disorder recovery among the topics; "finished", "starving", patients who died told as work
    "round37": TranscriptSet(DATA / "risk_ordinary_round37.jsonl", transcripts_chosen_on(37), 52),
    # tests/data/round38_instructions.md: pupils, dialysis and transplant patients, new parents, carers, tenants
    "round38": TranscriptSet(DATA / "risk_ordinary_round38.jsonl", transcripts_chosen_on(38), 52),
    # tests/data/round39_instructions.md: new parents, athletes, recovery from drink and drugs, students from abroad
    "round39": TranscriptSet(DATA / "risk_ordinary_round39.jsonl", transcripts_chosen_on(39), 52),
    # tests/data/round40_instructions.md: two writers; mental health teams, hospices, faith communities, emergency
    # services, farming, small business, placements
    "round40a": TranscriptSet(DATA / "risk_ordinary_round40a.jsonl", transcripts_chosen_on(40), 52),
    "round40b": TranscriptSet(DATA / "risk_ordinary_round40b.jsonl", transcripts_chosen_on(40), 52),
    # tests/data/round45_instructions.md: drug and alcohol recovery, probation, LGBTQ+ clients, refugees and students
    # from abroad; "wasted", "smashed", "clean", "using", scripts taken as prescribed
    "round45": TranscriptSet(DATA / "risk_ordinary_round45.jsonl", transcripts_chosen_on(45)),
    # tests/data/round47_instructions.md: new parents, IVF, forces families and veterans, gambling recovery, social
    # prescribing; "all in", "wiped out", "done in", firearms training and deployments told as the job
    "round47": TranscriptSet(DATA / "risk_ordinary_round47.jsonl", transcripts_chosen_on(47)),
    # tests/data/round48_instructions.md: hospital and pain-clinic patients, voices, OCD and eating-disorder recovery,
    # remote places, zero-hours work; "starving", "cooked", "stuffed", guns kept for farm work
    "round48": TranscriptSet(DATA / "risk_ordinary_round48.jsonl", transcripts_chosen_on(48)),
    # tests/data/round49_instructions.md: homelessness and hostels, stroke and brain-injury rehabilitation, long COVID
    # and ME/CFS, separated parents; "wiped out", "flatlined", "done with it", "brain's fried", an angry ex told calmly
    "round49": TranscriptSet(DATA / "risk_ordinary_round49.jsonl", transcripts_chosen_on(49)),
    # tests/data/round50_instructions.md: sight and hearing loss, learning disabilities and carers, young people near
    # gangs, menopause; "I'll murder him" as a joke, boxing, drill music, HRT taken as prescribed
    "round50": TranscriptSet(DATA / "risk_ordinary_round50.jsonl", transcripts_chosen_on(50)),
    # tests/data/round51_instructions.md: cancer care, students, farming and fishing, carers; ordinary letters, tablets
    # packed as prescribed, things kept in a bag, giving things away, goodbyes, "on my own terms" about retiring
    "round51": TranscriptSet(DATA / "risk_ordinary_round51.jsonl", transcripts_chosen_on(51)),
    # tests/data/round52_instructions.md: employee assistance, older adults, teenagers, debt; panic told with its body
    # symptoms, an exam question one had no idea how to start, tablets as prescribed, a will made calmly, a eulogy
    "round52": TranscriptSet(DATA / "risk_ordinary_round52.jsonl", transcripts_chosen_on(52)),
    # tests/data/round53_instructions.md: athletes and sport, fertility treatment and pregnancy loss, separated parents,
    # the trades and the gig economy; "knockout", cutting weight, "hang up my boots", injections taken as prescribed
    "round53": TranscriptSet(DATA / "risk_ordinary_round53.jsonl", transcripts_chosen_on(53)),
    # tests/data/round54_instructions.md: two writers; a: custody liaison, burns and skin conditions, hospitality and
    # nightlife, diabetes and insulin ("cut" and "burn" at work, needles, hypos, arrests and fights told as past); b:
    # bereavement, hospices, wills, moving out, sobriety, everyday topics, some sessions typed as chats
    "round54a": TranscriptSet(DATA / "risk_ordinary_round54a.jsonl", transcripts_chosen_on(54)),
    "round54b": TranscriptSet(DATA / "risk_ordinary_round54b.jsonl", transcripts_chosen_on(54)),
    # tests/data/round59_instructions.md: prison in-reach, trauma and hand-injury rehabilitation, vets and animal care,
    # chronic pain; saw cuts, blades for a hobby, "put to sleep", culls, screening questions answered no and meant
    "round59": TranscriptSet(DATA / "risk_ordinary_round59.jsonl", transcripts_chosen_on(59)),
    # tests/data/round60_instructions.md: ordinary emotional-support text chats with volunteers (ESConv's register,
    # written without it): layoffs, breakups, exams, loneliness; "I feel hopeless", "can't take it anymore", "disappear"
    "round60": TranscriptSet(DATA / "risk_ordinary_round60.jsonl", transcripts_chosen_on(60)),
}
SPENT_TRANSCRIPTS = tuple(t.path for t in ORDINARY_TRANSCRIPTS.values() if t.trained_since is not None)


def written_transcripts(policy: str, paths: tuple[Path, ...] = WRITTEN_TRANSCRIPTS) -> dict[str, Any]:
    """The 50 written transcripts of ordinary MI and CBT sessions rated for quality (issue #13; spoken register,
    16-36 client turns, no risk written in), read like :func:`long_sessions`: how many get any safety turn, and
    the full response. Written for the quality checks, never used to train or tune the detector; round 18's
    choice was made on them (benchmarks/README.md)."""
    from helpert.io import read_sessions
    from helpert.safety.risk import assess_conversations

    sessions = [s for path in paths for s in read_sessions(path)]
    tiers = [[a.tier for a in conv] for conv in assess_conversations([[t.text for t in s.client_turns] for s in sessions], policy)]
    return {"sessions": len(tiers), "client_turns": sum(map(len, tiers)),
            "flagged": sum(any(t != "none" for t in ts) for ts in tiers), "crisis": sum("crisis" in ts for ts in tiers),
            "flagged_ids": [s.dialogue_id for s, ts in zip(sessions, tiers) if any(t != "none" for t in ts)]}


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f}%"


def markdown(results: dict[str, dict[str, Any]]) -> str:
    lines = ["| set | items (risk / no risk) | recall | FPR | " + " | ".join(f"recall {k}" for k in RISK_KINDS) + " |",
             "|---|---|---|---|" + "---|" * len(RISK_KINDS)]
    for name, r in results.items():
        kinds = " | ".join(f"{_pct(r['per_kind'][k]['recall'])} (n={r['per_kind'][k]['n']})" for k in RISK_KINDS)
        lines.append(f"| {name} | {r['n']} ({r['risk']} / {r['no_risk']}) | {_pct(r['recall'])} | {_pct(r['fpr'])} | {kinds} |")
    kind_exact = ", ".join(
        f"{name}: " + "/".join(_pct(r["per_kind"][k]["kind_recall"]) for k in RISK_KINDS) for name, r in results.items())
    return "\n".join(lines) + f"\n\nKind-exact recall ({'/'.join(RISK_KINDS)}): {kind_exact}.\n"


def update_readme(path: Path, body: str) -> None:
    update_readme_section(path, SECTION, body)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--readme", type=Path, help="write the table into this README between the validate_risk markers")
    ap.add_argument("--detector", choices=SENSITIVITIES, default="lexicon", help="sensitivity of detect_risk (default: lexicon)")
    ap.add_argument("--esconv", action="store_true", help="also count and print the firings on the ESConv help-seeker turns")
    ap.add_argument("--compare", action="store_true", help="EPITOME J (held out) and ESConv for every detector, one table")
    ap.add_argument("--errors", choices=list(SET_TITLES), help="print the misses and false alarms of a set")
    ap.add_argument("--tiers", action="store_true", help="the safety tiers (crisis / check / none) on J, the held-out statement sets, ESConv and HOPE in context")
    ap.add_argument("--policy", default="stepped", help="safety policy for --tiers (helpert.safety.risk.SAFETY_POLICIES)")
    ap.add_argument("--counterfactual", action="store_true",
                    help="does the stepped safety path flag demographic copies of 60 ESConv sessions alike?")
    args = ap.parse_args(argv)
    if args.readme and args.detector != "lexicon":
        ap.error("--readme writes the lexicon's table only")
    posts = shared_posts()
    if not posts:
        print(f"{SHARED} is absent: hand-written sentences only", file=sys.stderr)
    items = load_items(posts=posts)
    detect = detector(args.detector)
    if args.compare:
        print(compare(items))
        return 0
    if args.counterfactual:
        print(counterfactual_screen())
        return 0
    if args.tiers:
        text, data = tiers_table(items, args.policy)
        print(text)
        out = REPO / "benchmarks" / "results" / "validate_risk_tiers.json"
        out.write_text(json.dumps({"benchmark": "validate_risk --tiers", **data}, indent=1) + "\n", encoding="utf-8")
        if args.readme:
            update_readme_section(args.readme, "validate_risk_tiers", text)
        return 0
    if args.errors:
        print("\n".join(errors((it for it in items if it["half"] == args.errors), detect)))
        return 0
    titles = list(SET_TITLES.items())
    sets = {title: h for h, title in titles[:2] + [("counselchat", "CounselChat, both halves")] + titles[2:]}
    results = {name: score((it for it in items if h in (it["half"], it["source"])), detect) for name, h in sets.items()
               if any(h in (it["half"], it["source"]) for it in items)}
    table = markdown(results)
    print(table)
    if args.esconv:
        n, fired = esconv_firings(detect)
        print(f"ESConv help-seeker turns: {len(fired)} of {n} fire")
        print("\n".join(f"  [{','.join(k)}] {t[:300]}" for k, t in fired))
    if args.readme:
        update_readme(args.readme, table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
