"""The ``helpert`` command. Subcommands live one per module and are imported only when used."""

from __future__ import annotations

import importlib
import sys

import click

# name -> "module:attribute"; a module is imported only when its command runs or help is shown.
COMMANDS = {
    "demo": "helpert.cli.demo:demo",
    "replay": "helpert.cli.replay:replay",
    "batch": "helpert.cli.batch:batch",
    "protocol": "helpert.cli.protocol:protocol",
    "measure": "helpert.cli.measure:measure",
    "compare": "helpert.cli.compare:compare",
    "validate": "helpert.cli.validate:validate",
    "plot": "helpert.cli.plot:plot",
    "report": "helpert.cli.report:report",
    "simulate": "helpert.cli.simulate:simulate",
    "probe": "helpert.cli.probe:probe",
    "screen": "helpert.cli.screen:screen",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(n for n, target in COMMANDS.items() if importlib.util.find_spec(target.split(":")[0]))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        target = COMMANDS.get(name)
        if target is None:
            return None
        module, attr = target.split(":")
        return getattr(importlib.import_module(module), attr)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="helpert")
def cli() -> None:
    """Replay peer counseling sessions through a CBT protocol graph on a local GGUF model, and
    measure how far each counselor drifts from the protocol."""


def main() -> None:
    from helpert.cli.errors import run_cli

    sys.exit(run_cli(cli))
