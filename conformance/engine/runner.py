"""One conformance run: pick the target, run every phase through one client, and judge.

The run returns a typed RunResult (the ledger's records, what it counted); turning it into report.json is
conformance.report.build's job and writing the files conformance.app.run's, so that nothing here knows a report
format or a report directory.
"""

from __future__ import annotations

import random
import signal
import sys
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from conformance import __version__
from conformance.checks.responses import check_response
from conformance.config.credentials import Credentials
from conformance.config.settings import RunSettings, SettingsError
from conformance.contract import load_catalogue
from conformance.engine.client import (
    Auth,
    BudgetExhausted,
    TargetClient,
    TargetStopped,
    TargetThrottling,
    TargetUnreachable,
    TransportFailure,
)
from conformance.engine.fixture_plan import FixturePlan, Spent
from conformance.engine.guard import GuardRefusal, IdGuard
from conformance.engine.overlap import side_by_side
from conformance.engine.phases.drawing_cache import chosen
from conformance.engine.phases.scenarios import Fixtures
from conformance.engine.phases.st_draw import CaseDrawing, cases_ahead, schemathesis_examples
from conformance.engine.plan import PLAN, Phase, PhaseRun, generated_imports, imports_ahead
from conformance.engine.progress import Watch
from conformance.engine.setup_gate import UNAUTHENTICATED_LABEL, SetupGate, SetupRejected
from conformance.engine.stats import AimedStats, GeneratedStats
from conformance.judging.diagnosis import diagnose
from conformance.judging.fixture_health import RESTARTABLE_SUCCEEDS, FixtureHealth, leave_unjudged
from conformance.judging.results import (
    Exchange,
    Finding,
    Judgements,
    Ledger,
    ObservationResult,
    RequirementResult,
    Verdict,
    decide_verdict,
    unexercised_musts,
)
from conformance.judging.trace import Trace, role_function
from conformance.report.build import RunCounts
from conformance.report.sanitize import scrub
from conformance.support.errors import Interrupted as Interrupted
from conformance.wire import tls

EXIT_CODES = {
    Verdict.CONFORMANT: 0,
    Verdict.WITH_WARNINGS: 0,
    Verdict.NON_CONFORMANT: 1,
    Verdict.ERROR: 3,
    Verdict.INCOMPLETE: 4,
}


#: Exit codes of a run stopped by a signal, as shells report them (128 + the signal number).
SIGNAL_EXIT_CODES = {signal.SIGINT: 130, signal.SIGTERM: 143}


@dataclass(frozen=True)
class Target:
    base_url: str
    project_id: str
    credentials: Credentials
    fixtures: Fixtures | None
    embedded: bool


@dataclass(frozen=True)
class RunResult:
    """What one run found, before it is a report: the target as judged, how it was reached, the requirement and
    observation results, the verdict and why, and the signal that stopped it (if one did)."""

    settings: RunSettings
    target: Target
    transport: dict[str, Any]
    started_at: datetime
    duration_s: float
    stats: RunCounts
    requirements: list[RequirementResult]
    observations: list[ObservationResult]
    trace: dict[str, Any]
    verdict: Verdict
    verdict_reason: str | None
    diagnosis: list[str]
    error: str | None
    interrupted: int | None
    #: How the fixtures were spent (engine/fixture_plan.py); None for a run without fixtures.
    fixture_plan: FixturePlan | None = None


def exit_code(verdict: Verdict, interrupted: int | None) -> int:
    """The process exit code: the shell's for a signal that stopped the run, otherwise the verdict's."""
    return SIGNAL_EXIT_CODES[signal.Signals(interrupted)] if interrupted else EXIT_CODES[verdict]


#: Opens the target a run judges (conformance.app.target): the engine never starts the reference server itself, so a
#: run against a remote target never imports it.
TargetOpener = Callable[[RunSettings, int], AbstractContextManager[Target]]


