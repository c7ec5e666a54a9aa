"""Targets for the CI-facing tests (pytest plugin, many targets, summaries): the reference, deviating only in ways
that exercise a warning and the masking of credentials."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from conformance.reference.app import create_app
from conformance.reference.auth import AuthMode, AuthPolicy
from conformance.reference.server import BackgroundServer
from conformance.reference.store import seed_store

ERROR_MSG = re.compile(rb'("error_msg":\s*")')


class WithoutRequestIdEchoingTheToken:
    """The reference minus X-Request-Id (a SHOULD violation, nothing else), and every response echoes the caller's
    X-Auth-Token in a header and in every error_msg: a leak the suite must mask wherever it writes."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        token = dict(scope["headers"]).get(b"x-auth-token", b"")

        async def rewrite(message):
            if message["type"] == "http.response.start":
                headers = [
                    (k, v) for k, v in message["headers"] if k.lower() not in (b"x-request-id", b"content-length")
                ]
                message["headers"] = [*headers, (b"x-seen-token", token)]
            elif message["type"] == "http.response.body" and message.get("body"):
                message["body"] = ERROR_MSG.sub(rb"\1(token " + token + rb") ", message["body"])
            await send(message)

        await self.app(scope, receive, rewrite)


@contextmanager
def token_reference(token: str, project: str) -> Iterator[str]:
    """A separately started reference that demands ``token`` and leaks it; yields its base URL."""
    store, _ = seed_store(seed=4)
    app = create_app(store, AuthPolicy(mode=AuthMode.TOKEN, token=token), projects=[project])
    with BackgroundServer(WithoutRequestIdEchoingTheToken(app)) as server:
        yield server.base_url
