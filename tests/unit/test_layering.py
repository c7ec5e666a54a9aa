"""Imports run one way: every module of the package may import only modules of its own layer or of a layer below.

The layers, lowest first, follow README's "Layout" (data flows contract -> checks -> results -> reporters; the engine
on top of the checks; the reference server beside the engine, never imported by checks; the CLI on top of all):

    0 foundation  the package itself, contract, report_model (the shape of report.json), credentials, jsontext,
                  files, signing, tls, terminal, credentials_check, fixtures_file, redaction (secret masking),
                  task_ids (the task-ID shape and key)
    1 results     results (exchanges, findings, the ledger, the verdict)
    2 checks      checks/
    3 derived     trace, diagnosis, sanitize, compare, settings, report_dir
    4 engine      engine/                 \
    4 reference   reference/               } side by side: none of the three imports another
    4 reporters   reporters/, certify, ci_summary, overview  /
    5 reporting   reporting (a run's result -> report.json and the other files)
    6 cli         cli, cli_*, run_console, console, targets, summarize, pytest_plugin, pytest_run, __main__

Every import counts: at the top of a module, inside a function, or under TYPE_CHECKING.

Allowed exceptions, each with why:
- engine/runner.py starts the embedded reference, and may import reference/embedded.py, the reference's one entry
  point for that, and nothing else of reference/.

Narrower than its layer: the aimed phase's drawing child (``python -m conformance.engine.aimed_draw``) reaches only
what it draws with (engine/aimed_plans.py, engine/determinism.py, the contract), so that it starts fast and cannot
send anything.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "conformance"

#: (rank, layer, module prefixes); the longest matching prefix decides a module's layer.
LAYERS: list[tuple[int, str, tuple[str, ...]]] = [
    (
        0,
        "foundation",
        (
            "conformance",
            "conformance.contract",
            "conformance.report_model",
            "conformance.credentials",
            "conformance.jsontext",
            "conformance.files",
            "conformance.signing",
            "conformance.tls",
            "conformance.terminal",
            "conformance.credentials_check",
            "conformance.fixtures_file",
            "conformance.redaction",
            "conformance.task_ids",
        ),
    ),
    (1, "results", ("conformance.results",)),
    (2, "checks", ("conformance.checks",)),
    (
        3,
        "derived",
        (
            "conformance.trace",
            "conformance.diagnosis",
            "conformance.sanitize",
            "conformance.compare",
            "conformance.settings",
            "conformance.report_dir",
        ),
    ),
    (4, "engine", ("conformance.engine",)),
    (4, "reference", ("conformance.reference",)),
    (
        4,
        "reporters",
        ("conformance.reporters", "conformance.certify", "conformance.ci_summary", "conformance.overview"),
    ),
    (5, "reporting", ("conformance.reporting",)),
    (
        6,
        "cli",
        (
            "conformance.__main__",
            "conformance.cli",
            "conformance.cli_args",
            "conformance.cli_run",
            "conformance.cli_serve",
            "conformance.cli_reports",
            "conformance.run_console",
            "conformance.console",
            "conformance.targets",
            "conformance.summarize",
            "conformance.pytest_plugin",
            "conformance.pytest_run",
        ),
    ),
]
#: (importer, imported): the exceptions of the docstring.
ALLOWED = {("conformance.engine.runner", "conformance.reference.embedded")}
#: Every module of the package the drawing child may load, with the packages a Python import loads on the way.
DRAWING_CHILD = {
    "conformance",
    "conformance.contract",
    "conformance.engine",
    "conformance.engine.aimed_draw",
    "conformance.engine.aimed_plans",
    "conformance.engine.determinism",
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def layer(module: str) -> tuple[int, str]:
    matches = [
        (len(prefix), rank, name)
        for rank, name, prefixes in LAYERS
        for prefix in prefixes
        if module == prefix or (module.startswith(prefix + ".") and prefix != "conformance")
    ]
    if not matches:
        raise AssertionError(f"{module} is in no layer: add it to LAYERS (and to the docstring)")
    _, rank, name = max(matches)
    return rank, name


def imports(module: str, source: str | None = None) -> set[str]:
    """Every module of the package that ``module`` imports (its file, or ``source``), wherever the statement is."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8") if source is None else source)
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names if f"{base}.{alias.name}" in MODULES)
    return {name for name in found if name in MODULES and name != module}


def upward(module: str, imported: set[str]) -> list[str]:
    """The imports of ``module`` that run up (or sideways between the engine, the reference and the reporters)."""
    rank, name = layer(module)
    found = []
    for target in sorted(imported):
        their_rank, their_name = layer(target)
        sideways = their_rank == rank and their_name != name
        if (their_rank > rank or sideways) and (module, target) not in ALLOWED:
            found.append(f"{target} ({their_name})")
    return found


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_import_runs_back_up(module: str) -> None:
    found = upward(module, imports(module))
    assert not found, f"{module} ({layer(module)[1]}) imports {', '.join(found)}"


def test_an_upward_import_is_caught_even_inside_a_function() -> None:
    source = "def later() -> None:\n    from conformance.engine import client\n    from ..reporters import html\n"
    found = imports("conformance.checks.batch", source) - {"conformance.engine", "conformance.reporters"}
    assert found == {"conformance.engine.client", "conformance.reporters.html"}
    assert upward("conformance.checks.batch", found) == [
        "conformance.engine.client (engine)",
        "conformance.reporters.html (reporters)",
    ]


def test_the_engine_and_the_reporters_may_not_import_each_other() -> None:
    assert upward("conformance.engine.runner", {"conformance.reporters.html"}) == [
        "conformance.reporters.html (reporters)"
    ]
    assert upward("conformance.reporters.html", {"conformance.engine.runner"}) == ["conformance.engine.runner (engine)"]
    assert upward("conformance.engine.runner", {"conformance.reference.store"}) == [
        "conformance.reference.store (reference)"
    ]


def test_settings_import_nothing_of_the_engine_nor_of_the_reference() -> None:
    reached = imports("conformance.settings")
    assert not {name for name in reached if name.startswith(("conformance.reference", "conformance.engine"))}


def test_the_drawing_child_reaches_only_what_it_draws_with() -> None:
    reached, todo = set(), ["conformance.engine.aimed_draw"]
    while todo:
        module = todo.pop()
        if module not in reached:
            reached.add(module)
            todo.extend(imports(module))
    packages = {name.rpartition(".")[0] for name in reached} - {""}
    assert reached | packages <= DRAWING_CHILD, f"the drawing child imports {sorted(reached - DRAWING_CHILD)}"