@dataclass
class OpenRun:
    """A target and the run's one client, opened for longer than one run.

    The pytest plugin judges the target with them and then hands the very same client to the user's own tests, so
    that their extra requests pass the same ID guard (restartable tasks the run spent stay spent), the same budget,
    rate limit and redaction. ``rng`` is the run's random stream, already drawn from for the guard: one run each.
    ``transport`` describes TLS and the proxy for the report.
    """

    target: Target
    client: TargetClient
    rng: random.Random
    transport: dict[str, Any]


@contextmanager
def open_run(settings: RunSettings, open_target: TargetOpener) -> Iterator[OpenRun]:
    """Open the target (``open_target`` starts the embedded reference if there is no base URL) and its one guarded
    client; close the client and stop the reference on exit."""
    rng = random.Random(settings.seed)
    with open_target(settings, settings.seed) as target:
        guard = IdGuard(
            target.fixtures.restartable if target.fixtures else (),
            target.fixtures.not_restartable if target.fixtures else (),
            rng=random.Random(rng.getrandbits(64)),
        )
        transport = tls.describe(settings.tls, target.base_url)
        if target.embedded:
            transport["proxy"] = None
        try:
            ssl_context = tls.client_context(settings.tls) if transport["tls"] else None
        except tls.TlsSetupError as exc:
            raise SettingsError(str(exc)) from None

        # Minted from a stream of its own: whether the question is asked depends on how the first answers came in,
        # and the scenarios' IDs must not.
        mint_for_question = guard.minter(random.Random(f"{settings.seed}/setup question"))

        def ask() -> Exchange:
            """The setup gate's question once every request was answered 400 (see engine/setup_gate.py)."""
            batch = {"migration_tasks": [mint_for_question(), mint_for_question()]}
            return client.post_json(batch, auth=Auth.NONE, label=UNAUTHENTICATED_LABEL)

        client = TargetClient(
            target.base_url,
            target.project_id,
            credentials=target.credentials,
            guard=guard,
            rate_limit=settings.rate_limit,
            max_requests=settings.max_requests,
            timeout=settings.timeout,
            max_response_bytes=settings.max_response_bytes,
            ssl_context=ssl_context,
            max_in_flight=settings.workers,
            # The embedded reference is on loopback, started by this very run: a proxy from the environment must not
            # carry its requests away.
            trust_env=not target.embedded,
            setup_gate=SetupGate(ask_unauthenticated=ask if target.credentials.configured else None),
        )
        with client:
            yield OpenRun(target, client, rng, transport)


@contextmanager
def interruptible() -> Iterator[list[int]]:
    """While requests are sent, SIGINT and SIGTERM stop the sending (Interrupted); afterwards they are only noted
    in the yielded list, so the report files are always written whole."""
    noted: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield noted
        return
    armed = True

    def handler(signum: int, _frame: object) -> None:
        noted.append(signum)
        if armed:
            raise Interrupted(signum)

    previous = {signum: signal.signal(signum, handler) for signum in SIGNAL_EXIT_CODES}
    try:
        yield noted
        armed = False
    finally:
        armed = False
        for signum, old in previous.items():
            signal.signal(signum, old)


