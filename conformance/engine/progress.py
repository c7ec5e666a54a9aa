"""A read-only window on the property-based phases while they run, for a live progress display.

A thorough run (``--max-examples 5000``) takes minutes; the terminal should say how far it has come. The engine
only exposes the numbers; how they are shown is conformance.app.console's business.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # only named in annotations: the console imports this module, and needs no HTTP nor schemathesis
    from conformance.engine.client import TargetClient
    from conformance.engine.stats import AimedStats, GeneratedStats, ScenarioStats
    from conformance.judging.results import Ledger

#: Cases the examples and coverage phases send for this contract before fuzzing starts (measured: 1 example and
#: 35 coverage cases); only an estimate until fuzzing begins, when the real count is known.
PRE_FUZZING_CASES = 36


@dataclass(frozen=True)
class Progress:
    """Where the generated phases stand."""

    cases: int
    planned: int
    #: ``planned`` is an estimate: the coverage phase's size is known only once it has run.
    estimated: bool
    requests: int
    #: Requirements violated so far (any level).
    failing: int
    elapsed_s: float
    phase: str
    #: Which phase of the run the line is about: "scenarios", "aimed" or "generated".
    stage: str = "generated"
    #: What ``cases`` and ``planned`` count.
    unit: str = "cases"


#: Shows the progress while the phases run: given a way to read it, a context manager that yields, when it displays
#: the progress itself (so the plain "N cases sent" lines are not needed), a function that redraws it at once (for a
#: phase whose steps may come faster than the display's own redraws); None otherwise.
Watch = Callable[[Callable[[], Progress]], AbstractContextManager[Callable[[], None] | None]]


def generated_progress(
    stats: GeneratedStats,
    client: TargetClient,
    ledger: Ledger,
    max_examples: int,
    started: float,
    clock: Callable[[], float] = time.perf_counter,
) -> Callable[[], Progress]:
    """A reader of the run's live counters; safe to call from another thread (it only reads)."""

    def read() -> Progress:
        fuzzing = stats.by_phase.get("fuzzing", 0)
        before_fuzzing = stats.cases - fuzzing
        estimated = fuzzing == 0
        planned = (max(before_fuzzing, PRE_FUZZING_CASES) if estimated else before_fuzzing) + max_examples
        phase = next((name for name in ("fuzzing", "coverage", "examples") if stats.by_phase.get(name)), "starting")
        return Progress(
            cases=stats.cases,
            planned=max(planned, stats.cases),
            estimated=estimated,
            requests=client.sent,
            failing=ledger.violated(),
            elapsed_s=clock() - started,
            phase=phase,
        )

    return read


def aimed_progress(
    stats: AimedStats,
    client: TargetClient,
    ledger: Ledger,
    max_examples: int,
    started: float,
    clock: Callable[[], float] = time.perf_counter,
) -> Callable[[], Progress]:
    """A reader of the aimed phase's counters, for the same live line: its batches, then the shrinking of a
    failure (a case found failing is replayed smaller, one request at a time, until it is as small as it gets)."""

    def read() -> Progress:
        return Progress(
            cases=stats.cases,
            planned=max(max_examples, stats.cases),
            estimated=False,
            requests=client.sent,
            failing=ledger.violated(),
            elapsed_s=clock() - started,
            phase="shrinking" if stats.shrink_requests else "batches",
            stage="aimed",
        )

    return read


def scenario_progress(
    stats: ScenarioStats,
    client: TargetClient,
    ledger: Ledger,
    started: float,
    clock: Callable[[], float] = time.perf_counter,
) -> Callable[[], Progress]:
    """A reader of the scenarios' counters, for the same live line: scenarios done of all, the one running."""

    def read() -> Progress:
        return Progress(
            cases=stats.done,
            planned=max(stats.total, stats.done, 1),
            estimated=False,
            requests=client.sent,
            failing=ledger.violated(),
            elapsed_s=clock() - started,
            phase=stats.current,
            stage="scenarios",
            unit="scenarios",
        )

    return read
