"""The one place the reference server is assembled: its store, auth policy, deviations and app, for `serve` and
for the in-process target of an embedded run.

Callers get an ASGI app to serve (``assemble``) or a running server with fresh credentials (``embedded``); nothing
else outside this package needs to know how the reference is put together.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp

from conformance.config.credentials import Credentials
from conformance.reference import deviations
from conformance.reference.app import create_app
from conformance.reference.auth import AuthMode, AuthPolicy
from conformance.reference.server import BackgroundServer
from conformance.reference.store import seed_store


def check_deviations(faults: Sequence[str], variants: Sequence[str]) -> None:
    """ValueError naming an unknown fault or variant (and the known ones), before anything is started."""
    deviations.build(faults, variants)


def assemble(
    policy: AuthPolicy,
    project_ids: Sequence[str],
    *,
    restartable: int,
    not_restartable: int | None,
    seed: int | None,
    faults: Sequence[str] = (),
    variants: Sequence[str] = (),
    latency_ms: float = 0,
) -> tuple[ASGIApp, dict[str, Any]]:
    """The reference app with its seeded tasks, and those tasks as a fixtures document; ValueError for an unknown
    deviation (checked first, before anything is seeded)."""
    behaviour = deviations.build(faults, variants, seed=seed, latency_ms=latency_ms)
    store, fixtures = seed_store(restartable=restartable, seed=seed, not_restartable=not_restartable)
    return create_app(store, policy, list(project_ids), behaviour), fixtures


@dataclass(frozen=True)
class EmbeddedReference:
    base_url: str
    credentials: Credentials
    fixtures: dict[str, Any]


@contextmanager
def embedded(
    project_id: str,
    *,
    seed: int,
    restartable: int,
    not_restartable: int | None,
    faults: Sequence[str] = (),
    variants: Sequence[str] = (),
) -> Iterator[EmbeddedReference]:
    """The reference started in a background thread on loopback, with its own AK/SK credentials (a read-only
    pair too) that only this run knows, or IAM tokens when a deviation judged is about tokens; stopped on exit."""
    if deviations.wants_token_auth(faults, variants):
        token, readonly_token = secrets.token_hex(32), secrets.token_hex(32)
        policy = AuthPolicy(mode=AuthMode.TOKEN, token=token, readonly_token=readonly_token)
        credentials = Credentials(token=token, readonly_token=readonly_token)
    else:
        ak, sk = secrets.token_hex(10).upper(), secrets.token_hex(20)
        readonly_ak, readonly_sk = secrets.token_hex(10).upper(), secrets.token_hex(20)
        policy = AuthPolicy(mode=AuthMode.AKSK, keys={ak: sk}, readonly_keys={readonly_ak: readonly_sk})
        credentials = Credentials(ak=ak, sk=sk, readonly_ak=readonly_ak, readonly_sk=readonly_sk)
    app, fixtures = assemble(
        policy,
        [project_id],
        restartable=restartable,
        not_restartable=not_restartable,
        seed=seed,
        faults=faults,
        variants=variants,
    )
    idle_close_s, announced = deviations.keep_alive(faults, variants)
    with BackgroundServer(app, idle_close_s=idle_close_s, announce_idle_close=announced) as server:
        yield EmbeddedReference(server.base_url, credentials, fixtures)
