"""The schemathesis-driven phases: generated requests go through the run's one client and its guard."""

from __future__ import annotations

import json

import httpx
import respx

from conformance.contract import load_catalogue, load_spec
from conformance.engine.client import TargetClient
from conformance.engine.guard import GuardRefusal, IdGuard
from conformance.engine.phases.generated import generation_spec, run_generated
from conformance.engine.stats import GeneratedStats
from conformance.judging.results import Ledger

BASE = "http://target.test"


class RefuseEverything(IdGuard):
    def admit(self, body: bytes | None) -> None:
        raise GuardRefusal("refused for the test")


def generate(client: TargetClient, *, seed: int, max_examples: int) -> GeneratedStats:
    """The schemathesis phases through ``client``, as a run drives them (with the spec's example IDs minted)."""
    stats = GeneratedStats()
    spec = generation_spec(load_spec(), client.guard.mint)
    run_generated(client, Ledger(load_catalogue()), spec, seed=seed, max_examples=max_examples, stats=stats)
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
    guard = IdGuard()
    derived = generation_spec(load_spec(), guard.mint)
    example = derived["paths"]["/v2/{project_id}/migration-tasks/batch-restart"]["post"]["requestBody"]
    ids = example["content"]["application/json"]["examples"]["seed"]["value"]["migration_tasks"]
    assert "091434c0-d6d7-47c6-9e14-17cc9502b27b" not in ids
    guard.admit(json.dumps({"migration_tasks": ids}).encode())
    original = load_spec()["paths"]["/v2/{project_id}/migration-tasks/batch-restart"]["post"]["requestBody"]
    assert "091434c0-d6d7-47c6-9e14-17cc9502b27b" in str(original)


def test_every_generated_request_reaches_the_target_through_the_client() -> None:
    with respx.mock(base_url=BASE) as router:
        route = router.post(url__regex=r".*").mock(
            return_value=httpx.Response(400, json={"error_code": "DCS.4800", "error_msg": "x"})
        )
        with TargetClient(BASE, "p") as client:
            stats = generate(client, seed=3, max_examples=10)
            assert client.sent == route.call_count == stats.cases > 0
    assert set(stats.by_phase) >= {"examples", "coverage", "fuzzing"}
