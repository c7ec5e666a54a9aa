"""Commands that generate nothing do not pay for the generators: importing schemathesis and hypothesis takes most of
a second, and `--help`, `serve`, `report` and `verify` never draw a case."""

from __future__ import annotations

import subprocess
import sys

import pytest

GENERATORS = ("schemathesis", "hypothesis")


@pytest.mark.parametrize(
    "module",
    ["conformance.cli.main", "conformance.app.console", "conformance.reporters.html", "conformance.report.certify"],
)
def test_modules_of_the_commands_that_draw_nothing_do_not_import_the_generators(module: str) -> None:
    probe = f"import sys, {module}; print(' '.join(m for m in {GENERATORS!r} if m in sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.split()
    assert loaded == []


def test_the_drawing_module_loads_neither_the_http_client_nor_schemathesis_nor_yet_hypothesis() -> None:
    """The aimed phase's child process only draws: what it imports is what it pays for at every start. And the run
    starts it before it loads hypothesis, which the child loads only once it draws."""
    avoided = ("httpx", "schemathesis", "conformance.engine.client", "hypothesis")
    probe = (
        f"import sys, conformance.engine.phases.aimed_draw; print(' '.join(m for m in {avoided!r} if m in sys.modules))"
    )
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.split()
    assert loaded == []


def test_the_command_line_s_words_load_no_library_a_command_needs_only_once_it_runs() -> None:
    """`--help` and a usage error are answered from argparse alone: the YAML contract, the HTTP client, the report
    schema and the templates are loaded by the command that uses them."""
    avoided = ("yaml", "httpx", "jsonschema", "jinja2", "uvicorn", "starlette", *GENERATORS)
    probe = f"import sys, conformance.cli.main; print(' '.join(m for m in {avoided!r} if m in sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.split()
    assert loaded == []
