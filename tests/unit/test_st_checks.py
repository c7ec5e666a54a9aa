"""conformance.engine.phases.st_checks: schemathesis's built-in checks as a second opinion, and our batch oracle
registered as a schemathesis check.

A failure a built-in check finds must count against the requirement it is about, so these tests pin both what
schemathesis (the installed 4.x) really does on our contract and how its failures are attributed.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import respx
import schemathesis
from schemathesis import GenerationMode
from schemathesis.checks import FailureGroup
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation.meta import (
    CaseMetadata,
    ComponentInfo,
    FuzzingPhaseData,
    GenerationInfo,
    PhaseInfo,
    TestPhase,
)

import conformance.contract
from conformance.engine.client import TargetClient
from conformance.engine.phases.st_checks import (
    BUILTIN_CHECKS,
    batch_semantics,
    exchange_from_response,
    response_from_exchange,
    run_schemathesis_checks,
    schemathesis_config,
)
from conformance.judging.results import Exchange, Finding, Seen

BASE = "http://target.test"
PATH = "/v2/p/migration-tasks/batch-restart"
REQUESTED = ["a", "b"]
CONFORMING = {
    "migration_tasks": [
        {"result": "failed", "task_id": "b", "error_code": "dcs.41.0001", "error_msg": "task not v2"},
        {"result": "success", "task_id": "a"},
    ]
}
ERROR = {"error_code": "DCS.5000", "error_msg": "Internal service error.", "error_ext_msg": None}
POSITIVE_REQUIREMENTS = {"BR-REQ-022", "BR-REQ-005", "BR-REQ-007"}


def operation_with(config: schemathesis.Config) -> Any:
    schema = schemathesis.openapi.from_dict(conformance.contract.load_spec(), config=config)
    return schema["/v2/{project_id}/migration-tasks/batch-restart"]["POST"]


@pytest.fixture(scope="module")
def operation() -> Any:
    """The operation as a run's generated phase builds it: with the run's schemathesis configuration."""
    return operation_with(schemathesis_config())


@pytest.fixture
def case(operation: Any) -> schemathesis.Case:
    return operation.Case(
        path_parameters={"project_id": "p"}, body={"migration_tasks": REQUESTED}, media_type="application/json"
    )


def negative_case(operation: Any, body: Any) -> schemathesis.Case:
    """A case as schemathesis's fuzzing phase makes it in negative mode: the body violates the request schema."""
    meta = CaseMetadata(
        generation=GenerationInfo(time=0.0, mode=GenerationMode.NEGATIVE),
        components={
            ParameterLocation.PATH: ComponentInfo(mode=GenerationMode.POSITIVE),
            ParameterLocation.BODY: ComponentInfo(mode=GenerationMode.NEGATIVE),
        },
        phase=PhaseInfo(
            name=TestPhase.FUZZING,
            data=FuzzingPhaseData(
                description="violates `type` at /properties/migration_tasks (was array, became integer)",
                parameter="migration_tasks",
                parameter_location=ParameterLocation.BODY,
                location="/properties/migration_tasks",
            ),
        ),
    )
    return operation.Case(path_parameters={"project_id": "p"}, body=body, media_type="application/json", _meta=meta)


def exchange(
    status: int,
    body: Any = None,
    *,
    content: bytes | None = None,
    content_type: str | None = "application/json",
    request: Any = None,
) -> Exchange:
    """One round trip through TargetClient to a respx mock answering as told."""
    if content is None:
        content = json.dumps(body if body is not None else (CONFORMING if status < 400 else ERROR)).encode()
    headers = {"X-Request-Id": "req-1"}
    if content_type is not None:
        headers["Content-Type"] = content_type
    with respx.mock(base_url=BASE) as mock, TargetClient(BASE, "p") as client:
        mock.post(PATH).mock(return_value=httpx.Response(status, headers=headers, content=content))
        return client.post_json(request if request is not None else {"migration_tasks": REQUESTED})