def judge(
    settings: RunSettings,
    *,
    say: Callable[[str], None],
    signals: list[int],
    open_target: TargetOpener,
    watch: Watch | None = None,
    opened: OpenRun | None = None,
    cases: CaseDrawing | None = None,
) -> RunResult:
    """Run the whole catalogue against the target and judge it, whatever the target does and even when the run is
    interrupted (inside ``interruptible``, whose ``signals`` it reads). ``watch`` may show the generated phases'
    progress live. ``open_target`` opens the target; with ``opened`` (see open_run) the caller owns the target and
    the client instead, which stay open after the run. ``cases``: a child already drawing the run's schemathesis
    cases (st_draw.cases_ahead's, started by the caller for the same seed and examples; the caller closes it),
    otherwise one is started here. The phases are engine/plan.py's PLAN."""
    started_at = datetime.now(UTC)
    clock = time.perf_counter()
    catalogue = load_catalogue()
    ledger = Ledger(catalogue)
    run_error: str | None = None
    stop_reason: str | None = None
    interrupted: int | None = None
    rejected: Counter[str] | None = None
    unauthenticated_400 = False
    generated = GeneratedStats()
    aimed = AimedStats()
    spent: list[Spent] = []
    with (
        nullcontext(cases)
        if cases is not None
        else cases_ahead(
            settings.seed,
            schemathesis_examples(settings.max_examples),
            chosen(settings.cache_dir, off=settings.no_cache),
        ) as cases,
        nullcontext(opened) if opened else open_run(settings, open_target) as run,
    ):
        target, client, rng, transport = run.target, run.client, run.rng, run.transport
        known = target.fixtures or Fixtures([], [])
        role_of = role_function(known.restartable, known.not_restartable, client.guard.is_minted)
        trace = Trace(role_of)
        ledger.watch(trace.see)
        ledger.know_roles(role_of)
        health = FixtureHealth(known.restartable, known.not_restartable, client.guard.is_minted)
        ledger.watch(health.see)
        if cases is not None and cases.serving:
            ledger.watch(_begin_when_answered(cases))
        say(
            f"dcs-conformance {__version__}: judging {target.base_url} "
            f"(project {target.project_id}), seed {settings.seed}"
            + (f", through the proxy {transport['proxy']}" if transport["proxy"] else "")
        )
        if transport["warning"]:
            say(f"WARNING: {transport['warning']}")
        try:
            scenario_rng = random.Random(rng.getrandbits(64))
            # The property-based phases mint from a stream of their own: the same IDs whether or not they run
            # beside the scenarios.
            mint = client.guard.minter(random.Random(rng.getrandbits(64)))
            shared = PhaseRun(
                settings=settings,
                client=client,
                ledger=ledger,
                catalogue=catalogue,
                fixtures=target.fixtures,
                scenario_rng=scenario_rng,
                mint=mint,
                cases=cases,
                say=say,
                watch=watch,
                aimed=aimed,
                generated=generated,
                clock=clock,
                spent=spent,
            )
            beside = side_by_side_pays_off(settings)
            with imports_ahead(generated_imports(cases) if beside else ()):
                run_plan(PLAN, shared, ledger, signals, beside=beside)
        except Interrupted as exc:
            interrupted = exc.signum
            run_error = f"interrupted ({exc}) after {client.sent} requests"
            say(f"stopping: {run_error}; writing the reports with what was judged so far")
        except TransportFailure as exc:
            run_error = transport["failure"] = str(exc)
        except TargetUnreachable as exc:
            reached = isinstance(exc, TargetStopped)
            run_error = str(exc) if reached else f"the target could not be reached: {exc}"
            # http:// against a TLS port reads as unreachable: say it answered in TLS, as the reverse is said.
            never_answered = not client.last_answered and not transport["proxy"]
            if never_answered and (tls_cause := tls.tls_on_plain_url(target.base_url, min(settings.timeout, 10.0))):
                run_error = transport["failure"] = tls_cause
        except TargetThrottling as exc:
            stop_reason = str(exc)
            say(f"stopping early: {exc}")
        except SetupRejected as exc:
            rejected = exc.answers
            unauthenticated_400 = exc.unauthenticated == 400
            stop_reason = f"not exercised: the run stopped early, after {client.sent} requests: {exc}"
            say(f"stopping early: {exc}; nothing more is sent until the setup is fixed")
        except BudgetExhausted as exc:
            stop_reason = f"not exercised: {exc}"
            say(f"stopping early: {exc}; requirements not yet exercised are skipped")
        except GuardRefusal as exc:
            run_error = f"harness fault: {exc}"
        except Exception as exc:  # a bug of ours must end as a clear "error" verdict, not a traceback
            if signals:
                # A signal that landed inside a library (hypothesis wraps it while drawing) is still a signal.
                interrupted = signals[0]
                run_error = f"interrupted ({signal.Signals(interrupted).name}) after {client.sent} requests"
            else:
                run_error = f"harness fault: {type(exc).__name__}: {exc}"
                _print_traceback(target)
        for probe in client.take_probes():
            _record_probe(ledger, probe)
        if client.setup_gate is not None and (asked := client.setup_gate.asked) is not None:
            _record_setup_question(ledger, asked, stopped=rejected is not None)
        if stop_reason:
            for req in catalogue.requirements:
                if not ledger.checked(req.id):
                    ledger.skip(req.id, stop_reason)
        stats = RunCounts(
            requests=client.sent,
            unanswered=client.unanswered,
            throttled=client.throttled,
            aimed_cases=aimed.cases,
            aimed_shrink_requests=aimed.shrink_requests,
            shrunk_reproducers=dict(aimed.reproducers),
            generated_cases=generated.cases,
            generated_by_phase=dict(generated.by_phase),
            generated_refused_by_guard=generated.refused_by_guard,
            first_must_failure=ledger.first_failure,
        )

    requirements = ledger.requirement_results(strict=settings.strict)
    diagnosis = diagnose(
        ledger.valid_answers if rejected is None else rejected,
        credentials_configured=target.credentials.configured,
        fixtures_used_up=health.used_up(),
        requests="well-formed requests" if rejected is None else "requests sent with the run's credentials",
        unauthenticated_400=unauthenticated_400,
    )
    if diagnosis.fixtures_unusable:
        requirements = leave_unjudged(requirements, RESTARTABLE_SUCCEEDS, diagnosis.messages[0])
    verdict = (
        Verdict.ERROR
        if run_error
        else decide_verdict(
            requirements,
            certify=settings.certify,
            setup_problem=diagnosis.setup_problem,
            fixtures_unusable=diagnosis.fixtures_unusable,
        )
    )
    return RunResult(
        settings=settings,
        target=target,
        transport=transport,
        started_at=started_at,
        duration_s=round(time.perf_counter() - clock, 3),
        stats=stats,
        requirements=requirements,
        observations=ledger.observation_results(),
        trace=trace.to_dict(),
        verdict=verdict,
        verdict_reason=_verdict_reason(verdict, requirements, run_error, diagnosis.messages, settings.certify),
        diagnosis=diagnosis.messages,
        error=run_error,
        interrupted=interrupted,
        fixture_plan=(
            FixturePlan(len(target.fixtures.restartable), len(target.fixtures.not_restartable), spent)
            if target.fixtures
            else None
        ),
    )


