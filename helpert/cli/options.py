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


def _speakers(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> "dict[str, str] | None":
    if not value:
        return None
    from helpert.io.roles import parse_speakers

    try:
        return parse_speakers(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from None


# The transcripts' own speaker names, for the commands that read transcripts: a diariser's "SPEAKER_00:", a person's
# name. Read before the role names helpert knows (helpert.io.roles).
speaker_option = click.option(
    "--speaker", "speakers", multiple=True, metavar="NAME=ROLE", callback=_speakers,
    help="A speaker name used in the transcripts and its role (counselor or client, or skip to leave that speaker's "
         "lines out, e.g. an interpreter); repeat for each, e.g. --speaker SPEAKER_00=counselor --speaker SPEAKER_01=client "
         "for a diariser's labels, or a person's name.")


def _server_model_options(prefix: str, who: str, timeout: str) -> list[Callable[..., Any]]:
    """``--{prefix}served-model``, ``--{prefix}api-key-env`` and the ``timeout`` option: which model of an
    OpenAI-compatible server, the key to reach it and how long to wait for each answer (the replay's ``--backend
    openai``; the judge's, with ``judge-``). Connection errors, timeouts, 429 and 5xx are retried with back-off."""
    return [
        click.option(f"--{prefix}served-model", default=None, metavar="NAME",
                     help=f"{who}: the model name to request (default: the first of GET /models)."),
        click.option(f"--{prefix}api-key-env", default=None, metavar="VAR",
                     help=f"{who}: environment variable holding the API key (default: OPENAI_API_KEY if set)."),
        click.option(timeout, type=click.FloatRange(min=1), default=120.0, show_default=True,
                     help=f"{who}: seconds per request."),
    ]


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
        *_server_model_options("", "--backend openai", "--request-timeout"),
        click.option("--request-retries", type=click.IntRange(min=0), default=4, show_default=True,
                     help="--backend openai: retries per request on connection errors, timeouts, 429 and 5xx (exponential backoff)."),
        click.option("--protocol", default="cbt_session", show_default=True, help="Protocol name (shipped, $HELPERT_PROTOCOLS or ./graphs) or a YAML path."),
        click.option("--seed", type=int, default=0, show_default=True, help="Run seed; each turn derives its own."),
        click.option("--max-turns", type=click.IntRange(min=1), default=None, help="Write at most this many counselor turns."),
        click.option("--n-ctx", type=click.IntRange(min=512), default=4096, show_default=True, help="Model context in tokens."),
        click.option("--threads", type=click.IntRange(min=1), default=None, help="CPU threads (default: all available cores)."),
        click.option("--temperature", type=click.FloatRange(min=0), default=0.7, show_default=True,
                     help="Sampling temperature of the counselor model (0: always the likeliest token)."),
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


def judge_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The LLM judge's options (``measure``, ``compare``): a GGUF or a model on an OpenAI-compatible server."""
    decorators = [
        click.option("--judge-model", default=None, metavar="PATH|default|URL",
                     help="Also ask an LLM judge with JSON-constrained output: a GGUF ('default' = the embedded model), or "
                          "the API root of an OpenAI-compatible server (vLLM, llama.cpp, Ollama...), e.g. http://127.0.0.1:8000/v1."),
        click.option("--judge", "judge_what", type=click.Choice(["ctrs", "labels", "both"]), default="both", show_default=True,
                     help="With --judge-model: score the 11 CTRS items (ctrs_judge.*), label phase and behaviour of every "
                          "counselor turn (instead of the rule labeller), or both."),
        *_server_model_options("judge-", "A judge on a server", "--judge-timeout"),
        click.option("--judge-concurrency", type=click.IntRange(min=1), default=1, show_default=True,
                     help="A judge on a server: sessions judged at once (servers such as vLLM answer many requests together)."),
        click.option("--judge-cache", type=click.Path(dir_okay=False), default=None, metavar="FILE",
                     help="Keep the judge's replies in this JSON Lines file: a run stopped part way resumes, and a rerun with "
                          "the same judge asks only what it has not asked before."),
    ]
    for d in reversed(decorators):
        fn = d(fn)
    return fn


def judge_from_options(model: str | None, threads: int | None = None, served: str | None = None, key_env: str | None = None,
                       timeout: float = 120.0, concurrency: int = 1, cache: str | None = None) -> Any:
    """The judge ``--judge-model`` names (None without one), after checking that the judge options fit together."""
    from helpert.cli.errors import UserError

    if model is None and served is None and key_env is None and concurrency == 1 and cache is None:
        return None
    from helpert.replay.llm import judge

    on_server = model is not None and judge.is_url(model)
    if model is None:
        raise UserError("--judge-served-model, --judge-api-key-env, --judge-concurrency and --judge-cache need --judge-model")
    if not on_server and (served is not None or key_env is not None):
        raise UserError("--judge-served-model and --judge-api-key-env need --judge-model URL (a server's API root)")
    if not on_server and concurrency > 1:
        raise UserError("--judge-concurrency needs --judge-model URL: a GGUF judge answers one prompt at a time")
    if on_server and threads is not None:
        raise UserError("--threads sets a GGUF judge's CPU threads; a judge on a server uses the server's")
    return judge.open_judge(model, n_threads=threads, served_model=served, api_key_env=key_env, timeout=timeout, cache=cache)


def say_judged(judge: Any) -> None:
    """The judge's counts, after a table (nothing without a judge)."""
    if judge is None:
        return
    click.echo(f"judge: {judge.calls} calls, {judge.failures} unreadable (counted in ctrs_judge_failures / "
               "label_judge_failures, never scored)")
    info = judge.info()
    if info.get("judge_cache"):
        click.echo(f"judge: {info['judge_cache_hits']} replies from {info['judge_cache']}, {info['judge_asked']} asked")
    rejected = info.get("judge_rejected_prompts") or {}
    if rejected.get("count"):
        click.echo(f"judge: the server rejected {rejected['count']} prompts (counted as unreadable); the first: "
                   f"{rejected['first']}", err=True)


def judge_roles(judge: Any, what: str) -> tuple[Any, Any]:
    """(the CTRS judge, the turn-label judge) that ``--judge ctrs|labels|both`` asks for."""
    return (judge if what in ("ctrs", "both") else None, judge if what in ("labels", "both") else None)


def judge_shown(judge: Any) -> Any:
    """A context that gives the judge to hand on, with its progress on stderr (:class:`helpert.cli.progress.JudgeProgress`);
    None without a judge."""
    from contextlib import nullcontext

    if judge is None:
        return nullcontext(None)
    from helpert.cli.progress import JudgeProgress

    return JudgeProgress(judge)
