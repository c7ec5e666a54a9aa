"""The one HTTP client every request of a run passes through.

It owns what must hold for the whole run, property-based phases included: the ID guard, the request budget, the
rate limit, authentication (token or AK/SK signatures made exactly as the vendor SDK makes them) and redaction of
everything it records.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Any
from urllib.parse import quote

import httpx

from conformance import signing
from conformance.contract import ENDPOINT
from conformance.engine.guard import IdGuard
from conformance.engine.redaction import Redactor, userinfo_secrets
from conformance.results import Exchange

JSON_CONTENT_TYPE = "application/json;charset=utf-8"


def encode_json(document: Any) -> bytes:
    """UTF-8 JSON as the SDK's users would send it; strings UTF-8 cannot carry (lone surrogates) are escaped."""
    try:
        return json.dumps(document, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(document).encode("ascii")


class TargetUnreachable(Exception):
    """The target could not be reached at all; the run cannot be completed."""


class BudgetExhausted(Exception):
    """The --max-requests budget is spent; nothing more may be sent."""


@dataclass(frozen=True)
class Credentials:
    token: str | None = None
    ak: str | None = None
    sk: str | None = None
    readonly_token: str | None = None
    readonly_ak: str | None = None
    readonly_sk: str | None = None

    @property
    def configured(self) -> bool:
        return bool(self.token or (self.ak and self.sk))

    @property
    def readonly_configured(self) -> bool:
        return bool(self.readonly_token or (self.readonly_ak and self.readonly_sk))

    def secrets(self) -> list[str | None]:
        return [self.token, self.ak, self.sk, self.readonly_token, self.readonly_ak, self.readonly_sk]


class Auth(Enum):
    """How one request authenticates: normally, or in one of the ways the auth checks need."""

    DEFAULT = "default"
    NONE = "none"
    WRONG_TOKEN = "wrong token"
    UNKNOWN_KEY = "signature by an unknown access key"
    WRONG_SECRET = "signature made with a wrong secret key"
    TAMPERED_BODY = "body changed after signing"
    STALE_DATE = "signature dated 20 minutes ago"
    READONLY = "credential without dcs:migrationTask:modify"


class TargetClient:
    def __init__(
        self,
        base_url: str,
        project_id: str,
        *,
        credentials: Credentials | None = None,
        guard: IdGuard | None = None,
        rate_limit: float | None = None,
        max_requests: int | None = None,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.project_id = project_id
        self.credentials = credentials or Credentials()
        self.guard = guard or IdGuard()
        self.redactor = Redactor([*self.credentials.secrets(), *userinfo_secrets(base_url)])
        self.max_requests = max_requests
        self.sent = 0
        self._interval = 1.0 / rate_limit if rate_limit else 0.0
        self._next_slot = 0.0
        self._lock = threading.Lock()
        self._t0 = time.perf_counter()
        self._http = httpx.Client(timeout=timeout, transport=transport, follow_redirects=False)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> TargetClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def url(self, project_id: str | None = None) -> str:
        project = quote(project_id if project_id is not None else self.project_id, safe="")
        return self.base_url + ENDPOINT.replace("{project_id}", project)

    def post_json(self, document: Any, **kwargs: Any) -> Exchange:
        return self.post(encode_json(document), **kwargs)

    def post(
        self,
        body: bytes | None,
        *,
        auth: Auth = Auth.DEFAULT,
        project_id: str | None = None,
        content_type: str | None = JSON_CONTENT_TYPE,
        label: str = "",
    ) -> Exchange:
        """Send one POST to the endpoint, after the guard, the budget and the rate limit allow it."""
        self.guard.admit(body)
        url = self.url(project_id)
        headers: dict[str, str] = {}
        if content_type:
            headers["Content-Type"] = content_type
        headers, body = self._authenticate(url, headers, body or b"", auth, project_id)
        self._take_slot()
        started = time.perf_counter()
        try:
            response = self._http.request("POST", url, headers=headers, content=body)
        except httpx.TransportError as exc:
            raise TargetUnreachable(f"{type(exc).__name__} on POST {url}: {str(exc) or 'no answer'}") from None
        elapsed = (time.perf_counter() - started) * 1000
        return Exchange(
            method="POST",
            url=self.redactor.text(url),
            request_headers=self.redactor.headers(dict(response.request.headers)),
            request_body=self.redactor.data(body),
            status=response.status_code,
            response_headers=self.redactor.headers(dict(response.headers)),
            response_body=self.redactor.data(response.content) or b"",
            elapsed_ms=elapsed,
            label=label,
            seq=self.sent,
            at_s=round(time.perf_counter() - self._t0, 3),
        )

    def _take_slot(self) -> None:
        with self._lock:
            if self.max_requests is not None and self.sent >= self.max_requests:
                raise BudgetExhausted(f"the request budget of {self.max_requests} is spent")
            self.sent += 1
            now = time.monotonic()
            wait = self._next_slot - now
            self._next_slot = max(now, self._next_slot) + self._interval
        if wait > 0:
            time.sleep(wait)

    def _authenticate(
        self, url: str, headers: dict[str, str], body: bytes, auth: Auth, project_id: str | None
    ) -> tuple[dict[str, str], bytes]:
        creds = self.credentials
        if auth is Auth.READONLY and creds.readonly_configured:
            if creds.readonly_token:
                return {**headers, "X-Auth-Token": creds.readonly_token}, body
            return self._sign(url, headers, body, creds.readonly_ak or "", creds.readonly_sk or "", project_id), body
        if auth is Auth.NONE or not creds.configured:
            return headers, body
        if creds.token:
            token = secrets.token_hex(32) if auth is Auth.WRONG_TOKEN else creds.token
            return {**headers, "X-Auth-Token": token}, body
        ak, sk = creds.ak or "", creds.sk or ""
        if auth is Auth.UNKNOWN_KEY:
            ak = secrets.token_hex(10).upper()
        elif auth is Auth.WRONG_SECRET:
            sk = secrets.token_hex(20)
        when = time.time() - 20 * 60 if auth is Auth.STALE_DATE else None
        signed = self._sign(url, headers, body, ak, sk, project_id, when)
        if auth is Auth.TAMPERED_BODY:
            body = body + b" "
        return signed, body

    def _sign(
        self,
        url: str,
        headers: dict[str, str],
        body: bytes,
        ak: str,
        sk: str,
        project_id: str | None,
        when: float | None = None,
    ) -> dict[str, str]:
        headers = {**headers, "X-Project-Id": project_id if project_id is not None else self.project_id}
        now = datetime.fromtimestamp(when, UTC) if when is not None else None
        return signing.sign("POST", url, headers, body, ak, sk, now=now)
