"""conformance.checks.responses judges every answer: status codes, Content-Type, X-Request-Id and the error body.

Each exchange is built as the client records it (tests/conftest.py), so the checks are tested without HTTP.
"""

from __future__ import annotations

import codecs
import json
from typing import Any

import pytest

from conformance.checks.responses import (
    check_documented_status,
    check_error_body,
    check_json_content_type,
    check_no_server_error,
    check_request_id,
    check_response,
    check_success_is_200,
    error_code_format,
)
from conformance.judging.results import Finding
from tests.conftest import GOOD_BATCH, GOOD_ERROR, exchange, failures, findings_for, judged, ledger_status, seen

# -- the whole set ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body"),
    [(200, GOOD_BATCH), (400, GOOD_ERROR), (401, GOOD_ERROR), (403, GOOD_ERROR), (404, GOOD_ERROR)],
    ids=["200", "400", "401", "403", "404"],
)
def test_conforming_answer_holds_every_response_rule(status: int, body: Any) -> None:
    results = check_response(exchange(status, body))
    assert failures(results) == []
    assert {"BR-REQ-003", "BR-REQ-022", "BR-REQ-005", "BR-REQ-021"} <= judged(results)


# -- BR-REQ-003: no 5xx -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_error_status_violates_br_req_003_naming_the_status(status: int) -> None:
    results = check_no_server_error(exchange(status))
    [failure] = failures(results, "BR-REQ-003")
    assert str(status) in failure.message


@pytest.mark.parametrize("status", [200, 400, 401, 404, 499])
def test_non_5xx_status_holds_br_req_003(status: int) -> None:
    assert [f.ok for f in check_no_server_error(exchange(status))] == [True]


def test_server_error_through_check_response_fails_br_req_003_only_for_the_status() -> None:
    results = check_response(exchange(500))
    assert {f.requirement for f in failures(results)} == {"BR-REQ-003"}


# -- BR-REQ-006: success is exactly 200 ---------------------------------------------------------------------------


@pytest.mark.parametrize("status", [201, 202, 207])
def test_other_2xx_violates_br_req_006_naming_the_status(status: int) -> None:
    [failure] = failures(check_success_is_200(exchange(status)), "BR-REQ-006")
    assert str(status) in failure.message


def test_200_holds_br_req_006() -> None:
    assert check_success_is_200(exchange(200)) == [Finding("BR-REQ-006", True)]


@pytest.mark.parametrize("status", [400, 500])
def test_non_2xx_is_not_judged_by_br_req_006(status: int) -> None:
    assert check_success_is_200(exchange(status)) == []


# -- BR-REQ-022: only documented statuses (SHOULD) ----------------------------------------------------------------


@pytest.mark.parametrize("status", [418, 409, 422, 207])
def test_undocumented_status_violates_br_req_022_naming_the_status(status: int) -> None:
    [failure] = failures(check_documented_status(exchange(status)), "BR-REQ-022")
    assert str(status) in failure.message


@pytest.mark.parametrize("status", [200, 400, 401, 403, 404, 500])
def test_documented_status_holds_br_req_022(status: int) -> None:
    assert check_documented_status(exchange(status)) == [Finding("BR-REQ-022", True)]


def test_undocumented_status_is_only_a_warning_because_br_req_022_is_should() -> None:
    results = check_response(exchange(418))
    assert failures(results, "BR-REQ-022")
    assert ledger_status(results, "BR-REQ-022") == "warning"


# -- BR-REQ-005: Content-Type ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "application/json; charset=utf-8", "application/json;charset=UTF-8", "Application/JSON"],
)
def test_json_content_type_with_or_without_parameters_holds_br_req_005(content_type: str) -> None:
    results = check_json_content_type(exchange(200, content_type=content_type))
    assert findings_for(results, "BR-REQ-005") == [Finding("BR-REQ-005", True)]
    assert seen(results, "OBS-010") == [content_type]


@pytest.mark.parametrize("content_type", ["text/plain", "text/html; charset=utf-8", "application/problem+json"])
def test_non_json_content_type_violates_br_req_005_quoting_it(content_type: str) -> None:
    results = check_json_content_type(exchange(200, content_type=content_type))
    [failure] = failures(results, "BR-REQ-005")
    assert repr(content_type) in failure.message
    assert seen(results, "OBS-010") == [content_type]


def test_missing_content_type_violates_br_req_005_and_is_recorded_as_none() -> None:
    results = check_json_content_type(exchange(200, content_type=None))
    [failure] = failures(results, "BR-REQ-005")
    assert "None" in failure.message
    assert seen(results, "OBS-010") == ["(none)"]


def test_empty_body_needs_no_content_type() -> None:
    assert check_json_content_type(exchange(200, content=b"", content_type=None)) == []


# -- BR-REQ-021: X-Request-Id (SHOULD) -----------------------------------------------------------------------------


