"""Every hostile mode, old and new, is a bounded run: within 2 x --timeout per unanswered request plus 60 s (a target
throttling for ever within 3 minutes), below 400 MB of memory, with every report written, no harness fault, and the
same verdict with one worker as with sixteen.

Each run is a child process (``python -m conformance run``, started by LAUNCHER), so that its peak memory is its
own (the launcher's os.wait4 reports the run's ru_maxrss); the two runs of a mode go side by side, each against a
server of its own, and the runs of the modes that only wait (WAITING) all at once, in the background, beside the
others.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import clean_env
from tests.hostile import MODES, HostileServer

pytestmark = pytest.mark.e2e

TIMEOUT_S = 1.0
RSS_LIMIT_KB = 400 * 1024
THROTTLE_FOREVER_S = 180.0
#: What each mode deserves. "error" only where the target, not the suite, ended the run (it stopped answering, or
#: never completed an answer); "incomplete" where it left nothing to judge.
VERDICTS: dict[str, str] = {
    "ok": "conformant",
    "hang-on-invalid-json": "non-conformant",
    "hang-after": "error",
    "reset-once": "conformant",  # a reset after the request was read is the idle-close race to any client: OBS-013
    "reset-always": "error",
    "drip": "error",
    "endless-chunked": "error",
    "huge-body": "error",
    "gzip-bomb": "error",
    "throttle-429": "incomplete",
    "status-400": "incomplete",
    "status-401": "incomplete",
    "status-500": "non-conformant",
    "echo-headers": "conformant",
    "inject-commands": "non-conformant",
    "location-on-200": "conformant",
    "redirect-bad-location": "non-conformant",
    "many-cookies": "conformant",
    "nan-body": "non-conformant",
    "deep-body": "incomplete",
    "broken-framing": "error",
    "drip-headers": "error",
    "endless-1xx": "error",
    "huge-valid": "conformant",
    "short-body": "error",
    "204-with-body": "non-conformant",
    "foreign-items": "non-conformant",
    "throttle-forever": "incomplete",
    "throttle-far-date": "incomplete",
}
#: What the run must say it met, where the bound is the new part of the mode.
SAYS: dict[str, str] = {
    "drip-headers": "never a complete head (headers too slow, or interim 1xx answers only)",
    "endless-1xx": "never a complete head (headers too slow, or interim 1xx answers only)",
    "throttle-forever": "throttled",
    "throttle-far-date": "throttled",
}
THROTTLED_FOR_EVER = frozenset({"throttle-forever", "throttle-far-date"})
SERVER_OPTIONS: dict[str, dict[str, Any]] = {
    "hang-after": {"after": 30},
    # Past the first burst, which opens one fresh connection per worker: the server resets the first request from
    # the 40th on that comes on a connection used before (a reset on a fresh one is the target's failure, not the
    # idle-close race), whatever the load.
    "reset-once": {"after": 40},
    "drip": {"drip_interval_s": 0.3},
    "drip-headers": {"drip_interval_s": 0.3},
    "endless-1xx": {"drip_interval_s": 0.1},
}


@dataclass
class Run:
    workers: int
    report: dict[str, Any]
    seconds: float
    cpu_s: float
    peak_kb: int
    exit_code: int


def test_every_mode_has_a_declared_verdict() -> None:
    assert set(VERDICTS) == set(MODES)


#: What starts each run: a small interpreter that forks it, waits for it and writes its rusage (CPU time and peak
#: RSS) as JSON to the file its first argument names, then exits with its status. A child's ru_maxrss counts the
#: memory of the process it was forked from until it execs (the kernel keeps that mm's peak): a run started by the
#: test's own process, whose hostile servers hold big answers, would carry the test's peak, not its own. The run
#: dies with its launcher (PR_SET_PDEATHSIG), so killing the launcher past the bound kills the run.
LAUNCHER = """
import ctypes, json, os, signal, sys
usage_file, argv = sys.argv[1], sys.argv[2:]
parent = os.getpid()
pid = os.fork()
if pid == 0:
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)
    if os.getppid() != parent:
        os._exit(137)
    os.execv(argv[0], argv)
