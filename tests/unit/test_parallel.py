"""Cases sent while they are drawn are judged in the order drawn, whatever the number of workers and whether they
are drawn beside the requests in flight; a failure to send stops the drawing at that case's turn."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from conformance.engine.parallel import send_drawn

#: (workers, round trip in ms): one worker; several, drawing first (a fast target); several, drawing beside the
#: requests in flight (a slow target).
MODES = [(1, 0.0), (4, 0.0), (4, 100.0)]


def draw_ten(emit: Callable[[int], None]) -> None:
    for case in range(10):
        emit(case)


@pytest.mark.parametrize(("workers", "round_trip_ms"), MODES)
def test_every_case_is_judged_in_the_order_drawn_after_the_first_ones(workers: int, round_trip_ms: float) -> None:
    judged: list[tuple[int, int]] = []
    send_drawn(
        draw_ten,
        lambda case: case * 10,
        lambda case, answer: judged.append((case, answer)),
        workers,
        first=[-1],
        round_trip_ms=round_trip_ms,
    )
    assert judged == [(case, case * 10) for case in range(-1, 10)]


@pytest.mark.parametrize(("workers", "round_trip_ms"), MODES)
def test_a_failure_to_send_is_raised_at_its_turn_and_ends_the_drawing(workers: int, round_trip_ms: float) -> None:
    judged: list[int] = []

    def send(case: int) -> int:
        if case == 5:
            raise ConnectionError("the target is gone")
        return case

    with pytest.raises(ConnectionError):
        send_drawn(draw_ten, send, lambda case, _: judged.append(case), workers, round_trip_ms=round_trip_ms)
    assert judged == [0, 1, 2, 3, 4]
    assert not any(thread.name == "draw" for thread in threading.enumerate())
