"""engine/setup_gate: a run whose first requests are all refused 401/403/404 stops after a few, however many
workers it has; all refused 400, it asks one question without credentials and stops only if that is refused 400 too;
one answer of any other kind opens the gate for good; a request without an answer gives its place."""

from __future__ import annotations

import threading
from collections import Counter

import pytest

from conformance.engine.setup_gate import SetupGate, SetupRejected
from conformance.judging.results import Exchange
from conformance.support.errors import BudgetExhausted
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


def asking(status: int) -> tuple[SetupGate, list[int]]:
    """A gate whose question (a batch without credentials) is answered ``status``; the list counts the questions."""
    asked: list[int] = []

    def ask() -> Exchange:
        asked.append(status)
        return exchange(status)

    return SetupGate(probes=3, ask_unauthenticated=ask), asked


def settle_all(gate: SetupGate, statuses: tuple[int, ...]) -> list[SetupRejected | None]:
    outcomes = []
    for status in statuses:
        gate.enter()
        outcomes.append(gate.settle(exchange(status)))
    return outcomes


def test_every_request_refused_400_and_the_question_without_credentials_too_stops_the_run() -> None:
    gate, asked = asking(400)
    *first, stop = settle_all(gate, (400, 400, 400))
    assert first == [None, None]
    assert asked == [400]
    assert isinstance(stop, SetupRejected)
    assert (stop.answers, stop.unauthenticated) == (Counter({"400": 3}), 400)
    assert str(stop) == (
        "the first 3 requests sent with the run's credentials were all refused (400 x3), and so was a well-formed "
        "one without credentials (400), which is answered 401"
    )
    assert gate.asked is not None and gate.asked.status == 400


@pytest.mark.parametrize("status", [401, 200, 404])
def test_a_question_answered_anything_but_400_opens_the_gate_for_good(status: int) -> None:
    """A conforming target answers it 401 (200 when it enforces no authentication): its 400s were about the bodies
    and the IDs it does not know, which it may refuse as a whole."""
    gate, asked = asking(status)
    assert settle_all(gate, (400, 400, 400, 400, 400, 400)) == [None] * 6
    assert asked == [status]


def test_a_question_that_got_no_answer_is_no_evidence_and_opens_the_gate() -> None:
    gate = SetupGate(probes=1, ask_unauthenticated=lambda: exchange(0, content=b"", failure="timed out"))
    assert settle_all(gate, (400, 400)) == [None, None]


def test_a_question_that_could_not_be_sent_opens_the_gate() -> None:
    def ask() -> Exchange:
        raise BudgetExhausted("the request budget of 3 is spent")

    gate = SetupGate(probes=1, ask_unauthenticated=ask)
    assert settle_all(gate, (400, 401)) == [None, None]


def test_without_credentials_to_leave_out_a_400_opens_the_gate_as_before() -> None:
    gate = SetupGate(probes=2)
    assert settle_all(gate, (400, 400, 400, 401, 401)) == [None] * 5


@pytest.mark.parametrize("statuses", [(400, 401, 401, 401), (401, 400, 400, 400), (404, 400, 401, 404)])
def test_a_mix_of_400_and_refusals_stops_nothing_and_asks_nothing(statuses: tuple[int, ...]) -> None:
    """A target that refuses malformed bodies before it looks at the credentials answers some 400 and some 401:
    neither pattern of a wrong setup."""
    gate, asked = asking(400)
    assert settle_all(gate, statuses) == [None] * len(statuses)
    assert asked == []
