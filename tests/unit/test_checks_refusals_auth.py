"""conformance.checks.refusals and .auth: invalid input gets a 4xx (preferably 400); untrusted callers get 401/403
with the documented error body."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from conformance.checks.auth import check_forbidden, check_unauthenticated, check_wrong_credentials
from conformance.checks.refusals import check_refused
from conformance.engine.client import Auth
from conformance.judging.results import Exchange, Finding
from tests.conftest import exchange, ledger_status

ERROR = {"error_code": "DCS.4000", "error_msg": "Invalid request.", "error_ext_msg": None}
WHAT = "migration_tasks is a string"


# -- check_refused (BR-REQ-001 MUST, BR-REQ-002 SHOULD) ------------------------------------------------------------


def test_400_refusal_holds_both_br_req_001_and_br_req_002() -> None:
    assert check_refused(exchange(400), WHAT) == [Finding("BR-REQ-001", True), Finding("BR-REQ-002", True)]


@pytest.mark.parametrize("status", [401, 404, 413, 415, 422, 429])
def test_other_4xx_refusal_holds_br_req_001_but_violates_br_req_002(status: int) -> None:
    findings = check_refused(exchange(status), WHAT)
    assert findings[0] == Finding("BR-REQ-001", True)
    [should] = findings[1:]
    assert (should.requirement, should.ok) == ("BR-REQ-002", False)
    assert WHAT in should.message
    assert f"refused with {status}, not 400" in should.message


def test_422_refusal_is_only_a_warning_because_br_req_002_is_should() -> None:
    findings = check_refused(exchange(422), WHAT)
    assert ledger_status(findings, "BR-REQ-001") == "passed"
    assert ledger_status(findings, "BR-REQ-002") == "warning"


@pytest.mark.parametrize("status", [200, 201, 204, 302])
def test_accepted_invalid_request_violates_br_req_001_naming_the_defect(status: int) -> None:
    [finding] = check_refused(exchange(status), WHAT)
    assert (finding.requirement, finding.ok) == ("BR-REQ-001", False)
    assert WHAT in finding.message
    assert f"accepted with status {status}" in finding.message
    assert ledger_status([finding], "BR-REQ-001") == "failed"


@pytest.mark.parametrize("status", [500, 503])
def test_server_error_is_not_a_refusal_and_violates_br_req_001(status: int) -> None:
    [finding] = check_refused(exchange(status), "51 task IDs")
    assert (finding.requirement, finding.ok) == ("BR-REQ-001", False)
    assert "51 task IDs" in finding.message
    assert str(status) in finding.message


# -- check_unauthenticated / check_wrong_credentials / check_forbidden ---------------------------------------------

AuthCheck = Callable[[Exchange, str], list[Finding]]
AUTH_CHECKS = [
    pytest.param(check_unauthenticated, "BR-REQ-018", 401, Auth.NONE, id="unauthenticated"),
    pytest.param(check_wrong_credentials, "BR-REQ-019", 401, Auth.WRONG_TOKEN, id="wrong-credentials"),
    pytest.param(check_forbidden, "BR-REQ-020", 403, Auth.READONLY, id="forbidden"),
]


@pytest.mark.parametrize(("check", "requirement", "status", "auth"), AUTH_CHECKS)
def test_expected_status_with_error_body_holds(check: AuthCheck, requirement: str, status: int, auth: Auth) -> None:
    body = {"error_code": "DCS.1001", "error_msg": "Invalid token."}
    assert check(exchange(status, body), auth.value) == [Finding(requirement, True)]


@pytest.mark.parametrize(("check", "requirement", "status", "auth"), AUTH_CHECKS)
def test_request_served_with_200_violates_the_auth_requirement(
    check: AuthCheck, requirement: str, status: int, auth: Auth
) -> None:
    [finding] = check(exchange(200), auth.value)
    assert (finding.requirement, finding.ok) == (requirement, False)
    assert auth.value in finding.message
    assert f"answered 200, not {status}" in finding.message


@pytest.mark.parametrize(("check", "requirement", "status", "auth"), AUTH_CHECKS)
def test_expected_status_with_non_json_body_violates_the_auth_requirement(
    check: AuthCheck, requirement: str, status: int, auth: Auth
) -> None:
    ex = exchange(status, content=b"<html>Unauthorized</html>", content_type="text/html")
    [finding] = check(ex, auth.value)
    assert (finding.requirement, finding.ok) == (requirement, False)
    assert auth.value in finding.message
    assert "not JSON" in finding.message


@pytest.mark.parametrize(("check", "requirement", "status", "auth"), AUTH_CHECKS)
def test_expected_status_with_incomplete_error_body_violates_the_auth_requirement(
    check: AuthCheck, requirement: str, status: int, auth: Auth
) -> None:
    [finding] = check(exchange(status, {"message": "Unauthorized"}), auth.value)
    assert (finding.requirement, finding.ok) == (requirement, False)
    assert "no 'error_code'" in finding.message


@pytest.mark.parametrize(
    ("check", "requirement", "wrong"),
    [
        (check_unauthenticated, "BR-REQ-018", 403),
        (check_wrong_credentials, "BR-REQ-019", 403),
        (check_forbidden, "BR-REQ-020", 401),
    ],
)
def test_the_other_auth_status_violates_the_requirement(check: AuthCheck, requirement: str, wrong: int) -> None:
    [finding] = check(exchange(wrong), "credential")
    assert (finding.requirement, finding.ok) == (requirement, False)
    assert f"answered {wrong}" in finding.message
