"""The package's folders are its layers: a module may import only modules of its own layer or of a layer below.

The layers, lowest first (README's "Layout" names the same folders; data flows contract -> judging -> checks ->
report -> reporters, the engine drives the checks, the reference server sits beside it, never imported by checks):

    0 foundation  the package itself, contract/ (the spec, the catalogue, task IDs), support/ (JSON, files,
                  redaction, the guarded terminal)
    1 wire        wire/ (signing, TLS: spoken by the client and the reference server alike)
    2 config      config/ (settings, credentials, fixtures file, the reproducing command)
    3 judging     judging/ (exchanges, findings, the ledger, the verdict, diagnosis, trace)
    4 checks      checks/
    5 report      report/ (report.json's model, builder and store, sanitize, certify, compare)
    6 engine      engine/       \
    6 reference   reference/     } side by side: none of the three imports another
    6 reporters   reporters/    /
    7 app         app/ (opening the target, a run from start to files, many targets, the console)
    8 cli         cli/, __main__      \\  side by side
    8 pytest      pytest_plugin/      /

Every import counts: at the top of a module, inside a function, or under TYPE_CHECKING. There are no exceptions:
if an import runs back up, move the code.

Narrower than its layer: the aimed phase's drawing (``conformance.engine.phases.aimed_plans``) reaches only the
contract, so that drawing a plan can neither send anything nor depend on what else was imported.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "conformance"

#: (rank, layer, folders under the package); a module's folder decides its layer.
LAYERS: list[tuple[int, str, tuple[str, ...]]] = [
    (0, "foundation", ("", "contract", "support")),
    (1, "wire", ("wire",)),
    (2, "config", ("config",)),
    (3, "judging", ("judging",)),
    (4, "checks", ("checks",)),
    (5, "report", ("report",)),
    (6, "engine", ("engine",)),
    (6, "reference", ("reference",)),
    (6, "reporters", ("reporters",)),
    (7, "app", ("app",)),
    (8, "cli", ("cli", "__main__")),
    (8, "pytest", ("pytest_plugin",)),
]
#: The only modules at the package root.
ROOT_MODULES = {"conformance", "conformance.__main__"}
#: Every module of the package the aimed phase's drawing may load, with the packages a Python import loads on the way.
AIMED_DRAWING = {
    "conformance",
    "conformance.contract",
    "conformance.engine",
    "conformance.engine.phases",
    "conformance.engine.phases.aimed_plans",
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def layer(module: str) -> tuple[int, str]:
    """The layer of a module: the one whose folder is the module's first name under the package."""
    folder = module.split(".")[1] if "." in module else ""
    for rank, name, folders in LAYERS:
        if folder in folders:
            return rank, name
    raise AssertionError(f"{module} is in no layer's folder: move it into one (and name the folder in LAYERS)")


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
    """The imports of ``module`` that run up (or sideways between layers of one rank)."""
    rank, name = layer(module)
    found = []
    for target in sorted(imported):
        their_rank, their_name = layer(target)
        if their_rank > rank or (their_rank == rank and their_name != name):
            found.append(f"{target} ({their_name})")
    return found


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every import circle of ``graph`` (module -> what it imports): its strongly connected sets of more than one
    module, found with Tarjan's algorithm."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return found


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_import_runs_back_up(module: str) -> None:
    found = upward(module, imports(module))
    assert not found, f"{module} ({layer(module)[1]}) imports {', '.join(found)}"


def test_every_module_lives_in_a_layer_folder() -> None:
    at_root = {
        module for module in MODULES if module.count(".") <= 1 and not (PACKAGE / module.split(".")[-1]).is_dir()
    }
    assert at_root == ROOT_MODULES


def test_no_import_circle() -> None:
    assert circles({module: imports(module) for module in MODULES}) == []


def test_an_import_circle_is_found_however_long() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert circles(graph) == [["a", "b", "c"]]


