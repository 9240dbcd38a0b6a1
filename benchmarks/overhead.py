"""Target: tokens/s of a replay through helpert ÷ tokens/s of raw llama-cpp-python generating the same
tokens from the same prompts with the same model, threads and context, in the same process: ≥ 0.95.

helpert's side is a full `replay_session` (graph, router, cleaning, LangChain adapter). The raw side
feeds `Llama.generate` the exact token prompts helpert built and stops after the same number of
tokens, with llama-cpp-python's own prefix reuse. Rounds alternate (helpert, raw, helpert, raw, …) so
that drift in machine load hits both; the median ratio is reported.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import long_session, report  # noqa: E402


def main(rounds: int = 3, turns: int = 12) -> None:
    from helpert.llm import load_backend
    from helpert.protocol import load_protocol
    from helpert.replay import replay_session

    session = long_session()
    proto = load_protocol("cbt_session")
    backend = load_backend(None, n_ctx=4096)
    engine = backend.chat.engine
    llm = engine.llm
    prompts: list[tuple[list[int], int]] = []

    real_generate = engine.generate

    def recording_generate(messages, **kw):
        gen = real_generate(messages, **kw)
        prompts.append((engine.prompt_tokens(messages), len(gen.tokens)))
        return gen

    engine.generate = recording_generate
    ratios, h_rates, r_rates = [], [], []
    for r in range(rounds):
        prompts.clear()
        backend.reset()
        t0 = time.perf_counter()
        replay_session(session, chat=backend.chat, protocol=proto, seed=r, max_tokens=96, n_ctx=4096,
                       count_tokens=backend.count_tokens, max_turns=turns)
        t_h = time.perf_counter() - t0
        n = sum(k for _, k in prompts)
        backend.reset()
        t0 = time.perf_counter()
        for tokens, k in prompts:
            if k == 0:
                continue
            llm.set_seed(r)
            for i, _ in enumerate(llm.generate(tokens, temp=0.7, top_p=0.9, top_k=40, repeat_penalty=1.1, reset=True)):
                if i + 1 >= k:
                    break
        t_r = time.perf_counter() - t0
        h_rates.append(n / t_h)
        r_rates.append(n / t_r)
        ratios.append(t_r / t_h)
        print(f"round {r}: {n} tokens; helpert {n / t_h:.1f} tok/s, raw {n / t_r:.1f} tok/s, ratio {t_r / t_h:.3f}", flush=True)
    report("overhead", {
        "target": "helpert tok/s ÷ raw tok/s ≥ 0.95", "session": session.dialogue_id, "turns": turns, "rounds": rounds,
        "helpert_tok_s": [round(x, 1) for x in h_rates], "raw_tok_s": [round(x, 1) for x in r_rates],
        "ratios": [round(x, 3) for x in ratios], "median_ratio": round(statistics.median(ratios), 3),
        "met": statistics.median(ratios) >= 0.95,
    })


if __name__ == "__main__":
    main()
