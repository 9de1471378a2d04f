"""The package layout's rules (docs/architecture.md), checked on the source: imports point
down only, and no two modules import each other, even through function-level imports."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Each package and the project packages it may import (besides itself).
MAY_IMPORT: dict[str, set[str]] = {
    "model": set(),
    "store": set(),
    "training": {"model", "store"},
    "index": {"model", "store"},
    "app": {"index", "training", "store", "model"},
    "bench": {"app", "index", "training", "store", "model"},
    "cli": {"bench", "app", "index", "training", "store", "model"},
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Project modules `path` imports anywhere in its body (top level or inside functions)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in found if name.split(".")[0] in MAY_IMPORT}


def _graph() -> dict[str, set[str]]:
    modules = {
        _module_name(path): path
        for package in MAY_IMPORT
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts
    }
    return {name: {m for m in _imports(path) if m in modules} - {name} for name, path in
            modules.items()}


def test_imports_point_down_only() -> None:
    wrong = sorted(
        f"{module} imports {target}"
        for module, targets in _graph().items()
        for target in targets
        if (low := target.split(".")[0]) != (high := module.split(".")[0])
        and low not in MAY_IMPORT[high]
    )
    assert wrong == []


def test_no_import_cycles() -> None:
    graph = _graph()
    # A package's __init__ is imported by each of its modules; it is no edge back.
    cycles = []
    for start in graph:
        stack, seen = [(start, [start])], {start}
        while stack:
            node, path = stack.pop()
            for nxt in graph[node]:
                if nxt == start:
                    cycles.append(" -> ".join([*path, start]))
                elif nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, [*path, nxt]))
    assert cycles == []


def test_the_rule_sees_a_violation(tmp_path: Path) -> None:
    """The checker itself: a lower package importing a higher one is reported."""
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from app.config import Settings\n", encoding="utf-8")
    assert _imports(bad) == {"app.config", "app.config.Settings"}
