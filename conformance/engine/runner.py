"""One conformance run: pick the target, run every phase through one client, judge, and write the reports."""

from __future__ import annotations

import json
import os
import random
import secrets
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from conformance import __version__
from conformance.certify import write_bundle
from conformance.contract import catalogue_sha256, load_catalogue, load_spec, spec_sha256
from conformance.engine.client import BudgetExhausted, Credentials, TargetClient, TargetUnreachable
from conformance.engine.generated import GeneratedStats, run_generated
from conformance.engine.guard import GuardRefusal, IdGuard
from conformance.engine.scenarios import Fixtures, Scenarios
from conformance.report_dir import claim as claim_report_dir
from conformance.reporters import html, json_report, junit
from conformance.results import Ledger, Verdict, count_statuses, decide_verdict
from conformance.sanitize import scrub
from conformance.settings import RunSettings, SettingsError

EXIT_CODES = {
    Verdict.CONFORMANT: 0,
    Verdict.WITH_WARNINGS: 0,
    Verdict.NON_CONFORMANT: 1,
    Verdict.ERROR: 3,
    Verdict.INCOMPLETE: 4,
}


@dataclass
class RunOutcome:
    report: dict[str, Any]
    report_dir: Path
    exit_code: int


@dataclass(frozen=True)
class Target:
    base_url: str
    project_id: str
    credentials: Credentials
    fixtures: Fixtures | None
    embedded: bool


