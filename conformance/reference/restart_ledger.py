"""How many calls named each task a reference restarted, kept outside the reference's process: for a test suite that
holds every run, in any process, to "a restartable task is sent at most once". The embedded run's reference serves
in a child of the run (child.py), or in the run's own process when no child can start (embedded.py), and ``serve``
in a process of its own; none of them can be counted from a test's memory when the run is a test's subprocess.

Off unless the environment variable ENV names a directory (a test-only channel: the suite's tests/conftest.py sets it
for the whole session; CONTRIBUTING.md says so). Then each store keeps one file of its own there,
``restarts-<random>.json``::

    {"pid": 1234, "who": "dcs-conformance serve", "calls": {"<task id>": 2, ...}}

``calls`` holds every task the store restarted, with how many calls named it (1 for a client that keeps the rule).
The file is rewritten whole, with the link-safe writer, each time a call names a restarted task, under the store's
lock and before the call is answered: a reference killed at any moment leaves the file as it was after its last
complete write, never half written, so a reader sees every call whose answer anyone could have received.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping
from pathlib import Path

from conformance.support.files import write_atomically

#: The variable naming the directory of the ledgers; test-only, outside the ``DCS_`` settings of a run.
ENV = "CONFORMANCE_TEST_RESTART_LEDGER"


class RestartLedger:
    """One store's file in the ledger directory."""

    def __init__(self, directory: Path, who: str) -> None:
        self.path = directory / f"restarts-{secrets.token_hex(8)}.json"
        self._who = who

    def record(self, calls: Mapping[str, int]) -> None:
        """Replace the file's counts with ``calls`` (restarted task: calls naming it); OSError if it cannot."""
        document = {"pid": os.getpid(), "who": self._who, "calls": dict(calls)}
        write_atomically(self.path, json.dumps(document, sort_keys=True))


def from_environment(who: str, env: Mapping[str, str] = os.environ) -> RestartLedger | None:
    """The ledger of a store about to be seeded in this process (``who`` says which reference it is), or None when
    ENV is not set: outside the test suite, always."""
    directory = env.get(ENV)
    return RestartLedger(Path(directory), who) if directory else None
