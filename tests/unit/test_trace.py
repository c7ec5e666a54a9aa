"""conformance.judging.trace: what the trace keeps of each exchange (roles, statuses, codes), and what it never keeps
(task IDs, bodies, headers)."""

from __future__ import annotations

import json
from itertools import count
from typing import Any

import pytest

from conformance.contract import load_catalogue
from conformance.contract.task_ids import TASK_ID_SHAPE
from conformance.engine.guard import IdGuard
from conformance.judging.results import Exchange, Ledger, Seen
from conformance.judging.trace import MASKED_ID, Trace, role_function
from tests.conftest import exchange

RESTARTABLE = ["11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"]
NOT_RESTARTABLE = ["33333333-3333-4333-8333-333333333333", "44444444-4444-4444-8444-444444444444"]
_seq = count(1)


@pytest.fixture
def guard() -> IdGuard:
    return IdGuard(RESTARTABLE, NOT_RESTARTABLE)


@pytest.fixture
def trace(guard: IdGuard) -> Trace:
    return Trace(role_function(RESTARTABLE, NOT_RESTARTABLE, guard.is_minted))


def sent(label: str, status: int, response: Any, requested: list[str] | None = None) -> Exchange:
    """A scenario's exchange as the trace sees it: labelled, numbered, and answered ``response`` (JSON or raw)."""
    content = response if isinstance(response, bytes) else json.dumps(response).encode()
    request = {"migration_tasks": requested} if requested is not None else b"garbage"
    return exchange(status, content=content, request=request, label=label, seq=next(_seq))


def item(task_id: str, result: str = "failed", code: str | None = "DCS.4800") -> dict[str, Any]:
    answer: dict[str, Any] = {"task_id": task_id, "result": result}
    if result == "failed":
        answer.update(error_code=code, error_msg="no")
    return answer


def test_a_batch_answer_is_kept_as_results_per_role_and_never_names_a_task(trace: Trace, guard: IdGuard) -> None:
    minted = [guard.mint(), guard.mint()]
    requested = [RESTARTABLE[0], NOT_RESTARTABLE[0], *minted, "   "]
    answer = {
        "migration_tasks": [
            item(RESTARTABLE[0], "success"),
            item(NOT_RESTARTABLE[0], code="DCS.4957"),
            *(item(task) for task in minted),
            item("   "),
        ]
    }
    trace.see(sent("mixed batch: 1+1+2", 200, answer, requested))
    (entry,) = trace.to_dict()["scenarios"]
    assert entry == {
        "key": "mixed batch: 1+1+2",
        "label": "mixed batch: 1+1+2",
        "occurrence": 1,
        "status": 200,
        "error_code": None,
        "items": {
            "restartable": {"success": 1},
            "non-restartable": {"failed": 1},
            "unknown": {"failed": 2},
            "other": {"failed": 1},
        },
        "item_codes": {"unknown": ["DCS.4800"], "other": ["DCS.4800"]},
    }
    assert not TASK_ID_SHAPE.search(json.dumps(trace.to_dict()))


def test_roles_follow_the_fixtures_case_insensitively_and_the_guards_minted_set(guard: IdGuard) -> None:
    role_of = role_function(RESTARTABLE, NOT_RESTARTABLE, guard.is_minted)
    minted = guard.mint()
    assert role_of(RESTARTABLE[1].upper()) == "restartable"
    assert role_of(NOT_RESTARTABLE[0]) == "non-restartable"
    assert role_of(minted) == "unknown"
    assert role_of(minted.replace("-", "").upper()) == "unknown"
    assert role_of("55555555-5555-4555-8555-555555555555") == "other"
    assert role_of("") == "other"


def test_a_fixture_sent_and_answered_without_hyphens_or_in_upper_case_keeps_its_role(trace: Trace) -> None:
    """The trace recognises a fixture as the guard and the fixtures file do (task_ids.task_key), not by lower-casing
    alone: a fixture spelled without hyphens is still restartable or non-restartable, never "other"."""
    bare, shouted = RESTARTABLE[0].replace("-", ""), NOT_RESTARTABLE[0].upper()
    assert role_function(RESTARTABLE, NOT_RESTARTABLE, lambda _: False)(bare.upper()) == "restartable"
    answer = {"migration_tasks": [item(bare, "success"), item(shouted, code="DCS.4957")]}
    trace.see(sent("mixed batch: 1+1+0", 200, answer, [bare, shouted]))
    (entry,) = trace.to_dict()["scenarios"]
    assert entry["items"] == {"restartable": {"success": 1}, "non-restartable": {"failed": 1}}


def test_an_exchange_the_ledger_records_several_times_is_traced_once(trace: Trace) -> None:
    ledger = Ledger(load_catalogue())
    ledger.watch(trace.see)
    refused = sent("empty task list", 400, {"error_code": "DCS.4800", "error_msg": "empty"}, [])
    ledger.record([], refused)
    ledger.record([Seen("OBS-003", "refused with status 400")], refused)
    assert [entry["key"] for entry in trace.to_dict()["scenarios"]] == ["empty task list"]


def test_a_label_sent_twice_is_keyed_by_its_occurrence(trace: Trace) -> None:
    for _ in range(3):
        trace.see(sent("mixed batch: 1+1+0", 400, {"error_code": "DCS.4800", "error_msg": "x"}, []))
    entries = trace.to_dict()["scenarios"]
    assert [(e["key"], e["occurrence"]) for e in entries] == [
        ("mixed batch: 1+1+0", 1),
        ("mixed batch: 1+1+0 (#2)", 2),
        ("mixed batch: 1+1+0 (#3)", 3),
    ]


