"""What the suite prints is safe to print: no secret, no forged line, no escape sequence from the target.

Two layers. ``one_line`` is for text that came from the target (a response key in a failure message, an error):
control characters, line breaks and bidirectional overrides are shown escaped, so a key holding
``"\\n\\nverdict: conformant\\n"`` cannot print a fake verdict line and ANSI sequences cannot recolour or rewrite
the terminal. ``guarded`` wraps stdout and stderr for the whole command: every line is redacted (secrets in all
their forms, userinfo in URLs), stray control characters are escaped, and text the terminal's encoding cannot
carry (lone surrogates) is backslash-escaped instead of raising.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from typing import Any, TextIO

from conformance.support.redaction import Redactor

#: C0 and C1 controls, DEL, lone surrogates, line and paragraph separators, bidirectional controls.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
#: The same, except the newline and tab our own output is made of.
_UNSAFE_IN_OUTPUT = re.compile(_UNSAFE.pattern.replace(r"\x00-\x1f", r"\x00-\x08\x0b-\x1f"))
_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
#: What the console itself writes on a terminal (conformance.app.console): colours (SGR with numeric parameters only,
#: never cursor movement or titles) and the carriage return that rewrites the progress line. Target text reaches the
#: terminal through one_line(), which escapes these too, so only our own output carries them.
_OWN_SEQUENCES = re.compile(r"(\x1b\[[0-9;]{0,16}m|\r)")


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in _SHORT:
        return _SHORT[char]
    return f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"


def one_line(text: object) -> str:
    """Text from the target, made safe to print on one terminal line."""
    return _UNSAFE.sub(_escape, str(text))


def _alternate(parts: list[str]) -> Iterator[tuple[bool, str]]:
    """re.split with a group alternates text and separators: (is_separator, part)."""
    for index, part in enumerate(parts):
        yield index % 2 == 1, part


class GuardedStream:
    """A text stream that redacts and escapes each line before passing it on (whole lines, so a secret split
    across two writes is still seen whole)."""

    def __init__(self, stream: TextIO, redactor: Redactor) -> None:
        self.stream = stream
        self.redactor = redactor
        self._pending = ""

    def write(self, text: str) -> int:
        self._pending += text
        if "\n" in self._pending:
            complete, _, self._pending = self._pending.rpartition("\n")
            self._emit(complete + "\n")
        return len(text)

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        if self._pending:
            pending, self._pending = self._pending, ""
            self._emit(pending)
        self.stream.flush()

    def _emit(self, text: str) -> None:
        parts = _OWN_SEQUENCES.split(self.redactor.text(text))
        safe = "".join(part if odd else _UNSAFE_IN_OUTPUT.sub(_escape, part) for odd, part in _alternate(parts))
        try:
            self.stream.write(safe)
        except UnicodeEncodeError:
            encoding = getattr(self.stream, "encoding", None) or "utf-8"
            self.stream.write(safe.encode(encoding, "backslashreplace").decode(encoding))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


class TerminalGuard:
    """The guarded stdout and stderr of one command; learns secrets as the command resolves them."""

    def __init__(self, secrets: Iterable[str]) -> None:
        self._secrets = list(secrets)
        self.streams: list[GuardedStream] = []

    def learn(self, secrets: Iterable[str]) -> None:
        self._secrets += list(secrets)
        redactor = Redactor(self._secrets)
        for stream in self.streams:
            stream.flush()
            stream.redactor = redactor

    def wrap(self, stream: TextIO) -> GuardedStream:
        guarded = GuardedStream(stream, Redactor(self._secrets))
        self.streams.append(guarded)
        return guarded


@contextmanager
def guarded(secrets: Iterable[str] = ()) -> Iterator[TerminalGuard]:
    """Guard sys.stdout and sys.stderr until the block ends (then flush and restore them)."""
    guard = TerminalGuard(secrets)
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = guard.wrap(saved[0]), guard.wrap(saved[1])
    try:
        yield guard
    finally:
        for stream in guard.streams:
            with suppress(OSError, ValueError):
                stream.flush()
        sys.stdout, sys.stderr = saved
