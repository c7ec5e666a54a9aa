"""Authentication and permission: a request the target must not trust gets 401, a weak credential 403."""

from __future__ import annotations

from conformance.checks import covers
from conformance.checks.responses import error_body_problem
from conformance.results import Exchange, Finding


def _expect(ex: Exchange, requirement: str, status: int, what: str) -> list[Finding]:
    if not ex.complete:
        return [Finding(requirement, False, f"{what}: {ex.failure}, not {status}")]
    if ex.status != status:
        return [Finding(requirement, False, f"{what}: answered {ex.status}, not {status}")]
    problem = error_body_problem(ex.response_json)
    return [Finding(requirement, problem is None, f"{what}: {problem}" if problem else "")]


@covers("BR-REQ-018")
def check_unauthenticated(ex: Exchange, what: str) -> list[Finding]:
    return _expect(ex, "BR-REQ-018", 401, what)


@covers("BR-REQ-019")
def check_wrong_credentials(ex: Exchange, what: str) -> list[Finding]:
    return _expect(ex, "BR-REQ-019", 401, what)


@covers("BR-REQ-020")
def check_forbidden(ex: Exchange, what: str) -> list[Finding]:
    return _expect(ex, "BR-REQ-020", 403, what)
