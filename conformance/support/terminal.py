"""What the suite prints is safe to print: no secret, no forged line, no escape sequence, no workflow command.

Three layers. ``one_line`` is for text that came from the target or from a report (a response key in a failure
message, an error, a value a comparison shows): control characters, line breaks and bidirectional overrides are
shown escaped, so a key holding ``"\\n\\nverdict: conformant\\n"`` cannot print a fake verdict line and ANSI
sequences cannot recolour or rewrite the terminal. ``guarded`` wraps stdout and stderr for the whole command: every
line is redacted (secrets in all their forms, userinfo in URLs), stray control characters are escaped, and text the
terminal's encoding cannot carry (lone surrogates) is backslash-escaped instead of raising.

In GitHub Actions (``GITHUB_ACTIONS`` set) the runner reads every line a step prints for workflow commands:
``::name k=v::data`` at the start of a line (after white space) and the legacy ``##[name k=v]data`` anywhere in it;
``##[stop-commands]TOKEN`` makes it ignore every command until ``::TOKEN::``, ``##[add-mask]`` hides text,
``##[set-output]`` sets an output. So there the guarded streams also make every line ``inert``: a U+200D (zero-width
joiner) between every ``:`` and a ``:`` after it, and between every ``#`` and a ``[`` after it. The runner's
searches are culture-sensitive (ICU), which skips the joiner and still *finds* ``:\u200d:`` as ``::``; but it cuts
the command name at fixed offsets from where it found it, so the name it reads starts with ``:`` or ``[``, and no
command is called that (see tests/gh_commands.py, a port of the runner's parser, and the tests that run it over
whole logs). Our own annotations are the only lines printed as they are: built by ``workflow_command`` (escaped as
@actions/core escapes them), written by ``GuardedStream.write_command``.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterable, Iterator, Mapping
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


def printable(value: object) -> object:
    """A JSON-like document (a report, a comparison, an overview) with every string in it, keys too, passed through
    one_line: what a view prints from it stays on the lines the view makes."""
    if isinstance(value, str):
        return one_line(value)
    if isinstance(value, dict):
        return {printable(key): printable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [printable(item) for item in value]
    return value


# ---------------------------------------------------------------------------------------------------------------
# GitHub workflow commands.

ZERO_WIDTH_JOINER = "\u200d"
_ZERO_WIDTH_SPACE = "\u200b"
#: Where a joiner goes: between ':' and ':', between '#' and '['.
_COMMAND_MARKS = re.compile(r"(?<=:)(?=:)|(?<=#)(?=\[)")


def in_github_actions(env: Mapping[str, str] | None = None) -> bool:
    """Whether the output is read by a GitHub Actions runner (which sets GITHUB_ACTIONS=true)."""
    return bool((os.environ if env is None else env).get("GITHUB_ACTIONS"))


def inert(text: str) -> str:
    """``text`` with every ``::`` and ``#[`` broken by a zero-width joiner: no line of it is a workflow command,
    whatever the runner's culture (see the module docstring). Idempotent."""
    return _COMMAND_MARKS.sub(ZERO_WIDTH_JOINER, text)


def inert_in_ci(text: str, env: Mapping[str, str] | None = None) -> str:
    """``inert(text)`` in GitHub Actions, ``text`` elsewhere: for output the guarded streams do not carry (pytest's
    own terminal)."""
    return inert(text) if in_github_actions(env) else text


class WorkflowCommand(str):
    """One workflow command line of ours, made by ``workflow_command``: the only text printed without ``inert``."""

    __slots__ = ()


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def workflow_command(name: str, properties: Mapping[str, str], message: str) -> WorkflowCommand:
    """``::name k=v,...::message``, escaped as @actions/core escapes it (data: ``%`` CR LF; properties: also ``:``
    and ``,``), so the runner reads back exactly the properties and the message given.

    Two guards more, against the runner's culture-sensitive search for the ``::`` that ends the properties: it does
    not accept a match right after a character that joins the next one (Unicode's Prepend, e.g. U+0600) nor one
    whose last ``:`` a combining mark joins (e.g. U+0308), and would take a later ``::``-like run of the message
    instead, letting the message forge properties. A zero-width space (a grapheme boundary, ignored by the search)
    goes after a property list that ends in a non-ASCII character and before a message that starts with one."""
    if not re.fullmatch(r"[a-z][a-z-]*", name):
        raise ValueError(f"not a workflow command name: {name!r}")
    line = "::" + name
    rendered = [f"{key}={_escape_property(value)}" for key, value in properties.items() if value]
    if any(not re.fullmatch(r"[a-z]+", key) for key in properties):
        raise ValueError(f"not a workflow command property: {sorted(properties)!r}")
    if rendered:
        line += " " + ",".join(rendered)
        if not line[-1].isascii():
            line += _ZERO_WIDTH_SPACE
    data = _escape_data(message)
    if data and not data[0].isascii():
        data = _ZERO_WIDTH_SPACE + data
    return WorkflowCommand(line + "::" + data)


def _alternate(parts: list[str]) -> Iterator[tuple[bool, str]]:
    """re.split with a group alternates text and separators: (is_separator, part)."""
    for index, part in enumerate(parts):
        yield index % 2 == 1, part


class GuardedStream:
    """A text stream that redacts and escapes each line before passing it on (whole lines, so a secret split
    across two writes is still seen whole); in GitHub Actions (``neutralise``), also makes it ``inert``."""

    def __init__(self, stream: TextIO, redactor: Redactor, *, neutralise: bool | None = None) -> None:
        self.stream = stream
        self.redactor = redactor
        self.neutralise = in_github_actions() if neutralise is None else neutralise
        self._pending = ""
        #: The last character passed on: a ':' or '#' ending one write may meet a ':' or '[' starting the next.
        self._last = "\n"

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

    def write_command(self, command: WorkflowCommand) -> None:
        """One workflow command of ours, on a line of its own: redacted, but not made inert."""
        if not isinstance(command, WorkflowCommand):
            raise TypeError("only a WorkflowCommand made by workflow_command() is written as one")
        self.flush()
        if self._last != "\n":
            self._emit("\n")
        self._emit(command + "\n", trusted=True)

    def _emit(self, text: str, *, trusted: bool = False) -> None:
        parts = _OWN_SEQUENCES.split(self.redactor.text(text))
        safe = "".join(part if odd else _UNSAFE_IN_OUTPUT.sub(_escape, part) for odd, part in _alternate(parts))
        if self.neutralise and not trusted and safe:
            safe = inert(self._last + safe)[1:]  # a joiner between the last write's ':' and this one's ':' too
        if safe:
            self._last = safe[-1]
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
