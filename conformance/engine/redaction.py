"""Secrets never leave the client: credential headers are masked and any secret value is blotted out of text."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

MASK = "[REDACTED]"
SECRET_HEADERS = frozenset({"authorization", "x-auth-token", "x-security-token", "x-subject-token"})


class Redactor:
    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        # Longest first, so a secret that contains another is masked whole.
        self._secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def text(self, value: str) -> str:
        for secret in self._secrets:
            value = value.replace(secret, MASK)
        return value

    def data(self, value: bytes | None) -> bytes | None:
        if value is None:
            return None
        for secret in self._secrets:
            value = value.replace(secret.encode(), MASK.encode())
        return value

    def headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        return {name: MASK if name.lower() in SECRET_HEADERS else self.text(value) for name, value in headers.items()}
