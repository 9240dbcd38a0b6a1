"""The package layout shows the flow, and no module imports from a later stage (issue 17).

Stages, in order: the foundation (session model, loaders, protocols, text features and encoder), crisis
safety (read while replaying), replay (models, graph, replay, batch, simulate, the run folder), label, metrics, compare
(and the probes built on it), report (terminal views, HTML, plots), and the CLI on top. Every import in
helpert/, lazy ones inside functions included, must point to the same stage or an earlier one."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "helpert"

STAGES: tuple[tuple[str, ...], ...] = (
    ("helpert", "helpert.session", "helpert.io", "helpert.protocol", "helpert.text", "helpert.lease"),
    ("helpert.safety",),
    ("helpert.llm", "helpert.graph", "helpert.replay", "helpert.batch", "helpert.simulate", "helpert.profile",
     "helpert.guidance", "helpert.runs"),
    ("helpert.label",),
    ("helpert.metrics",),
    ("helpert.compare", "helpert.probe"),
    ("helpert.report", "helpert.report_table", "helpert.show", "helpert.plot"),
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
    tree = ast.parse(path.read_text(encoding="utf-8"))
    me = module_name(path)
    package = me if path.name == "__init__.py" else me.rsplit(".", 1)[0]
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
                out += [(node.lineno, f"{target}.{a.name}" if (PACKAGE.parent / target.replace(".", "/") / a.name).exists()
                         or (PACKAGE.parent / (target.replace(".", "/") + f"/{a.name}.py")).exists() else target)
                        for a in node.names]
    return out


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
    later = [f"line {line}: {target}" for line, target in imports(path) if stage(target) > stage(me)]
    assert later == [], f"{me} (stage {stage(me)}) imports from later stages: {later}"


def test_the_check_can_fail(tmp_path):
    """A module of the replay stage importing a labeller is caught."""
    assert stage("helpert.graph.router") < stage("helpert.label.mi")
    assert stage("helpert.safety.risk") < stage("helpert.graph.router")
    assert stage("helpert.text.encoder") < stage("helpert.safety.risk")