def run_plan(plan: Sequence[Phase], shared: PhaseRun, ledger: Ledger, signals: list[int], *, beside: bool) -> None:
    """Run every phase of ``plan`` in its order, or, ``beside``, the scenarios' phases on this thread and the
    others on the property lane (engine/overlap.py), judged as if one had run after the other. A signal a phase's
    library swallowed stops the run at the end of that phase."""

    def run_all(phases: Sequence[Phase], judged: Judgements) -> None:
        for phase in phases:
            phase.run(shared, judged)
            _stop_if_signalled(signals)

    if beside:
        own = [phase for phase in plan if not phase.beside]
        lane = [phase for phase in plan if phase.beside]
        side_by_side(lambda: run_all(own, ledger), lambda judged: run_all(lane, judged), ledger, shared.client)
    else:
        run_all(plan, ledger)


def side_by_side_pays_off(settings: RunSettings) -> bool:
    """Whether the scenarios and the property-based phases run side by side (see engine.overlap): only with
    requests to keep in flight (more than one worker: the embedded reference gets one, since its answers come in
    less time than this interpreter spends judging them, so more workers only contend for it: slower at 4), and
    never under --max-requests, whose budget goes to the scenarios first, as they exercise what the property-based
    phases cannot aim at."""
    return settings.workers > 1 and settings.max_requests is None


