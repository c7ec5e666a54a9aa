"""What a person reads on the terminal: colour, a live progress line, and values shortened to something a line can
hold.

On a terminal (a TTY), statuses are coloured and the generated phases show one progress line rewritten in place with
``\\r``. Anywhere else (a CI log, a pipe) and under NO_COLOR, the output carries no escape sequence at all: plain
lines, as a log wants them. Whatever the destination, a long value the target sent or an ID is shortened to its
first and last characters with its length; report.json always keeps it whole.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TextIO

from conformance.engine.progress import Progress

#: A quoted value longer than this is shortened (a UUID, 36 characters, is kept whole: people grep for them).
QUOTED_LIMIT = 40
#: An unquoted run of characters without a space longer than this is shortened (URLs are kept whole).
BARE_LIMIT = 64
KEEP_HEAD, KEEP_TAIL = 12, 8

_QUOTED = re.compile(r"""(?<![\w'"])(?P<q>['"])(?P<body>(?:\\.|(?!(?P=q))[^\\])*)(?P=q)(?!\w)""")
_BARE = re.compile(r"(?<![\w'\"])[^\s'\"]{" + str(BARE_LIMIT + 1) + ",}")

_SGR = {"bold": "1", "dim": "2", "red": "31", "green": "32", "yellow": "33", "magenta": "35", "cyan": "36"}
STATUS_STYLES = {
    "passed": ("green",),
    "failed": ("bold", "red"),
    "warning": ("yellow",),
    "skipped": ("dim",),
    "error": ("bold", "magenta"),
}
VERDICT_STYLES = {
    "conformant": ("bold", "green"),
    "conformant-with-warnings": ("bold", "yellow"),
    "non-conformant": ("bold", "red"),
    "incomplete": ("bold", "yellow"),
    "error": ("bold", "magenta"),
}


# ---------------------------------------------------------------------------------------------------------------
# Shortening.


def shorten(value: str) -> str:
    """``x0350354b-9f…`` style: the first and last characters of a long value, with its length."""
    if len(value) <= KEEP_HEAD + KEEP_TAIL + 3:
        return value
    return f"{value[:KEEP_HEAD]}...{value[-KEEP_TAIL:]}"


def shorten_values(line: str) -> str:
    """The line with every long quoted value (as checks quote what the target sent, with repr) and every long
    unbroken token shortened to its ends and its length, so a 1 KiB task ID is one line, not thirty."""

    def quoted(match: re.Match[str]) -> str:
        body = match.group("body")
        if len(body) <= QUOTED_LIMIT:
            return match.group(0)
        quote = match.group("q")
        return f"{quote}{shorten(body)}{quote} ({_length(match.group(0), body)} chars)"

    def bare(match: re.Match[str]) -> str:
        token = match.group(0)
        if "://" in token:
            return token
        return f"{shorten(token)} ({len(token)} chars)"

    return _BARE.sub(bare, _QUOTED.sub(quoted, line))


def _length(literal: str, body: str) -> int:
    """The real length of a repr'd string (escapes counted once), else of what is between the quotes."""
    try:
        value = ast.literal_eval(literal)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return len(body)
    return len(value) if isinstance(value, str) else len(body)


# ---------------------------------------------------------------------------------------------------------------
# Colour.


def colour_wanted(stream: TextIO, env: Mapping[str, str] | None = None) -> bool:
    """Colour only on a terminal, never when NO_COLOR is set (no-color.org) or the terminal is dumb."""
    env = os.environ if env is None else env
    if env.get("NO_COLOR") or env.get("TERM") == "dumb":
        return False
    return is_terminal(stream)


def terminal_width(stream: TextIO) -> int:
    """The width of the terminal the stream writes to (COLUMNS wins, as for shutil), 100 when unknown or 0."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    try:
        size = os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, ValueError, OSError):
        return shutil.get_terminal_size((100, 24)).columns
    # A terminal that never said its size (a pseudo-terminal nobody sized, some CI consoles) answers 0.
    return size or 100


def is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError, OSError):
        return False


class Style:
    """Paints text with ANSI colours, or leaves it exactly as it is when colour is off."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    @classmethod
    def for_stream(cls, stream: TextIO, env: Mapping[str, str] | None = None) -> Style:
        return cls(colour_wanted(stream, env))

    def paint(self, text: str, *styles: str) -> str:
        if not self.enabled or not styles:
            return text
        return f"\x1b[{';'.join(_SGR[name] for name in styles)}m{text}\x1b[0m"

    def status(self, status: str, text: str) -> str:
        return self.paint(text, *STATUS_STYLES.get(status, ()))

    def verdict(self, verdict: str, text: str) -> str:
        return self.paint(text, *VERDICT_STYLES.get(verdict, ()))

    def message(self, line: str) -> str:
        """A progress message: warnings stand out, the rest is left alone."""
        if line.startswith("WARNING"):
            return self.paint(line, "bold", "yellow")
        if line.startswith(("stopping", "warning:")):
            return self.paint(line, "yellow")
        return line


# ---------------------------------------------------------------------------------------------------------------
# The run's messages and the live progress line.


def render_progress(progress: Progress, width: int, style: Style | None = None) -> str:
    """One line no wider than ``width``: a bar, cases sent / planned, requests, failing requirements, elapsed."""
    style = style or Style(False)
    bar_width = 20
    done = min(bar_width, progress.cases * bar_width // max(progress.planned, 1))
    planned = f"~{progress.planned}" if progress.estimated else str(progress.planned)
    failing = f"{progress.failing} failing"
    bar = f"[{'#' * done}{'-' * (bar_width - done)}]"
    plain = (
        f"{progress.stage} {bar} {progress.cases}/{planned} {progress.unit} ({progress.phase}), "
        f"{progress.requests} requests, {failing}, {_clock(progress.elapsed_s)}"
    )
    plain = plain[: max(width - 1, 0)]
    if failing in plain:
        plain = plain.replace(failing, style.paint(failing, "bold", "red" if progress.failing else "green"), 1)
    return plain


def _clock(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}:{secs:02d}"


class Console:
    """The run's messages on one stream (stderr). On a terminal it keeps a progress line under them while the
    phases run (one line, however many run at once), redrawn a few times a second so that the elapsed time moves
    even while a slow target keeps a request waiting; elsewhere it prints plain lines and leaves the progress to the
    engine's own lines."""

    def __init__(
        self,
        stream: TextIO,
        *,
        live: bool,
        style: Style,
        width: Callable[[], int] | None = None,
        interval_s: float = 0.2,
    ) -> None:
        self.stream = stream
        self.live = live
        self.style = style
        self._width = width or (lambda: terminal_width(stream))
        self._interval_s = interval_s
        self._lock = threading.Lock()
        #: The live lines' views, oldest first: the scenarios and the property phases may run at once.
        self._views: list[Callable[[], Progress]] = []
        self._shown = 0

    @classmethod
    def for_stream(cls, stream: TextIO, env: Mapping[str, str] | None = None) -> Console:
        return cls(stream, live=is_terminal(stream), style=Style.for_stream(stream, env))

    def say(self, message: str) -> None:
        """One message line, shortened (and coloured on a terminal), above the progress line if one is shown."""
        line = self.style.message(shorten_values(message))
        with self._lock:
            self._erase()
            self.stream.write(line + "\n")
            self._draw()
            self.stream.flush()

    @contextmanager
    def watch(self, view: Callable[[], Progress]) -> Iterator[Callable[[], None] | None]:
        """Show ``view`` as a live line while the block runs (only on a terminal); yields ``redraw`` when it does,
        None otherwise."""
        if not self.live:
            yield None
            return
        stop = threading.Event()

        def tick() -> None:
            while not stop.wait(self._interval_s):
                self.redraw()

        with self._lock:
            self._views.append(view)
        self.redraw()
        ticker = threading.Thread(target=tick, name="progress-line", daemon=True)
        ticker.start()
        try:
            yield self.redraw
        finally:
            stop.set()
            ticker.join(timeout=5)
            with self._lock:
                self._erase()
                self._views.remove(view)
                self._draw()
                self.stream.flush()

    def redraw(self) -> None:
        with self._lock:
            self._draw()
            self.stream.flush()

    def _draw(self) -> None:
        """The one live line: every running phase's progress, side by side in the width there is."""
        if not self._views:
            return
        gap = " | "
        share = (self._width() - len(gap) * (len(self._views) - 1)) // len(self._views)
        line = gap.join(render_progress(view(), share, self.style) for view in self._views)
        visible = len(re.sub(r"\x1b\[[0-9;]*m", "", line))
        # Rewritten in place with a carriage return; spaces (not an escape sequence) wipe a longer previous line.
        self.stream.write("\r" + line + " " * max(self._shown - visible, 0))
        self._shown = visible

    def _erase(self) -> None:
        if self._shown:
            self.stream.write("\r" + " " * self._shown + "\r")
            self._shown = 0
