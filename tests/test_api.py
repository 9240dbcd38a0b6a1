"""The curated public API: every name resolves, and importing helpert (or asking for --help) loads no
heavy library."""

from __future__ import annotations

import subprocess
import sys

import helpert


def test_every_public_name_resolves():
    missing = [name for name in helpert.__all__ if getattr(helpert, name, None) is None]
    assert missing == []


def test_import_and_help_stay_light():
    code = ("import sys, helpert, helpert.cli.main as m\n"
            "from click.testing import CliRunner\n"
            "assert CliRunner().invoke(m.cli, ['--help']).exit_code == 0\n"
            "print(sorted(x for x in ('llama_cpp', 'langgraph', 'matplotlib', 'pandas', 'sklearn') if x in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"


def test_help_lists_each_command_with_a_whole_summary():
    """`helpert --help` and `helpert protocol --help` give every command a summary that fits the line, not a
    sentence cut with "..." (a fresh-user review, 2026-12-07)."""
    from click.testing import CliRunner

    from helpert.cli.main import COMMANDS, cli

    for args, names in ((["--help"], COMMANDS), (["protocol", "--help"], ("draw", "show", "validate"))):
        out = CliRunner().invoke(cli, args, env={"COLUMNS": "80"}).output
        listed = {line.split()[0]: line for line in out.split("Commands:")[1].splitlines() if line.strip()}
        assert set(listed) == set(names)
        assert not [line for line in listed.values() if line.rstrip().endswith("...")]