def _begin_when_answered(cases: CaseDrawing) -> Callable[[Exchange], None]:
    """A ledger watcher that starts the child of a drawing replayed from the cache, which only judges
    (DrawingChild.begin), at the first answer the target completed with a 2xx: from then on the run has answers to
    judge, and the child has the rest of the scenarios and the aimed phase to load what it judges with. A run whose
    target never answers so (it hangs, resets, refuses every credential) starts it only if its generated phase
    asks, which such a run seldom reaches."""

    def see(exchange: Exchange) -> None:
        if exchange.complete and 200 <= exchange.status < 300:
            cases.begin()

    return see


def _record_probe(ledger: Ledger, probe: Exchange) -> None:
    """The client's probe (is the target still answering?) is a well-formed request like any other: judged, and
    counted for the diagnosis."""
    ledger.valid_request_answered(probe)
    ledger.record(check_response(probe), probe)


def _record_setup_question(ledger: Ledger, asked: Exchange, *, stopped: bool) -> None:
    """The setup gate's question (engine/setup_gate.py), judged as any answer is but not for BR-REQ-018: a run it
    stopped never reached the API (diagnosis before blame). Recorded, and so in the report and its trace, when it
    stopped the run or its answer broke a rule; a conforming target's 401 to it is left out, since whether it is
    asked at all depends on the order the first requests happened to be answered in, and the trace (compare's
    fidelity) must not."""
    findings = check_response(asked)
    if stopped or any(isinstance(item, Finding) and not item.ok and not item.unjudged for item in findings):
        ledger.record(findings, asked)


def _stop_if_signalled(signals: list[int]) -> None:
    """A signal a library swallowed (hypothesis may take the example it interrupted for a flaky one and carry on)
    still stops the run, at the end of the phase it landed in."""
    if signals:
        raise Interrupted(signals[0])


def _print_traceback(target: Target) -> None:
    """A bug of ours ends the run as an "error" verdict; its traceback goes to stderr for the bug report, with the
    run's credentials and the base URL's userinfo redacted like everything else the run writes."""
    text = scrub({"traceback": traceback.format_exc()}, target.credentials, target.base_url)["traceback"]
    print(f"dcs-conformance: a bug in the suite ended the run; please report this traceback:\n{text}", file=sys.stderr)


def _verdict_reason(
    verdict: Verdict,
    requirements: list[RequirementResult],
    run_error: str | None,
    diagnosis: list[str],
    certify: bool,
) -> str | None:
    """One line that says why the verdict is not simply the requirement matrix's: what stopped or limited the run."""
    if run_error:
        return run_error
    if verdict is not Verdict.INCOMPLETE:
        return None
    missing = unexercised_musts(requirements, certify=certify)
    if diagnosis and not missing:
        return diagnosis[0]
    if diagnosis:
        ids = ", ".join(item.id for item in missing[:8]) + (" ..." if len(missing) > 8 else "")
        return f"{diagnosis[0]}; {len(missing)} MUST requirement(s) not exercised: {ids}"
    return f"{len(missing)} MUST requirement(s) not exercised: {_each_with_its_reason(missing)}"


def _each_with_its_reason(missing: list[RequirementResult], shown: int = 8) -> str:
    """The IDs left unexercised, grouped by their own skip reason: a requirement that needs a read-only credential
    is never explained by the fixtures another one needs."""
    groups: dict[str, list[str]] = {}
    for item in missing[:shown]:
        groups.setdefault(item.reason, []).append(item.id)
    text = "; ".join(f"{', '.join(ids)} ({reason})" for reason, ids in groups.items())
    return text + (f"; and {len(missing) - shown} more" if len(missing) > shown else "")
