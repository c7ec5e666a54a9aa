"""report.store.load_report is the one reader of report.json, and support/jsontext the one parser of what a target
sent: every command that reads a report says the same thing about the same broken file, and no module parses JSON
with the stdlib where it could meet a report or a target's body."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from conformance.cli.main import main
from conformance.report.store import ReportError, load_report

PACKAGE = Path(__file__).resolve().parents[2] / "conformance"
#: The stdlib parser is left only where the JSON is the suite's own: a drawing child reads the request it was sent
#: over a pipe, and the generated phase re-reads a request body it is about to send. The
#: reference server (reference/) parses the requests it is sent, as a target does.
OWN_JSON = {"engine/phases/drawing_child.py", "engine/phases/generated.py"}


def stdlib_json_parsing(path: Path) -> list[str]:
    """The calls of json.load / json.loads in a module, as 'line: call'."""
    calls = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("load", "loads")
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "json"
        ):
            calls.append(f"{node.lineno}: json.{node.func.attr}")
    return calls


def test_no_module_parses_a_report_or_a_target_body_with_the_stdlib_parser() -> None:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if relative.startswith("reference/") or relative == "support/jsontext.py" or relative in OWN_JSON:
            continue
        calls = stdlib_json_parsing(path)
        if calls:
            found[relative] = calls
    assert found == {}, "parse reports with report.store.load_report and target bodies with support.jsontext"


def test_the_exceptions_still_parse_json_so_the_list_stays_honest() -> None:
    for relative in OWN_JSON:
        assert stdlib_json_parsing(PACKAGE / relative), f"{relative} no longer parses JSON: drop it from OWN_JSON"


#: Files that are no report for any reader (what each reader then checks is what it reads: see the last test).
BROKEN = {
    "not UTF-8": (b"\xff{}", "is not UTF-8 text"),
    "not JSON": (b'{"verdict": ', "is not valid JSON"),
    "too deep": (b"[" * 100_000, "is not valid JSON"),
}


@pytest.mark.parametrize(("content", "fragment"), BROKEN.values(), ids=BROKEN.keys())
def test_every_command_reading_a_report_says_the_same_about_the_same_broken_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, fragment: str
) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "report.json").write_bytes(content)
    good = tmp_path / "good"
    good.mkdir()
    (good / "report.json").write_text(json.dumps({"verdict": "conformant", "requirements": []}), encoding="utf-8")
    commands = {
        "report": ["report", str(broken)],
        "verify": ["verify", str(broken)],
        "compare": ["compare", str(good), str(broken), "--out", str(tmp_path / "out")],
        "summarize": ["summarize", str(broken), "--out", str(tmp_path / "overview")],
    }
    said = {}
    for name, argv in commands.items():
        assert main(argv) == 2, name
        (line,) = capsys.readouterr().err.splitlines()
        said[name] = line.partition(": error: ")[2]
    assert said["report"].startswith(f"{broken / 'report.json'} {fragment}")
    assert set(said.values()) == {said["report"]}, said


def test_a_directory_or_the_file_itself_when_the_reader_allows_it(tmp_path: Path) -> None:
    (tmp_path / "report.json").write_text(json.dumps({"verdict": "conformant", "requirements": []}))
    assert load_report(tmp_path / "report.json", or_file=True, loosely=True)["verdict"] == "conformant"
    with pytest.raises(ReportError, match=r"holds no report\.json: give the directory a run wrote its reports to"):
        load_report(tmp_path / "missing")
    with pytest.raises(ReportError, match=r"missing does not exist: give a report directory or its report\.json"):
        load_report(tmp_path / "missing", or_file=True)


def test_a_report_read_loosely_needs_only_what_readers_of_other_runs_read(tmp_path: Path) -> None:
    """compare and the overview read reports of other runs by their keys; the page and verify need every part."""
    (tmp_path / "report.json").write_text(json.dumps({"verdict": "conformant", "requirements": [{"id": "R"}]}))
    assert load_report(tmp_path, loosely=True)["requirements"] == [{"id": "R"}]
    with pytest.raises(ReportError, match=r"is not a dcs-conformance report: at \$, 'suite_version' is a required"):
        load_report(tmp_path)
