"""Commands that generate nothing do not pay for the generators: importing schemathesis and hypothesis takes most of
a second, and `--help`, `serve`, `report` and `verify` never draw a case. Nor do the commands that read reports
send or serve: each command is run in a fresh interpreter and asked what it loaded."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

GENERATORS = ("schemathesis", "hypothesis")
GOLDEN = Path(__file__).parent.parent / "golden"


@pytest.mark.parametrize(
    "module",
    ["conformance.cli.main", "conformance.app.console", "conformance.reporters.html", "conformance.report.certify"],
)
def test_modules_of_the_commands_that_draw_nothing_do_not_import_the_generators(module: str) -> None:
    probe = f"import sys, {module}; print(' '.join(m for m in {GENERATORS!r} if m in sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.split()
    assert loaded == []


def test_drawing_the_aimed_plans_loads_neither_the_http_client_nor_schemathesis_nor_hypothesis() -> None:
    """The aimed phase draws its plans with plain Python: hypothesis is loaded only to shrink a failure."""
    avoided = ("httpx", "schemathesis", "conformance.engine.client", "hypothesis")
    probe = (
        "import sys; from conformance.engine.phases.aimed_plans import draw_plans; list(draw_plans(1, 500)); "
        f"print(' '.join(m for m in {avoided!r} if m in sys.modules))"
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


#: Loaded by a run only: what draws, sends and serves.
RUN_ONLY = ("schemathesis", "hypothesis", "httpx", "uvicorn", "starlette", "conformance.engine")
#: What rendering a page takes on top (the templates, the schema that checks a report): `report` and `compare` render.
RENDERING = ("jinja2", "jsonschema")
#: Runs one command in a fresh interpreter and prints its exit code, then which of the modules it names were loaded.
COMMAND_PROBE = """
import contextlib, io, sys
from conformance.cli.main import main
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    try:
        code = main(sys.argv[2:])
    except SystemExit as exc:
        code = exc.code
print(code, *(m for m in sys.argv[1].split() if m in sys.modules))
"""


def loaded_by(argv: list[str], modules: tuple[str, ...], cwd: Path) -> tuple[str, list[str]]:
    """The command's exit code and which of ``modules`` it loaded, in a fresh interpreter."""
    done = subprocess.run(
        [sys.executable, "-c", COMMAND_PROBE, " ".join(modules), *argv],
        capture_output=True,
        text=True,
        check=True,
        cwd=cwd,
    )
    code, *loaded = done.stdout.split()
    return code, loaded


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two report directories (the golden reports) and a certified bundle of the conformant one."""
    from conformance.app.run import write_reports

    root = tmp_path_factory.mktemp("reports")
    for name in ("conformant", "non-conformant"):
        report = json.loads((GOLDEN / f"report-{name}.json").read_text(encoding="utf-8"))
        write_reports(report, root / name, certify=False)
        if name == "conformant":
            report["options"]["certify"] = True
            write_reports(report, root / "bundle", certify=True)
    return root


@pytest.mark.parametrize(
    ("argv", "code"),
    [
        (["--help"], "0"),
        (["run", "--help"], "0"),
        (["run", "--base-url", "htp://x"], "2"),
        (["run", "--workers", "0"], "2"),
        (["serve", "--help"], "0"),
        (["verify", "bundle"], "0"),
        (["verify", "conformant"], "1"),
        (["summarize", "conformant", "non-conformant", "--out", "overview"], "1"),
    ],
    ids=" ".join,
)
def test_help_usage_errors_verify_and_summarize_load_nothing_a_run_needs(
    argv: list[str], code: str, reports: Path
) -> None:
    """`verify` renders the page and junit.xml again to compare them, `summarize` writes an overview: neither draws,
    sends nor serves, and neither does a usage error."""
    assert loaded_by(argv, RUN_ONLY, reports) == (code, [])


@pytest.mark.parametrize(
    "argv",
    [["report", "conformant"], ["compare", "conformant", "non-conformant", "--out", "comparison"]],
    ids=" ".join,
)
def test_report_and_compare_load_only_what_they_render_with(argv: list[str], reports: Path) -> None:
    code, loaded = loaded_by(argv, (*RUN_ONLY, *RENDERING), reports)
    assert code in ("0", "1") and loaded == list(RENDERING)


def test_the_reference_process_loads_the_reference_only() -> None:
    """The embedded run's reference (conformance.reference.child) starts at every embedded run, on the other core:
    it loads the server and the app, nothing of the client, the generators, the checks or the reports."""
    avoided = (*RUN_ONLY[:3], "jinja2", "jsonschema", "yaml", "conformance.engine", "conformance.checks")
    probe = (
        "import sys, conformance.reference.child, conformance.reference.app, conformance.reference.server, "
        "conformance.reference.store; print(' '.join(m for m in sys.argv[1:] if m in sys.modules))"
    )
    loaded = subprocess.run([sys.executable, "-c", probe, *avoided], capture_output=True, text=True, check=True)
    assert loaded.stdout.split() == []


def test_a_run_loads_the_certification_code_and_cryptography_only_to_certify() -> None:
    avoided = ("cryptography", "conformance.report.certify", "conformance.support.sshsig")
    probe = f"import sys, conformance.app.run; print(' '.join(m for m in {avoided!r} if m in sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.split()
    assert loaded == []


def test_a_usage_error_loads_neither_the_reference_server_nor_the_ci_summary() -> None:
    """A mistyped base URL is answered from the settings alone: the faults and variants are loaded only to check a
    --fault or --variant name, the CI summary only for --summary-md."""
    avoided = ("conformance.reference.embedded", "conformance.reference.faults", "conformance.reporters.ci_summary")
    probe = (
        "import sys; from conformance.cli.main import main; code = main(['run', '--base-url', 'htp://x']); "
        f"print(code, ' '.join(m for m in {avoided!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["2"]


#: Runs the command as its entry point does (cli.main.entry), then prints which of the modules it names are loaded.
ENTRY_PROBE = """
import sys
import conformance.cli.main as command
run, names = command.main, sys.argv[1].split()

def main(argv=None):
    code = run(argv)
    print(*(m for m in names if sys.modules.get(m) is not None), flush=True)
    return code

command.main = main
sys.argv = ["dcs-conformance", *sys.argv[2:]]
sys.exit(command.entry())
"""


def test_a_command_that_sends_never_loads_httpxs_own_command_line_client(tmp_path: Path) -> None:
    """httpx would load rich, click and pygments for a command-line client of its own that nothing here runs
    (support/lean_imports.py): the command sends through httpx all the same."""
    avoided = ("httpx._main", "rich", "click", "pygments")
    argv = ["run", "--quiet", "--seed", "1", "--max-examples", "5", "--report-dir", str(tmp_path / "report")]
    done = subprocess.run(
        [sys.executable, "-c", ENTRY_PROBE, " ".join(("httpx", *avoided)), *argv],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1].split() == ["httpx"]
    assert json.loads((tmp_path / "report" / "report.json").read_text(encoding="utf-8"))["verdict"] == "conformant"


def test_httpx_loaded_before_keeps_its_command_line_client() -> None:
    """A process that loaded httpx before (a test, the pytest plugin's session) keeps httpx as it is."""
    probe = (
        "import sys, httpx; from conformance.support.lean_imports import without_httpx_command_line; "
        "without_httpx_command_line(); print(sys.modules.get('httpx._main') is not None)"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["True"]
