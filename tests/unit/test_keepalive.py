"""How long a keep-alive connection may idle and be reused, and the restartable task that is sent once, throttled or
not. (The pool's reuse decisions on real sockets: tests/e2e/test_variants_over_seeds.py.)"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator

import httpx
import pytest
import respx

from conformance.engine.client import TargetClient
from conformance.engine.guard import IdGuard
from conformance.reference.store import seed_store
from conformance.wire.keepalive import DEFAULT_MAX_IDLE_S, IdlePolicy, _Backend, keep_alive_timeout, tracked

BASE = "http://target.test"
PATH = "/v2/proj/migration-tasks/batch-restart"
RESTARTABLE = "7599c3ed-d0d3-4fb9-9273-653160302023"


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("timeout=5", 5.0),
        ("timeout=5, max=1000", 5.0),
        ("max=1000, Timeout = 2", 2.0),
        ('timeout="3"', 3.0),
        ("timeout=0", 0.0),
        ("max=1000", None),
        ("timeout=soon", None),
        ("timeout=-1", None),
        ("timeout=inf", None),
        ("timeout=nan", None),
        ("", None),
        (None, None),
    ],
)
def test_a_keep_alive_header_gives_its_timeout_or_nothing(value: str | None, seconds: float | None) -> None:
    assert keep_alive_timeout(value) == seconds


def test_without_a_word_from_the_target_a_connection_idle_a_second_is_not_reused() -> None:
    policy = IdlePolicy()
    assert policy.max_idle_s() == DEFAULT_MAX_IDLE_S == 1.0
    assert policy.reusable(0.99) and not policy.reusable(1.0)


def test_an_announced_timeout_allows_half_of_it_and_never_more_than_without_one() -> None:
    policy = IdlePolicy()
    policy.announced("timeout=1")
    assert policy.max_idle_s() == 0.5
    policy.announced("timeout=75")  # the shortest announcement counts
    assert policy.max_idle_s() == 0.5
    policy.announced("timeout=whenever")
    assert policy.announced_s == 1.0


def test_a_close_seen_after_an_idle_allows_half_of_the_shortest_such_idle() -> None:
    policy = IdlePolicy()
    policy.closed(0.012)
    policy.closed(0.4)
    assert math.isclose(policy.max_idle_s(), 0.006)
    assert not policy.reusable(0.006)


def test_a_target_announcing_zero_has_no_connection_reused() -> None:
    policy = IdlePolicy()
    policy.announced("timeout=0")
    assert not policy.reusable(0.0)


@pytest.fixture
def mock() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        yield router


def test_a_throttled_request_naming_a_restartable_task_is_never_sent_again(mock: respx.MockRouter) -> None:
    """The README's promise: a restartable task goes once. The throttled answer is not judged (the target may or
    may not have restarted the task), and the task is spent."""
    route = mock.post(PATH).mock(return_value=httpx.Response(429, headers={"Retry-After": "0"}))
    with TargetClient(BASE, "proj", guard=IdGuard([RESTARTABLE]), sleep=lambda _: None) as client:
        exchange = client.post(json.dumps({"migration_tasks": [RESTARTABLE]}).encode())
    assert route.call_count == 1
    assert exchange.throttled and not exchange.judgeable


def test_a_throttled_request_naming_no_restartable_task_is_still_resent(mock: respx.MockRouter) -> None:
    route = mock.post(PATH).mock(side_effect=[httpx.Response(503), httpx.Response(200, json={})])
    with TargetClient(BASE, "proj", sleep=lambda _: None) as client:
        exchange = client.post(json.dumps({"migration_tasks": [client.guard.mint()]}).encode())
    assert (route.call_count, exchange.status, exchange.throttled) == (2, 200, False)


def test_the_reference_store_counts_the_calls_naming_a_restarted_task() -> None:
    store, fixtures = seed_store(restartable=2, not_restartable=1, seed=1)
    first, second = fixtures["restartable"]
    store.restart_batch([first, first, fixtures["not_restartable"][0]])
    store.restart_batch([fixtures["not_restartable"][0]])
    assert store.asked_again() == {}, "a task named twice in one call, or a task never restarted, is not counted"
    store.restart_batch([second, first])
    assert store.asked_again() == {first: 2}


def test_a_transport_is_watched_once_however_many_clients_share_it() -> None:
    transport = httpx.HTTPTransport()
    policy = IdlePolicy()
    tracked(tracked(transport, policy), policy)
    backend = transport._pool._network_backend
    assert isinstance(backend, _Backend) and not isinstance(backend.inner, _Backend)
