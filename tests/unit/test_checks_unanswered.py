"""A request without a complete answer is evidence against the requirements that request exercises, and nothing
more: checks judge it on having had no answer, never on a body that did not arrive."""

from __future__ import annotations

from typing import Any

from conformance.checks.auth import check_forbidden
from conformance.checks.batch import (
    check_batch,
    check_fixture_outcomes,
    check_full_batch,
    check_same_outcomes,
    check_unknown_outcomes,
)
from conformance.checks.refusals import check_refused
from conformance.checks.responses import check_response
from conformance.judging.results import Exchange, Finding
from tests.conftest import exchange, findings_for

NO_ANSWER = "no answer: ReadTimeout after 30 s"


def unanswered(status: int = 0) -> Exchange:
    return exchange(status, failure=NO_ANSWER)


def items(*pairs: tuple[str, str]) -> dict[str, Any]:
    return {
        "migration_tasks": [
            {"task_id": task, "result": result, **({"error_code": "E", "error_msg": "m"} if result == "failed" else {})}
            for task, result in pairs
        ]
    }


def test_an_unanswered_request_fails_only_br_req_023_naming_why() -> None:
    assert check_response(unanswered()) == [Finding("BR-REQ-023", False, NO_ANSWER)]


def test_a_complete_answer_holds_br_req_023() -> None:
    assert Finding("BR-REQ-023", True) in check_response(exchange(200, items()))


def test_a_partial_answer_names_the_status_that_had_arrived() -> None:
    [finding] = check_response(unanswered(200))
    assert finding.message.endswith("(status 200 had arrived)")


def test_a_keep_alive_race_is_not_held_against_the_target_whenever_the_request_was_lost() -> None:
    """Written whole into a connection the target had just closed, a request is never read: only the resend counts."""
    answered = exchange(200, items(), earlier_failure="request #4: reset after the whole request was sent")
    assert findings_for(check_response(answered), "BR-REQ-023") == [Finding("BR-REQ-023", True)]


def test_an_invalid_body_left_unanswered_fails_br_req_001() -> None:
    [finding] = check_refused(unanswered(), "body is not JSON")
    assert (finding.requirement, finding.ok) == ("BR-REQ-001", False)
    assert "never refused" in finding.message and NO_ANSWER in finding.message


def test_a_permission_check_left_unanswered_fails_br_req_020() -> None:
    [finding] = check_forbidden(unanswered(), "a read-only credential")
    assert (finding.requirement, finding.ok) == ("BR-REQ-020", False)


def test_batch_oracles_say_nothing_about_an_answer_that_did_not_arrive_whole() -> None:
    assert check_batch(["a"], unanswered(200)) == []
    assert check_unknown_outcomes(unanswered(200), ["a"]) == []
    assert check_same_outcomes(unanswered(), exchange(200, items(("a", "failed"))), ["a"], "reversed") == []


def test_a_mixed_batch_or_the_batch_of_50_left_unanswered_fails_its_requirement() -> None:
    [mixed] = check_fixture_outcomes(unanswered(), ["r"], ["n"], [])
    [full] = check_full_batch(["a"] * 50, unanswered())
    assert (mixed.requirement, mixed.ok, full.requirement, full.ok) == ("BR-REQ-014", False, "BR-REQ-016", False)


def test_a_throttled_original_makes_no_metamorphic_comparison() -> None:
    throttled = exchange(429, {"error_code": "APIGW.0308", "error_msg": "slow down"}, throttled=True)
    assert check_same_outcomes(throttled, exchange(200, items(("a", "failed"))), ["a"], "reversed") == []


def test_an_unknown_id_reported_success_fails_br_req_015() -> None:
    [finding] = check_unknown_outcomes(exchange(200, items(("u", "success"))), ["u"])
    assert (finding.requirement, finding.ok) == ("BR-REQ-015", False)
    assert check_unknown_outcomes(exchange(200, items(("u", "failed"))), ["u"]) == [Finding("BR-REQ-015", True)]
