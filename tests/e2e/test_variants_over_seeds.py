"""Variants once falsely accused are certified on every seed, at 1 and at 16 workers, against the reference
served on loopback in a thread of its own with real sockets (so that an idle close races a request for real).

The idle-close variants close idle keep-alive connections after 1 s (silently, or announcing
``Keep-Alive: timeout=1``) and after 5 ms: legal (RFC 9112 §9.6), and a client that reuses such a connection must
neither blame the target for the request it never read nor send a restartable task twice. The client learns how
long the target keeps a connection (conformance/wire/keepalive.py); the tests below the sweep prove each part on a
server whose timing they control.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from conformance.engine.client import TargetClient
from conformance.engine.guard import IdGuard
from conformance.reference.app import create_app
from conformance.reference.server import BackgroundServer
from conformance.reference.store import seed_store
from conformance.reference.variants import VARIANTS
from conformance.wire import keepalive
from tests.embedded_here import run_here

#: Many runs of each seed: their schemathesis cases are drawn once a session (the drawing cache, tests/conftest.py),
#: and their reference answers in this process (tests/embedded_here.py).
pytestmark = pytest.mark.e2e

SEEDS = range(1, 11)
MAX_EXAMPLES = 20
SWEPT = ("refuse-over-50-with-413", "distinct-limit", "idle-close-1s", "idle-close-1s-announced", "idle-close-5ms")


def judge(directory: Path, variant: str, seed: int, workers: int) -> dict[str, Any]:
    flags = {
        "seed": seed,
        "max_examples": MAX_EXAMPLES,
        "report_dir": str(directory),
        "variant": [variant],
        "workers": workers,
    }
    run_here(**flags)
    report: dict[str, Any] = json.loads((directory / "report.json").read_text(encoding="utf-8"))
    return report


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("workers", [1, 16])
@pytest.mark.parametrize("variant", SWEPT)
def test_a_variant_is_certified_on_every_seed_at_any_worker_count(
    tmp_path: Path, variant: str, workers: int, seed: int
) -> None:
    report = judge(tmp_path, variant, seed, workers)
    failed = {req["id"] for req in report["requirements"] if req["status"] == "failed"}
    declared = set(VARIANTS[variant].warns)
    assert failed <= declared, f"seed {seed}, {workers} workers: {failed - declared} failed"
    expected = "conformant-with-warnings" if declared else "conformant"
    assert report["verdict"] == expected, (seed, workers, report["verdict_reason"])


def test_the_idle_close_race_is_only_an_observation_even_where_the_client_reuses_every_connection(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without its idle limit the client writes requests into connections the 5 ms target has just closed and
    never reads (2 to 10 in a run of about 160 requests, when measured): each is resent and observed (OBS-013),
    never blamed. The client is made to reuse every connection without asking whether the target closed it, as a
    client that never checks does, so the race is met for real; runs go on (up to three seeds) until one has."""
    monkeypatch.setattr(keepalive.IdlePolicy, "reusable", lambda policy, idle: True)
    plain = keepalive._Stream.get_extra_info
    monkeypatch.setattr(
        keepalive._Stream,
        "get_extra_info",
        lambda stream, info: False if info == "is_readable" else plain(stream, info),
    )
    for seed in (1, 2, 3):
        report = judge(tmp_path / str(seed), "idle-close-5ms", seed=seed, workers=16)
        assert report["verdict"] == "conformant", report["verdict_reason"]
        [dropped] = [entry for entry in report["observations"] if entry["id"] == "OBS-013"]
        if dropped["seen"]:
            assert all("reused keep-alive connection (idle " in seen["value"] for seen in dropped["seen"])
            return
    pytest.fail("no run met the race of an idle close: the test proved nothing")


@pytest.fixture
def fixtures() -> dict[str, list[str]]:
    return seed_store(restartable=2, seed=3)[1]


def serving(idle_close_s: float, *, announced: bool = False) -> BackgroundServer:
    store, _ = seed_store(restartable=2, seed=3)
    return BackgroundServer(create_app(store), idle_close_s=idle_close_s, announce_idle_close=announced)


def client_for(server: BackgroundServer, fixtures: dict[str, list[str]]) -> TargetClient:
    return TargetClient(server.base_url, "p1", guard=IdGuard(fixtures["restartable"], fixtures["not_restartable"]))


def minted(client: TargetClient) -> bytes:
    return json.dumps({"migration_tasks": [client.guard.mint()]}).encode()


def test_a_connection_is_reused_only_below_half_the_announced_keep_alive_timeout(
    fixtures: dict[str, list[str]],
) -> None:
    with serving(1.0, announced=True) as server, client_for(server, fixtures) as client:
        first = client.post(minted(client))
        assert first.response_headers["keep-alive"] == "timeout=1"
        assert client.keep_alive.max_idle_s() == 0.5
        client.post(minted(client))
        reused_after = client.keep_alive.last_idle_s()
        time.sleep(0.6)
        late = client.post(minted(client))
        assert reused_after is not None and reused_after < 0.5
        assert client.keep_alive.last_idle_s() is None, "a connection idle 0.6 s was reused"
        assert late.complete and late.earlier_failure is None


def test_a_target_seen_closing_idle_connections_has_them_reused_only_below_half_that_idle(
    fixtures: dict[str, list[str]],
) -> None:
    with serving(0.2) as server, client_for(server, fixtures) as client:
        client.post(minted(client))
        time.sleep(0.4)  # the target closes the connection at 0.2 s, without a word
        after = client.post(minted(client))
        assert after.complete and after.earlier_failure is None
        seen = client.keep_alive.closed_after_s
        assert seen is not None and 0.4 <= seen < 1.0
        assert client.keep_alive.max_idle_s() == seen / 2


def test_a_request_naming_a_restartable_task_goes_on_a_connection_of_its_own(fixtures: dict[str, list[str]]) -> None:
    with serving(5.0) as server, client_for(server, fixtures) as client:
        client.post(minted(client))
        client.post(minted(client))
        assert client.keep_alive.last_idle_s() is not None, "the pooled connection was reused"
        answer = client.post(json.dumps({"migration_tasks": [fixtures["restartable"][0]]}).encode())
        assert client.keep_alive.last_idle_s() is None
        assert answer.response_json["migration_tasks"][0]["result"] == "success"
