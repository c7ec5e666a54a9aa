"""Running the reference app with uvicorn: in the foreground for `serve`, or in a thread for tests and runs."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import threading
import time
from types import TracebackType

import uvicorn
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from conformance.reference.protocol import HEAD_TIMEOUT, reference_protocol

#: uvicorn's own default: idle keep-alive connections are closed after this many seconds.
IDLE_CLOSE_S = 5.0


class _Announcing:
    """An ASGI wrapper whose every answer announces how long an idle connection is kept (``Keep-Alive``)."""

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self._app = app
        self._header = (b"keep-alive", f"timeout={seconds:g}".encode("ascii"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def announcing(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), self._header]}
            await send(message)

        await self._app(scope, receive, announcing)


class _PromptServer(uvicorn.Server):
    """uvicorn's server, stopped as soon as it is told to. uvicorn looks at ``should_exit`` every 0.1 s, and its
    shutdown waits 0.1 s more for the connections it asked to close even when none is left: together about 0.15 s
    of idle wall per stop, a seventh of a test's embedded run. Here ``wake`` ends the wait at once, and a shutdown
    with no connection or task left only closes the listening sockets; with any, it is uvicorn's own."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self._woken: tuple[asyncio.AbstractEventLoop, asyncio.Event] | None = None

    async def main_loop(self) -> None:
        woken = asyncio.Event()
        self._woken = (asyncio.get_running_loop(), woken)
        counter = 0
        while not await self.on_tick(counter):  # on_tick keeps the Date header and says when to stop, as uvicorn's
            counter = (counter + 1) % 864000
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(woken.wait(), 0.1)

    def wake(self) -> None:
        """From any thread: look at ``should_exit`` now."""
        if self._woken is not None:
            loop, woken = self._woken
            with contextlib.suppress(RuntimeError):  # the loop already ended
                loop.call_soon_threadsafe(woken.set)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        if self.server_state.connections or self.server_state.tasks:
            await super().shutdown(sockets)
            return
        for server in self.servers:
            server.close()
        for sock in sockets or []:
            sock.close()


class ServerStartError(RuntimeError):
    """The reference server could not start (the address is in use or cannot be bound, a TLS file cannot be
    loaded): one sentence of ours, never uvicorn's log line before it. ``errno`` is the socket error's, if any."""

    def __init__(self, message: str, errno: int | None = None) -> None:
        super().__init__(message)
        self.errno = errno


class BackgroundServer:
    """A uvicorn server on a loopback port, in a daemon thread; ``port=0`` picks a free port. Connections use the
    reference protocol (documented 400s for unparseable requests, a deadline for request heads).

    With ``tls_cert`` and ``tls_key`` it serves HTTPS; with ``client_ca`` too it demands a client certificate signed
    by that CA, as the gateways in front of staging endpoints do, so that TLS setups can be rehearsed against it.

    Idle keep-alive connections are closed after uvicorn's 5 s, or after ``idle_close_s``; with
    ``announce_idle_close`` every answer says so (``Keep-Alive: timeout=N``), as many servers do and uvicorn does not.
    """

    def __init__(
        self,
        app: ASGIApp,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        head_timeout: float = HEAD_TIMEOUT,
        tls_cert: str | None = None,
        tls_key: str | None = None,
        client_ca: str | None = None,
        idle_close_s: float | None = None,
        announce_idle_close: bool = False,
    ) -> None:
        idle = IDLE_CLOSE_S if idle_close_s is None else idle_close_s
        config = uvicorn.Config(
            _Announcing(app, idle) if announce_idle_close else app,
            host=host,
            port=port,
            log_level="warning",
            access_log=False,
            lifespan="off",
            http=reference_protocol(head_timeout),
            ssl_certfile=tls_cert,
            ssl_keyfile=tls_key if tls_cert else None,
            ssl_ca_certs=client_ca if tls_cert else None,
            ssl_cert_reqs=ssl.CERT_REQUIRED if tls_cert and client_ca else ssl.CERT_NONE,
            # Any number of seconds (uvicorn hands it to asyncio's call_later), though typed as an int.
            timeout_keep_alive=idle,  # type: ignore[arg-type]
        )
        self._config = config
        self._server = _PromptServer(config)
        self._thread = threading.Thread(target=self._serve, name="reference-server", daemon=True)
        self._socket: socket.socket | None = None
        self._failure: BaseException | None = None
        self.host = host
        self.port = port
        self.scheme = "https" if tls_cert else "http"

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    def start(self, timeout: float = 10.0) -> BackgroundServer:
        """Load the TLS files and bind the port here, where a failure is a ServerStartError of one sentence (uvicorn
        would log its own line, then exit its thread), then serve on that socket in the thread."""
        try:
            self._config.load()
        except OSError as exc:
            raise ServerStartError(f"cannot load the TLS files: {exc.strerror or exc}", exc.errno) from None
        self._socket = self._bind()
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self._socket.close()
                why = f": {self._failure}" if self._failure is not None and str(self._failure) else ""
                raise ServerStartError(f"the reference server did not start on {self.host}:{self.port}{why}")
            time.sleep(0.01)
        self.port = self._server.servers[0].sockets[0].getsockname()[1]
        return self

    def _bind(self) -> socket.socket:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        # IPPROTO_TCP named, as getaddrinfo would: asyncio sets TCP_NODELAY only on sockets that say they are TCP,
        # and without it every keep-alive answer waits for a delayed ACK (about 40 ms a request).
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host.strip("[]"), self.port))
        except OSError as exc:
            sock.close()
            raise ServerStartError((exc.strerror or str(exc)).lower(), exc.errno) from None
        sock.set_inheritable(True)
        return sock

    def _serve(self) -> None:
        """uvicorn's loop on the bound socket; whatever ends it early (its startup exits with SystemExit) is kept
        for ``start`` to say, not printed by the thread."""
        try:
            self._server.run(sockets=[self._socket] if self._socket is not None else None)
        except BaseException as exc:  # start() reports it; a thread's traceback helps nobody
            self._failure = exc

    def stop(self) -> None:
        self._server.should_exit = True
        self._server.wake()
        self._thread.join(timeout=10)

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
