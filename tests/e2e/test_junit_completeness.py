"""Real runs whose requirements are all skipped, read as a CI reads their junit.xml (junitparser): a target nobody
listens for and a target that rejects the token each leave exactly one testcase that is not passed or skipped,
``completeness``, erroring for the first and failing for the second."""

from __future__ import annotations

from pathlib import Path

import pytest
from junitparser import Error, Failure, JUnitXml

from conformance.app.run import execute
from conformance.config.settings import resolve
from tests import ci_targets

pytestmark = pytest.mark.e2e

#: Small runs: what is judged does not matter, only how the run ends.
FAST = {"max_examples": 5, "seed": 1}


def unpassed(report_dir: Path) -> dict[str, list[object]]:
    """Every testcase of the run's junit.xml that neither passed nor was skipped, with its results."""
    (suite,) = JUnitXml.fromfile(str(report_dir / "junit.xml"))
    return {case.name: case.result for case in suite if not (case.is_passed or case.is_skipped)}


def test_an_unreachable_target_errors_the_completeness_testcase_and_nothing_else(tmp_path: Path) -> None:
    # Port 9 (discard): nothing listens there on loopback, as the other unreachable-target tests assume.
    flags = {"base_url": "http://127.0.0.1:9", "project_id": "p", "report_dir": str(tmp_path), **FAST}
    outcome = execute(resolve(flags, env={}), progress=lambda _: None)
    assert (outcome.exit_code, outcome.report["verdict"]) == (3, "error")
    cases = unpassed(tmp_path)
    assert list(cases) == ["completeness"]
    (error,) = cases["completeness"]
    assert isinstance(error, Error) and "could not be reached" in str(error.message)


def test_a_rejected_token_fails_the_completeness_testcase_with_the_diagnosis(tmp_path: Path) -> None:
    with ci_targets.token_reference("the-right-token-1234", "p1") as base_url:
        flags = {"base_url": base_url, "project_id": "p1", "auth_token": "a-wrong-token-5678", **FAST}
        outcome = execute(resolve({**flags, "report_dir": str(tmp_path)}, env={}), progress=lambda _: None)
    assert (outcome.exit_code, outcome.report["verdict"]) == (4, "incomplete")
    cases = unpassed(tmp_path)
    assert list(cases) == ["completeness"]
    (failure,) = cases["completeness"]
    assert isinstance(failure, Failure)
    assert str(failure.message).startswith("the credentials were rejected")
    assert outcome.report["diagnosis"][0] in str(failure.text)
