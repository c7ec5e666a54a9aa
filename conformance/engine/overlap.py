"""The scenarios and the property-based phases side by side, against a slow target.

A remote target's round trip is what a run waits on. Most scenarios are short chains of requests that each wait for
the one before, which leaves most of the --workers slots idle; the aimed and schemathesis phases run meanwhile on a
thread of their own (the "property lane") and fill them. The client's in-flight cap keeps the total at --workers,
and the lane's requests take a place only when no scenario's waits for one (engine.in_flight.in_background): the
scenarios' chains are what the run waits for.

What the lane judges waits in a DeferredLedger and reaches the ledger only after everything the scenarios judged, in
the order it was judged: the ledger (evidence, first failure, trace) is the one a run of the same seed builds with
one phase after the other. The IDs each phase mints are minted before either starts (see aimed.Pools and
generated.minted_examples), so that the same seed sends the same cases either way.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Literal

from conformance.engine.client import TargetClient
from conformance.engine.in_flight import in_background
from conformance.engine.parallel import HOLD_BYTES
from conformance.judging.results import Exchange, Finding, Judgements, Ledger, Seen

_Call = Callable[[Ledger], None]


class DeferredLedger:
    """The property lane's ledger while the scenarios run: its judgements wait, in order, until ``open`` hands them
    to the ledger; from then on they go straight through. ``seal`` (the run stopped) hands over what waits and
    drops whatever the lane judges after it, so that nothing changes the ledger while the reports are written.

    What waits holds the exchanges' bodies (never what was parsed from them): once they reach ``hold_bytes`` (the
    run's memory budget, engine.memory_budget), the lane waits too, until the scenarios are done."""

    def __init__(self, ledger: Ledger, hold_bytes: int = HOLD_BYTES) -> None:
        self._ledger = ledger
        self._waiting: list[_Call] = []
        self._state: Literal["waiting", "open", "sealed"] = "waiting"
        self._lock = threading.Condition()
        self._hold_bytes = hold_bytes
        self._held: dict[int, int] = {}

    def record(self, results: Sequence[Finding | Seen], exchange: Exchange | None = None) -> None:
        self._do(lambda ledger: ledger.record(results, exchange), exchange)

    def valid_request_answered(self, exchange: Exchange) -> None:
        self._do(lambda ledger: ledger.valid_request_answered(exchange), exchange)

    def lead(self, finding: Finding, exchange: Exchange) -> None:
        self._do(lambda ledger: ledger.lead(finding, exchange), exchange)

    def open(self) -> None:
        self._hand_over("open")

    def seal(self) -> None:
        self._hand_over("sealed")

    def _do(self, call: _Call, exchange: Exchange | None = None) -> None:
        with self._lock:
            while self._state == "waiting" and sum(self._held.values()) >= self._hold_bytes:
                self._lock.wait()
            if self._state == "open":
                call(self._ledger)
            elif self._state == "waiting":
                self._waiting.append(call)
                if exchange is not None:
                    exchange.forget_views()
                    self._held[id(exchange)] = len(exchange.response_body)

    def _hand_over(self, state: Literal["open", "sealed"]) -> None:
        with self._lock:
            for call in self._waiting:
                call(self._ledger)
            self._waiting.clear()
            self._held.clear()
            self._state = state
            self._lock.notify_all()


class Lane:
    """Work run on a daemon thread of its own (a lane still waiting for a hanging target never holds the process
    back); ``join`` raises what ended it, if anything did."""

    def __init__(self, work: Callable[[], None], name: str) -> None:
        self._work = work
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def _run(self) -> None:
        try:
            self._work()
        except BaseException as exc:  # handed to whoever joins
            self._failure = exc

    def start(self) -> None:
        self._thread.start()

    def join(self) -> None:
        self._thread.join()
        if self._failure is not None:
            raise self._failure


def side_by_side(
    scenarios: Callable[[], None],
    property_phases: Callable[[Judgements], None],
    ledger: Ledger,
    client: TargetClient,
) -> None:
    """Run ``scenarios`` here and ``property_phases`` on a lane beside them; judge as if one ran after the other.

    Whatever ends either (a stop found by the client, a signal, a bug) ends both: the client is halted, so the other
    sends nothing more, and what it judged until then stays in the ledger. A stop the scenarios meet is raised
    first, as in a run of one phase after the other; the lane's is raised when the scenarios are done."""
    deferred = DeferredLedger(ledger)

    def lane_work() -> None:
        with in_background():
            property_phases(deferred)

    lane = Lane(lane_work, name="property-lane")
    lane.start()
    try:
        scenarios()
        deferred.open()
        lane.join()
    except BaseException as exc:
        client.halt(f"the run stopped: {type(exc).__name__}: {exc}")
        deferred.seal()
        raise
