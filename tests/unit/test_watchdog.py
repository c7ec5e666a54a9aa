"""conformance.engine.watchdog.Deadline: --timeout counts time on the wire, with the wall clock as a backstop."""

from __future__ import annotations

import httpcore
import pytest

from conformance.engine.watchdog import WALL_FACTOR, Deadline


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_only_time_inside_reads_and_writes_counts_against_the_request() -> None:
    clock = Clock()
    deadline = Deadline(1.0, clock)
    with deadline.on_the_wire():
        clock.now += 0.4
    clock.now += 0.5  # the thread was busy elsewhere (parsing, or waiting while the run judged)
    assert deadline.left() == pytest.approx(0.6)
    with deadline.on_the_wire():
        clock.now += 0.6
    assert deadline.expired
    with pytest.raises(httpcore.ReadTimeout, match="not over after 1 s"):
        deadline.bound(5.0, httpcore.ReadTimeout)


def test_a_read_may_wait_only_for_what_is_left() -> None:
    clock = Clock()
    deadline = Deadline(1.0, clock)
    with deadline.on_the_wire():
        clock.now += 0.75
    assert deadline.bound(5.0, httpcore.ReadTimeout) == pytest.approx(0.25)
    assert deadline.bound(0.1, httpcore.ReadTimeout) == pytest.approx(0.1)


def test_the_wall_clock_ends_a_request_whose_target_never_lets_a_read_wait() -> None:
    clock = Clock()
    deadline = Deadline(1.0, clock)
    clock.now += WALL_FACTOR * 1.0
    assert deadline.expired


def test_waiting_for_the_memory_budget_does_not_count_on_either_clock() -> None:
    clock = Clock()
    deadline = Deadline(1.0, clock)
    with deadline.paused():
        clock.now += 10.0
    assert deadline.left() == pytest.approx(1.0)