def failing(findings: list[Finding | Seen]) -> dict[str, str]:
    return {item.requirement: item.message for item in findings if isinstance(item, Finding) and not item.ok}


def judged(findings: list[Finding | Seen]) -> set[str]:
    return {item.requirement for item in findings if isinstance(item, Finding)}


# -- run_schemathesis_checks, positive cases ------------------------------------------------------------------------


def test_conforming_answer_gives_only_ok_findings(case: schemathesis.Case) -> None:
    findings = run_schemathesis_checks(case, exchange(200), negative=False)
    assert all(isinstance(item, Finding) and item.ok for item in findings)
    assert judged(findings) == POSITIVE_REQUIREMENTS
    assert len(findings) == len(BUILTIN_CHECKS) - 1  # negative_data_rejection is not run for a positive case


@pytest.mark.parametrize("status", [400, 401, 403, 404])
def test_documented_error_answer_to_a_positive_case_gives_only_ok_findings(
    case: schemathesis.Case, status: int
) -> None:
    findings = run_schemathesis_checks(
        case, exchange(status, {"error_code": "DCS.4000", "error_msg": "x"}), negative=False
    )
    assert failing(findings) == {}


def test_server_errors_are_left_to_our_own_check_which_never_re_sends(case: schemathesis.Case) -> None:
    """schemathesis's not_a_server_error re-sends control requests with its own transport on a 5xx, behind the
    run's client; BR-REQ-003 is judged by check_no_server_error on every answer instead."""
    findings = run_schemathesis_checks(case, exchange(500, ERROR), negative=False)
    assert "not_a_server_error" not in BUILTIN_CHECKS
    assert "BR-REQ-003" not in judged(findings)


def test_text_plain_fails_br_req_005_naming_the_content_type(case: schemathesis.Case) -> None:
    findings = run_schemathesis_checks(case, exchange(200, content_type="text/plain"), negative=False)
    assert set(failing(findings)) == {"BR-REQ-005"}
    assert "text/plain" in failing(findings)["BR-REQ-005"]


def test_json_content_type_with_charset_passes(case: schemathesis.Case) -> None:
    findings = run_schemathesis_checks(
        case, exchange(200, content_type="application/json; charset=utf-8"), negative=False
    )
    assert failing(findings) == {}


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"tasks": []}, "migration_tasks"),
        ({"migration_tasks": {"a": "success"}}, "migration_tasks"),
        ({"migration_tasks": [{"result": "success"}]}, "task_id"),
        ({"migration_tasks": [{"task_id": "a", "result": 1}]}, "result"),
    ],
    ids=["wrapper-renamed", "object-not-array", "item-without-task_id", "numeric-result"],
)
def test_malformed_200_body_fails_br_req_007(case: schemathesis.Case, body: Any, fragment: str) -> None:
    findings = run_schemathesis_checks(case, exchange(200, body), negative=False)
    assert set(failing(findings)) == {"BR-REQ-007"}
    assert "response_schema_conformance" in failing(findings)["BR-REQ-007"]
    assert fragment in failing(findings)["BR-REQ-007"]


@pytest.mark.parametrize("status", [418, 409])
def test_undocumented_status_fails_br_req_022(case: schemathesis.Case, status: int) -> None:
    findings = run_schemathesis_checks(case, exchange(status, ERROR), negative=False)
    assert set(failing(findings)) == {"BR-REQ-022"}
    assert str(status) in failing(findings)["BR-REQ-022"]


def test_failure_messages_are_one_short_line(case: schemathesis.Case) -> None:
    findings = run_schemathesis_checks(case, exchange(200, {"tasks": []}), negative=False)
    message = failing(findings)["BR-REQ-007"]
    assert "\n" not in message
    assert len(message) <= len("schemathesis response_schema_conformance: ") + 300 + 80


# -- attribution of schemathesis failures --------------------------------------------------------------------------


