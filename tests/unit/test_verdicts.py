"""A verdict never says more than was checked: the rules that turn the requirement matrix and the diagnosis into
one word, and the diagnosis that explains a run in which nothing well-formed was accepted."""

from __future__ import annotations

from collections import Counter

import pytest

from conformance.contract import load_catalogue
from conformance.judging.diagnosis import diagnose
from conformance.judging.results import (
    Finding,
    Ledger,
    RequirementResult,
    SeenCount,
    Status,
    Verdict,
    decide_verdict,
    unexercised_musts,
)
from tests.conftest import exchange


def requirement(req_id: str, level: str, status: str, needs: tuple[str, ...] = ()) -> RequirementResult:
    return RequirementResult(req_id, level, "", "", list(needs), (), Status(status), "", 0, 0, [])


PASSED = [requirement("A", "MUST", "passed"), requirement("B", "SHOULD", "passed")]


def test_every_requirement_held_is_conformant() -> None:
    assert decide_verdict(PASSED) is Verdict.CONFORMANT


def test_a_must_failure_is_non_conformant() -> None:
    assert decide_verdict([*PASSED, requirement("C", "MUST", "failed")]) is Verdict.NON_CONFORMANT


def test_a_should_failure_only_warns() -> None:
    assert decide_verdict([*PASSED, requirement("C", "SHOULD", "warning")]) is Verdict.WITH_WARNINGS


def test_a_must_left_unexercised_that_needs_nothing_from_the_user_is_incomplete_even_without_certify() -> None:
    assert decide_verdict([*PASSED, requirement("C", "MUST", "skipped")]) is Verdict.INCOMPLETE


def test_a_must_that_needs_fixtures_or_credentials_may_be_skipped_unless_certifying() -> None:
    matrix = [*PASSED, requirement("C", "MUST", "skipped", ("fixtures",))]
    assert decide_verdict(matrix) is Verdict.CONFORMANT
    assert decide_verdict(matrix, certify=True) is Verdict.INCOMPLETE


def test_nothing_tested_is_never_conformant() -> None:
    matrix = [requirement(f"R{n}", "MUST", "skipped") for n in range(3)]
    assert decide_verdict(matrix) is Verdict.INCOMPLETE


def test_a_setup_problem_makes_the_run_incomplete_whatever_failed() -> None:
    matrix = [*PASSED, requirement("C", "MUST", "failed")]
    assert decide_verdict(matrix, setup_problem=True) is Verdict.INCOMPLETE


def test_an_error_outranks_everything() -> None:
    matrix = [requirement("C", "MUST", "failed"), requirement("D", "MUST", "error")]
    assert decide_verdict(matrix, setup_problem=True) is Verdict.ERROR


def test_unexercised_musts_are_the_skipped_musts_needing_nothing_or_every_one_when_certifying() -> None:
    bare = requirement("C", "MUST", "skipped")
    needing = requirement("D", "MUST", "skipped", ("credentials",))
    matrix = [*PASSED, bare, needing, requirement("E", "SHOULD", "skipped"), requirement("F", "MUST", "failed")]
    assert unexercised_musts(matrix) == [bare]
    assert unexercised_musts(matrix, certify=True) == [bare, needing]


# -- the ledger -------------------------------------------------------------------------------------------------


def test_what_a_run_lacks_skips_every_requirement_the_catalogue_says_needs_it_with_its_reason() -> None:
    catalogue = load_catalogue()
    ledger = Ledger(catalogue)
    ledger.record([Finding("BR-REQ-015", True)])
    ledger.skip_unmet(
        {"fixtures": "needs at least 1 restartable fixture", "credentials": catalogue.needs["credentials"]}
    )
    results = {item.id: item for item in ledger.requirement_results()}
    assert results["BR-REQ-014"].reason == "needs at least 1 restartable fixture"
    assert results["BR-REQ-015"].status == "passed"  # exercised by other means: judged all the same
    assert results["BR-REQ-018"].reason == results["BR-REQ-019"].reason == catalogue.needs["credentials"]
    assert results["BR-REQ-020"].reason == "no check exercised it in this run"


