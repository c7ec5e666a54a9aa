"""A requirement's result as plain text, from the report dictionary alone.

The pytest plugin shows it as a failing item's message and the CI summaries take its first line, so a finding reads
the same in a terminal, a pytest log, a GitHub annotation and the HTML report: the reason the ledger gave, then each
kept exchange with the explanation of what it violated.
"""

from __future__ import annotations

from conformance.report.model import Evidence, Requirement

#: Bodies are cut to this many characters in text output; the HTML report and report.json keep them whole.
BODY_CHARS = 400


def one_line(text: str, limit: int = 240) -> str:
    """Collapse whitespace (bodies and explanations may hold newlines) and cut to ``limit`` characters."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def exchange_line(evidence: Evidence) -> str:
    """'request #12 (batch of 21): POST <url> -> 200' for an exchange; '' for evidence that is only a note."""
    request, response = evidence.get("request"), dict(evidence.get("response") or {})
    if not request:
        return ""
    label = f" ({evidence['label']})" if evidence.get("label") else ""
    answer = response.get("failure") or (f"{response['status']}" if response.get("status") else "no answer")
    method, url = request.get("method", "POST"), request.get("url", "")
    return f"request #{evidence.get('seq', '?')}{label}: {method} {url} -> {answer}"


def evidence_summary(item: Requirement) -> str:
    """One line for a requirement that is not simply passed: the reason and the first explanation."""
    evidence = item.get("evidence") or []
    explanation = evidence[0].get("explanation", "") if evidence else ""
    reason = str(item.get("reason") or "")
    return one_line(f"{reason}: {explanation}" if explanation else reason)


def finding(item: Requirement, report_dir: str | None = None) -> str:
    """The full text of a requirement's finding: headline, statement, each piece of evidence, where to read more."""
    lines = [f"{item['id']} ({item['level']}) {item['title']}: {item.get('reason', '')}"]
    if item.get("statement"):
        lines.append(f"  requirement: {one_line(item['statement'], 400)}")
    for number, evidence in enumerate(item.get("evidence") or [], start=1):
        where = exchange_line(evidence)
        lines.append(f"  evidence {number}: {where}" if where else f"  evidence {number}:")
        if evidence.get("explanation"):
            lines.append(f"    {one_line(evidence['explanation'], 600)}")
        request, response = evidence.get("request"), evidence.get("response")
        request_body = request.get("body") if request else None
        response_body = response.get("body") if response else None
        if request_body:
            lines.append(f"    request body:  {one_line(request_body, BODY_CHARS)}")
        if response_body:
            lines.append(f"    response body: {one_line(response_body, BODY_CHARS)}")
    if report_dir:
        lines.append(f"  details: {report_dir}/index.html#req-{item['id']}")
    return "\n".join(lines)