def test_malformed_error_body_to_a_positive_case_counts_against_br_req_004_not_br_req_007(
    case: schemathesis.Case,
) -> None:
    """A well-formed request may be refused (e.g. an ID format the target does not accept): the error body is then
    judged by BR-REQ-004; BR-REQ-007 is about 200 bodies and must not fail."""
    findings = run_schemathesis_checks(case, exchange(400, {"message": "bad request"}), negative=False)
    assert "BR-REQ-004" in failing(findings)
    assert "BR-REQ-007" not in failing(findings)


def test_malformed_200_body_to_a_negative_case_counts_against_br_req_007_not_br_req_004(operation: Any) -> None:
    """A 200 body's shape is BR-REQ-007 whatever was asked; BR-REQ-004 is about 4xx/5xx error bodies."""
    bad = negative_case(operation, {"migration_tasks": 7})
    findings = run_schemathesis_checks(bad, exchange(200, {"tasks": []}), negative=True)
    assert "BR-REQ-007" in failing(findings)
    assert "BR-REQ-004" not in failing(findings)


def test_empty_body_without_content_type_does_not_fail_br_req_005(case: schemathesis.Case) -> None:
    """BR-REQ-005 binds responses with a body (our own check_json_content_type skips empty ones)."""
    findings = run_schemathesis_checks(case, exchange(500, content=b"", content_type=None), negative=False)
    assert "BR-REQ-005" not in failing(findings)


def test_conforming_body_without_content_type_fails_br_req_005_only(case: schemathesis.Case) -> None:
    """The missing header is BR-REQ-005's violation; the 200 body itself has the documented shape (BR-REQ-007)."""
    findings = run_schemathesis_checks(case, exchange(200, content_type=None), negative=False)
    assert "BR-REQ-005" in failing(findings)
    assert "BR-REQ-007" not in failing(findings)


# -- run_schemathesis_checks, negative cases (BR-REQ-001 via negative_data_rejection) ------------------------------


def test_negative_case_answered_200_fails_br_req_001(operation: Any) -> None:
    bad = negative_case(operation, {"migration_tasks": 7})
    findings = run_schemathesis_checks(bad, exchange(200, {"migration_tasks": []}), negative=True)
    assert set(failing(findings)) == {"BR-REQ-001"}
    assert "negative_data_rejection" in failing(findings)["BR-REQ-001"]
    assert "rejected" in failing(findings)["BR-REQ-001"]


def test_negative_case_refused_with_400_passes_br_req_001(operation: Any) -> None:
    bad = negative_case(operation, {"migration_tasks": 7})
    error = {"error_code": "DCS.4000", "error_msg": "Invalid request."}
    findings = run_schemathesis_checks(bad, exchange(400, error), negative=True)
    assert failing(findings) == {}
    assert judged(findings) == {"BR-REQ-022", "BR-REQ-005", "BR-REQ-004", "BR-REQ-001"}


@pytest.mark.parametrize("status", [413, 422, 404, 409])
def test_negative_case_refused_with_any_4xx_passes_br_req_001(operation: Any, status: int) -> None:
    """BR-REQ-001 says "refused with a 4xx": a 413 for too many tasks is a refusal (that it is not exactly 400 is
    BR-REQ-002's, a SHOULD, which our check_refused judges)."""
    bad = negative_case(operation, {"migration_tasks": 7})
    error = {"error_code": "DCS.4800", "error_msg": "Too many tasks."}
    findings = run_schemathesis_checks(bad, exchange(status, error), negative=True)
    assert Finding("BR-REQ-001", True) in findings
    assert "BR-REQ-001" not in failing(findings)


def test_negative_case_answered_5xx_fails_br_req_001_as_our_refusal_check_does(operation: Any) -> None:
    bad = negative_case(operation, {"migration_tasks": 7})
    findings = run_schemathesis_checks(bad, exchange(500, ERROR), negative=True)
    assert "negative_data_rejection" in failing(findings)["BR-REQ-001"]


