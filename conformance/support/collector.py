"""The garbage collector of a process the suite starts for one job: a command, the embedded reference, a drawing
child.

Nearly everything such a process allocates lives until it ends (the imported modules, the parsed contract, a run's
ledger and evidence), and little of what dies is in a reference cycle (a parsed answer is freed by its count). With
CPython's thresholds (700, 10, 10) the collector walks the living over and over while the modules are imported and
the run goes on (about 0.1 s of a default run), then once more, all of it, as the interpreter ends. Here it runs
after every 10,000 new objects instead, and not at the end: what is left then dies with the process.

Only for a process the suite itself starts (``cli.main.entry``, ``python -m`` of a child): a caller of ``main``
or of the engine (a test, the pytest plugin) keeps its own collector as it was.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

#: Measured with the embedded default run (median of 7, alternating): the default thresholds with the last
#: collection skipped 1.56 s, these 1.49 s.
THRESHOLDS = (10_000, 20, 20)


@contextmanager
def collected_for_one_job() -> Iterator[None]:
    """The block is the process's whole job: collect seldom while it runs, and not at all once it is done."""
    gc.set_threshold(*THRESHOLDS)
    try:
        yield
    finally:
        gc.freeze()  # everything still alive is left to the process's end, which the final collection then skips
