"""The aimed phase's plans drawn by a child process, on another core, while this process sends and judges.

Drawing a plan costs the interpreter about a millisecond, and this interpreter also sends every request and judges
every answer: with many cases, drawing them elsewhere lets both go on at once. The child only draws: it knows the
seed and how many plans to draw, never an ID, and sends nothing (every request leaves through the run's one client,
in this process). Both ends of the pipe are here:

- the child, ``python -m conformance.engine.phases.aimed_draw``, reads ``{"seed": S, "count": N}`` (JSON) on stdin and
  writes each plan as a JSON line ``[size, mix, duplicates, positions]`` on stdout as soon as it is drawn, then a
  line ``null``;
- ChildDrawing starts it and reads the plans as they come. If the child cannot be started, dies, stalls or writes
  anything else, it draws the plans in this process instead (the same plans: same seed, same drawing), from the
  first it has not read yet, and says so on stderr.

The child imports what this process imports (its ``sys.path``) and draws without local constants, as this process
does (determinism.py), so both draw the same sequence. It runs in a session of its own, so that a Ctrl-C on the
terminal reaches only this process, which kills it when the run ends (``close``); if this process dies first, the
child's next line fails on the closed pipe and it ends too. Its stderr goes to a file, whose last line is shown
only when it failed.

Nothing here imports hypothesis until a plan is read or drawn: the run starts the child before it loads hypothesis.
"""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING

from conformance.engine.determinism import without_local_constants

if TYPE_CHECKING:
    from conformance.engine.phases.aimed_plans import Plan

MODULE = "conformance.engine.phases.aimed_draw"
#: Drawn cases from which a child draws them (drawing_ahead). Drawing costs the run's interpreter about 1 ms a case;
#: a child costs it almost nothing, but takes about 0.3 s of CPU to start (a Python importing hypothesis) and then
#: draws on whatever core is free, so it pays only well above that. Measured (fresh runs, 2 cores, load 1-3 from
#: other work): at 200 cases a run gains 0.05-0.25 s, within the noise; from 400 it gains 0.2-0.9 s with 4 workers
#: and embedded, and breaks even with 1 worker against a target in its own process (which then needs the second
#: core too), gaining from 800 on.
CHILD_DRAWING_FROM = 400
#: Seconds without a plan after which the child counts as stalled. It starts in about 0.3 s and then draws a plan
#: every millisecond or so; drawing everything here instead takes about a second a thousand plans.
STALL_S = 10.0
#: Bytes a line may hold: a plan takes some 30, and a child writing without end must not fill this process's memory.
MAX_LINE = 1024
_END = b"null"
#: What the child keeps of this process's environment: what Python, hypothesis and the locale read, nothing else.
#: Never a credential (DCS_AUTH_TOKEN, CLOUD_SDK_AK and CLOUD_SDK_SK, the variables a targets file names, a
#: proxy URL with its userinfo): the child sends nothing, so it needs none, and what it does not hold no dump of
#: its memory or /proc/<pid>/environ can show.
CHILD_ENV_NAMES = frozenset({"PATH", "HOME", "LANG", "LANGUAGE", "TZ", "TMPDIR", "TEMP", "TMP", "SYSTEMROOT"})
CHILD_ENV_PREFIXES = ("PYTHON", "HYPOTHESIS_", "LC_")


def child_environment(env: Mapping[str, str]) -> dict[str, str]:
    """The drawing child's environment: ``env`` reduced to CHILD_ENV_NAMES and CHILD_ENV_PREFIXES, with this
    process's sys.path as its PYTHONPATH."""
    kept = {
        name: value for name, value in env.items() if name in CHILD_ENV_NAMES or name.startswith(CHILD_ENV_PREFIXES)
    }
    return {**kept, "PYTHONPATH": os.pathsep.join(map(str, sys.path))}


def drawn_count(max_examples: int) -> int:
    """How many plans the aimed phase draws for ``max_examples`` cases: all but its fixed first case, when there is
    room for it (see aimed.run_aimed)."""
    return max_examples - 1 if max_examples > 1 else max_examples


@contextmanager
def drawing_ahead(seed: int, max_examples: int) -> Iterator[ChildDrawing | None]:
    """The aimed phase's plans, drawn from now on by a child process while the run goes on, when there are enough of
    them to pay for it (CHILD_DRAWING_FROM); None otherwise. Enter it as early as the run can, so that the child's
    start overlaps whatever runs before the phase; leaving it stops the child if it still runs."""
    count = drawn_count(max_examples)
    if count < CHILD_DRAWING_FROM:
        yield None
        return
    drawing = ChildDrawing(seed, count)
    try:
        yield drawing
    finally:
        drawing.close()


class _Failed(Exception):
    """The child will draw no more: why."""


