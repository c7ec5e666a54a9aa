"""conformance.engine.request_order: outcomes are counted in the order the requests were issued."""

from __future__ import annotations

from conformance.engine.request_order import Outcome, RequestOrder


def outcome(seq: int, *, complete: bool = True) -> Outcome:
    return Outcome(seq=seq, label="", complete=complete, throttled=False, status=200, failure=None, elapsed_ms=1.0)


def test_an_outcome_waits_for_every_request_issued_before_it() -> None:
    order = RequestOrder()
    first, second, third = order.issue(), order.issue(), order.issue()
    assert order.settle(third, outcome(3)) == []
    assert order.settle(second, outcome(2)) == []
    assert [due.seq for due in order.settle(first, outcome(1))] == [1, 2, 3]


def test_an_abandoned_request_lets_the_later_ones_through_and_counts_nothing() -> None:
    order = RequestOrder()
    first, second = order.issue(), order.issue()
    assert order.settle(second, outcome(2, complete=False)) == []
    assert [due.seq for due in order.settle(first, None)] == [2]
