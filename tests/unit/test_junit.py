"""junit.xml as a CI system reads it (junitparser, not our own parser): one testcase per requirement plus
``completeness``, which fails for an incomplete run and errors for an error run, so a test report never shows a
clean run for a job that fails; the golden reports are rendered, never changed."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any, cast

from junitparser import Error, Failure, JUnitXml, TestCase, TestSuite

from conformance.report.model import Report
from conformance.reporters import junit

GOLDEN = Path(__file__).resolve().parents[1] / "golden"


def golden(name: str) -> Report:
    return cast(Report, json.loads((GOLDEN / f"report-{name}.json").read_text(encoding="utf-8")))


def read(report: Report, tmp_path: Path) -> TestSuite:
    """The suite junitparser reads from the junit.xml written for ``report``."""
    (suite,) = JUnitXml.fromfile(str(junit.write(report, tmp_path)))
    return suite


def completeness(suite: TestSuite) -> TestCase:
    (case,) = [case for case in suite if case.name == junit.COMPLETENESS]
    return case


def unfinished(verdict: str, **fields: Any) -> Report:
    """The conformant golden report as a run that ended ``verdict``: its requirements skipped, as such runs leave
    them."""
    report = copy.deepcopy(golden("conformant"))
    for item in report["requirements"]:
        item["status"], item["reason"], item["evidence"] = "skipped", "no check exercised it in this run", []
    total = len(report["requirements"])
    report["counts"] = {"passed": 0, "failed": 0, "warning": 0, "skipped": total, "error": 0, "total": total}
    report["verdict"] = verdict
    report.update(cast(Report, fields))
    return report


def test_a_conformant_run_has_a_passing_completeness_testcase_beside_one_per_requirement(tmp_path: Path) -> None:
    report = golden("conformant")
    suite = read(report, tmp_path)
    assert suite.tests == len(report["requirements"]) + 1 == len(list(suite))
    assert (suite.failures, suite.errors) == (0, 0)
    assert completeness(suite).is_passed


def test_a_non_conformant_runs_failures_are_its_requirements_and_completeness_passes(tmp_path: Path) -> None:
    report = golden("non-conformant")
    suite = read(report, tmp_path)
    failed = {case.name.split()[0] for case in suite if any(isinstance(r, Failure) for r in case.result)}
    assert failed == {item["id"] for item in report["requirements"] if item["status"] == "failed"}
    assert suite.failures == report["counts"]["failed"] == 2
    assert completeness(suite).is_passed


def test_an_incomplete_run_fails_completeness_with_its_diagnosis_as_the_message(tmp_path: Path) -> None:
    diagnosis = "the credentials were rejected: every one of the 44 well-formed requests was answered 401"
    reason = f"{diagnosis}; 7 MUST requirement(s) not exercised: BR-REQ-006"
    suite = read(unfinished("incomplete", verdict_reason=reason, diagnosis=[diagnosis]), tmp_path)
    (failure,) = completeness(suite).result
    assert isinstance(failure, Failure)
    assert failure.message == reason and failure.type == "incomplete"
    assert failure.text == f"verdict: incomplete: {reason}\ndiagnosis: {diagnosis}"
    assert (suite.failures, suite.errors) == (1, 0)  # the suite's counts say so too, not only the testcase


def test_an_error_run_errors_completeness_with_the_error_as_the_message(tmp_path: Path) -> None:
    error = "interrupted (SIGTERM) after 12 requests"
    suite = read(unfinished("error", error=error, verdict_reason=None), tmp_path)
    (result,) = completeness(suite).result
    assert isinstance(result, Error)
    assert result.message == error and result.type == "error"
    assert (suite.failures, suite.errors) == (0, 1)
