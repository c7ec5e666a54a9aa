"""Credentials are checked before anything is sent.

A token read from a CRLF file with ``$(cat token)`` ends in ``\\r``; HTTP libraries then refuse the header with an
error that quotes the whole token, and the run would blame the target. So every credential must be printable ASCII
without surrounding whitespace (access and secret keys without any whitespace), and a bad one is named, with what
is wrong with it, but never shown.
"""

from __future__ import annotations

from collections.abc import Mapping

from conformance.support.errors import CredentialError as CredentialError

_NAMED_CHARACTERS = {
    "\r": "a carriage return (CR)",
    "\n": "a line feed (LF)",
    "\t": "a tab",
    " ": "a space",
    "\x00": "a NUL character",
    "\x1b": "an escape character (ESC)",
    "\x7f": "a DEL character",
}
_CRLF_HINT = " (as a value read from a file with CRLF line endings does); strip it"


def _describe(char: str) -> str:
    if char in _NAMED_CHARACTERS:
        return _NAMED_CHARACTERS[char]
    if not char.isascii():
        return f"a non-ASCII character (U+{ord(char):04X})"
    return f"a control character (U+{ord(char):04X})"


def credential_problem(value: str, *, is_key: bool = False) -> str | None:
    """What is wrong with one credential value, in words that do not reveal it; None when it can be sent."""
    if value == "":
        return "is empty"
    for where, char in (("ends with", value[-1]), ("starts with", value[0])):
        if not char.isprintable() or char.isspace() or not char.isascii():
            hint = _CRLF_HINT if char in "\r\n" and where == "ends with" else ""
            return f"{where} {_describe(char)}{hint}"
    for position, char in enumerate(value, start=1):
        if not ("\x20" <= char <= "\x7e") or (is_key and (char.isspace() or char == ",")):
            what = "a comma" if char == "," else _describe(char)
            return f"contains {what} at character {position} of {len(value)}"
    return None


def check_credentials(credentials: Mapping[str, str | None], keys: frozenset[str] = frozenset()) -> None:
    """Raise CredentialError for the first credential that cannot be sent; ``credentials`` maps a description
    (such as "the token (--auth-token or DCS_AUTH_TOKEN)") to its value (None: not given); descriptions in
    ``keys`` are access or secret keys, which may hold no whitespace at all."""
    for name, value in credentials.items():
        if value is None:
            continue
        problem = credential_problem(value, is_key=name in keys)
        if problem:
            raise CredentialError(f"{name} {problem}; its value is not shown")
