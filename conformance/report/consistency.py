"""Whether a report.json says what its own findings say: each requirement's status, the counts and the verdict
re-derived from what the report records, with the rules the run used (judging.results), by the catalogue the suite
ships.

A report cannot be re-judged without the exchanges it dropped, but what it records is enough to catch a report
edited after the run. Per requirement it keeps how many checks judged it (``checks``), how many of those it failed
(``violations``) and up to three failing findings as ``evidence``; from those the ledger's rule (``status_from``)
gives exactly one status and reason: a requirement with a violation cannot be ``passed``, one with failing evidence
must have a violation, a MUST with a violation is ``failed``. Only ``error`` (a check that could not run) and the
reason of a skip are taken as recorded; an ``error`` makes the verdict ``error`` anyway. Then the counts must be
those of the statuses, and the verdict must be ``decide_verdict`` over them (``error`` for a run that recorded an
error; with a diagnosis, ``incomplete`` as the run may have found its setup unusable).
"""

from __future__ import annotations

from typing import Any

from conformance.contract import Catalogue
from conformance.judging.results import (
    EVIDENCE_PER_REQUIREMENT,
    RequirementResult,
    Status,
    Verdict,
    count_statuses,
    decide_verdict,
    status_from,
)
from conformance.report.model import Report

PASSING = (str(Verdict.CONFORMANT), str(Verdict.WITH_WARNINGS))


def problems(report: Report, catalogue: Catalogue) -> list[str]:
    """Every way ``report`` contradicts its own findings or the catalogue (empty: it says what they say)."""
    recorded: list[dict[str, Any]] = [dict(item) for item in report["requirements"]]
    ids = [str(item.get("id")) for item in recorded]
    expected = [req.id for req in catalogue.requirements]
    if ids != expected:
        missing = [req_id for req_id in expected if req_id not in ids]
        extra = [req_id for req_id in ids if req_id not in expected]
        what = "; ".join(
            part
            for part in (
                f"missing {', '.join(missing)}" if missing else "",
                f"not in the catalogue: {', '.join(extra)}" if extra else "",
                "out of the catalogue's order" if not missing and not extra else "",
            )
            if part
        )
        return [f"report.json's requirements are not the catalogue's ({what})"]
    strict = bool((report.get("options") or {}).get("strict"))
    found: list[str] = []
    for item, req in zip(recorded, catalogue.requirements, strict=True):
        sources = [{"cite": source.cite(), "quote": source.quote} for source in req.sources]
        if (item.get("level"), item.get("title"), item.get("statement"), item.get("sources")) != (
            req.level,
            req.title,
            req.statement,
            sources,
        ):
            found.append(f"{req.id} is not recorded as the catalogue states it (level, title, statement or sources)")
            continue
        needs = item.get("needs")
        if not isinstance(needs, list) or needs[: len(req.needs)] != list(req.needs):
            found.append(
                f"{req.id} does not record the needs the catalogue gives it ({', '.join(req.needs) or 'none'})"
            )
            continue
        problem = _status_problem(item, req.level, strict=strict, explained=set(report.get("diagnosis") or []))
        if problem:
            found.append(f"{req.id} {problem}")
    results = _as_results(recorded)
    if results is None:
        return [*found, "report.json records a status that is not one of a report's"]
    counts = count_statuses(results)
    if dict(report["counts"]) != counts:
        found.append(f"the counts {dict(report['counts'])} are not those of the recorded statuses {counts}")
    verdict = _verdict_problem(report, results)
    if verdict:
        found.append(verdict)
    return found


def _as_results(recorded: list[dict[str, Any]]) -> list[RequirementResult] | None:
    """The recorded requirements as the verdict rules read them (None: a status no report has)."""
    try:
        return [
            RequirementResult(
                id=str(item.get("id")),
                level=str(item.get("level")),
                title=str(item.get("title")),
                statement=str(item.get("statement")),
                needs=list(item.get("needs") or []),
                sources=(),
                status=Status(str(item.get("status"))),
                reason=str(item.get("reason")),
                checks=int(item.get("checks") or 0),
                violations=int(item.get("violations") or 0),
                evidence=[],
            )
            for item in recorded
        ]
    except (ValueError, TypeError):
        return None


def _status_problem(item: dict[str, Any], level: str, *, strict: bool, explained: set[str]) -> str | None:
    checks, violations, evidence = item.get("checks"), item.get("violations"), item.get("evidence")
    if not _count(checks) or not _count(violations) or not isinstance(evidence, list):
        return "records no count of its checks and violations, or no list of evidence"
    assert isinstance(checks, int) and isinstance(violations, int)
    if violations > checks:
        return f"records {violations} violations in {checks} checks"
    if evidence and not violations:
        return f"records {len(evidence)} failing finding(s) as evidence, but no violation"
    if len(evidence) > EVIDENCE_PER_REQUIREMENT:
        return f"records {len(evidence)} pieces of evidence; a run keeps at most {EVIDENCE_PER_REQUIREMENT}"
    status = item.get("status")
    if status == Status.ERROR:
        return None  # a check that could not run: the verdict is "error" whatever else
    if status == Status.SKIPPED and item.get("reason") in explained:
        return None  # failures the diagnosis explains (used-up fixtures): left unjudged, with the diagnosis as reason
    derived, reason = status_from(level, checks, violations, strict=strict)
    findings = (
        f"{violations} of {checks} check{'' if checks == 1 else 's'} violated it" if checks else "no check judged it"
    )
    if status != derived:
        return f"is recorded {status!r}, but its findings ({findings}) make it {str(derived)!r}"
    if reason is not None and item.get("reason") != reason:
        return f"gives the reason {str(item.get('reason'))[:80]!r}; its findings give {reason!r}"
    return None


def _verdict_problem(report: Report, requirements: list[RequirementResult]) -> str | None:
    verdict = report["verdict"]
    certify = bool((report.get("options") or {}).get("certify"))
    if report.get("error"):
        possible = {str(Verdict.ERROR)}
    else:
        possible = {str(decide_verdict(requirements, certify=certify))}
        if report.get("diagnosis"):
            possible.add(str(decide_verdict(requirements, certify=certify, setup_problem=True)))
            possible.add(str(decide_verdict(requirements, certify=certify, fixtures_unusable=True)))
    if verdict not in possible:
        gives = " or ".join(repr(one) for one in sorted(possible))
        return f"the verdict {verdict!r} does not follow from the recorded statuses, which give {gives}"
    if verdict in PASSING:
        if report.get("verdict_reason"):
            return f"a {verdict} verdict carries a reason that only a limited run has: {report['verdict_reason']!r}"
        if (report.get("stats") or {}).get("first_must_failure"):
            return f"a {verdict} verdict names a first MUST failure"
    return None


def _count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0
