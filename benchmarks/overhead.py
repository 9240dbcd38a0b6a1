"""Target: tokens/s of a replay through helpert ÷ tokens/s of raw llama-cpp-python generating the same
tokens from the same prompts with the same model, threads and context, in the same process: ≥ 0.95.

helpert's side is a full `replay_session` (graph, router, cleaning, LangChain adapter). The raw side
feeds `Llama.generate` the exact token prompts helpert built, with the same per-call seeds and sampling
settings, and stops after the same number of tokens, with llama-cpp-python's own prefix reuse. Both
sides decode greedily: with sampling, a cached-prefix and a cold evaluation differ in the last bits of
the logits, the two sides then sample different replies, and the raw side has to re-read helpert's reply
from the next prompt, i.e. does more work. Greedy decoding does the same work per token and makes the
outputs comparable: the share of calls whose raw output is token-identical to helpert's is reported
(100%: both sides did exactly the same model work). Rounds alternate (helpert, raw, helpert, raw, …) so that drift in machine load hits
both; the median ratio is reported.

The two sides run tens of seconds apart, so on a shared VM the ratio of one round swings by ±15% with
the machine, not with helpert. A steadier view of the same question is measured inside each helpert
round: the share of the replay's wall time spent inside the engine's generate call (llama-cpp-python
evaluating and sampling, plus helpert's per-token stop-string check); the rest (graph, router,
checkpoints, prompt building, cleaning, LangChain) is helpert's overhead, so ``model_time_share`` is
what the ratio would be if raw llama-cpp-python took exactly the engine's time.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import long_session, report  # noqa: E402


def main(rounds: int = 9, turns: int = 12) -> None:
    from helpert.replay.llm import load_backend
    from helpert.replay.llm.engine import Sampling
    from helpert.protocols import load_protocol
    from helpert.replay import ReplaySettings, replay_session

    session = long_session()
    proto = load_protocol("cbt_session")
    s = Sampling(temperature=0.0, max_tokens=96)  # greedy: see the module docstring
    backend = load_backend(None, n_ctx=4096, sampling=s)
    engine = backend.chat.engine
    llm = engine.llm
    prompts: list[tuple[list[int], int, list[int]]] = []  # prompt tokens, seed, generated tokens

    real_generate = engine.generate
    clock = {"model": 0.0, "bookkeeping": 0.0}

    def recording_generate(messages, **kw):
        t0 = time.perf_counter()
        gen = real_generate(messages, **kw)
        t1 = time.perf_counter()
        prompts.append((engine.prompt_tokens(messages), kw["seed"], gen.tokens))
        clock["model"] += t1 - t0
        clock["bookkeeping"] += time.perf_counter() - t1  # the benchmark's own work: not charged to helpert
        return gen

    engine.generate = recording_generate
    ratios, h_rates, r_rates, identical, model_shares = [], [], [], [], []
    for r in range(rounds):
        prompts.clear()
        clock.update(model=0.0, bookkeeping=0.0)
        backend.reset()
        t0 = time.perf_counter()
        replay_session(session, backend, ReplaySettings(proto, seed=r, max_turns=turns))
        t_h = time.perf_counter() - t0 - clock["bookkeeping"]
        model_shares.append(clock["model"] / t_h)
        n = sum(len(g) for _, _, g in prompts)
        backend.reset()
        same = 0
        t0 = time.perf_counter()
        for tokens, seed, generated in prompts:
            if not generated:
                continue
            llm.set_seed(seed)
            out = []
            for token in llm.generate(tokens, temp=s.temperature, top_p=s.top_p, top_k=s.top_k, min_p=s.min_p,
                                      repeat_penalty=s.repeat_penalty, reset=True):
                out.append(token)
                if len(out) >= len(generated):
                    break
            same += out == generated
        t_r = time.perf_counter() - t0
        identical.append(same / sum(bool(g) for _, _, g in prompts))
        h_rates.append(n / t_h)
        r_rates.append(n / t_r)
        ratios.append(t_r / t_h)
        print(f"round {r}: {n} tokens; helpert {n / t_h:.1f} tok/s, raw {n / t_r:.1f} tok/s, ratio {t_r / t_h:.3f}, "
              f"raw output identical on {identical[-1]:.0%} of calls", flush=True)
    report("overhead", {
        "target": "helpert tok/s ÷ raw tok/s ≥ 0.95", "session": session.dialogue_id, "turns": turns, "rounds": rounds,
        "helpert_tok_s": [round(x, 1) for x in h_rates], "raw_tok_s": [round(x, 1) for x in r_rates],
        "ratios": [round(x, 3) for x in ratios], "raw_identical_share": [round(x, 3) for x in identical],
        "model_time_share": [round(x, 4) for x in model_shares],
        "median_model_time_share": round(statistics.median(model_shares), 4), "median_ratio": round(statistics.median(ratios), 3),
        "met": statistics.median(ratios) >= 0.95,
    })


if __name__ == "__main__":
    main()