def test_a_violation_keeps_its_detail_beside_the_explanation_and_no_detail_key_without_one() -> None:
    ledger = Ledger(load_catalogue())
    ledger.record([Finding("BR-REQ-009", False, "1 missing", {"missing": ["a"]})], exchange(200))
    ledger.record([Finding("BR-REQ-003", False, "status 500")], exchange(500))
    results = {item.id: item for item in ledger.requirement_results()}
    [missing] = results["BR-REQ-009"].evidence
    assert (missing.explanation, missing.detail) == ("1 missing", {"missing": ["a"]})
    assert results["BR-REQ-003"].evidence[0].detail == {}


def test_a_throttled_exchange_is_never_evidence_only_an_observation() -> None:
    ledger = Ledger(load_catalogue())
    ledger.record([Finding("BR-REQ-003", False, "429")], exchange(429, throttled=True))
    results = {item.id: item for item in ledger.requirement_results()}
    assert results["BR-REQ-003"].checks == 0
    seen = {item.id: item.seen for item in ledger.observation_results()}
    assert seen["OBS-012"][0].count == 1


def test_a_skip_may_add_what_the_user_could_provide() -> None:
    ledger = Ledger(load_catalogue())
    ledger.skip("BR-REQ-016", "needs 50 known tasks", needs=("fixtures",))
    result = next(item for item in ledger.requirement_results() if item.id == "BR-REQ-016")
    assert (result.status, result.needs) == ("skipped", ["fixtures"])


def test_a_skip_without_needs_keeps_the_catalogue_needs() -> None:
    ledger = Ledger(load_catalogue())
    ledger.skip("BR-REQ-007", "no 200 answer")
    results = {item.id: item for item in ledger.requirement_results()}
    assert results["BR-REQ-007"].needs == []
    assert results["BR-REQ-014"].needs == ["fixtures"]


# -- the diagnosis ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answers", "configured", "start", "setup"),
    [
        ({"401": 9}, True, "the credentials were rejected", True),
        ({"401": 4, "403": 5}, True, "the credentials were rejected", True),
        ({"401": 9}, False, "the target demands credentials", True),
        ({"404": 9}, True, "every one of the 9 well-formed requests was answered 404", True),
        ({"400": 9}, True, "the target refuses every valid batch", False),
        ({"no answer": 3}, True, "the target answered none", False),
        ({"throttled": 3}, True, "the target throttled", False),
        ({"500": 2, "502": 1}, True, "every one of the 3 well-formed requests was answered with a server error", False),
        ({"400": 2, "401": 1}, True, "no well-formed request was answered 200", False),
    ],
)
def test_a_run_without_any_accepted_request_is_diagnosed(
    answers: dict[str, int], configured: bool, start: str, setup: bool
) -> None:
    diagnosis = diagnose(Counter(answers), credentials_configured=configured)
    assert diagnosis.messages and diagnosis.messages[0].startswith(start)
    assert diagnosis.setup_problem is setup


@pytest.mark.parametrize("answers", [{}, {"200": 1, "401": 50}])
def test_no_diagnosis_once_something_was_accepted(answers: dict[str, int]) -> None:
    assert diagnose(Counter(answers), credentials_configured=True).messages == []


def test_what_belongs_to_an_exchange_is_noted_once_however_many_findings_are_recorded_on_it() -> None:
    """A scenario records several checks' findings on one exchange: its throttling (OBS-012) and its dropped
    keep-alive attempt (OBS-013) are still one occurrence each."""
    ledger = Ledger(load_catalogue())
    throttled = exchange(429, throttled=True, seq=7, earlier_failure="request #6: reset on a reused connection")
    for _ in range(3):
        ledger.record([], throttled)
    seen = {item.id: item.seen for item in ledger.observation_results()}
    assert seen["OBS-012"] == [SeenCount("status 429: still throttled after every resend", 1)]
    assert [value.count for value in seen["OBS-013"]] == [1]
