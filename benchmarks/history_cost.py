"""Target: over a 30-turn replay, the prompt-evaluation time of turn 30 within 10% of the floor set by
evaluating only the new tokens of each turn, on the same machine, in the same run.

Timings are wall-clock around the evaluation (llama-cpp-python builds its context with performance
counters off): for helpert, the engine's time to the first token (prompt evaluation plus one sampling
step, which slightly favours the floor). Three conditions on the same prompts:
- helpert: the replay as it runs (the cached prefix is whatever the previous turn left);
- floor: a cache holding exactly the previous prompt plus the tokens generated for it, then only the
  tokens past that point are evaluated (timed);
- re-read: the whole prompt evaluated from an empty cache (what a router or judge call between turns
  would cause by evicting the cache).
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import long_session, report  # noqa: E402


def _timed_eval(llm, tokens) -> float:
    t0 = time.perf_counter()
    llm.eval(tokens)
    return (time.perf_counter() - t0) * 1000


def main(turns: int = 30) -> None:
    from helpert.replay.llm import load_backend
    from helpert.protocols import load_protocol
    from helpert.replay import ReplaySettings, replay_session

    session = long_session(turns)
    proto = load_protocol("cbt_session")
    backend = load_backend(None, n_ctx=8192)
    engine = backend.chat.engine
    llm = engine.llm
    rows: list[dict] = []
    real_generate = engine.generate

    def timed_generate(messages, **kw):
        gen = real_generate(messages, **kw)
        prompt = engine.prompt_tokens(messages)
        rows.append({"prompt": prompt, "evaluated": gen.tokens[: gen.n_evaluated], "helpert_ms": gen.prompt_ms,
                     "helpert_n": len(prompt) - gen.cached_tokens, "cached": gen.cached_tokens})
        return gen

    engine.generate = timed_generate
    backend.reset()
    replay_session(session, backend, ReplaySettings(proto, seed=0, max_turns=turns))
    # floor: only the tokens past (previous prompt + its generated tokens)
    backend.reset()
    held: list[int] = []
    for i, row in enumerate(rows):
        prompt = row["prompt"]
        start = min(len(rows[i - 1]["prompt"]) + len(rows[i - 1]["evaluated"]), len(prompt) - 1) if i else 0
        cp = 0
        for a, b in zip(held, prompt):
            if a != b:
                break
            cp += 1
        cp = min(cp, start)
        llm.n_tokens = cp
        llm.eval(prompt[cp:start])  # untimed: bring the cache to exactly `start` tokens
        row["floor_ms"] = _timed_eval(llm, prompt[start:])
        row["floor_n"] = len(prompt) - start
        for t in row["evaluated"]:
            llm.eval([t])
        held = list(llm.input_ids[: llm.n_tokens])
    # re-read: whole prompt from an empty cache, at a few turns
    for i in sorted({1, len(rows) // 2, len(rows) - 1}):
        backend.reset()
        rows[i]["reread_ms"] = _timed_eval(llm, rows[i]["prompt"])

    last = rows[-1]
    tail = rows[-5:]
    ratio_last = last["helpert_ms"] / last["floor_ms"]
    ratio_tail = statistics.mean(r["helpert_ms"] for r in tail) / statistics.mean(r["floor_ms"] for r in tail)
    result = {
        "target": "helpert prompt-eval ms at the last turn within 10% of the floor", "session": session.dialogue_id,
        "turns": len(rows), "context_tokens_last_turn": len(last["prompt"]),
        "per_turn": [{"turn": i + 1, "prompt_tokens": len(r["prompt"]), "cached": r["cached"],
                      "helpert_ms": round(r["helpert_ms"], 1), "helpert_tokens": r["helpert_n"],
                      "floor_ms": round(r["floor_ms"], 1), "floor_tokens": r["floor_n"],
                      **({"reread_ms": round(r["reread_ms"], 1)} if "reread_ms" in r else {})} for i, r in enumerate(rows)],
        "helpert_last_over_floor_last": round(ratio_last, 3),
        "helpert_over_floor_last5_mean": round(ratio_tail, 3),
        # deterministic, unlike the timings: prompt tokens evaluated, helpert vs floor (last 5 turns, all turns);
        # helpert evaluates more wherever cleaning cut a reply: past the cut the prompt differs from the cache
        "tokens_last5": [sum(r["helpert_n"] for r in tail), sum(r["floor_n"] for r in tail)],
        "tokens_all": [sum(r["helpert_n"] for r in rows), sum(r["floor_n"] for r in rows)],
        "turn_last_over_turn2": {"helpert": round(last["helpert_ms"] / rows[1]["helpert_ms"], 2),
                                 "floor": round(last["floor_ms"] / rows[1]["floor_ms"], 2),
                                 "reread": round(last["reread_ms"] / rows[1]["reread_ms"], 2)},
        "met": ratio_tail <= 1.10,
    }
    report("history_cost", result)


if __name__ == "__main__":
    main()
