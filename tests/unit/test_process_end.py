"""A process the suite starts for one job ends with its code even when the run left daemon threads behind:
finalizing the interpreter with such a thread running can crash it (SIGSEGV after the last line, seen in CI), so
``leave`` ends the process without finalization, its output flushed, and only then."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def run_python(source: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(source)], capture_output=True, text=True, timeout=60, check=False
    )


def test_with_no_thread_left_the_code_is_returned_and_the_interpreter_ends_as_usual() -> None:
    result = run_python(
        """
        import atexit
        from conformance.support.process_end import leave
        atexit.register(lambda: print("finalized"))
        code = leave(5)
        print("returned", code)
        raise SystemExit(code)
        """
    )
    assert result.returncode == 5
    assert result.stdout.splitlines() == ["returned 5", "finalized"]


def test_a_busy_daemon_thread_left_behind_ends_the_process_at_once_with_the_code_and_its_output_flushed() -> None:
    result = run_python(
        """
        import atexit, sys, threading
        from conformance.support.process_end import leave
        def busy():
            while True:
                sum(range(1000))
        threading.Thread(target=busy, daemon=True).start()
        atexit.register(lambda: print("finalized", flush=True))
        sys.stdout.write("the last line, unflushed")
        sys.stderr.write("and its error line")
        raise SystemExit(leave(3))
        """
    )
    assert result.returncode == 3
    assert result.stdout == "the last line, unflushed"  # flushed, and no finalization ran after it
    assert result.stderr == "and its error line"


def test_a_live_non_daemon_thread_keeps_the_interpreters_own_ending_which_waits_for_it() -> None:
    result = run_python(
        """
        import threading, time
        from conformance.support.process_end import leave
        threading.Thread(target=lambda: (time.sleep(0.3), print("the thread ended")), daemon=False).start()
        threading.Thread(target=lambda: time.sleep(30), daemon=True).start()
        code = leave(4)
        print("returned", code)
        raise SystemExit(code)
        """
    )
    assert result.returncode == 4
    assert result.stdout.splitlines() == ["returned 4", "the thread ended"]
