"""Every file the suite writes is written link-safe: a symbolic link planted at any name a command writes, the
temporary files included, changes nothing outside the directory.

The attack: a report directory someone hands you (``report DIR`` re-renders one) holds ``index.html`` or its
temporary as a link to ``~/.ssh/authorized_keys`` or a ``.pth`` file; writing through it plants a key or code. So
each test puts links at every name the command writes, each pointing into an ``outside`` directory (at a file that
exists, and at one that does not: a dangling link would create it), and proves ``outside`` is byte for byte and
name for name as it was. Commands that would write through a link refuse the directory (exit 2, for ``verify``
INVALID); links only at temporary names are simply never used.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance.cli.main import main
from conformance.config.settings import SettingsError
from conformance.report.store import claim, point_latest
from conformance.support import files
from conformance.support.files import LinkRefused, refuse_links, temporary_of, write_atomically

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
#: The first temporary name each write draws, under the predictable_temporaries fixture.
PLANTED = "0" * 16


def snapshot(directory: Path) -> dict[str, tuple[bytes, int, int]]:
    """Every file under ``directory``: its content, mode and modification time (so a rewrite with the same bytes
    shows too)."""
    return {
        str(path.relative_to(directory)): (path.read_bytes(), path.stat().st_mode, path.stat().st_mtime_ns)
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


def plant(directory: Path, names: list[str], outside: Path) -> None:
    """A link at each name: half to a file outside that exists, half dangling (to a file outside that does not)."""
    directory.mkdir(parents=True, exist_ok=True)
    for number, name in enumerate(names):
        victim = outside / f"victim-{number}-{name.strip('.')}"
        if number % 2 == 0:
            victim.write_text("ssh-ed25519 AAAA... precious\n")
        (directory / name).symlink_to(victim)


def temporaries(name: str) -> list[str]:
    """Every temporary name a write of ``name`` could use: the fixed one earlier builds used, and the one the
    predictable_temporaries fixture makes the first draw."""
    return [f".{name}.tmp", f".{name}.{PLANTED}.tmp"]


def with_temporaries(names: list[str]) -> list[str]:
    return [*names, *(tmp for name in names for tmp in temporaries(name))]


@pytest.fixture(autouse=True)
def no_target_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DCS_BASE_URL", "DCS_PROJECT_ID", "DCS_AUTH_TOKEN", "CLOUD_SDK_AK", "CLOUD_SDK_SK"):
        monkeypatch.delenv(name, raising=False)
    for name in ("GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    directory = tmp_path / "outside"
    directory.mkdir()
    (directory / "authorized_keys").write_text("ssh-ed25519 AAAA... mine\n")
    return directory


@pytest.fixture
def predictable_temporaries(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The first temporary name drawn for each file is ``.<name>.000...0.tmp`` (where a test planted a link), the
    next ones random as usual; yields the names drawn."""
    drawn: list[str] = []
    real = files.temporary_name

    def draw(name: str) -> str:
        first = f".{name}.{PLANTED}.tmp"
        chosen = real(name) if first in drawn else first
        drawn.append(chosen)
        return chosen

    monkeypatch.setattr(files, "temporary_name", draw)
    yield drawn


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        code = main(argv)
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def report_dir(root: Path, name: str = "report", golden: str = "report-non-conformant.json") -> Path:
    directory = root / name
    directory.mkdir(parents=True)
    shutil.copyfile(GOLDEN / golden, directory / "report.json")
    return directory


# ---------------------------------------------------------------------------------------------------------------
# The one writer.


def test_a_link_at_the_name_written_is_refused_and_its_target_untouched(tmp_path: Path, outside: Path) -> None:
    before = snapshot(outside)
    (tmp_path / "index.html").symlink_to(outside / "authorized_keys")
    (tmp_path / "new.pth").symlink_to(outside / "evil.pth")
    for name in ("index.html", "new.pth"):
        with pytest.raises(LinkRefused, match="symbolic link") as refused:
            write_atomically(tmp_path / name, "import os\n")
        assert isinstance(refused.value, OSError) and refused.value.filename == str(tmp_path / name)
    assert snapshot(outside) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index.html", "new.pth", "outside"], "no temporary left"


