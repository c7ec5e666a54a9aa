"""A target cannot command the GitHub Actions runner that judges it: in every command's real output (run, compare,
summarize, run --config, the pytest plugin), parsed by a port of the runner's own parser (tests/gh_commands.py, both
the ``::`` and the legacy ``##[`` form, stop-commands, ICU and invariant runners), the only commands are our own
annotations, exactly as report.json says they should be.

The target (tests/hostile.py, mode ``inject-commands``) answers keys and values holding ``##[stop-commands]tok``,
``::error::forged``, ``##[set-output ...]`` and line breaks before ``::error title=forged::``; its 200 bodies without
``migration_tasks`` make BR-REQ-007 print their keys, its forged error_code reaches compare's table of codes.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conformance.reporters.ci_summary import report_annotations
from tests.conftest import clean_env
from tests.gh_commands import Command, decode_like_runner, parse_line, parse_log
from tests.hostile import FORGED_KEY, HostileServer

pytestmark = pytest.mark.e2e

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
BOUNDS = ("--seed", "1", "--max-examples", "5", "--max-requests", "60", "--timeout", "2")


def gh_env(tmp_path: Path) -> dict[str, str]:
    return clean_env(GITHUB_ACTIONS="true", GITHUB_STEP_SUMMARY=str(tmp_path / "step-summary.md"))


def dcs(*args: str, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "conformance", *args], cwd=cwd, env=gh_env(cwd), capture_output=True, timeout=120
    )


def acted_on(result: subprocess.CompletedProcess[bytes]) -> list[tuple[str, dict[str, str], str]]:
    """Every command the runner acts on in the step's output, whichever way it interleaves stdout and stderr, in
    an ICU and in an invariant runner: they must agree (a difference would mean one of them was fooled)."""
    out, err = decode_like_runner(result.stdout), decode_like_runner(result.stderr)
    seen = [
        [(c.name, c.properties, c.data) for c in parse_log(log, culture_sensitive=culture)]
        for log in (out + "\n" + err, err + "\n" + out)
        for culture in (True, False)
    ]
    assert parse_log(err) == [], "nothing on stderr acts as a command"
    assert all(found == seen[0] for found in seen), seen
    return seen[0]


def expected(report: dict[str, Any], name: str | None = None) -> list[tuple[str, dict[str, str], str]]:
    """Our own annotations for a report, as the runner reads them back."""
    commands: list[Command | None] = [parse_line(line) for line in report_annotations(report, name)]  # type: ignore[arg-type]
    assert all(commands)
    return [(c.name, c.properties, c.data) for c in commands if c is not None]


def read(path: Path) -> dict[str, Any]:
    report: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return report


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[bytes]]:
    """One run against the injecting target, with GITHUB_ACTIONS=true: its directory and its output."""
    root = tmp_path_factory.mktemp("hostile-run")
    with HostileServer("inject-commands") as server:
        result = dcs(
            "run", "--base-url", server.base_url, "--project-id", "p", *BOUNDS, "--report-dir", "out", cwd=root
        )
    assert result.returncode == 1, result.stdout.decode() + result.stderr.decode()
    return root, result


def test_a_run_against_a_target_answering_commands_prints_exactly_our_annotations(
    hostile_run: tuple[Path, subprocess.CompletedProcess[bytes]],
) -> None:
    root, result = hostile_run
    report = read(root / "out" / "report.json")
    assert FORGED_KEY in json.dumps(report), "the target's commands are in the report"
    shown = result.stdout.decode()
    assert "stop-commands" in shown and "BR-REQ-007" in shown, "and the terminal shows them, made inert"
    ours = expected(report)
    assert ours and all(name in ("error", "warning") for name, _, _ in ours)
    assert acted_on(result) == ours
    assert "##[stop-commands]" not in (root / "step-summary.md").read_text(encoding="utf-8").replace("\\[", "[")


def test_compare_over_a_report_holding_commands_prints_none_and_keeps_each_value_on_its_line(
    hostile_run: tuple[Path, subprocess.CompletedProcess[bytes]], tmp_path: Path
) -> None:
    root, _ = hostile_run
    result = dcs("compare", str(root / "out"), str(GOLDEN / "report-conformant.json"), "--out", "cmp", cwd=tmp_path)
    assert result.returncode == 0, result.stderr.decode()
    assert acted_on(result) == []
    shown = result.stdout.decode()
    assert "X\\n" in shown, "the forged error code's line break is shown as an escape"
    assert not any(line.startswith(("::", "##[")) for line in shown.splitlines())


def test_summarize_over_reports_holding_commands_prints_exactly_their_annotations(
    hostile_run: tuple[Path, subprocess.CompletedProcess[bytes]], tmp_path: Path
) -> None:
    root, _ = hostile_run
    golden = tmp_path / "golden"
    golden.mkdir()
    shutil.copyfile(GOLDEN / "report-non-conformant.json", golden / "report.json")
    result = dcs("summarize", str(root / "out"), str(golden), "--out", "overview", cwd=tmp_path)
    assert result.returncode == 1, result.stderr.decode()
    ours = expected(read(root / "out" / "report.json"), "out") + expected(read(golden / "report.json"), "golden")
    assert acted_on(result) == ours


def test_run_config_over_targets_answering_commands_prints_exactly_their_annotations(tmp_path: Path) -> None:
    with HostileServer("inject-commands") as one, HostileServer("inject-commands") as two:
        (tmp_path / "targets.toml").write_text(
            "".join(
                f'[[targets]]\nname = "{name}"\nbase_url = "{server.base_url}"\nproject_id = "p"\n'
                for name, server in (("one", one), ("two", two))
            ),
            encoding="utf-8",
        )
        result = dcs("run", "--config", "targets.toml", *BOUNDS, "--report-dir", "runs", cwd=tmp_path)
    assert result.returncode == 1, result.stdout.decode() + result.stderr.decode()
    ours = [line for name in ("one", "two") for line in expected(read(tmp_path / "runs" / name / "report.json"), name)]
    assert len(ours) >= 2
    assert acted_on(result) == ours


def test_the_pytest_plugin_prints_findings_of_such_a_target_without_a_command_but_ours(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text("", encoding="utf-8")
    flags = [f"--dcs-{flag.removeprefix('--')}" if flag.startswith("--") else flag for flag in BOUNDS]
    with HostileServer("inject-commands") as server:
        result = subprocess.run(
            [
                *(sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rA", "--dcs-base-url", server.base_url),
                *("--dcs-project-id", "p", *flags, "--dcs-report-dir", "out"),
            ],
            cwd=tmp_path,
            env=gh_env(tmp_path),
            capture_output=True,
            timeout=180,
        )
    assert result.returncode == 1, result.stdout.decode()[-3000:] + result.stderr.decode()
    assert "BR-REQ-007" in result.stdout.decode() and "stop-commands" in result.stdout.decode()
    assert acted_on(result) == expected(read(tmp_path / "out" / "report.json"))
