"""The drawing children's output, drawn once per test worker and replayed: for the end-to-end modules that judge many
runs of one seed (the kill matrix: every fault with seed 1), whose drawing children would each draw the same cases.

A drawing child (conformance/engine/phases/drawing_child.py) draws what its request (the seed, how many cases) and
its environment say, nothing else: the same seed draws the same cases in any process (tests/e2e/test_child_drawing.py
proves it, with real children). Each child costs a Python importing schemathesis and hypothesis, about 0.8 s of CPU,
and then its drawing, about as much again; a module of a hundred runs of seed 1 spends minutes of CPU drawing one
sequence a hundred times.

``replaying(monkeypatch)`` puts a stand-in behind ``drawing_child.start_child``: the first run of a (module, request,
child environment) starts the real child and passes its output on as it comes, keeping it; a later run of the same
is handed what was kept, through a real pipe, so that DrawingChild reads, parses and reaps it as a child's. Only
complete output (up to the end line) is kept: a child that failed, or that the run stopped first, is met again by
the next run.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import subprocess
import tempfile
import threading
from typing import IO

import pytest

from conformance.engine.phases import drawing_child
from conformance.support.child_process import child_environment, start_child

#: What each (module, request, environment) drew, in this worker.
_DRAWN: dict[tuple[str, str, frozenset[tuple[str, str]]], bytes] = {}
_END = b"null\n"


def replaying(monkeypatch: pytest.MonkeyPatch) -> None:
    """Drawing children drawn once per worker (see the module's docstring), for this test."""
    monkeypatch.setattr(drawing_child, "start_child", _start)


def _start(module: str, prefixes: tuple[str, ...], names: frozenset[str]) -> tuple[_Replayed, IO[bytes]]:
    stderr = tempfile.TemporaryFile()  # noqa: SIM115 (DrawingChild closes it, as a real child's)
    return _Replayed(module, prefixes, names, stderr), stderr


class _Request:
    """The child's stdin: the request, acted on when it is closed."""

    def __init__(self, owner: _Replayed) -> None:
        self._owner = owner
        self._data = bytearray()

    def write(self, data: bytes) -> int:
        self._data += data
        return len(data)

    def close(self) -> None:
        self._owner.asked(bytes(self._data))


class _Replayed:
    """What DrawingChild uses of a child process: stdin, stdout (a real pipe), poll, kill and wait."""

    def __init__(self, module: str, prefixes: tuple[str, ...], names: frozenset[str], stderr: IO[bytes]) -> None:
        self._module, self._prefixes, self._names, self._stderr = module, prefixes, names, stderr
        self._environment = frozenset(child_environment(os.environ, prefixes, names).items())
        read, self._write = os.pipe()
        os.set_blocking(self._write, False)
        self.stdin = _Request(self)
        self.stdout = os.fdopen(read, "rb", buffering=0)
        self.returncode: int | None = None
        self._stopped = threading.Event()
        self._real: subprocess.Popen[bytes] | None = None
        self._feeder = threading.Thread(target=self._feed, name="replayed-drawing", daemon=True)
        self._request = b""

    def asked(self, request: bytes) -> None:
        self._request = request
        self._feeder.start()

    def _key(self) -> tuple[str, str, frozenset[tuple[str, str]]]:
        return self._module, json.dumps(json.loads(self._request), sort_keys=True), self._environment

    def _feed(self) -> None:
        try:
            kept = _DRAWN.get(self._key())
            if kept is not None:
                self._pass_on(kept)
                self.returncode = 0
            else:
                self.returncode = self._record()
        finally:
            os.close(self._write)

    def _record(self) -> int:
        """Start the real child, pass its output on as it comes, and keep it if it is complete."""
        real, stderr = start_child(self._module, self._prefixes, self._names)
        self._real = real
        assert real.stdin is not None and real.stdout is not None
        drawn = bytearray()
        with stderr:
            with contextlib.suppress(OSError):
                real.stdin.write(self._request)
                real.stdin.close()
            while not self._stopped.is_set() and (chunk := os.read(real.stdout.fileno(), 1 << 16)):
                drawn += chunk
                self._pass_on(chunk)
            real.stdout.close()
            if self._stopped.is_set():
                real.kill()
            code = real.wait()
            stderr.seek(0)
            self._stderr.write(stderr.read())
            self._stderr.flush()
        if drawn == _END or drawn.endswith(b"\n" + _END):  # all it drew, whether or not the run read it all
            _DRAWN[self._key()] = bytes(drawn)
        return code

    def _pass_on(self, data: bytes) -> None:
        view = memoryview(data)
        while view and not self._stopped.is_set():
            if not select.select([], [self._write], [], 0.05)[1]:
                continue
            try:
                view = view[os.write(self._write, view) :]
            except BlockingIOError:
                continue
            except BrokenPipeError:  # the reader closed it: the run ended
                return

    def poll(self) -> int | None:
        return None if self._feeder.is_alive() or not self._feeder.ident else self.returncode

    def kill(self) -> None:
        self._stopped.set()
        if self._real is not None and self._real.poll() is None:
            self._real.kill()

    def wait(self, timeout: float | None = None) -> int | None:
        if self._feeder.ident:
            self._feeder.join(timeout)
            if self._feeder.is_alive():
                raise subprocess.TimeoutExpired("replayed drawing child", timeout or 0.0)
        return self.returncode