@pytest.mark.parametrize("request_id", [None, "", "   "], ids=["missing", "empty", "blank"])
def test_missing_or_blank_request_id_violates_br_req_021(request_id: str | None) -> None:
    [failure] = failures(check_request_id(exchange(200, request_id=request_id)), "BR-REQ-021")
    assert "X-Request-Id" in failure.message


def test_request_id_holds_br_req_021_on_success_and_error() -> None:
    assert check_request_id(exchange(200)) == [Finding("BR-REQ-021", True)]
    assert check_request_id(exchange(500)) == [Finding("BR-REQ-021", True)]


def test_missing_request_id_is_only_a_warning_because_br_req_021_is_should() -> None:
    assert ledger_status(check_response(exchange(200, request_id=None)), "BR-REQ-021") == "warning"


# -- BR-REQ-004: error bodies ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"<html>Bad Request</html>", "not JSON"),
        (b"", "not JSON"),
        (json.dumps([GOOD_ERROR]).encode(), "JSON list, not an object"),
        (b'"Invalid request."', "JSON str, not an object"),
        (json.dumps({"error_msg": "Invalid request."}).encode(), "no 'error_code'"),
        (json.dumps({"error_code": "DCS.4000"}).encode(), "no 'error_msg'"),
        (json.dumps({"error_code": 4000, "error_msg": "x"}).encode(), "$.error_code is int 4000"),
        (json.dumps({"error_code": None, "error_msg": "x"}).encode(), "$.error_code is NoneType"),
        (json.dumps({"error_code": "DCS.4000", "error_msg": ["x"]}).encode(), "$.error_msg is list"),
        (json.dumps({"error_code": "DCS.4000", "error_msg": "x", "error_ext_msg": 7}).encode(), "$.error_ext_msg"),
        (json.dumps({"error_code": "DCS.4000", "error_msg": "x", "error_ext_msg": {}}).encode(), "$.error_ext_msg"),
        (codecs.BOM_UTF8 + json.dumps(GOOD_ERROR).encode(), "byte order mark"),
        (json.dumps(GOOD_ERROR).encode("utf-16-le"), "UTF-16-LE, not UTF-8"),
    ],
    ids=[
        "html",
        "empty",
        "array",
        "json-string",
        "no-error_code",
        "no-error_msg",
        "numeric-error_code",
        "null-error_code",
        "array-error_msg",
        "numeric-error_ext_msg",
        "object-error_ext_msg",
        "bom-before-json",
        "utf-16",
    ],
)
@pytest.mark.parametrize("status", [400, 500])
def test_malformed_error_body_violates_br_req_004_saying_where(status: int, content: bytes, fragment: str) -> None:
    results = check_error_body(exchange(status, content=content))
    [failure] = failures(results, "BR-REQ-004")
    assert fragment in failure.message
    assert seen(results, "OBS-007") == []


@pytest.mark.parametrize(
    "extra",
    [{}, {"error_ext_msg": None}, {"error_ext_msg": "more detail"}, {"request_id": "r-1"}],
    ids=["ext-absent", "ext-null", "ext-string", "additional-field"],
)
def test_documented_error_body_holds_br_req_004(extra: dict[str, Any]) -> None:
    body = {"error_code": "DCS.4957", "error_msg": "operation not allowed", **extra}
    results = check_error_body(exchange(400, body))
    assert findings_for(results, "BR-REQ-004") == [Finding("BR-REQ-004", True)]


def test_a_200_is_never_judged_as_an_error_body() -> None:
    assert check_error_body(exchange(200, {"not": "an error body"})) == []
    assert check_error_body(exchange(200, content=b"plain text", content_type="text/plain")) == []


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [
        ("DCS.4957", 400, "DCS.4957 (DCS.NNNN, status 400)"),
        ("DCS.1001", 401, "DCS.1001 (DCS.NNNN, status 401)"),
        ("dcs.41.0001", 400, "dcs.41.0001 (dcs.NN.NNNN, status 400)"),
        ("APIGW.0301", 401, "APIGW.0301 (other, status 401)"),
        ("DCS.", 500, "DCS. (other, status 500)"),
    ],
)
def test_error_codes_are_recorded_by_format_as_obs_007(code: str, status: int, expected: str) -> None:
    results = check_error_body(exchange(status, {"error_code": code, "error_msg": "m"}))
    assert seen(results, "OBS-007") == [expected]


@pytest.mark.parametrize(
    ("code", "label"),
    [
        ("DCS.4957", "DCS.NNNN"),
        ("dcs.41.0001", "dcs.NN.NNNN"),
        ("dcs.41", "other"),
        ("DCS.49x", "other"),
        ("", "other"),
    ],
)
def test_error_code_format_labels(code: str, label: str) -> None:
    assert error_code_format(code) == label


def test_error_body_violation_is_a_failure_because_br_req_004_is_must() -> None:
    results = check_response(exchange(400, content=b"oops", content_type="text/plain"))
    assert ledger_status(results, "BR-REQ-004") == "failed"
