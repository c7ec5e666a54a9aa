"""Authentication and permission: a request the target must not trust gets 401, a weak credential 403."""

from __future__ import annotations

from conformance.checks.responses import error_body_problem
from conformance.checks.rules import Rule, covers
from conformance.judging.results import TOO_DEEP, Exchange, Finding

UNAUTHENTICATED_401 = Rule("BR-REQ-018")
WRONG_CREDENTIALS_401 = Rule("BR-REQ-019")
FORBIDDEN_403 = Rule("BR-REQ-020")


def _expect(ex: Exchange, rule: Rule, status: int, what: str) -> list[Finding]:
    if not ex.complete:
        return [rule.violated(f"{what}: {ex.failure}, not {status}")]
    if ex.status != status:
        return [rule.violated(f"{what}: answered {ex.status}, not {status}")]
    if ex.response_json is TOO_DEEP:
        return [rule.unjudged(f"{what}: answered {status}, but the body is {ex.body_problem}")]
    problem = error_body_problem(ex.response_json)
    return [rule.judged(problem is None, f"{what}: {problem}")]


@covers(UNAUTHENTICATED_401)
def check_unauthenticated(ex: Exchange, what: str) -> list[Finding]:
    return _expect(ex, UNAUTHENTICATED_401, 401, what)


@covers(WRONG_CREDENTIALS_401)
def check_wrong_credentials(ex: Exchange, what: str) -> list[Finding]:
    return _expect(ex, WRONG_CREDENTIALS_401, 401, what)


@covers(FORBIDDEN_403)
def check_forbidden(ex: Exchange, what: str) -> list[Finding]:
    return _expect(ex, FORBIDDEN_403, 403, what)
