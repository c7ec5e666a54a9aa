"""The embedded run's reference in a child process (child.py), so that it answers on one core while the run sends,
draws and judges on the other: in one process they would share one interpreter lock.

``ReferenceProcess()`` starts the child at once, before the run knows its settings, so that the child's imports
overlap the run's own; ``start`` then gives it its order (fresh credentials, the seed, the tasks to seed, the
deviations) and waits until it listens on 127.0.0.1; ``close`` kills and reaps it. The child ends by itself when
this process dies (its stdin closes), and runs in a session of its own, so that a Ctrl-C on the terminal reaches
only this process, which then stops it. Its stderr goes to a file, shown when it ends, redacted with the run's
credentials like everything else the run prints.
"""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict
from typing import IO, Any

from conformance.config.credentials import Credentials
from conformance.reference import restart_ledger
from conformance.reference.embedded import EmbeddedReference, fresh_credentials
from conformance.support.child_process import start_child
from conformance.support.redaction import Redactor
from conformance.support.terminal import inert, one_line

MODULE = "conformance.reference.child"
HOST = "127.0.0.1"
#: Seconds the child may take from its order to listening. It starts in about 0.3 s of CPU on an idle core; this only
#: bounds a child that hangs.
START_TIMEOUT_S = 60.0
#: Bytes its one line may hold: the fixtures of a few thousand seeded tasks.
MAX_LINE = 8 << 20
#: Lines of the child's stderr shown when it ends.
SHOWN_LINES = 20


class ReferenceStartError(RuntimeError):
    """The reference process could not be started or did not come up: why."""


class ReferenceServerFailed(ReferenceStartError):
    """The reference process runs, but its server could not start (it said why): in this process it would not
    either."""


class ReferenceProcess:
    """The reference's process, started at once; ``start`` it once, ``close`` it always."""

    def __init__(self) -> None:
        self._credentials: Credentials | None = None
        self._stderr: IO[bytes] | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._failure: str | None = None
        try:
            # The ledger's variable (test-only, restart_ledger.py) is all it sees of this process's own.
            self._process, self._stderr = start_child(MODULE, names=frozenset({restart_ledger.ENV}))
        except (OSError, ValueError) as exc:
            self._failure = f"it could not be started: {exc}"

    @property
    def pid(self) -> int | None:
        """The child's process ID (None if it could not be started)."""
        return self._process.pid if self._process is not None else None

    def start(
        self,
        project_id: str,
        *,
        seed: int,
        restartable: int,
        not_restartable: int | None,
        faults: Sequence[str] = (),
        variants: Sequence[str] = (),
    ) -> EmbeddedReference:
        """Order the child to serve with fresh credentials, and wait until it listens; ReferenceStartError if it
        cannot."""
        if self._failure is not None:
            raise ReferenceStartError(self._failure)
        assert self._process is not None and self._process.stdin is not None
        self._credentials = credentials = fresh_credentials(faults, variants)
        order = {
            "project_id": project_id,
            "seed": seed,
            "restartable": restartable,
            "not_restartable": not_restartable,
            "faults": list(faults),
            "variants": list(variants),
            "credentials": asdict(credentials),
        }
        try:
            self._process.stdin.write(json.dumps(order).encode() + b"\n")
        except OSError:
            raise ReferenceStartError(self._ended()) from None
        ready = self._ready_line()
        try:
            answer = json.loads(ready)
            if isinstance(answer, dict) and isinstance(answer.get("error"), str):
                raise ReferenceServerFailed(one_line(inert(answer["error"]))[:200])
            port, fixtures = answer["port"], answer["fixtures"]
            if not (isinstance(port, int) and 0 < port < 65536 and isinstance(fixtures, dict)):
                raise ValueError(port)
        except (ValueError, KeyError, TypeError, RecursionError):
            raise ReferenceStartError(f"it wrote {ready[:60]!r} where its port was expected") from None
        return EmbeddedReference(f"http://{HOST}:{port}", credentials, fixtures)

    def _ready_line(self) -> bytes:
        """The child's one line, once it listens."""
        assert self._process is not None and self._process.stdout is not None
        buffer = bytearray()
        deadline = time.monotonic() + START_TIMEOUT_S
        with selectors.DefaultSelector() as selector:
            selector.register(self._process.stdout, selectors.EVENT_READ)
            while b"\n" not in buffer:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not selector.select(remaining):
                    raise ReferenceStartError(f"it did not listen within {START_TIMEOUT_S:g} s")
                chunk = os.read(self._process.stdout.fileno(), 1 << 16)
                if not chunk:
                    raise ReferenceStartError(self._ended())
                buffer += chunk
                if len(buffer) > MAX_LINE:
                    raise ReferenceStartError(f"it wrote more than {MAX_LINE} bytes where its port was expected")
        return bytes(buffer[: buffer.index(b"\n")])

    def _ended(self) -> str:
        """How the child ended before it listened."""
        assert self._process is not None
        try:
            code = self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            return "it closed its output but did not exit"
        lines = self._said()
        return f"it exited with status {code}" + (f": {lines[-1][:200]}" if lines else "")

    def _said(self) -> list[str]:
        """The child's stderr so far, line by line, redacted and safe for a terminal."""
        if self._stderr is None:
            return []
        self._stderr.seek(0)
        text = Redactor(self._credentials.secrets() if self._credentials else ()).text(
            self._stderr.read().decode("utf-8", "replace")
        )
        return [inert(one_line(line.rstrip())) for line in text.splitlines() if line.strip()]

    def close(self) -> None:
        """Kill the child if it still runs, reap it, and show what it said on stderr (its last SHOWN_LINES lines)."""
        if self._process is not None:
            for pipe in (self._process.stdin, self._process.stdout):
                if pipe is not None:
                    pipe.close()
            if self._process.poll() is None:
                self._process.kill()
            self._process.wait()
        for line in self._said()[-SHOWN_LINES:]:
            print(f"dcs-conformance: the embedded reference said: {line}", file=sys.stderr)
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def __enter__(self) -> ReferenceProcess:
        return self

    def __exit__(self, *_: Any) -> None:
        self.close()
