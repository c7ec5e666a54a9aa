"""Outcomes taken in the order the requests were issued, not the order their answers came back.

The give-up rule (so many requests in a row without a complete answer, then a probe) and the throttling rule (so
many in a row still throttled) count runs of outcomes. Counted as answers complete, the runs depend on --workers:
16 workers interleave a hanging request's timeout with the quick answers of the requests sent after it, one worker
never does. Counted in the order the requests were issued, the same target gives the same runs at any number of
workers: each outcome waits until every request issued before it has one (or was abandoned: refused by the budget,
halted), and is then counted.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Outcome:
    """What the run's tallies read of one request's outcome (never its bodies: they may wait here a while)."""

    seq: int
    label: str
    complete: bool
    throttled: bool
    status: int
    failure: str | None
    elapsed_ms: float


class RequestOrder:
    """Numbers requests as they are issued and hands their outcomes back in that order. Not thread-safe: the client
    calls it under its own lock."""

    def __init__(self) -> None:
        self._issued = 0
        self._next = 1
        self._waiting: dict[int, Outcome | None] = {}

    def issue(self) -> int:
        self._issued += 1
        return self._issued

    def settle(self, number: int, outcome: Outcome | None) -> list[Outcome]:
        """Record request ``number``'s outcome (None: it was abandoned, nothing to count) and return the outcomes
        now due, in request order."""
        self._waiting[number] = outcome
        due: list[Outcome] = []
        while self._next in self._waiting:
            settled = self._waiting.pop(self._next)
            self._next += 1
            if settled is not None:
                due.append(settled)
        return due
