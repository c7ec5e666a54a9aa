"""engine/setup_gate: a run whose first requests are all refused 401/403/404 stops after a few, however many
workers it has; one answer of any other kind opens the gate for good; a request without an answer gives its place."""

from __future__ import annotations

import threading
from collections import Counter

from conformance.engine.setup_gate import SetupGate, SetupRejected
from tests.conftest import exchange


def test_the_last_probe_s_refusal_stops_the_run_with_how_they_were_answered() -> None:
    gate = SetupGate(probes=3)
    outcomes = []
    for status in (401, 403, 401):
        gate.enter()
        outcomes.append(gate.settle(exchange(status)))
    assert outcomes[:2] == [None, None]
    stop = outcomes[2]
    assert isinstance(stop, SetupRejected)
    assert stop.answers == Counter({"401": 2, "403": 1})
    assert "the first 3 requests sent with the run's credentials were all refused (401 x2, 403 x1)" in str(stop)


def test_one_answer_that_is_not_a_refusal_opens_the_gate_for_good() -> None:
    gate = SetupGate(probes=2)
    gate.enter()
    assert gate.settle(exchange(400)) is None  # the target took the credentials: a 400 is about the body
    for _ in range(5):
        gate.enter()
        assert gate.settle(exchange(401)) is None


def test_no_more_than_the_probes_are_out_before_the_setup_is_known() -> None:
    gate = SetupGate(probes=2)
    gate.enter()
    gate.enter()
    third = threading.Thread(target=gate.enter, daemon=True)
    third.start()
    third.join(timeout=0.3)
    assert third.is_alive(), "a third request went out before either of the first two was answered"
    gate.settle(exchange(200))
    third.join(timeout=5)
    assert not third.is_alive()


def test_a_request_without_an_answer_gives_its_place_to_the_next() -> None:
    gate = SetupGate(probes=1)
    gate.enter()
    gate.settle(exchange(0, content=b"", failure="timed out"))
    waiting = threading.Thread(target=gate.enter, daemon=True)
    waiting.start()
    waiting.join(timeout=5)
    assert not waiting.is_alive()
    assert gate.settle(exchange(404)) is not None


def test_closing_the_gate_releases_whoever_waits() -> None:
    gate = SetupGate(probes=1)
    gate.enter()
    waiting = threading.Thread(target=gate.enter, daemon=True)
    waiting.start()
    gate.close()
    waiting.join(timeout=5)
    assert not waiting.is_alive()
