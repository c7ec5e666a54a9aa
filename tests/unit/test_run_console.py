"""What a run prints when it ends: judged requirements one per line, the skipped ones on one line, and a recap of
every failure and warning last, with where the report shows it, as pytest ends with its short summary."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any, cast

import pytest

from conformance.app.run_console import print_run_end
from conformance.report.model import Report

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "report-non-conformant.json"


def golden() -> dict[str, Any]:
    return cast(dict[str, Any], json.loads(GOLDEN.read_text(encoding="utf-8")))


def printed(report: dict[str, Any], capsys: pytest.CaptureFixture[str], *, quiet: bool) -> list[str]:
    print_run_end(cast(Report, report), Path("reports/run"), quiet=quiet, warn=lambda text: text)
    return capsys.readouterr().out.splitlines()


@pytest.mark.parametrize("quiet", [False, True])
def test_a_failing_run_s_last_lines_name_every_failed_requirement_and_where_to_look(
    capsys: pytest.CaptureFixture[str], quiet: bool
) -> None:
    report = golden()
    failed = [item["id"] for item in report["requirements"] if item["status"] == "failed"]
    lines = printed(report, capsys, quiet=quiet)
    recap = lines[lines.index(f"failed ({len(failed)}):") :]
    assert recap[-1].startswith("verdict: non-conformant")
    for requirement in failed:
        assert any(line.startswith(f"  {requirement} MUST") for line in recap)
        assert f"    see reports/run/index.html#req-{requirement}" in recap


def test_skipped_requirements_share_one_line_with_each_reason_once(capsys: pytest.CaptureFixture[str]) -> None:
    report = copy.deepcopy(golden())
    for item in report["requirements"][:9]:
        item["status"], item["reason"] = "skipped", "needs fixtures"
    report["requirements"][9]["status"], report["requirements"][9]["reason"] = "skipped", "no credentials"
    lines = printed(report, capsys, quiet=False)
    skip_lines = [line for line in lines if line.startswith("SKIP")]
    assert len(skip_lines) == 1
    assert skip_lines[0].startswith("SKIP 10 requirement(s) not exercised -- needs fixtures (9); no credentials")
    assert not any(line.startswith(("PASS BR-REQ-001 ", "FAIL BR-REQ-009 ")) for line in lines[: lines.index("")])


def test_an_incomplete_run_states_its_diagnosis_once_then_what_the_reason_adds(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The reason of an incomplete run begins with its diagnosis (engine.runner), which has a line of its own."""
    diagnosis = "the credentials were rejected: every one of the 10 well-formed requests was answered 401"
    report = copy.deepcopy(golden())
    report["verdict"], report["diagnosis"] = "incomplete", [diagnosis]
    report["verdict_reason"] = f"{diagnosis}; 7 MUST requirement(s) not exercised: BR-REQ-006"
    lines = printed(report, capsys, quiet=True)
    assert sum(diagnosis in line for line in lines) == 1
    assert f"diagnosis: {diagnosis}" in lines
    assert "incomplete: 7 MUST requirement(s) not exercised: BR-REQ-006" in lines
