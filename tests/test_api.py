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
