"""Scenarios and property-based phases side by side: judged as if one ran after the other, and whatever ends one
ends both."""

from __future__ import annotations

import threading

import httpx
import pytest
import respx

from conformance.contract import load_catalogue
from conformance.engine import in_flight
from conformance.engine.client import Halted, TargetClient
from conformance.engine.overlap import DeferredLedger, side_by_side
from conformance.engine.parallel import in_order
from conformance.judging.results import Finding, Judgements, Ledger
from tests.conftest import exchange

BASE = "http://target.test"


def finding(requirement: str, message: str) -> Finding:
    return Finding(requirement, False, message)


def evidence(ledger: Ledger, requirement: str) -> list[str]:
    results = {item.id: item for item in ledger.requirement_results()}
    return [item.explanation for item in results[requirement].evidence]


def test_the_lane_s_judgements_reach_the_ledger_after_the_scenarios_in_the_order_judged() -> None:
    ledger = Ledger(load_catalogue())
    deferred = DeferredLedger(ledger)
    deferred.record([finding("BR-REQ-009", "lane 1")], exchange(seq=1))
    ledger.record([finding("BR-REQ-009", "scenario")], exchange(seq=2))
    deferred.record([finding("BR-REQ-009", "lane 2")], exchange(seq=3))
    assert evidence(ledger, "BR-REQ-009") == ["scenario"]
    deferred.open()
    deferred.record([finding("BR-REQ-009", "lane 3")], exchange(seq=4))
    assert evidence(ledger, "BR-REQ-009")[:3] == ["scenario", "lane 1", "lane 2"]
    assert ledger.first_failure is not None and ledger.first_failure.request == 2


def test_nothing_the_lane_judges_after_the_seal_reaches_the_ledger() -> None:
    ledger = Ledger(load_catalogue())
    deferred = DeferredLedger(ledger)
    deferred.record([finding("BR-REQ-010", "before")], exchange(seq=1))
    deferred.seal()
    deferred.record([finding("BR-REQ-010", "after")], exchange(seq=2))
    deferred.valid_request_answered(exchange(seq=3))
    assert evidence(ledger, "BR-REQ-010") == ["before"]
    assert not ledger.valid_answers


def test_a_stop_in_the_lane_is_raised_once_the_scenarios_are_done() -> None:
    ledger = Ledger(load_catalogue())
    done: list[str] = []

    def lane(judged: Judgements) -> None:
        judged.record([finding("BR-REQ-011", "lane")], exchange(seq=1))
        raise RuntimeError("lane bug")

    with TargetClient(BASE, "p") as client, pytest.raises(RuntimeError, match="lane bug"):
        side_by_side(lambda: done.append("scenarios"), lane, ledger, client)
    assert done == ["scenarios"]
    assert evidence(ledger, "BR-REQ-011") == ["lane"]


def test_a_stop_in_the_scenarios_halts_the_lane_and_keeps_what_it_judged() -> None:
    ledger = Ledger(load_catalogue())
    judged_once = threading.Event()
    lane_ended: list[BaseException] = []
    ended = threading.Event()

    def lane(judged: Judgements) -> None:
        judged.record([finding("BR-REQ-012", "lane")], exchange(seq=1))
        judged_once.set()
        try:
            while True:
                client.post_json({"migration_tasks": []})
        except BaseException as exc:
            lane_ended.append(exc)
            ended.set()
            raise

    def scenarios() -> None:
        judged_once.wait(timeout=10)
        raise KeyboardInterrupt

    with respx.mock(base_url=BASE) as router:
        router.post(url__regex=r".*").mock(return_value=httpx.Response(200, json={"migration_tasks": []}))
        with TargetClient(BASE, "p") as client:
            with pytest.raises(KeyboardInterrupt):
                side_by_side(scenarios, lane, ledger, client)
            with pytest.raises(Halted):
                client.post_json({"migration_tasks": []})
            assert ended.wait(timeout=10)
    assert isinstance(lane_ended[0], Halted)
    assert evidence(ledger, "BR-REQ-012") == ["lane"]


def test_the_lane_and_its_workers_send_in_the_background_and_the_scenarios_do_not() -> None:
    ledger = Ledger(load_catalogue())
    seen: dict[str, set[bool]] = {"scenarios": set(), "lane": set()}

    def lane(judged: Judgements) -> None:
        for _ in in_order(lambda _: seen["lane"].add(in_flight._background.get()), range(8), 4):
            pass

    def scenarios() -> None:
        for _ in in_order(lambda _: seen["scenarios"].add(in_flight._background.get()), range(8), 4):
            pass

    with TargetClient(BASE, "p") as client:
        side_by_side(scenarios, lane, ledger, client)
    assert seen == {"scenarios": {False}, "lane": {True}}
