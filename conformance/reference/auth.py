"""Who may restart tasks on the reference server: no auth, an IAM token, or AK/SK signatures."""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from conformance.support.errors import RequestSignatureError
from conformance.wire import signing


class AuthMode(StrEnum):
    NONE = "none"
    TOKEN = "token"
    AKSK = "aksk"


class Denied(Exception):
    """A refusal with the status and the vendor-style error it is answered with."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass(frozen=True)
class AuthPolicy:
    """Credentials the server knows; the read-only ones authenticate but lack `dcs:migrationTask:modify`."""

    mode: AuthMode = AuthMode.NONE
    token: str | None = None
    readonly_token: str | None = None
    keys: Mapping[str, str] = field(default_factory=dict)
    readonly_keys: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.mode is AuthMode.TOKEN and not self.token:
            raise ValueError("auth mode 'token' needs a token (--token or DCS_AUTH_TOKEN)")
        if self.mode is AuthMode.AKSK and not self.keys:
            raise ValueError("auth mode 'aksk' needs a key pair (--ak/--sk or CLOUD_SDK_AK/CLOUD_SDK_SK)")

    def authorize(
        self,
        method: str,
        path: str,
        query: str,
        headers: Mapping[str, str],
        body: bytes,
        same: Callable[[str, str], bool] | None = None,
    ) -> None:
        """Raise Denied (401 or 403) unless the request may restart tasks; ``same`` compares a token with a known
        one (a full, constant-time comparison unless a fault says otherwise)."""
        if self.mode is AuthMode.NONE:
            return
        if self.mode is AuthMode.TOKEN:
            self._authorize_token(headers.get("x-auth-token"), same or same_secret)
        else:
            self._authorize_signature(method, path, query, headers, body)

    def _authorize_token(self, token: str | None, same: Callable[[str, str], bool]) -> None:
        if not token:
            raise Denied(401, "DCS.1003", "The request carries no X-Auth-Token.")
        if self.readonly_token and same(token, self.readonly_token):
            raise Denied(403, "DCS.1005", "The token lacks the permission dcs:migrationTask:modify.")
        if not same(token, self.token or ""):
            raise Denied(401, "DCS.1001", "The token is invalid or expired.")

    def _authorize_signature(self, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes) -> None:
        def secret_for(ak: str) -> str | None:
            return self.keys.get(ak) or self.readonly_keys.get(ak)

        # The SDK signs header values as text and sends them as UTF-8; the server decoded them as Latin-1.
        received = {name: _as_utf8(value) for name, value in headers.items()}
        try:
            ak = signing.verify(method, path, query, received, body, secret_for)
        except RequestSignatureError as exc:
            raise Denied(401, "DCS.1001", f"Invalid authentication information: {exc}") from None
        if body and signing.payload_unsigned(received):
            # The signature does not cover the body (UNSIGNED-PAYLOAD): it is not parsed, let alone acted on.
            raise Denied(
                401,
                "DCS.1001",
                "Invalid authentication information: the body is not covered by the signature "
                "(X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD); send it as application/json and sign it.",
            )
        if ak not in self.keys:
            raise Denied(403, "DCS.1005", "The credential lacks the permission dcs:migrationTask:modify.")


def same_secret(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def _as_utf8(value: str) -> str:
    try:
        return value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return value
