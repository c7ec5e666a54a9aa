"""Bodies the suite cannot parse to the end: NaN is not JSON and fails the body's requirement; a valid body nested
deeper than the parser goes is never called invalid: the checks say they could not judge it, the skip says why,
and OBS-016 records it."""

from __future__ import annotations

import json

import schemathesis

from conformance.checks.auth import check_unauthenticated
from conformance.checks.batch import check_batch, check_fixture_outcomes, check_full_batch, check_same_outcomes
from conformance.checks.responses import check_response
from conformance.contract import load_catalogue, load_spec
from conformance.engine.phases.st_checks import run_schemathesis_checks
from conformance.judging.results import Finding, Ledger, Status
from tests.conftest import exchange, failures

DEEP = b'{"migration_tasks": [{"task_id": "task-a", "result": "failed", "error_code": "E", "error_msg": "m"}], "x": '
DEEP += b"[" * 2000 + b"]" * 2000 + b"}"
WHY = "valid JSON nested 2001 levels deep, deeper than the suite parses (512 levels)"


def test_a_nan_200_body_is_not_json_and_says_why() -> None:
    answer = exchange(200, content=b'{"migration_tasks": [], "p": NaN}')
    [violation] = failures(check_batch(["task-a"], answer), "BR-REQ-007")
    assert violation.message == "the 200 body is not JSON (NaN is not a JSON value: RFC 8259 has no NaN or Infinity)"


def test_a_nan_error_body_is_not_the_error_body() -> None:
    answer = exchange(400, content=b'{"error_code": "DCS.4800", "error_msg": "x", "n": Infinity}')
    [violation] = failures(check_response(answer), "BR-REQ-004")
    assert violation.message.startswith("the error body is not JSON (Infinity is not a JSON value")


def test_a_deep_200_body_is_unjudged_by_every_check_that_reads_it() -> None:
    answer = exchange(200, content=DEEP)
    results = [
        *check_response(answer),
        *check_batch(["task-a"], answer),
        *check_full_batch(["task-a"], answer),
        *check_fixture_outcomes(answer, ["task-a"], [], []),
        *check_same_outcomes(answer, answer, ["task-a"], "reversed batch"),
    ]
    assert failures(results) == []
    unjudged = {item.requirement for item in results if getattr(item, "unjudged", False)}
    assert unjudged == {f"BR-REQ-{n:03d}" for n in (7, 8, 9, 10, 11, 12, 13, 14, 16, 17)}
    assert all(WHY in item.message for item in results if getattr(item, "unjudged", False))


def test_deep_error_and_auth_bodies_are_unjudged_not_violated() -> None:
    error = exchange(400, content=b"[" * 1000 + b"]" * 1000)
    assert failures(check_response(error)) == []
    assert [item.requirement for item in check_response(error) if getattr(item, "unjudged", False)] == ["BR-REQ-004"]
    [auth] = check_unauthenticated(exchange(401, content=b"[" * 1000 + b"]" * 1000), "no credential")
    assert auth.unjudged and auth.message.startswith("no credential: answered 401, but the body is valid JSON nested")


def test_the_ledger_counts_an_unjudged_check_as_none_gives_its_reason_and_observes_the_body() -> None:
    ledger = Ledger(load_catalogue())
    answer = exchange(200, content=DEEP, seq=1)
    ledger.record([*check_response(answer), *check_batch(["task-a"], answer)], answer)
    results = {item.id: item for item in ledger.requirement_results()}
    assert results["BR-REQ-007"].status == Status.SKIPPED
    assert results["BR-REQ-007"].reason == f"not judged: the 200 body is {WHY}"
    assert results["BR-REQ-007"].checks == 0
    assert results["BR-REQ-021"].status == Status.PASSED, "what does not read the body is judged as always"
    observed = {item.id: item for item in ledger.observation_results()}["OBS-016"]
    assert [seen.value for seen in observed.seen] == [f"status 200: {WHY}"]
    assert observed.evidence and observed.evidence[0].exchange is not None


def test_a_deep_body_judged_beside_parsed_ones_keeps_their_verdict() -> None:
    ledger = Ledger(load_catalogue())
    for seq, content in enumerate([DEEP, json.dumps({"migration_tasks": []}).encode()], start=1):
        answer = exchange(200, content=content, seq=seq, request={"migration_tasks": []})
        ledger.record(check_batch([], answer), answer)
    results = {item.id: item for item in ledger.requirement_results()}
    assert (results["BR-REQ-007"].status, results["BR-REQ-007"].checks) == (Status.PASSED, 1)


def test_schemathesis_s_schema_check_does_not_judge_a_deep_body() -> None:
    """Its parser gives up on the body as if it were not JSON (a RecursionError)."""
    schema = schemathesis.openapi.from_dict(load_spec(), config=schemathesis.Config())
    operation = schema["/v2/{project_id}/migration-tasks/batch-restart"]["POST"]
    case = operation.Case(path_parameters={"project_id": "p"}, body={"migration_tasks": ["task-a"]})
    findings = run_schemathesis_checks(case, exchange(200, content=DEEP), negative=False)
    about_the_body = [item for item in findings if isinstance(item, Finding) and item.requirement == "BR-REQ-007"]
    assert about_the_body and all(item.unjudged and item.ok for item in about_the_body)
