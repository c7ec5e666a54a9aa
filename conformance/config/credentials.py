"""The run's credentials: a token or an AK/SK pair, and the read-only pair that checks the 403.

A module of its own, below both the settings that resolve them and the client that signs with them, so that
neither has to import the other for the type.
"""

from __future__ import annotations

import string
from dataclasses import dataclass

#: The characters a near-miss token's last character is changed within: another of the same kind, so that the near
#: miss looks like a token of the same format and only a comparison of every character tells them apart.
_ALPHABETS = (string.digits, string.ascii_lowercase, string.ascii_uppercase)


def near_miss_tokens(token: str) -> tuple[str, str]:
    """Wrong tokens as close to ``token`` as can be: its last character changed, and the token cut short by one
    character. A target that compares only a prefix, or only as many characters as it was given, accepts them;
    they are secrets as much as the token itself (one character from it), so they are redacted like it."""
    last = token[-1:] or "0"
    alphabet = next((chars for chars in _ALPHABETS if last in chars), _ALPHABETS[0])
    changed = alphabet[(alphabet.index(last) + 1) % len(alphabet)] if last in alphabet else alphabet[0]
    return token[:-1] + changed, token[:-1]


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
        near_misses = near_miss_tokens(self.token) if self.token else ()
        return [self.token, self.ak, self.sk, self.readonly_token, self.readonly_ak, self.readonly_sk, *near_misses]