def test_an_upward_import_is_caught_even_inside_a_function() -> None:
    source = (
        "def later() -> None:\n    from conformance.engine import client\n    from conformance.reporters import html\n"
    )
    found = imports("conformance.checks.batch", source) - {"conformance.engine", "conformance.reporters"}
    assert found == {"conformance.engine.client", "conformance.reporters.html"}
    assert upward("conformance.checks.batch", found) == [
        "conformance.engine.client (engine)",
        "conformance.reporters.html (reporters)",
    ]


def test_the_engine_the_reference_and_the_reporters_may_not_import_each_other() -> None:
    assert upward("conformance.engine.runner", {"conformance.reporters.html"}) == [
        "conformance.reporters.html (reporters)"
    ]
    assert upward("conformance.reporters.html", {"conformance.engine.runner"}) == ["conformance.engine.runner (engine)"]
    assert upward("conformance.engine.runner", {"conformance.reference.embedded"}) == [
        "conformance.reference.embedded (reference)"
    ]


def test_the_cli_and_the_pytest_plugin_may_not_import_each_other() -> None:
    assert upward("conformance.pytest_plugin.session", {"conformance.cli.run"}) == ["conformance.cli.run (cli)"]


def reached_from(start: str) -> set[str]:
    """Every module of the suite ``start`` imports, directly or not."""
    reached, todo = set(), [start]
    while todo:
        module = todo.pop()
        if module not in reached:
            reached.add(module)
            todo.extend(imports(module))
    return reached


def test_the_aimed_drawing_reaches_only_the_contract() -> None:
    reached = reached_from("conformance.engine.phases.aimed_plans")
    packages = {name.rpartition(".")[0] for name in reached} - {""}
    assert reached | packages <= AIMED_DRAWING, f"the aimed drawing imports {sorted(reached - AIMED_DRAWING)}"


def test_the_schemathesis_drawing_child_reaches_nothing_that_sends_or_holds_a_credential() -> None:
    reached = reached_from("conformance.engine.phases.st_child")
    assert "conformance.engine.phases.st_checks" in reached, "it builds the schema as the run judges with it"
    assert "conformance.engine.phases.st_check_lane" in reached, "it may judge schemathesis's checks"
    sending = sorted(
        name
        for name in reached
        if name.startswith(("conformance.config", "conformance.wire", "conformance.app", "conformance.reference"))
        or name in ("conformance.engine.client", "conformance.engine.guard", "conformance.engine.runner")
    )
    assert sending == []


def test_importing_the_engine_for_a_remote_target_loads_no_reference_server() -> None:
    """The engine never starts the reference server (the app layer opens the target), so a run against staging
    does not pay for, nor expose, uvicorn and starlette."""
    probe = (
        "import sys, conformance.engine.runner, conformance.app.run, conformance.app.target; "
        "print(' '.join(sorted(m for m in ('uvicorn', 'starlette', 'conformance.reference') if m in sys.modules)))"
    )
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTHON")}
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True)
    assert done.stdout.strip() == ""


def layout_folders(readme: str) -> set[str]:
    """The package folders README's "Layout" names: ``  name/`` (or ``  a/b/``) lines under ``conformance/``."""
    block = readme.split("## Layout", 1)[1].split("```", 2)[1]
    package = block.split("conformance/\n", 1)[1].split("\ntests/", 1)[0]
    return set(re.findall(r"^  ([a-z_]+(?:/[a-z_]+)*)/ ", package, flags=re.M))


def test_readme_layout_names_every_package_folder_and_no_other() -> None:
    """A newcomer finds the rooms from the README: every folder it names exists, and every package folder is named."""
    readme = (PACKAGE.parent / "README.md").read_text(encoding="utf-8")
    folders = {
        path.parent.relative_to(PACKAGE).as_posix() for path in PACKAGE.rglob("__init__.py") if path.parent != PACKAGE
    }
    assert layout_folders(readme) == folders
