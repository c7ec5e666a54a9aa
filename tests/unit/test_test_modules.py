"""Test modules share their helpers through helper modules under tests/ (tests/summary.py, tests/hostile.py ...),
never by importing another test module: that import runs the other module's set-up in this one, ties the two
modules' fixtures and xdist groups together, and breaks the moment the other module is split or renamed."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]


def imported_modules(path: Path) -> list[str]:
    """The dotted names a module imports (``from a.b import c`` gives ``a.b`` and ``a.b.c``)."""
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names += [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
    return names


def is_test_module(dotted: str) -> bool:
    return dotted.split(".")[0] == "tests" and any(part.startswith("test_") for part in dotted.split("."))


def test_no_test_module_imports_another_test_module() -> None:
    found = {
        str(path.relative_to(TESTS)): sorted({name for name in imported_modules(path) if is_test_module(name)})
        for path in sorted(TESTS.rglob("test_*.py"))
    }
    assert {path: names for path, names in found.items() if names} == {}
