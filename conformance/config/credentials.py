"""The run's credentials: a token or an AK/SK pair, and the read-only pair that checks the 403.

A module of its own, below both the settings that resolve them and the client that signs with them, so that
neither has to import the other for the type.
"""

from __future__ import annotations

from dataclasses import dataclass


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
