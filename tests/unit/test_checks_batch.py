"""conformance.checks.batch: the per-item oracle for a 200 answer, the fixture-aware and the metamorphic checks.

The simulated target echoes the requested IDs (IDs starting with ``ok-`` succeed, the others fail with the vendor's
documented error), and each breakage is a small mutation of that conforming answer.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from conformance.checks import batch
from conformance.checks.batch import (
    MAX_DETAIL_IDS,
    check_batch,
    check_coverage,
    check_fixture_outcomes,
    check_full_batch,
    check_same_outcomes,
    check_unknown_outcomes,
    outcomes_by_id,
)
from conformance.checks.rules import Rule
from conformance.judging.results import PARSED_EXCHANGES, Exchange, Finding
from tests.conftest import exchange, failures, judged, seen

REQUESTED = ["ok-1", "bad-2", "bad-3"]
Body = Any
Mutation = Callable[[Body], Body]


def item_for(task_id: str) -> dict[str, Any]:
    if task_id.startswith("ok-"):
        return {"result": "success", "task_id": task_id}
    return {"result": "failed", "task_id": task_id, "error_code": "dcs.41.0001", "error_msg": "task not v2"}


def answer(
    requested: Sequence[str] = REQUESTED,
    mutate: Mutation | None = None,
    *,
    status: int = 200,
    per_occurrence: bool = False,
) -> Exchange:
    """The answer of a target that answers each requested ID (once per distinct ID, or once per occurrence), after
    ``mutate`` rewrote its conforming body."""
    ids = list(requested)
    answered = ids if per_occurrence else list(dict.fromkeys(ids))
    body: Body = {"migration_tasks": [item_for(task) for task in answered]}
    if status != 200:
        body = {"error_code": "DCS.4000", "error_msg": "Invalid request.", "error_ext_msg": None}
    if mutate is not None:
        body = mutate(body)
    return exchange(status, body, request={"migration_tasks": ids})


def items(body: Body) -> list[dict[str, Any]]:
    return body["migration_tasks"]


def setting(index: int, **changes: Any) -> Mutation:
    def mutate(body: Body) -> Body:
        items(body)[index].update(changes)
        return body

    return mutate


def removing(index: int, key: str) -> Mutation:
    def mutate(body: Body) -> Body:
        del items(body)[index][key]
        return body

    return mutate


def replacing_item(index: int, value: Any) -> Mutation:
    def mutate(body: Body) -> Body:
        items(body)[index] = value
        return body

    return mutate


# -- check_batch: a conforming answer ------------------------------------------------------------------------------


def test_conforming_mixed_answer_holds_every_batch_rule() -> None:
    results = check_batch(REQUESTED, answer())
    assert failures(results) == []
    assert {"BR-REQ-007", "BR-REQ-008", "BR-REQ-009", "BR-REQ-010", "BR-REQ-011", "BR-REQ-012", "BR-REQ-013"} <= (
        judged(results)
    )
    assert seen(results, "OBS-001") == ["request order kept"]
    assert seen(results, "OBS-008") == []


def test_answer_in_another_order_passes_and_is_recorded_as_obs_001() -> None:
    results = check_batch(REQUESTED, answer(mutate=lambda body: {"migration_tasks": items(body)[::-1]}))
    assert failures(results) == []
    assert seen(results, "OBS-001") == ["answered in another order"]


def test_success_item_with_null_error_fields_holds_br_req_013() -> None:
    results = check_batch(REQUESTED, answer(mutate=setting(0, error_code=None, error_msg=None)))
    assert failures(results) == []
    assert Finding("BR-REQ-013", True) in results


def test_additional_fields_are_allowed_and_recorded_as_obs_008() -> None:
    def add_fields(body: Body) -> Body:
        items(body)[0]["task_name"] = "restart-1"
        items(body)[1]["error_ext_msg"] = None
        return {**body, "request_id": "r-1"}

    results = check_batch(REQUESTED, answer(mutate=add_fields))
    assert failures(results) == []
    assert sorted(seen(results, "OBS-008")) == [
        "$.migration_tasks[].error_ext_msg",
        "$.migration_tasks[].task_name",
        "$.request_id",
    ]


def test_empty_request_answered_with_empty_list_passes() -> None:
    results = check_batch([], answer([]))
    assert failures(results) == []


@pytest.mark.parametrize("status", [400, 404, 500])
def test_non_200_answer_is_not_judged_by_check_batch(status: int) -> None:
    assert check_batch(REQUESTED, answer(status=status)) == []


# -- check_batch: coverage (BR-REQ-009/010/011) --------------------------------------------------------------------


def test_dropped_item_violates_br_req_009_naming_the_task() -> None:
    results = check_batch(REQUESTED, answer(mutate=lambda body: {"migration_tasks": items(body)[:2]}))
    [failure] = failures(results)
    assert failure.requirement == "BR-REQ-009"
    assert "'bad-3'" in failure.message
    assert "of 3 distinct requested" in failure.message


def test_phantom_item_violates_br_req_010_naming_the_foreign_task() -> None:
    results = check_batch(
        REQUESTED, answer(mutate=lambda body: {"migration_tasks": [*items(body), item_for("ghost-9")]})
    )
    [failure] = failures(results)
    assert failure.requirement == "BR-REQ-010"
    assert "'ghost-9'" in failure.message


def test_once_requested_id_answered_twice_violates_br_req_011() -> None:
    results = check_batch(REQUESTED, answer(mutate=lambda body: {"migration_tasks": [*items(body), item_for("bad-2")]}))
    [failure] = failures(results)
    assert failure.requirement == "BR-REQ-011"
    assert "'bad-2'" in failure.message
    assert "requested 1 time(s) but answered 2 times" in failure.message


def test_twice_requested_id_answered_three_times_violates_br_req_011() -> None:
    requested = ["ok-1", "bad-2", "ok-1"]
    ex = answer(requested, lambda body: {"migration_tasks": [*items(body), item_for("ok-1")]}, per_occurrence=True)
    results = check_batch(requested, ex)
    [failure] = failures(results, "BR-REQ-011")
    assert "'ok-1' requested 2 time(s) but answered 3 times" in failure.message


@pytest.mark.parametrize(
    ("per_occurrence", "value"),
    [(False, "answered once per ID"), (True, "answered once per occurrence")],
    ids=["once-per-id", "once-per-occurrence"],
)
def test_duplicate_request_answered_once_or_per_occurrence_passes_and_obs_002_records_which(
    per_occurrence: bool, value: str
) -> None:
    requested = ["ok-1", "bad-2", "ok-1", "ok-1"]
    results = check_batch(requested, answer(requested, per_occurrence=per_occurrence))
    assert failures(results) == []
    assert seen(results, "OBS-002") == [value]


# -- check_batch: item results (BR-REQ-008/012/013) ----------------------------------------------------------------


@pytest.mark.parametrize("result", ["SUCCESS", "Failed", "ok", "succeeded", ""])
def test_result_other_than_success_or_failed_violates_br_req_008(result: str) -> None:
    results = check_batch(REQUESTED, answer(mutate=setting(0, result=result)))
    [failure] = failures(results)
    assert failure.requirement == "BR-REQ-008"
    assert "$.migration_tasks[0].result" in failure.message
    assert repr(result) in failure.message


@pytest.mark.parametrize(
    ("mutate", "fragment"),
    [
        (removing(1, "error_code"), "error_code is missing"),
        (removing(1, "error_msg"), "error_msg is missing"),
        (setting(1, error_code=None), "error_code is None"),
        (setting(1, error_code=""), "error_code is ''"),
        (setting(1, error_msg=""), "error_msg is ''"),
        (setting(1, error_msg="   "), "error_msg is '   '"),
        (setting(1, error_code=41), "error_code is 41"),
    ],
    ids=["no-error_code", "no-error_msg", "null-error_code", "empty-error_code", "empty-error_msg", "blank", "int"],
)
def test_failed_item_without_a_usable_error_violates_br_req_012(mutate: Mutation, fragment: str) -> None:
    results = check_batch(REQUESTED, answer(mutate=mutate))
    [failure] = failures(results)
    assert failure.requirement == "BR-REQ-012"
    assert "$.migration_tasks[1]" in failure.message
    assert "'bad-2'" in failure.message
    assert fragment in failure.message


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"error_code": "dcs.41.0001"}, "carries error_code"),
        ({"error_msg": "restarted"}, "carries error_msg"),
        ({"error_code": "DCS.0000", "error_msg": "ok"}, "carries error_code and error_msg"),
    ],
)
def test_success_item_carrying_an_error_violates_br_req_013(changes: dict[str, str], fragment: str) -> None:
    results = check_batch(REQUESTED, answer(mutate=setting(0, **changes)))
    [failure] = failures(results)
    assert failure.requirement == "BR-REQ-013"
    assert "$.migration_tasks[0]" in failure.message
    assert fragment in failure.message


# -- check_batch: shape (BR-REQ-007) -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mutate", "fragments"),
    [
        (lambda body: {"tasks": items(body)}, ["no 'migration_tasks'", "tasks"]),
        (lambda body: {}, ["no 'migration_tasks'", "keys: none"]),
        (lambda body: items(body), ["JSON list, not an object"]),
        (lambda body: None, ["JSON NoneType, not an object"]),
        (lambda body: {"migration_tasks": {"ok-1": "success"}}, ["$.migration_tasks is dict, not an array"]),
        (lambda body: {"migration_tasks": None}, ["$.migration_tasks is NoneType, not an array"]),
        (replacing_item(1, "bad-2"), ["$.migration_tasks[1] is str, not an object"]),
        (replacing_item(0, ["ok-1", "success"]), ["$.migration_tasks[0] is list, not an object"]),
        (removing(0, "task_id"), ["$.migration_tasks[0] has no 'task_id'"]),
        (removing(2, "result"), ["$.migration_tasks[2] has no 'result'"]),
        (setting(0, result=1), ["$.migration_tasks[0].result is int 1, not a string"]),
        (setting(0, result=True), ["$.migration_tasks[0].result is bool True, not a string"]),
        (setting(1, task_id=42), ["$.migration_tasks[1].task_id is int 42, not a string"]),
    ],
    ids=[
        "wrapper-renamed",
        "empty-object",
        "body-is-list",
        "body-is-null",
        "migration_tasks-object",
        "migration_tasks-null",
        "item-is-string",
        "item-is-array",
        "no-task_id",
        "no-result",
        "numeric-result",
        "boolean-result",
        "numeric-task_id",
    ],
)
def test_malformed_200_body_violates_br_req_007_saying_where(mutate: Mutation, fragments: list[str]) -> None:
    results = check_batch(REQUESTED, answer(mutate=mutate))
    [failure] = failures(results, "BR-REQ-007")
    for fragment in fragments:
        assert fragment in failure.message
    assert "BR-REQ-008" not in {f.requirement for f in failures(results)}


def test_non_json_200_body_violates_br_req_007() -> None:
    ex = exchange(200, content=b"restarted", request={"migration_tasks": REQUESTED})
    [failure] = failures(check_batch(REQUESTED, ex), "BR-REQ-007")
    assert "not JSON" in failure.message


@pytest.mark.parametrize(
    ("encode", "fragment"),
    [
        (lambda text: codecs.BOM_UTF8 + text.encode(), "byte order mark"),
        (lambda text: text.encode("utf-16-le"), "not UTF-8"),
        (lambda text: text.encode("utf-32"), "not UTF-8"),
    ],
    ids=["bom-before-json", "utf-16", "utf-32"],
)
def test_200_body_only_a_lenient_parser_reads_violates_br_req_007(
    encode: Callable[[str], bytes], fragment: str
) -> None:
    """Python reads these bodies (json.loads of bytes skips a BOM and detects UTF-16/32); the official SDK decodes
    the body as UTF-8 text and parses that, and fails: its caller gets no results at all."""
    text = json.dumps({"migration_tasks": [item_for(task) for task in REQUESTED]})
    ex = exchange(200, content=encode(text), request={"migration_tasks": REQUESTED})
    results = check_batch(REQUESTED, ex)
    [failure] = failures(results, "BR-REQ-007")
    assert fragment in failure.message
    assert failures(results, "BR-REQ-009") == []


def test_ids_answered_in_another_case_are_missing_and_foreign() -> None:
    """A caller pairs each result with its request by task_id; an ID answered lower-cased is not the ID it sent
    (whether the target treats both spellings as one task is not documented, OBS-014)."""
    requested = ["ABC-ok-1", "Bad-2"]
    ex = answer(
        requested, lambda body: {"migration_tasks": [{**i, "task_id": i["task_id"].lower()} for i in items(body)]}
    )
    results = check_batch(requested, ex)
    assert failures(results, "BR-REQ-009")[0].detail["missing"] == requested
    assert failures(results, "BR-REQ-010")[0].detail["foreign"] == ["abc-ok-1", "bad-2"]


# -- check_fixture_outcomes (BR-REQ-014/015) -----------------------------------------------------------------------

RESTARTABLE = ["ok-1"]
NOT_RESTARTABLE = ["bad-2"]
UNKNOWN = ["bad-3"]


def fixture_findings(ex: Exchange) -> list[Finding]:
    return check_fixture_outcomes(ex, RESTARTABLE, NOT_RESTARTABLE, UNKNOWN)


def test_mixed_batch_answered_as_the_fixtures_promise_holds_br_req_014_and_015() -> None:
    results = fixture_findings(answer())
    assert results == [Finding("BR-REQ-014", True), Finding("BR-REQ-015", True), Finding("BR-REQ-015", True)]


def test_restartable_task_reported_failed_violates_br_req_014_naming_it() -> None:
    results = fixture_findings(answer(mutate=setting(0, result="failed", error_code="DCS.4957", error_msg="busy")))
    [failure] = failures(results)
    assert failure.requirement == "BR-REQ-014"
    assert "'ok-1'" in failure.message
    assert "failed" in failure.message


@pytest.mark.parametrize(("index", "task", "kind"), [(1, "bad-2", "non-restartable"), (2, "bad-3", "unknown")])
def test_task_that_cannot_restart_reported_success_violates_br_req_015(index: int, task: str, kind: str) -> None:
    def succeed(body: Body) -> Body:
        items(body)[index] = {"result": "success", "task_id": task}
        return body

    [failure] = failures(fixture_findings(answer(mutate=succeed)))
    assert failure.requirement == "BR-REQ-015"
    assert f"{kind} task {task!r} was reported success" in failure.message


@pytest.mark.parametrize("status", [400, 403, 500])
def test_mixed_batch_answered_with_non_200_violates_br_req_014(status: int) -> None:
    [failure] = fixture_findings(answer(status=status))
    assert failure.requirement == "BR-REQ-014"
    assert not failure.ok
    assert str(status) in failure.message


def test_mixed_batch_200_without_the_wrapper_violates_br_req_014() -> None:
    [failure] = fixture_findings(answer(mutate=lambda body: {"tasks": items(body)}))
    assert (failure.requirement, failure.ok) == ("BR-REQ-014", False)


# -- check_full_batch (BR-REQ-016) ---------------------------------------------------------------------------------

FIFTY = [f"ok-{n:02d}" for n in range(50)]


def test_batch_of_50_answered_with_all_results_holds_br_req_016() -> None:
    ex = answer(FIFTY)
    assert check_full_batch(FIFTY, ex) == [Finding("BR-REQ-016", True)]
    assert failures(check_batch(FIFTY, ex)) == []


def test_batch_of_50_refused_with_400_violates_br_req_016() -> None:
    [failure] = check_full_batch(FIFTY, answer(FIFTY, status=400))
    assert (failure.requirement, failure.ok) == ("BR-REQ-016", False)
    assert "batch of 50 tasks was answered 400" in failure.message


def test_batch_of_50_with_a_missing_result_violates_br_req_016() -> None:
    [failure] = check_full_batch(FIFTY, answer(FIFTY, lambda body: {"migration_tasks": items(body)[1:]}))
    assert (failure.requirement, failure.ok) == ("BR-REQ-016", False)
    assert "results for only 49" in failure.message


# -- check_same_outcomes (BR-REQ-017) ------------------------------------------------------------------------------

STABLE = ["bad-2", "bad-3", "bad-4"]


def test_same_results_in_another_order_hold_br_req_017() -> None:
    first = answer(STABLE)
    second = answer(STABLE[::-1])
    assert check_same_outcomes(first, second, STABLE, "reversed batch") == [Finding("BR-REQ-017", True)]


def test_split_batch_with_same_results_holds_br_req_017() -> None:
    first = answer(STABLE)
    half = answer(STABLE[:1])
    assert check_same_outcomes(first, half, STABLE[:1], "half 1 of the batch") == [Finding("BR-REQ-017", True)]


def test_changed_result_violates_br_req_017_naming_the_task_and_relation() -> None:
    first = answer(STABLE)
    second = answer(STABLE[::-1], setting(1, result="success", error_code=None, error_msg=None))
    [failure] = check_same_outcomes(first, second, STABLE, "reversed batch")
    assert (failure.requirement, failure.ok) == ("BR-REQ-017", False)
    assert "reversed batch" in failure.message
    assert "'bad-3'" in failure.message
    assert "['failed'] to ['success']" in failure.message


def test_different_status_violates_br_req_017_naming_both_statuses() -> None:
    first = answer(STABLE)
    second = answer(STABLE[::-1], status=400)
    [failure] = check_same_outcomes(first, second, STABLE, "shuffled batch")
    assert (failure.requirement, failure.ok) == ("BR-REQ-017", False)
    assert "shuffled batch" in failure.message
    assert "400" in failure.message
    assert "200" in failure.message


def test_same_non_200_status_holds_br_req_017() -> None:
    first, second = answer(STABLE, status=400), answer(STABLE[::-1], status=400)
    assert check_same_outcomes(first, second, STABLE, "reversed batch") == [Finding("BR-REQ-017", True)]


def test_outcomes_by_id_collects_every_result_a_task_received() -> None:
    requested = ["ok-1", "ok-1"]
    ex = answer(requested, setting(1, result="failed"), per_occurrence=True)
    assert outcomes_by_id(ex) == {"ok-1": {"success", "failed"}}


# -- what the checks of one answer share ---------------------------------------------------------------------------


def test_the_checks_of_one_answer_pick_its_items_out_once(monkeypatch: pytest.MonkeyPatch) -> None:
    picked: list[Exchange] = []
    indexed_items = batch._indexed_items

    def counted(ex: Exchange) -> Any:
        picked.append(ex)
        return indexed_items(ex)

    monkeypatch.setattr(batch, "_indexed_items", counted)
    ex = answer(REQUESTED)
    results = [*check_batch(REQUESTED, ex), *check_unknown_outcomes(ex, ["bad-3"])]
    results += check_fixture_outcomes(ex, ["ok-1"], ["bad-2"], ["bad-3"])
    assert not failures(results)
    assert picked == [ex]


def test_outcomes_by_id_is_a_copy_the_checks_never_see() -> None:
    ex = answer(REQUESTED)
    outcomes_by_id(ex)["bad-2"].add("success")
    outcomes_by_id(ex)["ok-1"] = {"failed"}
    assert not failures(check_fixture_outcomes(ex, ["ok-1"], ["bad-2"], []))


def test_a_derived_value_is_computed_once_and_is_no_part_of_the_exchange() -> None:
    computed: list[Exchange] = []

    def size(ex: Exchange) -> int:
        computed.append(ex)
        return len(ex.response_body)

    ex, twin = answer(REQUESTED), answer(REQUESTED)
    assert ex.derived(size) == ex.derived(size) == len(ex.response_body)
    assert computed == [ex]
    assert ex == twin
    assert "derived" not in repr(ex)


def test_only_the_last_exchanges_parsed_in_the_run_hold_their_parsed_views() -> None:
    """A scenario keeps its answers until it is done: what they hold is their bytes, not what was parsed."""
    first, *later = (answer(REQUESTED) for _ in range(PARSED_EXCHANGES + 1))
    assert not failures(check_batch(REQUESTED, first))
    assert "response_json" in vars(first)
    for ex in later:
        assert not failures(check_batch(REQUESTED, ex))
    assert "response_json" not in vars(first)
    assert all("response_json" in vars(ex) for ex in later[-PARSED_EXCHANGES:])
    assert not failures(check_batch(REQUESTED, first))  # parsed again when asked, and judged the same


def test_a_listing_of_ids_past_the_limit_keeps_the_first_ones_and_counts_the_rest() -> None:
    foreign = [f"foreign-{n}" for n in range(MAX_DETAIL_IDS + 7)]
    items = [{"task_id": task, "result": "failed", "error_code": "X", "error_msg": "y"} for task in REQUESTED]
    ex = exchange(body={"migration_tasks": items + [{"task_id": task, "result": "success"} for task in foreign]})
    (violation,) = failures(check_coverage(REQUESTED, ex))
    assert violation.requirement == "BR-REQ-010"
    assert violation.detail == {"foreign": foreign[:MAX_DETAIL_IDS], "left_out": {"foreign": 7}}
    assert f"{len(foreign)} task ID(s) answered but never requested" in violation.message
    assert f"the evidence lists the first {MAX_DETAIL_IDS}" in violation.message


def test_every_held_finding_of_a_rule_is_the_one_plain_held_finding() -> None:
    rule = Rule("BR-REQ-009")
    assert rule.held() is rule.held()
    assert rule.held() == rule.judged(True, "ignored", missing=["x"]) == Finding("BR-REQ-009", True)
    assert rule == Rule("BR-REQ-009")
