"""Requests in flight at once change how fast a run ends, never what it sends or what it may send: the same seed
sends the same set of request bodies with one worker or four (with four, the scenarios run beside the property-based
phases), the run is judged the same, and the budget, the ID guard and the number of requests in flight hold, counted
by the server itself. Every run here draws its cases afresh (no drawing cache): the drawing is compared as much as
the sending."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from conformance.contract.task_ids import TASK_ID_SHAPE
from tests.conftest import Recorder
from tests.seeded_reference import InFlightMeter
from tests.seeded_reference import judge as judge_seeded

pytestmark = pytest.mark.e2e

Judged = tuple[dict[str, Any], Recorder, dict[str, list[str]]]


def judge(tmp_path: Path, workers: int, variants: tuple[str, ...] = (), **flags: Any) -> Judged:
    """tests/seeded_reference.py's run, its cases drawn by its own drawing child."""
    return judge_seeded(tmp_path, workers, variants, no_cache=True, **flags)


@pytest.fixture(scope="module")
def one_worker(tmp_path_factory: pytest.TempPathFactory) -> Judged:
    """The run with one worker that the runs with more are compared with: the same for every test, so made once
    (against a freshly seeded reference of its own, as each comparison's other run is)."""
    return judge(tmp_path_factory.mktemp("one-worker"), workers=1)


def test_the_same_seed_sends_the_same_set_of_requests_with_one_worker_or_four(
    tmp_path: Path, one_worker: Judged
) -> None:
    one, sent_one, _ = one_worker
    four, sent_four, _ = judge(tmp_path / "four", workers=4)
    assert Counter(sent_one.bodies) == Counter(sent_four.bodies)
    assert one["verdict"] == four["verdict"] == "conformant"
    assert one["stats"]["requests"] == four["stats"]["requests"] == len(sent_four.bodies)
    assert judged_alike(one) == judged_alike(four)


def judged_alike(report: dict[str, Any]) -> list[tuple[str, str, int]]:
    """What the run concluded of each requirement: its status and how many checks exercised it."""
    return [(item["id"], item["status"], item["checks"]) for item in report["requirements"]]


def test_never_more_requests_in_flight_than_workers_although_the_scenarios_run_beside_the_other_phases(
    tmp_path: Path,
) -> None:
    meter = InFlightMeter()
    report, recorder, _ = judge(tmp_path, workers=3, variants=("latency",), meter=meter)
    assert report["verdict"] == "conformant"
    assert len(recorder.bodies) == report["stats"]["requests"]
    assert meter.most == 3


def test_the_same_seed_sends_the_same_set_of_requests_when_cases_are_drawn_while_others_are_in_flight(
    tmp_path: Path, one_worker: Judged
) -> None:
    """Against a slow target the cases are drawn on a thread of their own while the answers are awaited."""
    one, sent_one, _ = one_worker
    slow, sent_slow, _ = judge(tmp_path / "slow", workers=4, variants=("latency",))
    assert Counter(sent_one.bodies) == Counter(sent_slow.bodies)
    assert one["verdict"] == slow["verdict"] == "conformant"


def test_the_budget_and_the_guard_hold_with_four_workers(tmp_path: Path) -> None:
    report, recorder, fixtures = judge(tmp_path, workers=4, max_requests=150)
    assert len(recorder.bodies) == report["stats"]["requests"] == 150
    named = Counter(
        match.group(0).lower()
        for body in recorder.bodies
        for match in TASK_ID_SHAPE.finditer(body.decode("utf-8", "replace"))
    )
    for task in fixtures["restartable"]:
        assert named[task.lower()] <= 1, "a restartable task is sent at most once"