def test_a_refusal_keeps_its_status_and_error_code_and_nothing_of_its_body(trace: Trace) -> None:
    trace.see(sent("invalid: body is not JSON", 400, {"error_code": "DCS.4005", "error_msg": "secret-ish"}))
    trace.see(sent("invalid: empty body", 400, b"<html>Bad Request</html>"))
    first, second = trace.to_dict()["scenarios"]
    assert (first["status"], first["error_code"]) == (400, "DCS.4005")
    assert (second["status"], second["error_code"]) == (400, None)
    assert "secret-ish" not in json.dumps(trace.to_dict())


def test_an_answered_id_the_request_never_named_is_foreign(trace: Trace, guard: IdGuard) -> None:
    minted, invented = guard.mint(), guard.mint()
    answer = {"migration_tasks": [item(minted), item(invented)]}
    trace.see(sent("unknown task IDs", 200, answer, [minted]))
    (entry,) = trace.to_dict()["scenarios"]
    assert entry["items"] == {"unknown": {"failed": 1}, "foreign": {"failed": 1}}


def test_non_restartable_codes_are_kept_for_the_run_not_per_exchange(trace: Trace) -> None:
    """Which non-restartable fixtures a batch draws is random, and each may fail for another reason."""
    items = [item(NOT_RESTARTABLE[0], code="DCS.4957"), item(NOT_RESTARTABLE[1], code="dcs.41.0001")]
    answer = {"migration_tasks": items}
    trace.see(sent("metamorphic: original batch", 200, answer, NOT_RESTARTABLE))
    document = trace.to_dict()
    assert document["scenarios"][0]["item_codes"] == {}
    assert document["roles"]["non-restartable"] == {
        "items": {"failed": 2},
        "error_codes": {"DCS.4957": 1, "dcs.41.0001": 1},
    }


def test_a_200_that_is_not_a_batch_answer_has_no_items(trace: Trace) -> None:
    trace.see(sent("unknown task IDs", 200, {"tasks": []}, []))
    trace.see(sent("duplicate task IDs", 200, {"migration_tasks": [42, {"task_id": 7}]}, []))
    first, second = trace.to_dict()["scenarios"]
    assert first["items"] is None
    assert second["items"] == {}
    assert second["malformed_items"] == 2


def test_task_ids_in_what_the_target_wrote_are_masked(trace: Trace, guard: IdGuard) -> None:
    minted = guard.mint()
    trace.see(sent("unknown task IDs", 404, {"error_code": f"NOT_FOUND:{minted}", "error_msg": "x"}, [minted]))
    assert trace.to_dict()["scenarios"][0]["error_code"] == f"NOT_FOUND:{MASKED_ID}"


def test_generated_cases_are_summarised_by_phase_and_mode(trace: Trace) -> None:
    refusal = {"error_code": "DCS.4800", "error_msg": "x"}
    trace.see(sent("generated (coverage, negative)", 400, refusal, []))
    trace.see(sent("generated (coverage, negative)", 400, refusal, []))
    trace.see(sent("generated (coverage, negative)", 200, {"migration_tasks": []}, []))
    trace.see(sent("generated (fuzzing, negative, text/plain)", 400, {"error_code": "DCS.4005", "error_msg": "x"}))
    document = trace.to_dict()
    assert document["scenarios"] == []
    assert document["generated"] == [
        {
            "label": "generated (coverage, negative)",
            "phase": "coverage",
            "mode": "negative",
            "media_type": None,
            "count": 3,
            "statuses": {"400": 2, "200": 1},
            "error_codes": {"DCS.4800": 2},
        },
        {
            "label": "generated (fuzzing, negative, text/plain)",
            "phase": "fuzzing",
            "mode": "negative",
            "media_type": "text/plain",
            "count": 1,
            "statuses": {"400": 1},
            "error_codes": {"DCS.4005": 1},
        },
    ]


def test_a_throttled_exchange_is_keyed_apart_so_the_request_sent_again_keeps_its_key(trace: Trace) -> None:
    throttled = sent("unknown task IDs", 429, {"error_code": "APIGW.0308", "error_msg": "slow down"}, [])
    throttled.throttled = True  # type: ignore[attr-defined]
    trace.see(throttled)
    trace.see(sent("unknown task IDs", 200, {"migration_tasks": []}, []))
    first, second = trace.to_dict()["scenarios"]
    assert (first["key"], first["throttled"]) == ("unknown task IDs (throttled)", True)
    assert (second["key"], second["occurrence"], "throttled" in second) == ("unknown task IDs", 1, False)


def test_a_request_without_a_complete_answer_is_marked_without_the_clients_words(trace: Trace) -> None:
    cut = sent("duplicate task IDs", 0, b"", [])
    cut.failure = "ReadTimeout after 30.0 s on POST http://target.test/..."  # type: ignore[attr-defined]
    trace.see(cut)
    (entry,) = trace.to_dict()["scenarios"]
    assert entry["failure"] == "no complete answer"
    assert "ReadTimeout" not in json.dumps(entry)


def test_labels_are_kept_whole_while_what_the_target_wrote_is_bounded(trace: Trace) -> None:
    long_label = "a scenario whose label is longer than any error code a target should send, " * 2
    trace.see(sent(long_label, 400, {"error_code": "E" * 500, "error_msg": "x"}, []))
    (entry,) = trace.to_dict()["scenarios"]
    assert entry["key"] == long_label
    assert len(entry["error_code"]) == 81 and entry["error_code"].endswith("…")