def test_schemathesis_by_default_would_call_a_413_no_rejection() -> None:
    """Why the run configures the check: with schemathesis's own expected statuses, a 413 fails it, which mapped
    onto BR-REQ-001 would accuse a target that refused the request."""
    bad = negative_case(operation_with(schemathesis.Config()), {"migration_tasks": 7})
    error = {"error_code": "DCS.4800", "error_msg": "Too many tasks."}
    findings = run_schemathesis_checks(bad, exchange(413, error), negative=True)
    assert "BR-REQ-001" in failing(findings)


def test_negative_flag_on_a_case_without_generation_metadata_cannot_fail_br_req_001(case: schemathesis.Case) -> None:
    """What schemathesis really does: negative_data_rejection only judges cases whose metadata says they were
    generated in negative mode, and silently passes any other case; run_schemathesis_checks then records BR-REQ-001
    as held. Only schemathesis-generated negative cases can fail it (see the test above)."""
    findings = run_schemathesis_checks(case, exchange(200, {"migration_tasks": []}), negative=True)
    assert Finding("BR-REQ-001", True) in findings
    assert failing(findings) == {}


# -- batch_semantics as a schemathesis check -----------------------------------------------------------------------


def test_batch_semantics_passes_a_conforming_answer(case: schemathesis.Case) -> None:
    assert case.validate_response(response_from_exchange(exchange(200)), checks=[batch_semantics]) is None


def test_batch_semantics_raises_for_a_dropped_item_naming_br_req_009(case: schemathesis.Case) -> None:
    dropped = {"migration_tasks": CONFORMING["migration_tasks"][1:]}
    with pytest.raises(FailureGroup) as group:
        case.validate_response(response_from_exchange(exchange(200, dropped)), checks=[batch_semantics])
    assert "BR-REQ-009" in str(group.value)
    assert "'b'" in str(group.value)


@pytest.mark.parametrize(
    ("status", "body", "content_type", "requirement"),
    [
        (500, ERROR, "application/json", "BR-REQ-003"),
        (200, CONFORMING, "text/plain", "BR-REQ-005"),
        (400, {"message": "bad"}, "application/json", "BR-REQ-004"),
        (
            200,
            {"migration_tasks": [*CONFORMING["migration_tasks"], {"result": "success", "task_id": "z"}]},
            None,
            "BR-REQ-010",
        ),
    ],
    ids=["server-error", "text-plain", "bad-error-body", "phantom"],
)
def test_batch_semantics_raises_naming_the_violated_requirement(
    case: schemathesis.Case, status: int, body: Any, content_type: str | None, requirement: str
) -> None:
    ex = exchange(status, body, content_type=content_type or "application/json")
    with pytest.raises(FailureGroup) as group:
        case.validate_response(response_from_exchange(ex), checks=[batch_semantics])
    assert f"[{requirement}]" in str(group.value)


def test_batch_semantics_judges_only_response_rules_when_the_case_body_is_not_a_string_list(operation: Any) -> None:
    bad = negative_case(operation, {"migration_tasks": 7})
    ex = exchange(200, {"migration_tasks": []}, request={"migration_tasks": 7})
    assert bad.validate_response(response_from_exchange(ex), checks=[batch_semantics]) is None


# -- conversions -----------------------------------------------------------------------------------------------------


def test_response_from_exchange_and_back_keeps_status_headers_and_body() -> None:
    original = exchange(403, {"error_code": "DCS.1100", "error_msg": "denied"})
    response = response_from_exchange(original)
    assert response.status_code == 403
    back = exchange_from_response(response)
    assert back.status == original.status
    assert back.response_body == original.response_body
    assert back.header("x-request-id") == "req-1"
    assert back.header("content-type") == "application/json"
    assert back.method == "POST"
    assert back.url == original.url
    assert json.loads(back.request_body) == {"migration_tasks": REQUESTED}
