"""index.html: the human-readable report, rendered from the finished report dictionary alone.

Like every reporter it never runs a check or sends a request: whatever the page shows can be traced to a field of
report.json, so the page and the machine-readable record cannot disagree. The page is one self-contained file (inline
CSS, a little inline JavaScript for the filters) so that it opens from disk, from a CI artefact or an e-mail
attachment, with no server and no network access.

Response bodies, headers and even task IDs come from the target under test, which is untrusted: the Jinja2
environment autoescapes everything, and a Content-Security-Policy that only allows our own inline style and script
(by hash) means that even a mistake in escaping could not load or run anything else.

The template stays simple: this module builds the page's view model (html_model) from the report, with the text
helpers of html_text, the per-ID view of batch_view and the command of curl.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from markupsafe import Markup

from conformance.report.model import Evidence, Observation, Report, Requirement
from conformance.reporters import page
from conformance.reporters.batch_view import batch_view
from conformance.reporters.curl import Replay, curl_command, replay_for
from conformance.reporters.html_model import (
    ExchangeView,
    Fact,
    FilterOption,
    ObservationView,
    RequirementView,
    Source,
)
from conformance.reporters.html_text import anchor, beyond_diagnosis, body, date, duration, headers, natural, phrase
from conformance.support.files import write_atomically

FILENAME = "index.html"
TEMPLATE = "report.html.j2"

#: Order of the requirement matrix: what needs fixing first.
STATUS_ORDER = ("failed", "error", "warning", "skipped", "passed")
LEVEL_ORDER = ("MUST", "SHOULD", "MAY")
#: Statuses whose evidence the page lays out in full.
DETAILED = ("failed", "error", "warning")

VERDICTS = {
    "conformant": "Conformant",
    "conformant-with-warnings": "Conformant with warnings",
    "non-conformant": "Non-conformant",
    "incomplete": "Incomplete",
    "error": "Error",
}

VERDICT_MARKS = {
    "conformant": "✓",
    "conformant-with-warnings": "!",
    "non-conformant": "✗",
    "incomplete": "?",
    "error": "!",
}


def render(report: Report) -> str:
    """The complete page for one report dictionary (as written to report.json)."""
    css, js = page.asset("report.css"), page.asset("report.js")
    rendered = (
        page.environment()
        .get_template(TEMPLATE)
        .render(css=Markup(css), js=Markup(js), csp=page.content_security_policy(css, js), **_view(report))
    )
    return page.utf8_safe(rendered)


def write(report: Report, directory: Path) -> Path:
    """Write index.html into the report directory atomically, so a reader never sees half a page."""
    return write_atomically(directory / FILENAME, render(report))


# ---------------------------------------------------------------------------------------------------------------
# Building the page's view of a report.


def _view(report: Report) -> dict[str, Any]:
    replay = replay_for(report)
    requirements = [_requirement(item, replay) for item in report.get("requirements", [])]
    requirements.sort(key=lambda req: (_rank(req.status, STATUS_ORDER), natural(req.id)))
    counts = Counter(req.status for req in requirements)
    levels = Counter(req.level for req in requirements)
    verdict = str(report.get("verdict", "error"))
    diagnosis = [str(message) for message in report.get("diagnosis") or []]
    return {
        "verdict": verdict,
        "verdict_label": VERDICTS.get(verdict, verdict),
        "verdict_mark": VERDICT_MARKS.get(verdict, "!"),
        "verdict_summary": _verdict_summary(verdict, requirements),
        "error": report.get("error") or "",
        "verdict_reason": beyond_diagnosis(str(report.get("verdict_reason") or ""), diagnosis),
        "diagnosis": diagnosis,
        "transport_warning": str((report.get("transport") or {}).get("warning") or ""),
        "facts": _facts(report),
        "command": report.get("command") or "",
        "first_failure": _first_failure(report),
        "counts": [FilterOption(status, counts[status]) for status in STATUS_ORDER if counts[status]],
        "total": len(requirements),
        "status_filters": [FilterOption(status, counts[status]) for status in STATUS_ORDER],
        "level_filters": [
            FilterOption(level, levels[level]) for level in sorted(levels, key=lambda lv: (_rank(lv, LEVEL_ORDER), lv))
        ],
        "requirements": requirements,
        "findings": [req for req in requirements if req.status in DETAILED],
        "skipped": [req for req in requirements if req.status == "skipped"],
        "passed": [req for req in requirements if req.status == "passed"],
        "observations": [_observation(item, replay) for item in report.get("observations", [])],
        "fixture_plan": _fixture_plan(report),
        "title": f"{VERDICTS.get(verdict, verdict)}: {_target_name(report)}",
    }


def _fixture_plan(report: Report) -> dict[str, Any] | None:
    """The section "how the N restartable tasks were spent": each one's batch, place and the batch's size (each
    restarts once per run, so where it went is what the run could see of BR-REQ-014); None without fixtures."""
    plan = report.get("fixture_plan")
    if not plan:
        return None
    count, spent = plan["restartable"], plan["spent"]
    unspent = count - len(spent)
    return {
        "heading": f"How the {_tasks(count, 'restartable')} {'was' if count == 1 else 'were'} spent",
        "rows": [(item["label"], _ordinal(item["index"] + 1), item["batch_size"]) for item in spent],
        "note": f"{_tasks(plan['not_restartable'], 'non-restartable')} given besides; "
        + (f"{_tasks(unspent, 'restartable')} not needed." if unspent else "every restartable task was sent once."),
    }


def _tasks(count: int, kind: str) -> str:
    return f"{count} {kind} task{'' if count == 1 else 's'}"


def _ordinal(number: int) -> str:
    """1st, 2nd, 3rd, 4th, 11th, 22nd."""
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


def _rank(value: str, order: tuple[str, ...]) -> int:
    return order.index(value) if value in order else len(order)


def _target_name(report: Report) -> str:
    target: dict[str, Any] = dict(report.get("target") or {})
    return str(target.get("base_url") or "unknown target")


def _verdict_summary(verdict: str, requirements: list[RequirementView]) -> str:
    def count(status: str, level: str | None = None) -> int:
        return sum(1 for req in requirements if req.status == status and (level is None or req.level == level))

    def plural(n: int, word: str) -> str:
        return f"{n} {word}{'' if n == 1 else 's'}"

    total = len(requirements)
    if verdict == "conformant":
        skipped = count("skipped")
        tail = f"; {plural(skipped, 'requirement')} not exercised" if skipped else ""
        return f"Every exercised requirement held ({count('passed')} of {total} passed{tail})."
    if verdict == "conformant-with-warnings":
        return f"No MUST requirement failed; {plural(count('warning'), 'SHOULD requirement')} did not hold."
    if verdict == "non-conformant":
        return f"{plural(count('failed'), 'requirement')} failed (of {total}); see the failures below."
    if verdict == "incomplete":
        # No count of its own: which MUST requirements make the run incomplete is the verdict reason's to say (a
        # MUST skipped for want of fixtures or extra credentials does not), and the banner shows it just below.
        return "The run could not judge enough to claim conformance."
    errors = count("error")
    return "The run could not be completed" + (f"; {plural(errors, 'requirement')} ended in error." if errors else ".")


def _facts(report: Report) -> list[Fact]:
    target: dict[str, Any] = dict(report.get("target") or {})
    stats: dict[str, Any] = dict(report.get("stats") or {})
    options: dict[str, Any] = dict(report.get("options") or {})
    phases = stats.get("generated_by_phase") or {}
    generated = str(stats.get("generated_cases", "–"))
    if phases:
        generated += " (" + ", ".join(f"{phase} {n}" for phase, n in phases.items()) + ")"
    facts = [
        Fact("Target", _target_name(report), mono=not target.get("embedded", False)),
        Fact("Project ID", str(target.get("project_id", "–")), mono=True),
        Fact("Suite version", str(report.get("suite_version", "–"))),
        Fact("Spec SHA-256", str(report.get("spec_sha256", "–")), mono=True),
        Fact("Seed", str(report.get("seed", "–")), mono=True),
        Fact("Started", date(str(report.get("started_at", "")))),
        Fact("Duration", duration(report.get("duration_s"))),
        Fact("Requests sent", str(stats.get("requests", "–"))),
        Fact("Generated cases", generated),
        Fact("Authentication", str(target.get("auth", "–"))),
    ]
    facts += _transport_facts(report.get("transport") or {})
    if target.get("fixtures"):
        facts.append(Fact("Fixtures", str(target["fixtures"])))
    if target.get("faults"):
        facts.append(Fact("Injected faults", ", ".join(map(str, target["faults"])), mono=True))
    if target.get("variants"):
        facts.append(Fact("Variants", ", ".join(map(str, target["variants"])), mono=True))
    shown = [f"{name.replace('_', '-')} {value}" for name, value in options.items() if value not in (None, False)]
    if shown:
        facts.append(Fact("Options", ", ".join(shown)))
    return facts


def _transport_facts(transport: dict[str, Any]) -> list[Fact]:
    """How the target was reached: whom the run trusted, the client certificate it presented, the proxy."""
    facts = []
    tls = transport.get("tls")
    if tls:
        shown = ("verified against " if tls.get("verify") else "") + str(tls.get("trust", "–"))
        if tls.get("client_certificate"):
            shown += f"; client certificate {tls['client_certificate']}"
        facts.append(Fact("TLS", shown))
    if transport.get("proxy"):
        facts.append(Fact("Proxy", str(transport["proxy"]), mono=True))
    return facts


def _first_failure(report: Report) -> str:
    stats: dict[str, Any] = dict(report.get("stats") or {})
    first = stats.get("first_must_failure")
    if not first:
        return ""
    return (
        f"First MUST failure: {first.get('requirement')} at request #{first.get('request')}, "
        f"{first.get('seconds')} s into the run."
    )


def _requirement(item: Requirement, replay: Replay | None = None) -> RequirementView:
    where = anchor("req", str(item.get("id", "")))
    return RequirementView(
        id=str(item.get("id", "")),
        anchor=where,
        level=str(item.get("level", "")),
        title=str(item.get("title", "")),
        statement=str(item.get("statement", "")),
        status=str(item.get("status", "")),
        reason=str(item.get("reason", "")),
        checks=int(item.get("checks", 0) or 0),
        violations=int(item.get("violations", 0) or 0),
        sources=[Source(str(s.get("cite", "")), str(s.get("quote", ""))) for s in item.get("sources", [])],
        evidence=[_exchange(ev, f"{where}-ev{n}", replay) for n, ev in enumerate(item.get("evidence", []), start=1)],
    )


def _observation(item: Observation, replay: Replay | None = None) -> ObservationView:
    where = anchor("obs", str(item.get("id", "")))
    return ObservationView(
        id=str(item.get("id", "")),
        anchor=where,
        title=str(item.get("title", "")),
        about=str(item.get("about", "")),
        seen=[(str(s.get("value", "")), int(s.get("count", 0))) for s in item.get("seen", [])],
        evidence=[_exchange(ev, f"{where}-ev{n}", replay) for n, ev in enumerate(item.get("evidence", []), start=1)],
    )


def _exchange(evidence: Evidence, where: str, replay: Replay | None = None) -> ExchangeView:
    """One piece of evidence as the page lays it out; a hand-edited report may hold anything, so every field is
    read defensively."""
    request = evidence.get("request")
    response: dict[str, Any] = dict(evidence.get("response") or {})
    detail = evidence.get("detail") or {}
    expected, actual = detail.get("expected"), detail.get("actual")
    common: dict[str, Any] = {
        "anchor": where,
        "label": str(evidence.get("label", "")),
        "seq": evidence.get("seq"),
        "explanation": str(evidence.get("explanation", "")),
        "value": str(evidence["value"]) if "value" in evidence else None,
        "outcome": (str(expected), str(actual)) if expected is not None and actual is not None else None,
    }
    if not isinstance(request, dict):
        return ExchangeView(has_exchange=False, **common)
    method = str(request.get("method", ""))
    url = str(request.get("url", ""))
    req_headers = {str(k): str(v) for k, v in (request.get("headers") or {}).items()}
    req_body, req_cut = request.get("body"), _count(request.get("body_truncated_chars"))
    resp_body, resp_cut = response.get("body"), _count(response.get("body_truncated_chars"))
    status = response.get("status")
    curl, notes = curl_command(method, url, req_headers, req_body, req_cut, replay)
    return ExchangeView(
        has_exchange=True,
        method=method,
        url=url,
        request_headers=headers(req_headers),
        request_body=body(req_body, req_cut),
        status=status if isinstance(status, int) else None,
        status_phrase=phrase(status),
        failure=str(response.get("failure") or ""),
        elapsed_ms=response.get("elapsed_ms"),
        response_headers=headers({str(k): str(v) for k, v in (response.get("headers") or {}).items()}),
        response_body=body(resp_body, resp_cut),
        curl=curl,
        curl_notes=notes,
        batch=batch_view(req_body, resp_body, detail, evidence.get("roles")),
        **common,
    )


def _count(value: Any) -> int:
    """A count read from report.json: a whole number, or 0 for anything else."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0
