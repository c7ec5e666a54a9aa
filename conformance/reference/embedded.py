"""The one place the reference server is assembled: its store, auth policy, deviations and app, for `serve`, for the
embedded run's reference process (child.py) and for the in-process reference of tests.

Callers get an ASGI app to serve (``assemble``), fresh credentials with the policy that accepts them
(``fresh_credentials``, ``policy_for``), or a server running in this process (``embedded``); nothing else outside this
package needs to know how the reference is put together. Importing this module loads neither uvicorn nor starlette:
the run that starts its reference in a child process, and the settings that check deviation names, never do.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from conformance.config.credentials import Credentials
from conformance.reference import deviations, restart_ledger
from conformance.reference.auth import AuthMode, AuthPolicy

if TYPE_CHECKING:
    from starlette.types import ASGIApp

    from conformance.reference.restart_ledger import RestartLedger
    from conformance.reference.server import BackgroundServer


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
    ledger: RestartLedger | None = None,
) -> tuple[ASGIApp, dict[str, Any]]:
    """The reference app with its seeded tasks, and those tasks as a fixtures document; ValueError for an unknown
    deviation (checked first, before anything is seeded). With a ``ledger`` (restart_ledger.py, test-only) the
    store's restarts are counted there too."""
    from conformance.reference.app import create_app
    from conformance.reference.store import seed_store

    behaviour = deviations.build(faults, variants, seed=seed, latency_ms=latency_ms)
    store, fixtures = seed_store(restartable=restartable, seed=seed, not_restartable=not_restartable, ledger=ledger)
    return create_app(store, policy, list(project_ids), behaviour), fixtures


def fresh_credentials(faults: Sequence[str], variants: Sequence[str]) -> Credentials:
    """AK/SK credentials (a read-only pair too) that only this run knows, or IAM tokens when a deviation judged is
    about tokens."""
    if deviations.wants_token_auth(faults, variants):
        return Credentials(token=secrets.token_hex(32), readonly_token=secrets.token_hex(32))
    return Credentials(
        ak=secrets.token_hex(10).upper(),
        sk=secrets.token_hex(20),
        readonly_ak=secrets.token_hex(10).upper(),
        readonly_sk=secrets.token_hex(20),
    )


def policy_for(credentials: Credentials) -> AuthPolicy:
    """The reference's auth policy accepting exactly ``credentials`` (see fresh_credentials)."""
    if credentials.token:
        return AuthPolicy(mode=AuthMode.TOKEN, token=credentials.token, readonly_token=credentials.readonly_token)
    assert credentials.ak and credentials.sk and credentials.readonly_ak and credentials.readonly_sk
    return AuthPolicy(
        mode=AuthMode.AKSK,
        keys={credentials.ak: credentials.sk},
        readonly_keys={credentials.readonly_ak: credentials.readonly_sk},
    )


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
    """The reference started in a background thread of this process on loopback, with fresh credentials; stopped on
    exit. It shares this interpreter (and its lock) with whatever sends to it: runs start it in a process of their
    own (process.py), this is for code that must reach into the reference, and for when no child can be started
    (then it keeps a restart ledger too, if a test asked for one: the run may be a test's subprocess)."""

    credentials = fresh_credentials(faults, variants)
    app, fixtures = assemble(
        policy_for(credentials),
        [project_id],
        restartable=restartable,
        not_restartable=not_restartable,
        seed=seed,
        faults=faults,
        variants=variants,
        ledger=restart_ledger.from_environment("the embedded reference in its run's process"),
    )
    with server_for(app, faults, variants) as server:
        yield EmbeddedReference(server.base_url, credentials, fixtures)


def server_for(
    app: ASGIApp, faults: Sequence[str] = (), variants: Sequence[str] = (), **options: Any
) -> BackgroundServer:
    """The HTTP server for ``app`` (not started), with what the deviations set in the server itself: how long an
    idle keep-alive connection is kept, and whether that is announced. Every server of the reference is made here:
    the embedded one (in this process or its own), and ``serve``'s."""
    from conformance.reference.server import BackgroundServer

    idle_close_s, announced = deviations.keep_alive(faults, variants)
    return BackgroundServer(app, idle_close_s=idle_close_s, announce_idle_close=announced, **options)
