"""The in-flight gate: never more requests at once than --workers, and fewer while the target throttles."""

from __future__ import annotations

import threading
import time

import pytest

from conformance.engine.in_flight import InFlight


def test_each_throttled_answer_halves_the_limit_down_to_one_at_a_time() -> None:
    gate = InFlight(16)
    for expected in (8, 4, 2, 1, 1):
        gate.answered(throttled=True)
        assert gate.limit == expected


def test_the_limit_grows_back_by_one_after_as_many_calm_answers_as_the_limit_up_to_the_most() -> None:
    gate = InFlight(3)
    gate.answered(throttled=True)
    assert gate.limit == 1
    gate.answered(throttled=False)
    assert gate.limit == 2
    gate.answered(throttled=False)
    assert gate.limit == 2
    gate.answered(throttled=False)
    assert gate.limit == 3
    for _ in range(10):
        gate.answered(throttled=False)
    assert gate.limit == 3


def test_a_throttled_answer_starts_the_calm_count_again() -> None:
    gate = InFlight(8)
    gate.answered(throttled=True)
    for _ in range(3):
        gate.answered(throttled=False)
    gate.answered(throttled=True)
    gate.answered(throttled=False)
    assert gate.limit == 2


def test_no_more_than_the_limit_pass_at_once() -> None:
    gate = InFlight(3)
    inside = 0
    most_inside = 0
    lock = threading.Lock()

    def send() -> None:
        nonlocal inside, most_inside
        with gate:
            with lock:
                inside += 1
                most_inside = max(most_inside, inside)
            time.sleep(0.01)
            with lock:
                inside -= 1

    threads = [threading.Thread(target=send) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert most_inside == 3


def test_at_least_one_request_must_be_allowed() -> None:
    with pytest.raises(ValueError, match="at least one"):
        InFlight(0)