_, status, usage = os.wait4(pid, 0)
with open(usage_file, "w") as out:
    json.dump({"cpu_s": usage.ru_utime + usage.ru_stime, "peak_kb": usage.ru_maxrss}, out)
code = os.waitstatus_to_exitcode(status)
os._exit(code if code >= 0 else 128 - code)
"""


def start(mode: str, workers: int, out: Path, server: HostileServer) -> tuple[subprocess.Popen[bytes], float]:
    command = [
        sys.executable,
        "-S",
        "-c",
        LAUNCHER,
        str(out.parent / f"usage-{workers}.json"),
        sys.executable,
        "-m",
        "conformance",
        "run",
        "--base-url",
        server.base_url,
        "--project-id",
        "p-hostile",
        "--seed",
        "1",
        "--max-examples",
        "5",
        "--timeout",
        f"{TIMEOUT_S:g}",
        "--workers",
        str(workers),
        "--report-dir",
        str(out),
        "--quiet",
    ]
    if mode == "status-401":
        command += ["--auth-token", "expired-token-value"]
    out.mkdir(parents=True)
    with (out.parent / f"stderr-{workers}.txt").open("wb") as stderr:  # a file: a full pipe would block the child
        proc = subprocess.Popen(command, env=clean_env(), stdout=subprocess.DEVNULL, stderr=stderr)
    return proc, time.monotonic()


@dataclass
class Child:
    """One run's process (its LAUNCHER's), reaped by a thread of its own as soon as it ends (so that ``seconds`` is
    when it ended, whenever a test looks), and killed past ``within``."""

    mode: str
    workers: int
    out: Path
    proc: subprocess.Popen[bytes]
    began: float
    within: float
    seconds: float = 0.0
    killed: bool = False
    reaped: threading.Event = field(default_factory=threading.Event)
    #: A pidfd of the child, open until it is reaped: a signal through it can never reach another process.
    _handle: int = -1
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _reaper: threading.Thread | None = None

    def __post_init__(self) -> None:
        self._handle = os.pidfd_open(self.proc.pid)
        self._reaper = threading.Thread(target=self._wait, name=f"reap-{self.mode}-{self.workers}", daemon=True)
        self._reaper.start()

    def _wait(self) -> None:
        left = self.began + self.within - time.monotonic()
        if not select.select([self._handle], [], [], max(left, 0.0))[0]:
            self.killed = True
            self.stop()
        _, status, _ = os.wait4(self.proc.pid, 0)
        self.seconds = time.monotonic() - self.began
        with self._lock:
            os.close(self._handle)
            self._handle = -1
        self.proc.returncode = os.waitstatus_to_exitcode(status)
        self.reaped.set()

    def stop(self) -> None:
        """Kill the child if it is not reaped yet."""
        with self._lock:
            if self._handle >= 0:
                signal.pidfd_send_signal(self._handle, signal.SIGKILL)

    def close(self) -> None:
        """Kill the child if it still runs, and wait until it is reaped."""
        self.stop()
        if self._reaper is not None:
            self._reaper.join()

    def run(self) -> Run:
        """The finished run, its report files read and checked."""
        self.reaped.wait()
        if self.killed:
            pytest.fail(f"--workers {self.workers} was still running after {self.within:g} s")
        out, workers = self.out, self.workers
        stderr = (out.parent / f"stderr-{workers}.txt").read_text(encoding="utf-8", errors="replace")
        report_file = out / "report.json"
        assert report_file.is_file(), (
            f"--workers {workers}: no report.json (exit {self.proc.returncode}): {stderr[-2000:]}"
        )
        report = json.loads(report_file.read_text(encoding="utf-8"), parse_constant=pytest.fail)
        ET.parse(out / "junit.xml")
        assert report["verdict"] in (out / "index.html").read_text(encoding="utf-8")
        assert "Traceback" not in stderr, stderr[-2000:]
        usage = json.loads((out.parent / f"usage-{workers}.json").read_text(encoding="utf-8"))
        return Run(workers, report, self.seconds, usage["cpu_s"], usage["peak_kb"], self.proc.returncode)


def start_both(mode: str, directory: Path, servers: contextlib.ExitStack) -> list[Child]:
    """The mode's runs at 1 and at 16 workers, each against a server of its own; when ``servers`` closes, a run
    still going is killed, then its server closed."""
    within = THROTTLE_FOREVER_S + 30 if mode in THROTTLED_FOR_EVER else 300.0
    options = {"hold_s": 10.0, **SERVER_OPTIONS.get(mode, {})}
    children = []
    for workers in (1, 16):
        server = servers.enter_context(HostileServer(mode, **options))
        out = directory / mode / f"w{workers}"
        child = Child(mode, workers, out, *start(mode, workers, out, server), within=within)
        servers.callback(child.close)
        children.append(child)
    return children


#: Modes whose runs spend their time waiting on the target (it hangs, drips or throttles), not computing: all their
#: runs start at once, in the background, with the module's first test, and go on beside the other modes' runs
#: (the module's tests share one pytest-xdist worker); each of their tests then takes its mode's finished runs. In
#: the order they end, last.
WAITING = ("hang-after", "endless-1xx", "drip-headers", "drip", "hang-on-invalid-json", *sorted(THROTTLED_FOR_EVER))
COMPUTING = tuple(mode for mode in MODES if mode not in WAITING)
#: The mode whose runs go first, alone, before the WAITING modes' start: they draw the schemathesis cases that every
#: later run of the module replays from the session's drawing cache. Started together with the others, each of the
#: 20 runs would draw them in a child of its own (about a second of CPU each), where most never judge a case.
FIRST = "ok"


@pytest.fixture(scope="module")
def started_first(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, list[Child]]]:
    """FIRST's runs, finished, then the WAITING modes' runs, started at once and reaped in the background; any
    still running at the end of the module is killed."""
    directory = tmp_path_factory.mktemp("started-first")
    with contextlib.ExitStack() as servers:
        first = start_both(FIRST, directory, servers)
        for child in first:
            child.reaped.wait()
        yield {FIRST: first, **{mode: start_both(mode, directory, servers) for mode in WAITING}}


def test_the_waiting_modes_and_the_computing_modes_are_every_mode_once() -> None:
    assert sorted((*COMPUTING, *WAITING)) == sorted(MODES)
    assert set(THROTTLED_FOR_EVER) <= set(WAITING)
    assert FIRST in COMPUTING and VERDICTS[FIRST] == "conformant", "the first runs draw every case a run can"


@pytest.mark.parametrize("mode", [*COMPUTING, *WAITING])
def test_every_hostile_mode_is_bounded_and_judged_the_same_at_one_and_sixteen_workers(
    tmp_path: Path, mode: str, started_first: dict[str, list[Child]]
) -> None:
    with contextlib.ExitStack() as servers:
        children = started_first[mode] if mode in started_first else start_both(mode, tmp_path, servers)
        runs = [child.run() for child in children]
    for run in runs:
        report = run.report
        summary = (run.workers, report["verdict"], report["verdict_reason"], report["error"], f"{run.seconds:.1f} s")
        print(
            f"{mode}: --workers {run.workers}: {report['verdict']} in {run.seconds:.1f} s "
            f"(CPU {run.cpu_s:.1f} s), peak RSS {run.peak_kb // 1024} MB, {report['stats']['requests']} requests, "
            f"{report['stats']['unanswered']} unanswered"
        )
        assert "harness fault" not in (report["error"] or ""), summary
        assert report["verdict"] == VERDICTS[mode], summary
        bound = THROTTLE_FOREVER_S if mode in THROTTLED_FOR_EVER else 2 * TIMEOUT_S * report["stats"]["unanswered"] + 60
        assert run.seconds < bound, summary
        assert run.peak_kb < RSS_LIMIT_KB, (summary, f"peak RSS {run.peak_kb // 1024} MB")
        if mode in SAYS:
            assert SAYS[mode] in report["verdict_reason"], summary