def test_links_at_every_temporary_name_are_never_written_through(
    tmp_path: Path, outside: Path, predictable_temporaries: list[str]
) -> None:
    target = tmp_path / "dir"
    plant(target, temporaries("index.html"), outside)
    before = snapshot(outside)
    write_atomically(target / "index.html", "<p>the real page</p>\n")
    assert snapshot(outside) == before
    assert (target / "index.html").read_text() == "<p>the real page</p>\n"
    assert not (target / "index.html").is_symlink()
    assert predictable_temporaries[0] == f".index.html.{PLANTED}.tmp", "the planted name was tried first"
    assert len(predictable_temporaries) == 2, "and refused (O_EXCL), so another name was drawn"
    assert all((target / name).is_symlink() for name in temporaries("index.html")), "the links stay as they were"


def test_a_write_replaces_a_file_whole_leaves_no_temporary_and_keeps_the_umask_mode(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "report.json"
    write_atomically(path, "old")
    write_atomically(path, b"new \xe8\xbf\x81")
    assert path.read_bytes() == b"new \xe8\xbf\x81"
    assert [p.name for p in path.parent.iterdir()] == ["report.json"]
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask


def test_a_write_that_fails_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "report.json"
    path.write_text("old")
    with pytest.raises(UnicodeEncodeError):
        write_atomically(path, "lone surrogate \ud800")
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]


def test_temporaries_are_recognised_as_the_files_they_were_for() -> None:
    name = files.temporary_name("index.html")
    assert name.startswith(".index.html.") and name.endswith(".tmp") and name != files.temporary_name("index.html")
    assert temporary_of(name) == "index.html"
    assert temporary_of(".SHA256SUMS.tmp") == "SHA256SUMS"
    assert temporary_of("index.html") is None and temporary_of(".index.html") is None


def test_refuse_links_names_the_first_link_and_accepts_a_directory_that_is_a_link(tmp_path: Path) -> None:
    real = tmp_path / "run-1"
    real.mkdir()
    (tmp_path / "latest").symlink_to(real.name)
    refuse_links(tmp_path / "latest", ["index.html"])  # the user named the directory through a link: fine
    (real / "index.html").symlink_to("/etc/passwd")
    with pytest.raises(LinkRefused) as refused:
        refuse_links(tmp_path / "latest", ["report.json", "index.html"])
    assert refused.value.filename == str(tmp_path / "latest" / "index.html")


def test_claiming_a_report_directory_clears_leftover_temporaries_but_refuses_links(
    tmp_path: Path, outside: Path
) -> None:
    directory = tmp_path / "r"
    directory.mkdir()
    (directory / files.temporary_name("junit.xml")).write_text("half")
    (directory / ".report.json.tmp").write_text("half")
    claim(directory)
    assert list(directory.iterdir()) == []
    for planted in (directory / files.temporary_name("index.html"), directory / "index.html"):
        planted.symlink_to(outside / "authorized_keys")
        with pytest.raises(SettingsError, match="holds a link the suite did not write"):
            claim(directory)
        planted.unlink()
    (directory / "index.html").symlink_to(outside, target_is_directory=True)
    with pytest.raises(SettingsError, match="holds a link the suite did not write"):
        claim(directory)


def test_reports_latest_is_repointed_without_following_a_planted_link(tmp_path: Path, outside: Path) -> None:
    reports = tmp_path / "reports"
    (reports / "20240101T000000Z").mkdir(parents=True)
    (reports / "latest").symlink_to(outside)
    (reports / f".latest.{os.getpid()}").symlink_to(outside / "authorized_keys")
    before = snapshot(outside)
    assert point_latest(reports / "20240101T000000Z") is None
    assert os.readlink(reports / "latest") == "20240101T000000Z"
    assert snapshot(outside) == before and sorted(p.name for p in outside.iterdir()) == ["authorized_keys"]


# ---------------------------------------------------------------------------------------------------------------
# Every command that writes.

REPORT_FILES = ["report.json", "junit.xml", "index.html", "badge.svg", "SHA256SUMS"]