class ChildDrawing:
    """``count`` plans for ``seed``, drawn by a child process started at once; read them with ``plans``, and
    ``close`` when the run ends (the child is then killed if it still runs, and reaped). ``close`` may come from
    another thread than the one reading (a run stopped while its property phases run beside the scenarios): the
    reading then ends, without drawing anything here."""

    def __init__(self, seed: int, count: int) -> None:
        self.seed = seed
        self.count = count
        self._buffer = bytearray()
        self._selector = selectors.DefaultSelector()
        self._stderr: IO[bytes] | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._failure: str | None = None
        self._closed = False
        self._reading = threading.Lock()  # held while the pipe is read; close() lets go of it only outside
        try:
            self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 (closed by close(), with the child)
            self._process = subprocess.Popen(
                # -P: the parent's sys.path only, not the working directory first, which may hold another copy.
                [sys.executable, "-P", "-m", MODULE],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self._stderr,
                bufsize=0,
                env=child_environment(os.environ),
                start_new_session=True,
            )
            assert self._process.stdin is not None and self._process.stdout is not None
            self._selector.register(self._process.stdout, selectors.EVENT_READ)
        except (OSError, ValueError) as exc:
            self._failure = f"it could not be started: {exc}"
            return
        try:
            self._process.stdin.write(json.dumps({"seed": seed, "count": count}).encode())
            self._process.stdin.close()
        except OSError:
            pass  # it died at once: reading finds out how

    def plans(self) -> Iterator[Plan]:
        """Every plan in the order drawn: the child's as they come, then, if it failed, the rest drawn here."""
        read = 0
        try:
            for plan in self._from_child():
                yield plan
                read += 1
            return
        except _Failed as exc:
            failure = str(exc)
        if self._closed:
            return
        self._stop()
        print(
            f"dcs-conformance: drawing the aimed cases in a child process failed ({failure}); "
            "drawing them in this process instead",
            file=sys.stderr,
            flush=True,
        )
        yield from _drawn_here(self.seed, self.count)[read:]

    def _from_child(self) -> Iterator[Plan]:
        from conformance.engine.phases.aimed_plans import Plan

        if self._failure is not None:
            raise _Failed(self._failure)
        while (line := self._line()) != _END:
            try:
                plan = Plan.parse(json.loads(line))
            except (ValueError, RecursionError):
                shown = line[:60].decode("utf-8", "replace") + ("..." if len(line) > 60 else "")
                raise _Failed(f"it wrote {shown!r} where a plan was expected") from None
            yield plan
        self._reap()

    def _line(self) -> bytes:
        """The next line the child wrote, waiting at most STALL_S for it."""
        with self._reading:
            while (end := self._buffer.find(b"\n")) < 0:
                self._buffer += self._chunk()
                if self._buffer.find(b"\n") < 0 and len(self._buffer) > MAX_LINE:
                    raise _Failed(f"it wrote a line of more than {MAX_LINE} bytes where a plan was expected")
            line = bytes(self._buffer[:end])
            del self._buffer[: end + 1]
            return line

    def _chunk(self) -> bytes:
        """What the child wrote since the last read (holding ``_reading``)."""
        assert self._process is not None and self._process.stdout is not None
        if self._closed:
            raise _Failed("the run closed it")
        try:
            ready = self._selector.select(STALL_S)
            chunk = os.read(self._process.stdout.fileno(), 1 << 16) if ready else None
        except OSError as exc:
            raise _Failed(f"its output cannot be read: {exc}") from None
        if chunk is None:
            raise _Failed(f"it drew nothing for {STALL_S:g} s")
        if not chunk:
            raise _Failed(self._exit())
        return chunk

    def _exit(self) -> str:
        """How the child ended, having closed its output without finishing: its exit status and last error line."""
        code = self._reap()
        assert self._stderr is not None
        self._stderr.seek(0)
        lines = [line.strip() for line in self._stderr.read().decode("utf-8", "replace").splitlines() if line.strip()]
        ended = "it closed its output but did not exit" if code is None else f"it exited with status {code}"
        return ended + (f": {lines[-1][:200]}" if lines else "")

    def _reap(self) -> int | None:
        """Wait for the child, which has finished writing, to exit; kill it if it lingers. Its exit status."""
        assert self._process is not None
        try:
            return self._process.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            self._stop()
            return None

    def _stop(self) -> None:
        """Kill the child if it still runs, and reap it: it never outlives the run nor lingers as a zombie."""
        if self._process is not None:
            if self._process.poll() is None:
                self._process.kill()
            self._process.wait()

    def close(self) -> None:
        """Stop the child (see _stop), then, once no thread reads its pipe (the child's end closed with it, so a
        reader wakes up at once), let go of the pipe and of the stderr file."""
        self._closed = True
        self._stop()
        with self._reading:
            self._selector.close()
            if self._process is not None and self._process.stdout is not None:
                self._process.stdout.close()
            if self._stderr is not None:
                self._stderr.close()


def _drawn_here(seed: int, count: int) -> list[Plan]:
    """The plans as the child draws them, drawn in this process."""
    from conformance.engine.phases.aimed_plans import draw_plans

    plans: list[Plan] = []
    with without_local_constants():
        draw_plans(seed, count, plans.append)
    return plans


def main() -> None:
    """The child: draw the plans asked for on stdin, writing each as a JSON line on stdout the moment it exists."""
    from conformance.engine.phases.aimed_plans import draw_plans

    asked = json.loads(sys.stdin.buffer.read())
    out = sys.stdout.buffer

    def emit(plan: Plan) -> None:
        out.write(json.dumps(plan).encode() + b"\n")
        out.flush()

    with without_local_constants():
        draw_plans(asked["seed"], asked["count"], emit)
    out.write(_END + b"\n")
    out.flush()


if __name__ == "__main__":
    main()
