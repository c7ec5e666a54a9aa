"""The schemathesis-driven phases: generated requests go through the run's one client and its guard."""

from __future__ import annotations

from collections.abc import Mapping

import httpx
import jsonschema
import pytest
import respx

from conformance.contract import MAX_BATCH, load_catalogue, load_spec
from conformance.engine.client import TargetClient
from conformance.engine.guard import GuardRefusal, IdGuard
from conformance.engine.phases import generated
from conformance.engine.phases.generated import minted_examples, run_generated
from conformance.engine.phases.st_check_lane import Ticket
from conformance.engine.phases.st_draw import Drawn
from conformance.engine.stats import GeneratedStats
from conformance.judging.results import Exchange, Ledger
from tests.conftest import exchange

BASE = "http://target.test"


class RefuseEverything(IdGuard):
    def admit(self, body: bytes | None) -> None:
        raise GuardRefusal("refused for the test")


def generate(client: TargetClient, *, seed: int, max_examples: int) -> GeneratedStats:
    """The schemathesis phases through ``client``, as a run drives them (with the spec's example IDs minted)."""
    stats = GeneratedStats()
    ids = minted_examples(load_spec(), client.guard.mint)
    run_generated(client, Ledger(load_catalogue()), ids, seed=seed, max_examples=max_examples, stats=stats)
    return stats


def test_generated_cases_the_guard_refuses_are_dropped_without_stopping_the_run() -> None:
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        route = router.post(url__regex=r".*").mock(return_value=httpx.Response(400, json={}))
        with TargetClient(BASE, "p", guard=RefuseEverything()) as client:
            stats = generate(client, seed=1, max_examples=5)
    assert route.call_count == 0
    assert stats.cases == 0
    assert stats.refused_by_guard > 0


def test_examples_phase_sends_minted_ids_instead_of_the_documentation_ids() -> None:
    documented = "091434c0-d6d7-47c6-9e14-17cc9502b27b"
    with respx.mock(base_url=BASE) as router:
        route = router.post(url__regex=r".*").mock(return_value=httpx.Response(400, json={}))
        with TargetClient(BASE, "p") as client:
            ids = minted_examples(load_spec(), client.guard.mint)
            assert documented in ids and ids[documented] != documented
            stats = GeneratedStats()
            run_generated(client, Ledger(load_catalogue()), ids, seed=1, max_examples=5, stats=stats)
    bodies = [call.request.content for call in route.calls]
    assert stats.by_phase["examples"] >= 1
    assert any(ids[documented].encode() in body for body in bodies), "the example is sent with the minted ID"
    assert not any(documented.encode() in body for body in bodies)
    assert documented in str(load_spec()), "the contract itself is left alone"


def test_every_generated_request_reaches_the_target_through_the_client() -> None:
    with respx.mock(base_url=BASE) as router:
        route = router.post(url__regex=r".*").mock(
            return_value=httpx.Response(400, json={"error_code": "DCS.4800", "error_msg": "x"})
        )
        with TargetClient(BASE, "p") as client:
            stats = generate(client, seed=3, max_examples=10)
            assert client.sent == route.call_count == stats.cases > 0
    assert set(stats.by_phase) >= {"examples", "coverage", "fuzzing"}


# -- lists padded over maxItems with duplicates: not a documented defect --------------------------------------------


def planned_body(body: object) -> tuple[list[str], str | None]:
    """What the phase makes of one case's body: the IDs it requests, and its defect."""
    schema = load_spec()["components"]["schemas"]["BatchRestartOnlineMigrationTasksBody"]
    _, requested, defect = generated._body_of(drawn(body), {}, jsonschema.Draft202012Validator(schema))
    return requested, defect


def drawn(body: object) -> Drawn:
    return Drawn(body=body, has_body=True, media_type=None, phase="fuzzing", mode="negative", record=b"")


class Asked:
    """Checks that judge nothing, and note how each case was submitted."""

    lag = 0

    def __init__(self) -> None:
        self.negative: list[bool] = []

    def submit(self, drawn: Drawn, ids: Mapping[str, str], exchange: Exchange, *, negative: bool) -> Ticket:
        self.negative.append(negative)
        return lambda: []


def test_a_list_over_50_naming_at_most_50_distinct_tasks_is_padded_not_invalid() -> None:
    """The OpenAPI document's maxItems counts entries; the documentation says "at most 50 tasks". Whether
    duplicates count is not documented (OBS-002), so such a body is no defect to be refused."""
    ids = [f"t{index}" for index in range(MAX_BATCH)]
    assert planned_body({"migration_tasks": [*ids, ids[0]]}) == ([*ids, ids[0]], generated.PADDED)
    assert planned_body({"migration_tasks": [""] * 60})[1] == generated.PADDED


@pytest.mark.parametrize(
    "tasks",
    [[f"t{index}" for index in range(MAX_BATCH + 1)], [*(f"t{index}" for index in range(MAX_BATCH)), "t0", 7]],
    ids=["51-distinct", "padded-with-a-number"],
)
def test_more_than_50_distinct_tasks_or_another_fault_stays_a_defect(tasks: list[object]) -> None:
    _, defect = planned_body({"migration_tasks": tasks})
    assert defect is not None and defect != generated.PADDED


@pytest.mark.parametrize("status", [200, 400])
def test_a_padded_case_is_only_seen_accepted_or_refused(status: int) -> None:
    ids = [f"t{index}" for index in range(MAX_BATCH)]
    padded = [*ids, ids[0]]
    answer = {
        "migration_tasks": [{"task_id": task, "result": "failed", "error_code": "E", "error_msg": "m"} for task in ids]
    }
    body = answer if status == 200 else {"error_code": "DCS.4800", "error_msg": "too many"}
    plan = generated._Planned(drawn({"migration_tasks": padded}), b"", padded, generated.PADDED, padded=True)
    answered = exchange(status, body, request={"migration_tasks": padded})
    ledger = Ledger(load_catalogue())
    checks = Asked()
    ticket = generated._submit(checks, plan, {}, answered)
    assert ticket is not None
    generated.judge_generated(ledger, answered, padded, generated.PADDED, ticket(), padded=True)
    assert checks.negative == [False], "negative_data_rejection is not run on a padded case"
    results = {item.id: item for item in ledger.requirement_results()}
    assert results["BR-REQ-001"].checks == 0
    assert results["BR-REQ-009"].status == ("passed" if status == 200 else "skipped")
    [observed] = [item for item in ledger.observation_results() if item.id == "OBS-002"]
    answered = "accepted (200)" if status == 200 else "refused with status 400"
    assert {"value": f"more than 50 entries naming at most 50 tasks: {answered}", "count": 1} in [
        {"value": seen.value, "count": seen.count} for seen in observed.seen
    ]