def load_fixtures(path: Path) -> Fixtures:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SettingsError(f"fixtures file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(f"cannot read fixtures file {path}: {exc}") from None
    except ValueError as exc:
        raise SettingsError(f"fixtures file {path} is not JSON: {exc}") from None
    try:
        return Fixtures.load(document)
    except ValueError as exc:
        raise SettingsError(f"fixtures file {path}: {exc}") from None


@contextmanager
def open_target(settings: RunSettings, seed: int) -> Iterator[Target]:
    """The target to judge: the given base URL, or the reference server started in-process with its own fixtures
    and AK/SK credentials (a read-only pair too), stopped when the run ends."""
    if not settings.embedded:
        fixtures = load_fixtures(settings.fixtures) if settings.fixtures else None
        yield Target(settings.base_url or "", settings.project_id, settings.credentials, fixtures, embedded=False)
        return
    from conformance.reference import deviations
    from conformance.reference.app import create_app
    from conformance.reference.auth import AuthMode, AuthPolicy
    from conformance.reference.server import BackgroundServer
    from conformance.reference.store import seed_store

    credentials = Credentials(
        ak=secrets.token_hex(10).upper(),
        sk=secrets.token_hex(20),
        readonly_ak=secrets.token_hex(10).upper(),
        readonly_sk=secrets.token_hex(20),
    )
    policy = AuthPolicy(
        mode=AuthMode.AKSK,
        keys={credentials.ak: credentials.sk},
        readonly_keys={credentials.readonly_ak: credentials.readonly_sk},
    )
    store, fixtures = seed_store(seed=seed)
    behaviour = deviations.build(settings.faults, settings.variants, seed=seed)
    with BackgroundServer(create_app(store, policy, [settings.project_id], behaviour)) as server:
        yield Target(server.base_url, settings.project_id, credentials, Fixtures.load(fixtures), embedded=True)


def default_report_dir(root: Path = Path("reports")) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    candidate = root / stamp
    suffix = 1
    while candidate.exists():
        suffix += 1
        candidate = root / f"{stamp}-{suffix}"
    return candidate


def point_latest(report_dir: Path) -> None:
    """Keep reports/latest pointing at the newest run (a relative symlink, replaced atomically)."""
    latest = report_dir.parent / "latest"
    tmp = report_dir.parent / f".latest.{os.getpid()}"
    try:
        if tmp.is_symlink():
            tmp.unlink()
        tmp.symlink_to(report_dir.name, target_is_directory=True)
        tmp.replace(latest)
    except OSError:
        tmp.unlink(missing_ok=True)


def execute(settings: RunSettings, *, command: str = "", progress: Callable[[str], None] | None = None) -> RunOutcome:
    """Run the whole catalogue against the target and write report.json and junit.xml."""
    say = progress or (lambda message: print(message, file=sys.stderr, flush=True))
    started_at = datetime.now(UTC)
    clock = time.perf_counter()
    catalogue = load_catalogue()
    ledger = Ledger(catalogue)
    report_dir = settings.report_dir or default_report_dir()
    try:
        report_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SettingsError(f"cannot create the report directory {report_dir}: {exc.strerror}") from None
    claim_report_dir(report_dir)
    rng = random.Random(settings.seed)
    run_error: str | None = None
    generated = GeneratedStats()
    with open_target(settings, settings.seed) as target:
        guard = IdGuard(
            target.fixtures.restartable if target.fixtures else (),
            target.fixtures.not_restartable if target.fixtures else (),
            rng=random.Random(rng.getrandbits(64)),
        )
        client = TargetClient(
            target.base_url,
            target.project_id,
            credentials=target.credentials,
            guard=guard,
            rate_limit=settings.rate_limit,
            max_requests=settings.max_requests,
            timeout=settings.timeout,
        )
        say(
            f"dcs-conformance {__version__}: judging {target.base_url} "
            f"(project {target.project_id}), seed {settings.seed}"
        )
        with client:
            try:
                Scenarios(client, ledger, random.Random(rng.getrandbits(64)), target.fixtures, say).run_all()
                say(
                    "generated: schemathesis examples, coverage and fuzzing phases "
                    f"({settings.max_examples} fuzzing examples)"
                )
                run_generated(
                    client,
                    ledger,
                    load_spec(),
                    seed=settings.seed,
                    max_examples=settings.max_examples,
                    stats=generated,
                    progress=say,
                )
            except TargetUnreachable as exc:
                run_error = f"the target could not be reached: {exc}"
            except BudgetExhausted as exc:
                say(f"stopping early: {exc}; requirements not yet exercised are skipped")
                for req in catalogue.requirements:
                    if not ledger.checked(req.id):
                        ledger.skip(req.id, f"not exercised: {exc}")
            except GuardRefusal as exc:
                run_error = f"harness fault: {exc}"
            except Exception as exc:  # a bug of ours must end as a clear "error" verdict, not a traceback
                run_error = f"harness fault: {type(exc).__name__}: {exc}"
        stats = {
            "requests": client.sent,
            "generated_cases": generated.cases,
            "generated_by_phase": generated.by_phase,
            "generated_refused_by_guard": generated.refused_by_guard,
            "first_must_failure": ledger.first_failure,
        }

    requirements = ledger.requirement_results(strict=settings.strict)
    verdict = Verdict.ERROR if run_error else decide_verdict(requirements, certify=settings.certify)
    report = {
        "verdict": str(verdict),
        "error": run_error,
        "suite_version": __version__,
        "spec_sha256": spec_sha256(),
        "catalogue_sha256": catalogue_sha256(),
        "seed": settings.seed,
        "target": {
            "base_url": target.base_url if not target.embedded else "embedded reference server",
            "project_id": target.project_id,
            "embedded": target.embedded,
            "fixtures": str(settings.fixtures) if settings.fixtures else ("seeded" if target.embedded else None),
            "auth": _auth_kind(target.credentials),
            "faults": list(settings.faults),
            "variants": list(settings.variants),
        },
        "options": {
            "max_examples": settings.max_examples,
            "rate_limit": settings.rate_limit,
            "max_requests": settings.max_requests,
            "strict": settings.strict,
            "certify": settings.certify,
        },
        "command": command,
        "started_at": started_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "duration_s": round(time.perf_counter() - clock, 3),
        "stats": stats,
        "counts": count_statuses(requirements),
        "requirements": requirements,
        "observations": ledger.observation_results(),
    }
    report = scrub(report, target.credentials, target.base_url)
    json_report.write(report, report_dir)
    junit.write(report, report_dir)
    html.write(report, report_dir)
    if settings.certify:
        write_bundle(report, report_dir)
    if settings.report_dir is None:
        point_latest(report_dir)
    return RunOutcome(report=report, report_dir=report_dir, exit_code=EXIT_CODES[verdict])


def _auth_kind(credentials: Credentials) -> str:
    if credentials.token:
        return "token"
    if credentials.ak:
        return "aksk"
    return "none"
