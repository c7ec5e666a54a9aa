"""Schemathesis's own response checks, and ours registered with it, mapped onto catalogue requirements.

Built-in checks are a second opinion beside our precise ones: a failure they find counts against the requirement
it belongs to. Each check's failures are attributed to the check that raised them, without guessing.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import requests
import schemathesis
from schemathesis.core.failures import FailureGroup

from conformance.checks.batch import check_batch
from conformance.checks.responses import check_response
from conformance.judging.results import TOO_DEEP, Exchange, Finding, Seen

# check name -> the requirement its failures count against (None: decided by the response, see _requirement_for).
# Mapped only where the check means what the requirement says. `not_a_server_error` is left out on purpose: on a 5xx
# it re-sends a control request with schemathesis's own transport, behind the run's client; our check_no_server_error
# judges BR-REQ-003 on every answer instead. `negative_data_rejection` is BR-REQ-001 ("refused with a 4xx") only
# with the statuses schemathesis_config gives it: by default it counts 5xx as a rejection and 413 as none. That an
# invalid request gets exactly 400 is BR-REQ-002's, judged by our check_refused.
BUILTIN_CHECKS: dict[str, str | None] = {
    "status_code_conformance": "BR-REQ-022",
    "content_type_conformance": "BR-REQ-005",
    "response_schema_conformance": None,
    "negative_data_rejection": "BR-REQ-001",
}


#: Every 4xx is a refusal for BR-REQ-001 (400, 413 Payload Too Large, 422...), and nothing else is: not a 5xx, which
#: is BR-REQ-003's failure and no refusal of the input either, as our check_refused judges it.
REFUSAL_STATUSES = ["4xx"]


def schemathesis_config() -> schemathesis.Config:
    """The schemathesis configuration every run (and any test of the mapping) uses: its built-in checks as
    BUILTIN_CHECKS maps them."""
    return schemathesis.Config.from_dict(
        {"checks": {"negative_data_rejection": {"expected-statuses": REFUSAL_STATUSES}}}
    )


def _requirement_for(check: str, failure: BaseException, exchange: Exchange) -> str | None:
    """The catalogue requirement a schemathesis failure belongs to; None when the catalogue does not judge it."""
    if "content_type_conformance" in getattr(type(failure), "checks", ()):
        # A missing or wrong Content-Type, whichever check noticed it; our rule covers only bodies.
        return "BR-REQ-005" if exchange.response_body else None
    return _owner(check, exchange)


def _owner(check: str, exchange: Exchange) -> str:
    """The requirement a check's verdict on this response belongs to: schema checks judge 2xx bodies against the
    documented 200 schema and every other body against the error body."""
    mapped = BUILTIN_CHECKS[check]
    if mapped is not None:
        return mapped
    return "BR-REQ-007" if 200 <= exchange.status < 300 else "BR-REQ-004"


@schemathesis.check
def batch_semantics(ctx: object, response: schemathesis.Response, case: schemathesis.Case[Any]) -> bool | None:
    """Our response rules and the per-item batch oracle, usable from any schemathesis run (CLI or pytest)."""
    exchange = exchange_from_response(response)
    findings = check_response(exchange)
    body = case.body if isinstance(case.body, dict) else {}
    tasks = body.get("migration_tasks")
    if isinstance(tasks, list) and all(isinstance(task, str) for task in tasks):
        findings += check_batch([str(task) for task in tasks], exchange)
    violations = [
        f"[{item.requirement}] {item.message}" for item in findings if isinstance(item, Finding) and not item.ok
    ]
    if violations:
        raise AssertionError("; ".join(violations))
    return None


def exchange_from_response(response: schemathesis.Response) -> Exchange:
    request = response.request
    body = request.body if isinstance(request.body, bytes) else str(request.body or "").encode()
    return Exchange(
        method=request.method or "POST",
        url=request.url or "",
        request_headers={
            key: value if isinstance(value, str) else value.decode("latin-1") for key, value in request.headers.items()
        },
        request_body=body,
        status=response.status_code,
        response_headers={key: values[0] for key, values in response.headers.items() if values},
        response_body=response.content or b"",
    )


def response_from_exchange(exchange: Exchange) -> schemathesis.Response:
    prepared = requests.Request(
        method=exchange.method, url=exchange.url, headers=exchange.request_headers, data=exchange.request_body
    ).prepare()
    return schemathesis.Response(
        status_code=exchange.status,
        headers={key: [value] for key, value in exchange.response_headers.items()},
        content=exchange.response_body,
        request=prepared,
        elapsed=exchange.elapsed_ms / 1000,
        verify=True,
    )


def run_schemathesis_checks(
    case: schemathesis.Case[Any], exchange: Exchange, *, negative: bool
) -> list[Finding | Seen]:
    """Run each built-in check on an answer we already received, and turn its failures into findings.

    One validation runs every check (validating costs about a millisecond whatever it runs); each check is wrapped
    so that the failures schemathesis keeps are attributed to the check that raised them, exactly as if it had run
    alone."""
    response = response_from_exchange(exchange)
    names = [name for name in BUILTIN_CHECKS if negative or name != "negative_data_rejection"]
    raised: dict[str, list[BaseException]] = {name: [] for name in names}
    try:
        case.validate_response(response, checks=[_recording(name, raised[name]) for name in names])
    except FailureGroup as group:
        kept: list[BaseException] = list(group.exceptions)
    else:
        kept = []
    findings: list[Finding | Seen] = []
    for name in names:
        if name == "response_schema_conformance" and exchange.response_json is TOO_DEEP:
            # Schemathesis's parser gives up on it as "not JSON": the body is valid, and cannot be judged.
            why = f"schemathesis {name}: the body is {exchange.body_problem}"
            findings.append(Finding(_owner(name, exchange), True, why, unjudged=True))
            continue
        judged = False
        for failure in (item for item in kept if any(_same(item, own) for own in raised[name])):
            requirement = _requirement_for(name, failure, exchange)
            if requirement is not None:
                title = getattr(failure, "title", "failure")
                findings.append(Finding(requirement, False, f"schemathesis {name}: {title}: {_short(failure)}"))
                judged = True
        if not judged:
            findings.append(Finding(_owner(name, exchange), True))
    return findings


def _recording(name: str, raised: list[BaseException]) -> Callable[..., bool | None]:
    """The built-in check ``name``, noting every failure it raises into ``raised`` before schemathesis sees it."""
    check = getattr(schemathesis.checks, name)

    @functools.wraps(check)
    def run(ctx: object, response: schemathesis.Response, case: schemathesis.Case[Any]) -> bool | None:
        try:
            verdict: bool | None = check(ctx, response, case)
            return verdict
        except FailureGroup as group:
            raised.extend(group.exceptions)
            raise
        except AssertionError as exc:  # schemathesis's Failure is an AssertionError too
            raised.append(exc)
            raise

    return run


def _same(kept: BaseException, own: BaseException) -> bool:
    """Whether a failure schemathesis kept is one a check raised: the very failure, an equal one (schemathesis keeps
    one of equal failures), or a plain assertion wrapped into a failure."""
    return kept is own or kept == own or getattr(kept, "exception", None) is own


def _short(failure: BaseException) -> str:
    message = getattr(failure, "message", None) or str(failure)
    first = " ".join(message.split())
    return first[:300]
