"""Options shared by the commands that run a model, declared once."""

from __future__ import annotations

from typing import Any, Callable

import click

# helpert.safety.policy, not helpert.safety.risk: risk.py compiles its lexicon on import and `helpert --help`
# imports every command module.
from helpert.safety.policy import DEFAULT_POLICY, SAFETY_POLICIES as RISK_POLICIES


def _guidance(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    """Load the style once, here, so a bad name fails before any model loads; the command receives the
    rendered text and its name and hash (RunOptions.guidance, guidance_name, guidance_sha256)."""
    if value is None:
        return
    from helpert.replay.guidance import GuidanceError, load_guidance

    try:
        g = load_guidance(value)
    except GuidanceError as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from None
    ctx.params.update(guidance=g.text, guidance_name=g.name, guidance_sha256=g.sha256)


def model_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    decorators = [
        click.option("--model", "model", type=click.Path(dir_okay=False), default=None,
                     help="GGUF chat model (default: the embedded SmolLM2-135M-Instruct Q4_1)."),
        click.option("--backend", type=click.Choice(["llama-cpp", "langchain-llamacpp", "openai"]), default="llama-cpp",
                     show_default=True, help="llama-cpp: one shared Llama with prefix reuse; langchain-llamacpp: ChatLlamaCpp; "
                                             "openai: an OpenAI-compatible server (vLLM, llama.cpp, Ollama...) at --base-url."),
        click.option("--base-url", "base_url", multiple=True, metavar="URL",
                     help="--backend openai: the server's API root, e.g. http://127.0.0.1:8000/v1; repeat it for replicas "
                          "(sessions are spread over them)."),
        click.option("--served-model", default=None, help="--backend openai: model name to request (default: the first of GET /models)."),
        click.option("--api-key-env", default=None, metavar="VAR",
                     help="--backend openai: environment variable holding the API key (default: OPENAI_API_KEY if set)."),
        click.option("--request-retries", type=click.IntRange(min=0), default=4, show_default=True,
                     help="--backend openai: retries per request on connection errors, timeouts, 429 and 5xx (exponential backoff)."),
        click.option("--request-timeout", type=click.FloatRange(min=1), default=120.0, show_default=True,
                     help="--backend openai: seconds per request."),
        click.option("--protocol", default="cbt_session", show_default=True, help="Protocol name (shipped, $HELPERT_PROTOCOLS or ./graphs) or a YAML path."),
        click.option("--seed", type=int, default=0, show_default=True, help="Run seed; each turn derives its own."),
        click.option("--max-turns", type=click.IntRange(min=1), default=None, help="Replay at most this many counselor turns."),
        click.option("--n-ctx", type=click.IntRange(min=512), default=4096, show_default=True, help="Model context in tokens."),
        click.option("--threads", type=click.IntRange(min=1), default=None, help="CPU threads (default: all available cores)."),
        click.option("--temperature", type=click.FloatRange(min=0), default=0.7, show_default=True),
        click.option("--max-tokens", type=click.IntRange(min=8), default=96, show_default=True, help="Token limit per counselor turn."),
        click.option("--guidance", default=None, expose_value=False, callback=_guidance, metavar="NAME|PATH",
                     help="Counselor style appended to the system prompt: reappraisal, empathic, or a YAML path (default: none)."),
        click.option("--risk-sensitivity", type=click.Choice(RISK_POLICIES), default=DEFAULT_POLICY,
                     show_default=True,
                     help="Safety path. stepped: crisis phrases get the full safety response (acknowledge, ask, resources, "
                          "pause); a turn only the learned model flags gets one direct safety question (once per session, again "
                          "only for a turn scored higher than the one that triggered it). "
                          "The others send every flagged turn to the full response: the phrase lexicon alone, or the lexicon "
                          "OR the learned model at rising sensitivity (benchmarks/README.md)."),
    ]
    for deco in reversed(decorators):
        fn = deco(fn)
    return fn
