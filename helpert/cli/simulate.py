"""``helpert simulate``: the protocol counselor talks with a simulated client built from a session."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from helpert.cli.options import model_options

if TYPE_CHECKING:
    from rich.console import Console

    from helpert.replay.graph.state import Reply
    from helpert.session import Session


def print_dialogue(reconstruction: Session, console: Console) -> None:
    from rich.table import Table

    table = Table(title=f"{reconstruction.dialogue_id}: simulated client ↔ LLM counselor "
                        f"(stopped: {reconstruction.meta.get('stop')})", show_lines=True, expand=True)
    table.add_column("#", justify="right", width=3)
    table.add_column("speaker", width=20)
    table.add_column("text", ratio=1)
    for t in reconstruction.turns:
        who = f"counselor [cyan]{t.labels.get('graph_phase', '')}[/]" if t.role == "counselor" else (
            "client (original)" if t.meta.get("source") == "original opening" else "client (simulated)")
        table.add_row(str(t.idx), who, t.text)
    console.print(table)


@click.command(short_help="Let the LLM counselor talk with a model-played client.")
@click.argument("path", type=click.Path())
@click.option("--dialogue", default=None, help="Simulate only the dialogue with this id.")
@click.option("--profile", "profile_path", type=click.Path(dir_okay=False), default=None,
              help="Use this (edited) client profile YAML instead of the one extracted from the session.")
@click.option("--write-profile", "write_path", type=click.Path(dir_okay=False), default=None,
              help="Write the extracted client profile as YAML and stop (edit it, then pass it to --profile).")
@click.option("--client-model", type=click.Path(dir_okay=False), default=None,
              help="GGUF for the client (default: the counselor's model, loaded a second time).")
@click.option("--client-max-tokens", type=click.IntRange(min=8), default=48, show_default=True,
              help="Token limit per client turn.")
@click.option("--out", type=click.Path(file_okay=False), default=None, help="Run folder (default: runs/simulate-<name>).")
@model_options
def simulate(path: str, dialogue: str | None, profile_path: str | None, write_path: str | None, client_model: str | None,
             client_max_tokens: int, out: str | None, **opts: Any) -> int:
    """Let the LLM counselor talk with a simulated client whose profile (problem, cognitive model,
    style, opening words) is read from the session in PATH. Writes a run folder that `helpert
    compare` reads: original.json is the peer session, reconstruction.json the simulated dialogue.
    --max-turns (counselor turns) defaults to the original's number of counselor turns. The client's first turn is
    the original's opening words; the client model speaks after it, so with --max-turns N it writes N-1 turns when
    the client opens the session and N-2 when the counselor does (2 writes none there)."""
    from rich.console import Console

    from helpert.replay.batch import RunOptions
    from helpert.cli.errors import UserError
    from helpert.io import read_sessions
    from helpert.replay.llm import Sampling
    from helpert.replay.profile import ProfileError, extract_profile, read_profile, write_profile
    from helpert.protocols import load_protocol
    from helpert.compare import ComparedRun
    from helpert.replay.runs import Manifest, ManifestMismatch, Run
    from helpert.replay.simulate import cache_shares, simulate_session

    sessions = read_sessions(path, dialogue=dialogue)
    if (profile_path or write_path) and len(sessions) != 1:
        raise UserError(f"{path} holds {len(sessions)} sessions: choose one with --dialogue to read or write a profile")
    if write_path:
        write_profile(extract_profile(sessions[0]), write_path)
        click.echo(f"wrote {write_path}; edit it, then run: helpert simulate {path} --profile {write_path}")
        return 0
    try:
        profile = read_profile(profile_path) if profile_path else None
    except ProfileError as exc:
        raise UserError(str(exc)) from None
    root = Path(out or Path("runs") / f"simulate-{dialogue or Path(path).stem}")
    try:  # before any model loads; the whole manifest is checked once the models are described
        if (existing := Run.open(root)).manifest_path.is_file():  # a new folder has no manifest, hence no mode
            existing.manifest.refuse_other_mode("simulate", root)
    except ManifestMismatch as exc:
        raise UserError(str(exc)) from None
    options = RunOptions(**opts)
    console = Console()
    protocol = load_protocol(options.protocol)
    counselor = options.load_backend()
    client = options.load_backend(sampling=Sampling(temperature=options.temperature, max_tokens=client_max_tokens),
                                  model=client_model)
    settings = options.replay_settings(protocol)
    manifest = Manifest.build(backend_info=counselor.info, protocol=protocol, seed=options.seed, guidance=options.guidance,
                              args={"path": path, "dialogue": dialogue, "max_turns": options.max_turns,
                                    "profile": profile_path, "risk_sensitivity": options.risk_sensitivity},
                              guidance_file=options.guidance_file, mode="simulate", client_model=client.info)
    try:
        run = Run.create(root, manifest, protocol)
    except ManifestMismatch as exc:
        raise UserError(str(exc)) from None
    for session in sessions:
        with console.status(f"simulating {session.dialogue_id}…") as status:
            def on_turn(k: int, n: int, reply: Reply, client_turn: dict[str, Any] | None) -> None:
                status.update(f"simulating {session.dialogue_id}: counselor turn {k + 1}/{n} ({reply.phase})")

            result = simulate_session(session, counselor, client, settings, profile=profile, on_turn=on_turn)
        run.write_replay(result)
        print_dialogue(result.reconstruction, console)
        shares = cache_shares(result.timings)
        console.print("prompt tokens found in cache: " + ", ".join(
            f"{side} {'-' if v is None else f'{v:.0%}'}" for side, v in shares.items()))
    try:
        from helpert.metrics import SIMULATION_METRICS
        from helpert.report.tables import print_comparison

        print_comparison(ComparedRun.open(run).comparison().stats, SIMULATION_METRICS, title="simulated dialogue vs peer session", console=console)
        # the numbers rate a conversation with a model, which the checks cannot tell from a client (fresh-user review,
        # 2026-12-07: a simulated client turned salesperson, and the counselor who went along scored above the peer)
        console.print("The simulated client is a model: read its turns above before the numbers. A client that leaves "
                      "the role (sells, lectures, turns counselor) is not caught by the degenerate checks, and the "
                      "LLM counselor's scores then rate a conversation no client would have.", style="dim", soft_wrap=True)
    except ImportError as exc:
        console.print(f"(no comparison: the labeller could not be loaded: {exc})")
    console.print(f"\nRun folder: [bold]{run.root}[/] (helpert compare {run.root})")
    return 0
