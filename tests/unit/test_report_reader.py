"""report.store.load_report is the one reader of report.json, and support/jsontext the one parser of what a target
sent: every command that reads a report says the same thing about the same broken file, and no module parses JSON
with the stdlib where it could meet a report or a target's body."""

from __future__ import annotations

import ast
import contextlib
import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance.cli.main import main
from conformance.report import store
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


# -- a report directory from elsewhere -------------------------------------------------------------------------------


def good_report(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    file = directory / "report.json"
    file.write_text(json.dumps({"verdict": "conformant", "requirements": []}), encoding="utf-8")
    return file


def reading_commands(handed: Path, tmp_path: Path) -> dict[str, list[str]]:
    """Every command that reads a report someone hands us, given ``handed`` (a directory, or a file where allowed)."""
    good = good_report(tmp_path / "good").parent
    commands = {"compare": ["compare", str(good), str(handed), "--out", str(tmp_path / "comparison")]}
    if handed.is_dir():
        commands["summarize"] = ["summarize", str(handed), "--out", str(tmp_path / "overview")]
        commands["report"] = ["report", str(handed)]
    return commands


def refusals(commands: dict[str, list[str]], capsys: pytest.CaptureFixture[str]) -> dict[str, str]:
    """Each command's one line of error (each must exit 2, as every other usage error)."""
    said = {}
    for name, argv in commands.items():
        assert main(argv) == 2, name
        (line,) = capsys.readouterr().err.splitlines()
        said[name] = line.partition(": error: ")[2]
    return said


@contextlib.contextmanager
def released_if_blocked(fifo: Path) -> Iterator[None]:
    """Opens ``fifo`` for writing (a report of no use) if a reader is blocked opening it, so a reader that waits on a
    FIFO makes the test fail instead of hanging it."""
    done = threading.Event()

    def release() -> None:
        while not done.wait(0.05):
            try:
                descriptor = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
            except OSError:
                continue  # nobody is waiting to read it
            with contextlib.suppress(OSError):
                os.write(descriptor, b"{}")
            os.close(descriptor)

    writer = threading.Thread(target=release, daemon=True)
    writer.start()
    try:
        yield
    finally:
        done.set()
        writer.join(5)


def test_a_fifo_named_report_json_is_refused_without_waiting_on_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    handed = tmp_path / "handed"
    handed.mkdir()
    os.mkfifo(handed / "report.json")
    with released_if_blocked(handed / "report.json"):
        said = refusals(reading_commands(handed, tmp_path), capsys)
        assert main(["verify", str(handed)]) == 1, "verify refuses the bundle (it never read through a FIFO)"
    assert set(said.values()) == {f"cannot read {handed / 'report.json'}: it is a FIFO, not a regular file"}, said


def test_a_device_named_on_the_command_line_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    said = refusals(reading_commands(Path(os.devnull), tmp_path), capsys)
    assert set(said.values()) == {f"cannot read {os.devnull}: it is a device, not a regular file"}, said


def test_a_link_in_a_report_directory_leading_out_of_it_is_never_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A report directory from elsewhere whose report.json links to a file of ours (a secret, /dev/zero) must not make
    us read that file into a page or an overview."""
    secret = good_report(tmp_path / "private")
    secret.write_text(
        json.dumps({"verdict": "conformant", "requirements": [{"id": "SECRET-VALUE-42"}]}), encoding="utf-8"
    )
    handed = tmp_path / "handed"
    handed.mkdir()
    (handed / "report.json").symlink_to(secret)
    said = refusals(reading_commands(handed, tmp_path), capsys)
    assert set(said.values()) == {
        f"cannot read {handed / 'report.json'}: it is a symbolic link leading out of {handed}, which is never followed"
    }, said
    written = [path for path in tmp_path.rglob("*") if path.is_file() and not path.is_symlink() and path != secret]
    assert not [path for path in written if "SECRET-VALUE-42" in path.read_text(encoding="utf-8", errors="replace")]


def test_links_the_user_made_are_followed(tmp_path: Path) -> None:
    """A report directory named through a link (reports/latest), a link inside it to a file in it, and a file the user
    names through a link are read as any command-line tool reads them."""
    real = good_report(tmp_path / "runs" / "1").parent
    latest = tmp_path / "latest"
    latest.symlink_to(real, target_is_directory=True)
    assert load_report(latest, loosely=True)["verdict"] == "conformant"
    inner = tmp_path / "inner"
    good_report(inner / "kept")
    (inner / "report.json").symlink_to(Path("kept") / "report.json")
    assert load_report(inner, loosely=True)["verdict"] == "conformant"
    named = tmp_path / "named.json"
    named.symlink_to(real / "report.json")
    assert load_report(named, or_file=True, loosely=True)["verdict"] == "conformant"


def test_a_report_larger_than_any_run_writes_is_not_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store, "MAX_REPORT_BYTES", 1000)
    file = good_report(tmp_path)
    with file.open("ab") as handle:
        handle.write(b" " * 1000)
    with pytest.raises(ReportError) as refused:
        load_report(tmp_path, loosely=True)
    assert str(refused.value) == f"cannot read {file}: it holds more than 1000 bytes, more than any run writes"
