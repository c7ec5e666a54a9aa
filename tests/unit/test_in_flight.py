"""The in-flight gate: never more requests at once than --workers, and fewer while the target throttles."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from contextlib import nullcontext

import pytest

from conformance.engine.in_flight import InFlight, in_background


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


def most_inside_at_once(gate: InFlight, backgrounds: Sequence[bool], hold_s: float) -> int:
    """How many requests were inside ``gate`` at once at most: a sender per entry of ``backgrounds`` (True: sent
    in the background), each holding its place ``hold_s``."""
    inside = most_inside = 0
    lock = threading.Lock()

    def send(background: bool) -> None:
        nonlocal inside, most_inside
        with in_background() if background else nullcontext(), gate:
            with lock:
                inside += 1
                most_inside = max(most_inside, inside)
            time.sleep(hold_s)
            with lock:
                inside -= 1

    threads = [threading.Thread(target=send, args=(background,)) for background in backgrounds]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    return most_inside


def test_no_more_than_the_limit_pass_at_once() -> None:
    assert most_inside_at_once(InFlight(3), [False] * 12, 0.01) == 3


def test_at_least_one_request_must_be_allowed() -> None:
    with pytest.raises(ValueError, match="at least one"):
        InFlight(0)


def _wait_until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, "the senders never got to wait"
        time.sleep(0.001)


def test_a_request_not_in_the_background_takes_the_next_place_before_every_background_one() -> None:
    gate = InFlight(1)
    entered: list[str] = []

    def send(name: str, background: bool) -> None:
        with in_background() if background else nullcontext(), gate:
            entered.append(name)

    gate.__enter__()  # the one place is taken
    behind = [threading.Thread(target=send, args=(f"lane {n}", True)) for n in range(3)]
    for thread in behind:
        thread.start()
    _wait_until(lambda: gate.waiting == (0, 3))
    scenario = threading.Thread(target=send, args=("scenario", False))
    scenario.start()
    _wait_until(lambda: gate.waiting == (1, 3))
    gate.__exit__(None, None, None)
    for thread in [*behind, scenario]:
        thread.join(timeout=10)
    assert entered[0] == "scenario"
    assert sorted(entered[1:]) == ["lane 0", "lane 1", "lane 2"]


def test_background_requests_fill_every_place_left_and_no_more() -> None:
    gate = InFlight(4)
    assert most_inside_at_once(gate, [n % 3 != 0 for n in range(24)], 0.005) == 4
    assert gate.waiting == (0, 0)


def test_a_grown_limit_lets_a_background_request_in_at_once() -> None:
    gate = InFlight(2)
    gate.answered(throttled=True)
    gate.__enter__()
    passed = threading.Event()

    def send() -> None:
        with in_background(), gate:
            passed.set()

    thread = threading.Thread(target=send)
    thread.start()
    _wait_until(lambda: gate.waiting == (0, 1))
    gate.answered(throttled=False)  # one calm answer at limit 1: back to 2
    assert passed.wait(timeout=10)
    thread.join(timeout=10)
    gate.__exit__(None, None, None)
