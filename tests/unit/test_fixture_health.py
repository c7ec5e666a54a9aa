"""judging/fixture_health: used-up or foreign fixtures are diagnosed, not blamed on the target, and only when every
restartable fixture failed exactly as the target fails tasks it cannot restart or does not know."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from typing import Any

from conformance.judging.diagnosis import diagnose
from conformance.judging.fixture_health import FixtureHealth, leave_unjudged
from conformance.judging.results import RequirementResult, Status, Verdict, decide_verdict
from tests.conftest import exchange

R1, R2 = "11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"
N1 = "33333333-3333-4333-8333-333333333333"
MINTED = "44444444-4444-4444-8444-444444444444"
STATE = ("DCS.4957", "The operation is not allowed in the task's current state (MIGRATING).")
NO_SUCH = ("DCS.4800", "Invalid migration_tasks: no such migration task.")


def item(task_id: str, failure: tuple[str, str] | None = None) -> dict[str, Any]:
    if failure is None:
        return {"task_id": task_id, "result": "success"}
    return {"task_id": task_id, "result": "failed", "error_code": failure[0], "error_msg": failure[1]}


def result(requirement: str, status: Status) -> RequirementResult:
    return RequirementResult(requirement, "MUST", "", "", [], (), status, "", 1, 0, [])


def health(*answers: list[dict[str, Any]]) -> FixtureHealth:
    watched = FixtureHealth([R1, R2], [N1], lambda task_id: task_id == MINTED)
    for items in answers:
        watched.see(exchange(body={"migration_tasks": items}))
    return watched


def test_fixtures_restarted_by_an_earlier_run_are_diagnosed_as_used_up() -> None:
    seen = health([item(R1, STATE), item(N1, STATE)], [item(R2, STATE), item(MINTED, NO_SUCH)])
    assert "look used up" in (seen.used_up() or "")


def test_fixtures_the_target_does_not_know_are_diagnosed_as_foreign() -> None:
    seen = health([item(R1, NO_SUCH), item(MINTED, NO_SUCH)], [item(R2, NO_SUCH)])
    assert "does not know" in (seen.used_up() or "")


def test_a_message_naming_the_task_is_the_same_failure_for_every_task() -> None:
    seen = health(
        [item(R1, ("E1", f"task {R1} is migrating")), item(N1, ("E1", f"task {N1} is migrating"))],
        [item(R2, ("E1", f"task {R2} is migrating"))],
    )
    assert seen.used_up() is not None


def test_one_restarted_fixture_means_the_others_are_judged() -> None:
    assert health([item(R1, STATE), item(N1, STATE)], [item(R2)]).used_up() is None


def test_a_failure_unlike_any_unusable_task_s_is_judged() -> None:
    assert health([item(R1, ("DCS.5000", "internal error")), item(N1, STATE)]).used_up() is None


def test_a_target_that_reports_an_unusable_task_restarted_is_judged() -> None:
    """Outcomes swapped: the restartable fixture carries the other's failure, and the other was 'restarted'."""
    assert health([item(R1, STATE), item(N1)], [item(R2, STATE), item(N1, STATE)]).used_up() is None


def test_a_stable_task_failed_with_an_error_code_that_depends_on_its_batch_means_the_fixtures_are_judged() -> None:
    """An unknown ID poisoning its batch: the non-restartable fixture fails as unknown beside one, as itself alone;
    the restartable fixture failing there is no sign it is used up."""
    poisoned = [item(N1, NO_SUCH), item(MINTED, NO_SUCH), item(R1, NO_SUCH), item(R2, NO_SUCH)]
    assert health(poisoned, [item(N1, STATE)]).used_up() is None


def test_a_stable_task_failed_with_the_same_code_and_another_message_is_still_diagnosed() -> None:
    """Only the error code counts: a message may carry a request ID or a time."""
    seen = health([item(R1, STATE), item(N1, STATE)], [item(R2, STATE), item(N1, ("DCS.4957", "request 8f2 refused"))])
    assert "look used up" in (seen.used_up() or "")


def test_without_an_answer_for_a_restartable_fixture_there_is_nothing_to_diagnose() -> None:
    assert health([item(N1, STATE)]).used_up() is None


def test_used_up_fixtures_leave_br_req_014_unjudged_and_the_run_incomplete_unless_something_else_failed() -> None:
    why = health([item(R1, STATE), item(N1, STATE)], [item(R2, STATE)]).used_up()
    diagnosis = diagnose(Counter({"200": 3}), credentials_configured=True, fixtures_used_up=why)
    assert diagnosis.fixtures_unusable and diagnosis.messages[0].startswith("the fixtures cannot be judged")
    results = [result("BR-REQ-014", Status.FAILED), result("BR-REQ-009", Status.PASSED)]
    judged = leave_unjudged(results, "BR-REQ-014", diagnosis.messages[0])
    assert judged[0].status == Status.SKIPPED and judged[0].reason == diagnosis.messages[0]
    assert decide_verdict(judged, fixtures_unusable=True) is Verdict.INCOMPLETE
    judged[1] = replace(judged[1], status=Status.FAILED)
    assert decide_verdict(judged, fixtures_unusable=True) is Verdict.NON_CONFORMANT


def test_a_refusal_naming_a_migration_under_way_looks_used_up_even_without_a_like_unusable_task() -> None:
    """A staging-sized project's non-restartable tasks may all fail for another reason (v1 tasks)."""
    seen = health([item(R1, STATE), item(N1, ("dcs.41.0001", "task not v2"))])
    assert "look used up" in (seen.used_up() or "")


def test_the_documented_state_error_code_alone_is_no_sign_of_used_up_fixtures() -> None:
    """A target that fails a whole mixed batch with the state-error code must still be judged."""
    seen = health([item(R1, ("DCS.4957", "batch failed")), item(N1, ("dcs.41.0001", "task not v2"))])
    assert seen.used_up() is None


def test_another_spelling_of_a_stable_task_failed_otherwise_is_another_id_and_still_diagnosed() -> None:
    """The task with surrounding whitespace is no task to the target: failed as unknown, it says nothing of the
    company the task keeps."""
    seen = health([item(R1, STATE), item(N1, STATE)], [item(R2, STATE)], [item(f"  {N1}  ", NO_SUCH)])
    assert "look used up" in (seen.used_up() or "")
