"""How a process the suite starts for one job ends once the job is done.

A run that stopped early can leave daemon threads behind: a request worker still waiting for a hanging target, the
property-based lane stopped halfway through a drawing. CPython's finalization with such a thread running can crash
the process (a SIGSEGV after the run's last line was seen in CI), which turns a clean exit 3 into -11. With any
such thread alive, the process ends here instead, without finalization: what it wrote is flushed first, and every
file of its reports was closed by then. Nothing is left for finalization to do: the run reaps its own children.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading


def threads_left() -> list[threading.Thread]:
    """The threads still alive besides the calling one."""
    me = threading.current_thread()
    return [thread for thread in threading.enumerate() if thread is not me]


def leave(code: int) -> int:
    """Return ``code`` for the interpreter to exit with unless daemon threads alone are left; then flush standard
    output and error and end the process at once with ``code``. A live non-daemon thread (the suite starts none)
    keeps the interpreter's own ending, which waits for it."""
    left = threads_left()
    if not left or not all(thread.daemon for thread in left):
        return code
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a reader gone or a stream closed: nothing can reach it
            stream.flush()
    os._exit(code)
