"""The package layout shows the flow, and no module imports from a later stage (issue 17).

Stages, in order, one package each: the foundation (session model, ``io``, ``protocols``, ``text``), crisis
``safety`` (read while replaying), ``replay`` (models, graph, replay, batch, simulate, the run folder),
``label``, ``metrics``, ``compare`` (and ``probe``, built on it), ``report`` (terminal views, HTML,
plots), and the ``cli`` on top. Every module of helpert/ lies in one of these packages. Every import in
helpert/, lazy ones inside functions included, must point to the same stage or an earlier one."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "helpert"

STAGES: tuple[tuple[str, ...], ...] = (
    ("helpert", "helpert.session", "helpert.io", "helpert.protocols", "helpert.text"),
    ("helpert.safety",),
    ("helpert.replay",),
    ("helpert.label",),
    ("helpert.metrics",),
    ("helpert.compare", "helpert.probe"),
    ("helpert.report",),
    ("helpert.cli", "helpert.__main__"),
)


def stage(module: str) -> int:
    """Index of the stage a module belongs to (the longest matching prefix)."""
    best, rank = "", None
    for i, prefixes in enumerate(STAGES):
        for p in prefixes:
            if (module == p or module.startswith(p + ".")) and len(p) > len(best):
                best, rank = p, i
    if rank is None:
        raise KeyError(module)
    return rank


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every helpert import in the file, relative ones resolved."""
    return imports_of(path.read_text(encoding="utf-8"), module_name(path), path.name == "__init__.py")


def imports_of(source: str, me: str, is_package: bool) -> list[tuple[int, str]]:
    tree = ast.parse(source)
    package = me if is_package else me.rsplit(".", 1)[0]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names if a.name.split(".")[0] == "helpert"]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] == "helpert":
                # "from helpert.x import y" may import the submodule helpert.x.y
                folder = PACKAGE.parent / target.replace(".", "/")
                out += [(node.lineno, f"{target}.{a.name}" if (folder / a.name).is_dir() or (folder / f"{a.name}.py").is_file()
                         else target) for a in node.names]
    return out


def later_imports(source: str, me: str, is_package: bool = False) -> list[str]:
    return [f"line {line}: {target}" for line, target in imports_of(source, me, is_package) if stage(target) > stage(me)]


FILES = sorted(PACKAGE.rglob("*.py"))


def test_every_module_has_a_stage():
    assert [m for m in map(module_name, FILES) if not _has_stage(m)] == []


def _has_stage(m: str) -> bool:
    try:
        stage(m)
        return True
    except KeyError:
        return False


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_import_from_a_later_stage(path):
    me = module_name(path)
    later = later_imports(path.read_text(encoding="utf-8"), me, path.name == "__init__.py")
    assert later == [], f"{me} (stage {stage(me)}) imports from later stages: {later}"


def test_the_check_can_fail():
    """Imports from a later stage are caught, lazy and relative ones too; earlier stages pass."""
    lazy = "def route():\n    from helpert.label.mi import code_turns\n"
    assert later_imports(lazy, "helpert.replay.graph.router") == ["line 2: helpert.label.mi"]
    assert later_imports("from ...report import tables\n", "helpert.replay.graph.router") == ["line 1: helpert.report.tables"]
    assert later_imports("import helpert.compare\n", "helpert.metrics.drift") == ["line 1: helpert.compare"]
    assert later_imports("from helpert.safety.risk import assess\nfrom helpert.text import encoder\n", "helpert.replay.graph.router") == []
