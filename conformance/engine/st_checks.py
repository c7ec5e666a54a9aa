"""Schemathesis's own response checks, and ours registered with it, mapped onto catalogue requirements.

Built-in checks are a second opinion beside our precise ones: a failure they find counts against the requirement
it belongs to. Each check runs alone so its failures are attributed without guessing.
"""

from __future__ import annotations

import requests
import schemathesis
from schemathesis.checks import FailureGroup

from conformance.checks.batch import check_batch
from conformance.checks.responses import check_response
from conformance.results import Exchange, Finding, Seen

# check name -> (requirement for a positive case, requirement for a negative case)
BUILTIN_CHECKS: dict[str, tuple[str, str]] = {
    "not_a_server_error": ("BR-REQ-003", "BR-REQ-003"),
    "status_code_conformance": ("BR-REQ-022", "BR-REQ-022"),
    "content_type_conformance": ("BR-REQ-005", "BR-REQ-005"),
    "response_schema_conformance": ("BR-REQ-007", "BR-REQ-004"),
    "negative_data_rejection": ("BR-REQ-001", "BR-REQ-001"),
}


@schemathesis.check
def batch_semantics(ctx: object, response: schemathesis.Response, case: schemathesis.Case) -> bool | None:
    """Our response rules and the per-item batch oracle, usable from any schemathesis run (CLI or pytest)."""
    exchange = exchange_from_response(response)
    findings = check_response(exchange)
    body = case.body if isinstance(case.body, dict) else {}
    tasks = body.get("migration_tasks")
    if isinstance(tasks, list) and all(isinstance(task, str) for task in tasks):
        findings += check_batch(tasks, exchange)
    violations = [
        f"[{item.requirement}] {item.message}" for item in findings if isinstance(item, Finding) and not item.ok
    ]
    if violations:
        raise AssertionError("; ".join(violations))
    return None


def exchange_from_response(response: schemathesis.Response) -> Exchange:
    request = response.request
    body = request.body if isinstance(request.body, bytes) else (request.body or "").encode()
    return Exchange(
        method=request.method or "POST",
        url=request.url or "",
        request_headers=dict(request.headers),
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


def run_schemathesis_checks(case: schemathesis.Case, exchange: Exchange, *, negative: bool) -> list[Finding | Seen]:
    """Run each built-in check on an answer we already received, and turn its failures into findings."""
    response = response_from_exchange(exchange)
    findings: list[Finding | Seen] = []
    for name, (positive_req, negative_req) in BUILTIN_CHECKS.items():
        if name == "negative_data_rejection" and not negative:
            continue
        requirement = negative_req if negative else positive_req
        check = getattr(schemathesis.checks, name)
        try:
            case.validate_response(response, checks=[check])
        except FailureGroup as group:
            for failure in group.exceptions:
                findings.append(Finding(requirement, False, f"schemathesis {name}: {failure.title}: {_short(failure)}"))
        except AssertionError as exc:
            findings.append(Finding(requirement, False, f"schemathesis {name}: {_short(exc)}"))
        else:
            findings.append(Finding(requirement, True))
    return findings


def _short(failure: BaseException) -> str:
    message = getattr(failure, "message", None) or str(failure)
    first = " ".join(message.split())
    return first[:300]