def test_report_refuses_a_directory_whose_index_html_is_a_link(
    tmp_path: Path, outside: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = report_dir(tmp_path)
    plant(directory, with_temporaries(["index.html"]), outside)
    before, inside = snapshot(outside), sorted(os.listdir(directory))
    code, out, err = run_cli(["report", str(directory)], capsys)
    assert code == 2 and out == ""
    assert "index.html" in err and "symbolic link" in err
    assert snapshot(outside) == before and sorted(os.listdir(directory)) == inside


def test_report_never_writes_through_links_at_its_temporaries(
    tmp_path: Path, outside: Path, capsys: pytest.CaptureFixture[str], predictable_temporaries: list[str]
) -> None:
    directory = report_dir(tmp_path)
    plant(directory, temporaries("index.html"), outside)
    before = snapshot(outside)
    code, _, err = run_cli(["report", str(directory)], capsys)
    assert code == 0, err
    assert snapshot(outside) == before
    assert (directory / "index.html").is_file() and not (directory / "index.html").is_symlink()


@pytest.mark.parametrize("planted", ["compare.json", "compare.html"])
def test_compare_refuses_an_output_directory_holding_a_link_and_writes_neither_file(
    tmp_path: Path, outside: Path, capsys: pytest.CaptureFixture[str], planted: str
) -> None:
    base, candidate = report_dir(tmp_path, "base"), report_dir(tmp_path, "candidate", "report-conformant.json")
    out = tmp_path / "out"
    plant(out, with_temporaries([planted]), outside)
    before, inside = snapshot(outside), sorted(os.listdir(out))
    code, out_text, err = run_cli(["compare", str(base), str(candidate), "--out", str(out)], capsys)
    assert code == 2 and out_text == ""
    assert planted in err and "symbolic link" in err
    assert snapshot(outside) == before and sorted(os.listdir(out)) == inside


def test_compare_into_the_current_directory_never_writes_through_links_at_its_temporaries(
    tmp_path: Path,
    outside: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    predictable_temporaries: list[str],
) -> None:
    base, candidate = report_dir(tmp_path, "base"), report_dir(tmp_path, "candidate", "report-conformant.json")
    here = tmp_path / "here"
    plant(here, [tmp for name in ("compare.json", "compare.html") for tmp in temporaries(name)], outside)
    monkeypatch.chdir(here)
    before = snapshot(outside)
    code, _, err = run_cli(["compare", str(base), str(candidate)], capsys)
    assert code == 0, err
    assert snapshot(outside) == before
    assert all((here / name).is_file() and not (here / name).is_symlink() for name in ("compare.json", "compare.html"))


@pytest.mark.parametrize("planted", ["summary.json", "index.html"])
def test_summarize_refuses_an_out_directory_holding_a_link(
    tmp_path: Path, outside: Path, capsys: pytest.CaptureFixture[str], planted: str
) -> None:
    directory = report_dir(tmp_path)
    out = tmp_path / "overview"
    plant(out, with_temporaries([planted]), outside)
    before, inside = snapshot(outside), sorted(os.listdir(out))
    code, out_text, err = run_cli(["summarize", str(directory), "--out", str(out)], capsys)
    assert code == 2 and out_text == ""
    assert planted in err and "symbolic link" in err
    assert snapshot(outside) == before and sorted(os.listdir(out)) == inside


def test_summarize_never_writes_through_links_at_its_temporaries(
    tmp_path: Path, outside: Path, capsys: pytest.CaptureFixture[str], predictable_temporaries: list[str]
) -> None:
    directory = report_dir(tmp_path)
    out, md = tmp_path / "overview", tmp_path / "md" / "summary.md"
    plant(out, [tmp for name in ("summary.json", "index.html") for tmp in temporaries(name)], outside)
    plant(md.parent, temporaries(md.name), outside)
    before = snapshot(outside)
    code, _, err = run_cli(["summarize", str(directory), "--out", str(out), "--summary-md", str(md)], capsys)
    assert code == 1, err  # the golden report is non-conformant
    assert snapshot(outside) == before
    assert md.is_file() and (out / "summary.json").is_file() and (out / "index.html").is_file()


@pytest.mark.parametrize("command", ["summarize", "run"])
def test_a_summary_md_that_is_a_link_is_refused_before_anything_is_written(
    tmp_path: Path, outside: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    monkeypatch.chdir(tmp_path)
    directory = report_dir(tmp_path)
    md = tmp_path / "summary.md"
    md.symlink_to(outside / "evil.pth")
    argv = ["summarize", str(directory), "--out", "overview"] if command == "summarize" else ["run"]
    code, out, err = run_cli([*argv, "--summary-md", str(md)], capsys)
    assert code == 2 and out == ""
    assert "--summary-md" in err and "symbolic link" in err
    assert sorted(p.name for p in outside.iterdir()) == ["authorized_keys"]
    assert not (tmp_path / "overview").exists() and not (tmp_path / "reports").exists()


def test_run_refuses_a_report_directory_holding_links_at_any_name_it_writes(
    tmp_path: Path, outside: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = tmp_path / "r"
    plant(directory, with_temporaries(REPORT_FILES), outside)
    before, inside = snapshot(outside), sorted(os.listdir(directory))
    code, _, err = run_cli(["run", "--report-dir", str(directory), "--certify"], capsys)
    assert code == 2
    assert "holds a link the suite did not write" in err
    assert snapshot(outside) == before and sorted(os.listdir(directory)) == inside


@pytest.mark.parametrize("planted", ["summary.json", "index.html", "one"])
def test_run_config_refuses_a_report_directory_holding_a_link_the_overview_or_a_target_would_use(
    tmp_path: Path,
    outside: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    planted: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("targets.toml").write_text('[[targets]]\nname = "one"\n\n[[targets]]\nname = "two"\n')
    directory = tmp_path / "runs"
    if planted == "one":  # a target's directory as a link to a directory elsewhere
        directory.mkdir()
        (directory / "one").symlink_to(outside, target_is_directory=True)
    else:
        plant(directory, [planted], outside)
    before = snapshot(outside)
    code, _, err = run_cli(["run", "--config", "targets.toml", "--report-dir", str(directory)], capsys)
    assert code == 2
    assert "holds a link the run would write through" in err and planted in err
    assert snapshot(outside) == before


def test_serve_refuses_a_fixtures_file_that_is_a_link_before_it_starts(
    tmp_path: Path, outside: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fixtures = tmp_path / "fixtures.json"
    fixtures.symlink_to(outside / "authorized_keys")
    before = snapshot(outside)
    code, out, err = run_cli(["serve", "--port", "0", "--fixtures-out", str(fixtures)], capsys)
    assert code == 2 and out == ""
    assert "--fixtures-out" in err and "symbolic link" in err
    assert snapshot(outside) == before


def test_verify_calls_a_bundle_holding_links_invalid_and_reads_nothing_through_them(
    tmp_path: Path, outside: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = report_dir(tmp_path, golden="report-conformant.json")
    fifo = outside / "fifo"
    os.mkfifo(fifo)  # reading it would block the test: verify must not open what a link points at
    (directory / "SHA256SUMS").symlink_to(fifo)
    (directory / "badge.svg").symlink_to(outside / "authorized_keys")
    plant(directory, [tmp for name in REPORT_FILES for tmp in temporaries(name)], outside)
    before = snapshot(outside)
    code, out, _ = run_cli(["verify", str(directory)], capsys)
    assert code == 1
    invalid = [line for line in out.splitlines() if line.startswith("INVALID: ")]
    # The first member found to be a link ends the check (one line, the reason): nothing is read through it.
    assert any("SHA256SUMS is a symbolic link" in line for line in invalid), invalid
    assert snapshot(outside) == before


def test_the_link_checks_leave_an_ordinary_run_of_every_command_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = report_dir(tmp_path)
    assert run_cli(["report", str(directory)], capsys)[0] == 0
    assert run_cli(["report", str(directory)], capsys)[0] == 0, "a second render replaces the first"
    out = tmp_path / "cmp"
    assert run_cli(["compare", str(directory), str(directory), "--out", str(out)], capsys)[0] == 0
    assert json.loads((out / "compare.json").read_text())
    assert sorted(os.listdir(directory)) == ["index.html", "report.json"]
