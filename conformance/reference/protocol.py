"""The reference server's HTTP/1.1 connection handling: uvicorn's h11 protocol, with the contract kept even for
requests the app never sees.

uvicorn answers a request it cannot parse (oversized headers, a bad Content-Length, a broken request line) with its
own ``400 text/plain`` and no X-Request-Id, which would break our own BR-REQ-004, -005 and -021; here it gets the
documented JSON error body and an X-Request-Id. And uvicorn waits forever for a request head that never completes
(or never starts, on a fresh connection), so a handful of idle or slow clients could hold every connection: the
head must arrive within a deadline, or the connection is closed (with the same 400 if part of a head arrived).
Idle keep-alive connections are uvicorn's own business (closed after its keep-alive timeout).
"""

from __future__ import annotations

import asyncio
import json
import uuid

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

#: Seconds a client has to send a complete request head, from connecting or from its first byte after a response.
HEAD_TIMEOUT = 10.0
#: After a rejection, seconds to keep reading (and discarding) what the client still sends before closing: closing
#: with unread data makes the kernel reset the connection, and the client may lose the answer.
LINGER = 2.0


def error_bytes(message: str) -> bytes:
    """A complete HTTP/1.1 400 answer in the documented error shape, closing the connection."""
    body = json.dumps({"error_code": "DCS.4000", "error_msg": message, "error_ext_msg": None}).encode()
    head = (
        "HTTP/1.1 400 Bad Request\r\n"
        "content-type: application/json\r\n"
        f"content-length: {len(body)}\r\n"
        f"x-request-id: {uuid.uuid4().hex}\r\n"
        "connection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


class ReferenceProtocol(H11Protocol):
    """H11Protocol with documented protocol-level rejections and a deadline for request heads."""

    head_timeout: float = HEAD_TIMEOUT
    _head_timer: asyncio.TimerHandle | None = None
    _rejected: bool = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head_timer()

    def data_received(self, data: bytes) -> None:
        if self._rejected:
            return  # the rest of a rejected request: read and dropped until the client closes
        super().data_received(data)
        if self.transport.is_closing():
            self._disarm_head_timer()
        elif self.conn.their_state is h11.IDLE:
            # Still no complete head (a partial one, or the first bytes after a keep-alive pause).
            if self._head_timer is None:
                self._arm_head_timer()
        else:
            self._disarm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_head_timer()
        super().connection_lost(exc)

    def send_400_response(self, msg: str) -> None:
        self._reject(f"Invalid HTTP request: {msg}")

    def _reject(self, message: str) -> None:
        """Answer with the documented 400, stop sending, and close once the client stops (or after LINGER)."""
        self._disarm_head_timer()
        if self.transport.is_closing() or self._rejected:
            return
        self._rejected = True
        self.transport.write(error_bytes(message))
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.loop.call_later(LINGER, self.transport.close)

    def _arm_head_timer(self) -> None:
        self._disarm_head_timer()
        self._head_timer = self.loop.call_later(self.head_timeout, self._head_timed_out)

    def _disarm_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.transport.is_closing() or self.conn.their_state is not h11.IDLE:
            return
        if self.conn.trailing_data[0]:
            self._reject(f"The request head was not complete within {self.head_timeout:g} s.")
        else:
            self.transport.close()


def reference_protocol(head_timeout: float = HEAD_TIMEOUT) -> type[ReferenceProtocol]:
    """The protocol class to give uvicorn, with its own head deadline."""
    return type("ReferenceProtocol", (ReferenceProtocol,), {"head_timeout": head_timeout})
