"""Embedded runs with the reference in the test's own process (app.target.open_target's ``in_process`` mode), for
the modules that run it hundreds of times to prove what the suite detects (the kill matrix, the variants over
seeds, fidelity): a reference child costs a process start and its imports (about 0.2 s of CPU) per run, which on
two cores is a tenth of such a run. The reference answers the same either way, with real sockets on loopback; the
child itself, its start, its output and its end are proven by the modules about it (test_reference_process.py,
test_engine_runs.py, the CLI runs)."""

from __future__ import annotations

import functools
from typing import Any

from conformance.app.run import RunOutcome, execute
from conformance.app.target import open_target
from conformance.config.settings import resolve

#: The target opener of these runs.
IN_THIS_PROCESS = functools.partial(open_target, in_process=True)


def run_here(**flags: Any) -> RunOutcome:
    """An embedded run with these settings (no environment read), its reference in this process, quietly."""
    return execute(resolve(flags, env={}), progress=lambda _: None, target=IN_THIS_PROCESS)
