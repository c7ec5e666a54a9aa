"""The plan of a run: its phases in the order they run, each behind one small interface.

A phase decides what to send and judges every answer into the ledger it is given. Adding, dropping or reordering a
phase is a change to ``PLAN`` alone; the runner only walks it. A phase that may run ``beside`` the scenarios
(engine/overlap.py) judges into a ledger whose judgements reach the run's ledger after the scenarios' own, so the
order of ``PLAN`` is the order of the evidence whether or not the phases overlap.
"""

from __future__ import annotations

import importlib
import random
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Protocol

from conformance.config.settings import RunSettings
from conformance.contract import Catalogue, load_spec
from conformance.engine.client import TargetClient
from conformance.engine.fixture_plan import Spent
from conformance.engine.phases.scenarios import Fixtures, Scenarios
from conformance.engine.phases.st_draw import CaseDrawing, schemathesis_examples
from conformance.engine.progress import Watch, aimed_progress, generated_progress, scenario_progress
from conformance.engine.stats import AimedStats, GeneratedStats, ScenarioStats
from conformance.judging.results import Judgements, Ledger


@dataclass(frozen=True)
class PhaseRun:
    """What every phase of one run shares: the settings, the one client, the ledger, the target's known tasks,
    the random streams (drawn in a fixed order before any phase starts, so that the same seed sends the same
    requests however the phases are scheduled), and where progress goes."""

    settings: RunSettings
    client: TargetClient
    ledger: Ledger
    catalogue: Catalogue
    fixtures: Fixtures | None
    scenario_rng: random.Random
    mint: Callable[[], str]
    cases: CaseDrawing | None
    say: Callable[[str], None]
    watch: Watch | None
    aimed: AimedStats
    generated: GeneratedStats
    clock: float
    #: Where the scenarios spent each restartable fixture (engine/fixture_plan.py), for the report.
    spent: list[Spent] = field(default_factory=list)
    scenarios: ScenarioStats = field(default_factory=ScenarioStats)

    @property
    def known(self) -> Fixtures:
        return self.fixtures or Fixtures([], [])


class Phase(Protocol):
    """One phase of a run. ``beside``: it may run on the property lane beside the scenarios (engine/overlap.py)."""

    name: str
    beside: bool

    def run(self, run: PhaseRun, judged: Judgements) -> None: ...


class ScenarioPhase:
    """The hand-written scenarios: what the property-based phases cannot aim at (fixtures, credentials, the
    mixed batches). They judge straight into the run's ledger, which also decides what they send next."""

    name = "scenarios"
    beside = False

    def run(self, run: PhaseRun, judged: Judgements) -> None:
        view = scenario_progress(run.scenarios, run.client, run.ledger, run.clock)
        with run.watch(view) if run.watch else nullcontext(None) as shown:
            Scenarios(
                run.client,
                run.ledger,
                run.scenario_rng,
                run.fixtures,
                # Redrawn as each scenario starts: the scenarios may all be over before the display's next redraw.
                (lambda _: shown()) if shown else run.say,
                workers=run.settings.workers,
                spent=run.spent,
                stats=run.scenarios,
            ).run_all()


class AimedPhase:
    """Batches aimed at sizes, positions and duplicates, each judged by the full batch oracle."""

    name = "aimed"
    beside = True

    def run(self, run: PhaseRun, judged: Judgements) -> None:
        from conformance.engine.phases.aimed import Pools, run_aimed

        settings = run.settings
        run.say(f"aimed: {settings.max_examples} batches aimed at sizes, positions and duplicates")
        view = aimed_progress(run.aimed, run.client, run.ledger, settings.max_examples, run.clock)
        with run.watch(view) if run.watch else nullcontext(None) as shown:
            run_aimed(
                run.client,
                judged,
                pools=Pools.mint(run.mint),
                seed=settings.seed,
                max_examples=settings.max_examples,
                not_restartable=list(run.known.not_restartable),
                musts=frozenset(req.id for req in run.catalogue.requirements if req.level == "MUST"),
                stats=run.aimed,
                workers=settings.workers,
                progress=(lambda _: None) if shown else run.say,
            )


class GeneratedPhase:
    """Schemathesis's examples, coverage and fuzzing phases, generated from the OpenAPI document."""

    name = "generated"
    beside = True

    def run(self, run: PhaseRun, judged: Judgements) -> None:
        from conformance.engine.phases.generated import minted_examples, run_generated

        settings = run.settings
        planned = schemathesis_examples(settings.max_examples)
        replayed = (
            "; drawn before for this seed, replayed from the drawing cache" if run.cases and run.cases.replayed else ""
        )
        run.say(f"generated: schemathesis examples, coverage and fuzzing phases ({planned} fuzzing examples{replayed})")
        view = generated_progress(run.generated, run.client, run.ledger, planned, run.clock)
        with run.watch(view) if run.watch else nullcontext(None) as shown:
            run_generated(
                run.client,
                judged,
                minted_examples(load_spec(), run.mint),
                seed=settings.seed,
                max_examples=settings.max_examples,
                stats=run.generated,
                workers=settings.workers,
                progress=(lambda _: None) if shown else run.say,
                drawing=run.cases,
            )


#: Every phase of a run, in order.
PLAN: tuple[Phase, ...] = (ScenarioPhase(), AimedPhase(), GeneratedPhase())

#: What the generated phase imports before its first request, and, when this process judges schemathesis's checks,
#: schemathesis with the modules it loads only when it first builds the operation from the OpenAPI document.
GENERATED_IMPORTS = ("conformance.engine.phases.generated",)
CHECKS_IMPORTS = ("schemathesis.specs.openapi.schemas",)


def generated_imports(cases: CaseDrawing | None) -> tuple[str, ...]:
    """What imports_ahead imports for the generated phase of a run drawing ``cases``."""
    return GENERATED_IMPORTS if cases is not None and cases.serving else GENERATED_IMPORTS + CHECKS_IMPORTS


@contextmanager
def imports_ahead(modules: Sequence[str]) -> Iterator[None]:
    """Import ``modules`` (what the generated phase needs) on a thread of their own while the block runs: beside
    the scenarios and the aimed phase waiting for their answers (a slow target), the property lane would otherwise
    wait for about 0.4 s of CPU of imports between its aimed and generated phases, with every request slot idle.
    Nothing is sent or drawn.

    The block ends only once the imports have: a run that ended early (the target refused the first request) would
    otherwise end its process while the thread is still importing, and CPython's finalization with a thread running
    an import can crash (seen: SIGSEGV after the run's error line, in CI)."""
    if not modules:
        yield
        return
    thread = threading.Thread(target=_import_all, args=(modules,), name="import-ahead", daemon=True)
    thread.start()
    try:
        yield
    finally:
        thread.join()


def _import_all(modules: Sequence[str]) -> None:
    for module in modules:
        importlib.import_module(module)
