"""Turn expected failures (bad transcripts, bad protocols, missing models) into one clear line."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import click


class UserError(Exception):
    """A failure the user can fix; printed as one line, exit code 2. Commands signal other
    outcomes (1: some sessions failed) by returning an int."""


@contextmanager
def run_dir_errors() -> Iterator[None]:
    """What commands reading a run folder turn into one line: no finished session, or no labeller."""
    from helpert.compare import NoPairsError

    try:
        yield
    except NoPairsError as exc:
        raise UserError(str(exc)) from None
    except ImportError as exc:
        raise UserError(f"sessions need phase labels and the labeller could not be loaded ({exc})") from None


def refuse_run_folders(paths, verb: str) -> None:
    """A folder given to ``measure`` or ``screen`` that is (or lies inside) a replay's run folder holds the peer and the
    LLM sessions under one id each, and files of the run's own (comparison.csv, timings.json) that are no transcripts:
    one line saying what to give instead."""
    from pathlib import Path

    from helpert.replay.runs import run_folder_of

    for path in map(Path, paths):
        root = run_folder_of(path) if path.is_dir() else None
        if root is not None:
            where = "a helpert run folder" if root == path else f"inside the helpert run folder {root}"
            raise UserError(f"{path} is {where}: `helpert compare {root}` measures both counselors; to "
                            f"{verb} one side, name its files: {root}/sessions/*/original.json (the peer) or "
                            f"{root}/sessions/*/reconstruction.json (the LLM)")


def _expected() -> tuple[type[BaseException], ...]:
    from helpert.io.errors import TranscriptError
    from helpert.replay.llm.engine import ContextOverflow
    from helpert.replay.llm.models import ModelError
    from helpert.replay.llm.openai_backend import ServerError
    from helpert.protocols import ProtocolError

    return (TranscriptError, ProtocolError, ModelError, ContextOverflow, ServerError, UserError)


def run_cli(group: click.Group) -> int:
    try:
        rv = group.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return 130
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except _expected() as exc:
        click.echo(f"error: {exc}", err=True)
        return 2
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        return 130
    return rv if isinstance(rv, int) else 0
