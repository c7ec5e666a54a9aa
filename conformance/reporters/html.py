"""index.html: the human-readable report, rendered from the finished report dictionary alone.

Like every reporter it never runs a check or sends a request: whatever the page shows can be traced to a field of
report.json, so the page and the machine-readable record cannot disagree. The page is one self-contained file (inline
CSS, a little inline JavaScript for the filters) so that it opens from disk, from a CI artefact or an e-mail
attachment, with no server and no network access.

Response bodies, headers and even task IDs come from the target under test, which is untrusted: the Jinja2
environment autoescapes everything, and a Content-Security-Policy that only allows our own inline style and script
(by hash) means that even a mistake in escaping could not load or run anything else.

The template stays simple: everything that needs logic (sorting, pretty-printing, the per-ID view of batch answers,
the curl command) is computed here into small view-model objects.
"""

from __future__ import annotations

import contextlib
import http
import json
import re
import shlex
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from markupsafe import Markup, escape

from conformance.files import write_atomically
from conformance.reporters import page

FILENAME = "index.html"
TEMPLATE = "report.html.j2"

#: Order of the requirement matrix: what needs fixing first.
STATUS_ORDER = ("failed", "error", "warning", "skipped", "passed")
LEVEL_ORDER = ("MUST", "SHOULD", "MAY")
#: Statuses whose evidence the page lays out in full.
DETAILED = ("failed", "error", "warning")
RESULTS = ("success", "failed")
#: Per-ID problems about which IDs came back, as opposed to what came back for them.
STRUCTURAL = ("missing", "foreign", "duplicated")

#: Bodies longer than this are folded into a <details> element, so one 50-item answer does not bury the page.
FOLD_CHARS = 1200
FOLD_LINES = 24
#: Task IDs can be 1 KiB long (an edge case the suite sends on purpose); the per-ID table shortens them.
ID_DISPLAY_CHARS = 96

MASK = "[REDACTED]"
#: Headers curl computes itself, or that only describe the suite's own connection.
HOP_BY_HOP = frozenset({"host", "content-length", "connection", "accept-encoding", "transfer-encoding", "keep-alive"})
#: What to send instead of a masked credential: a shell variable, expanded by the shell (hence double quotes).
TOKEN_PLACEHOLDERS = {
    "x-auth-token": ("X-Auth-Token", "DCS_AUTH_TOKEN"),
    "x-security-token": ("X-Security-Token", "DCS_SECURITY_TOKEN"),
    "x-subject-token": ("X-Subject-Token", "DCS_SUBJECT_TOKEN"),
}
AUTHORIZATION_PLACEHOLDER = "Authorization: <SDK-HMAC-SHA256 signature: sign with CLOUD_SDK_AK/CLOUD_SDK_SK>"

_TRUNCATED = re.compile(r"\.\.\. \[(\d+) more characters folded\]\Z")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CODE_SPAN = re.compile(r"`([^`]+)`")

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


# ---------------------------------------------------------------------------------------------------------------
# View models: plain data the template only has to lay out.


@dataclass(frozen=True)
class Header:
    name: str
    value: str
    redacted: bool


@dataclass(frozen=True)
class Body:
    """A body as the page shows it: pretty JSON when it parses, otherwise the text with control characters made
    visible; folded when long."""

    text: str
    kind: str  # "json", "text", "empty" or "none"
    chars: int
    lines: int
    folded: bool
    truncated_by: int  # characters the suite left out of report.json (0: complete)


@dataclass(frozen=True)
class BatchRow:
    task_id: str  # as shown (JSON-quoted, shortened)
    full_id: str  # JSON-quoted, complete (tooltip)
    order: int | None  # first position in the request, 1-based; None for foreign IDs
    requested: int
    answered: int
    results: list[str]
    error_codes: list[str]
    positions: list[int]  # indexes in the response's migration_tasks
    problems: list[tuple[str, str]]  # (css class, words)


@dataclass(frozen=True)
class BatchView:
    """The per-ID picture of one batch answer: each requested ID against what came back for it."""

    rows: list[BatchRow]
    requested: int
    distinct: int
    items: int
    missing: int
    foreign: int
    duplicated: int
    unexpected: int
    malformed: list[str]
    highlights: list[str]  # the structural problems (missing, foreign, duplicated IDs), spelled out

    @property
    def problem_count(self) -> int:
        return self.missing + self.foreign + self.duplicated + self.unexpected + len(self.malformed)


@dataclass(frozen=True)
class ExchangeView:
    anchor: str
    label: str
    seq: int | None
    explanation: str
    value: str | None  # an observation's value, when this exchange illustrates one
    has_exchange: bool
    method: str = ""
    url: str = ""
    request_headers: list[Header] = field(default_factory=list)
    request_body: Body | None = None
    status: int | None = None
    status_phrase: str = ""
    failure: str = ""  # why no complete answer arrived (timeout, reset, not HTTP, body over the cap)
    elapsed_ms: float | None = None
    response_headers: list[Header] = field(default_factory=list)
    response_body: Body | None = None
    curl: str = ""
    curl_notes: list[str] = field(default_factory=list)
    batch: BatchView | None = None


@dataclass(frozen=True)
class Source:
    cite: str
    quote: str


@dataclass(frozen=True)
class RequirementView:
    id: str
    anchor: str
    level: str
    title: str
    statement: str
    status: str
    reason: str
    checks: int
    violations: int
    sources: list[Source]
    evidence: list[ExchangeView]


@dataclass(frozen=True)
class ObservationView:
    id: str
    anchor: str
    title: str
    about: str
    seen: list[tuple[str, int]]
    evidence: list[ExchangeView]


@dataclass(frozen=True)
class Fact:
    label: str
    value: str
    mono: bool = False


@dataclass(frozen=True)
class FilterOption:
    value: str
    count: int


# ---------------------------------------------------------------------------------------------------------------
# Public API.


def render(report: dict[str, Any]) -> str:
    """The complete page for one report dictionary (as written to report.json)."""
    css, js = page.asset("report.css"), page.asset("report.js")
    env = page.environment()
    env.filters["code_spans"] = code_spans
    rendered = env.get_template(TEMPLATE).render(
        css=Markup(css), js=Markup(js), csp=page.content_security_policy(css, js), **_view(report)
    )
    return page.utf8_safe(rendered)


def write(report: dict[str, Any], directory: Path) -> Path:
    """Write index.html into the report directory atomically, so a reader never sees half a page."""
    return write_atomically(directory / FILENAME, render(report))


def code_spans(text: str) -> Markup:
    """Escape the text, then show `backticked` words as code, as the catalogue writes them."""
    return Markup(_CODE_SPAN.sub(r"<code>\1</code>", str(escape(text))))


# ---------------------------------------------------------------------------------------------------------------
# Building the page's view of a report.


def _view(report: dict[str, Any]) -> dict[str, Any]:
    requirements = [_requirement(item) for item in report.get("requirements", [])]
    requirements.sort(key=lambda req: (_rank(req.status, STATUS_ORDER), _natural(req.id)))
    counts = Counter(req.status for req in requirements)
    levels = Counter(req.level for req in requirements)
    verdict = str(report.get("verdict", "error"))
    return {
        "verdict": verdict,
        "verdict_label": VERDICTS.get(verdict, verdict),
        "verdict_mark": VERDICT_MARKS.get(verdict, "!"),
        "verdict_summary": _verdict_summary(verdict, requirements),
        "error": report.get("error") or "",
        "verdict_reason": report.get("verdict_reason") or "",
        "diagnosis": [str(message) for message in report.get("diagnosis") or []],
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
        "observations": [_observation(item) for item in report.get("observations", [])],
        "title": f"{VERDICTS.get(verdict, verdict)}: {_target_name(report)}",
    }


def _rank(value: str, order: tuple[str, ...]) -> int:
    return order.index(value) if value in order else len(order)


def _natural(text: str) -> tuple[Any, ...]:
    """BR-REQ-9 before BR-REQ-10, whatever the padding."""
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text))


def _anchor(prefix: str, text: str) -> str:
    return f"{prefix}-{re.sub(r'[^A-Za-z0-9_-]', '-', text)}"


def _target_name(report: dict[str, Any]) -> str:
    return str(report.get("target", {}).get("base_url") or "unknown target")


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
        return (
            f"{plural(count('skipped', 'MUST'), 'MUST requirement')} could not be exercised, so the run cannot "
            "claim conformance; see the reason below."
        )
    errors = count("error")
    return "The run could not be completed" + (f"; {plural(errors, 'requirement')} ended in error." if errors else ".")


def _facts(report: dict[str, Any]) -> list[Fact]:
    target = report.get("target", {})
    stats = report.get("stats", {})
    options = report.get("options", {})
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
        Fact("Started", _date(str(report.get("started_at", "")))),
        Fact("Duration", _duration(report.get("duration_s"))),
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


def _date(stamp: str) -> str:
    return stamp.replace("T", " ").removesuffix("Z") + " UTC" if stamp.endswith("Z") else stamp or "–"


def _duration(seconds: Any) -> str:
    if not isinstance(seconds, int | float):
        return "–"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s" if minutes < 60 else f"{minutes // 60} h {minutes % 60} min"


def _first_failure(report: dict[str, Any]) -> str:
    first = report.get("stats", {}).get("first_must_failure")
    if not first:
        return ""
    return (
        f"First MUST failure: {first.get('requirement')} at request #{first.get('request')}, "
        f"{first.get('seconds')} s into the run."
    )


def _requirement(item: dict[str, Any]) -> RequirementView:
    anchor = _anchor("req", str(item.get("id", "")))
    return RequirementView(
        id=str(item.get("id", "")),
        anchor=anchor,
        level=str(item.get("level", "")),
        title=str(item.get("title", "")),
        statement=str(item.get("statement", "")),
        status=str(item.get("status", "")),
        reason=str(item.get("reason", "")),
        checks=int(item.get("checks", 0) or 0),
        violations=int(item.get("violations", 0) or 0),
        sources=[Source(str(s.get("cite", "")), str(s.get("quote", ""))) for s in item.get("sources", [])],
        evidence=[_exchange(ev, f"{anchor}-ev{n}") for n, ev in enumerate(item.get("evidence", []), start=1)],
    )


def _observation(item: dict[str, Any]) -> ObservationView:
    anchor = _anchor("obs", str(item.get("id", "")))
    return ObservationView(
        id=str(item.get("id", "")),
        anchor=anchor,
        title=str(item.get("title", "")),
        about=str(item.get("about", "")),
        seen=[(str(s.get("value", "")), int(s.get("count", 0))) for s in item.get("seen", [])],
        evidence=[_exchange(ev, f"{anchor}-ev{n}") for n, ev in enumerate(item.get("evidence", []), start=1)],
    )


def _exchange(evidence: dict[str, Any], anchor: str) -> ExchangeView:
    request = evidence.get("request")
    response = evidence.get("response") or {}
    common = {
        "anchor": anchor,
        "label": str(evidence.get("label", "")),
        "seq": evidence.get("seq"),
        "explanation": str(evidence.get("explanation", "")),
        "value": str(evidence["value"]) if "value" in evidence else None,
    }
    if not isinstance(request, dict):
        return ExchangeView(has_exchange=False, **common)
    method = str(request.get("method", ""))
    url = str(request.get("url", ""))
    req_headers = {str(k): str(v) for k, v in (request.get("headers") or {}).items()}
    req_body = request.get("body")
    resp_body = response.get("body")
    status = response.get("status")
    curl, notes = curl_command(method, url, req_headers, req_body)
    return ExchangeView(
        has_exchange=True,
        method=method,
        url=url,
        request_headers=_headers(req_headers),
        request_body=_body(req_body),
        status=status if isinstance(status, int) else None,
        status_phrase=_phrase(status),
        failure=str(response.get("failure") or ""),
        elapsed_ms=response.get("elapsed_ms"),
        response_headers=_headers({str(k): str(v) for k, v in (response.get("headers") or {}).items()}),
        response_body=_body(resp_body),
        curl=curl,
        curl_notes=notes,
        batch=batch_view(req_body, resp_body),
        **common,
    )


def _phrase(status: Any) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except (ValueError, TypeError):
        return ""


def _headers(headers: dict[str, str]) -> list[Header]:
    return [Header(_visible(name), _visible(value), MASK in value) for name, value in headers.items()]


def _visible(text: str) -> str:
    """Control characters shown as their Unicode pictures (U+2400...), so they are seen, not swallowed."""
    return _CONTROL.sub(lambda m: "\u2421" if m.group() == "\x7f" else chr(0x2400 + ord(m.group())), text)


def _json_text(value: Any, indent: int | None = 2) -> str:
    """JSON as a reader wants it (non-ASCII kept), with lone surrogates written back as escapes."""
    text = json.dumps(value, indent=indent, ensure_ascii=False)
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _body(raw: Any) -> Body:
    if raw is None:
        return Body("", "none", 0, 0, False, 0)
    raw = str(raw)
    if raw == "":
        return Body("", "empty", 0, 0, False, 0)
    truncated = _TRUNCATED.search(raw)
    text, kind = _visible(raw), "text"
    if not truncated:
        with contextlib.suppress(ValueError, RecursionError):
            text, kind = _json_text(json.loads(raw)), "json"
    lines = text.count("\n") + 1
    return Body(
        text=text,
        kind=kind,
        chars=len(raw),
        lines=lines,
        folded=len(text) > FOLD_CHARS or lines > FOLD_LINES,
        truncated_by=int(truncated.group(1)) if truncated else 0,
    )


# ---------------------------------------------------------------------------------------------------------------
# curl.


def curl_command(method: str, url: str, headers: dict[str, str], body: str | None) -> tuple[str, list[str]]:
    """A shell command that sends the recorded request again, and notes on what the reader must supply.

    Hop-by-hop headers are left to curl; masked credentials become placeholders (a shell variable for tokens, a
    reminder to sign for AK/SK, since a signature covers X-Sdk-Date and cannot be replayed anyway)."""
    lines = [f"curl -sS -i -X {shlex.quote(method or 'GET')} {shlex.quote(url)}"]
    notes: list[str] = []
    for name, value in headers.items():
        lowered = name.lower()
        if lowered in HOP_BY_HOP:
            continue
        if MASK not in value:
            lines.append(f"-H {shlex.quote(f'{name}: {value}')}")
        elif lowered in TOKEN_PLACEHOLDERS:
            canonical, variable = TOKEN_PLACEHOLDERS[lowered]
            lines.append(f'-H "{canonical}: ${variable}"')
            notes.append(f"Set {variable} to a valid token before running it.")
        elif lowered == "authorization":
            lines.append(f"-H {shlex.quote(AUTHORIZATION_PLACEHOLDER)}")
            notes.append(
                "The request was signed with AK/SK (SDK-HMAC-SHA256): sign it again with your CLOUD_SDK_AK and "
                "CLOUD_SDK_SK and a fresh X-Sdk-Date, e.g. with the official SDK's signer."
            )
        else:
            lines.append(f"-H {shlex.quote(f'{name}: <{name}, redacted in the report>')}")
            notes.append(f"Supply the {name} header; its value was redacted.")
    if body is not None:
        truncated = _TRUNCATED.search(body)
        if truncated:
            body = body[: truncated.start()]
            notes.append(f"The request body was cut in report.json ({truncated.group(1)} characters left out).")
        if "\x00" in body:
            notes.append("The body contains NUL characters, which a shell argument cannot carry.")
            body = body.replace("\x00", "")
        lines.append(f"--data-binary {shlex.quote(body)}")
    return " \\\n  ".join(lines), list(dict.fromkeys(notes))


# ---------------------------------------------------------------------------------------------------------------
# The per-ID view of a batch answer.


def batch_view(request_body: Any, response_body: Any) -> BatchView | None:
    """Each requested ID (in request order, with how often it was requested) against the items answered for it.

    Only for a request body of the form {"migration_tasks": [strings]} answered by a body whose migration_tasks is
    a list; anything else is not a batch answer to compare."""
    requested = _requested_ids(request_body)
    if requested is None or not isinstance(response_body, str):
        return None
    try:
        answer = json.loads(response_body)
    except (ValueError, RecursionError):
        return None
    if not isinstance(answer, dict) or not isinstance(answer.get("migration_tasks"), list):
        return None

    wanted = Counter(requested)
    answered: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    malformed: list[str] = []
    for index, item in enumerate(answer["migration_tasks"]):
        if isinstance(item, dict) and isinstance(item.get("task_id"), str):
            answered.setdefault(item["task_id"], []).append((index, item))
        else:
            malformed.append(f"$.migration_tasks[{index}] is {_json_text(item, None)[:120]}")

    rows: list[BatchRow] = []
    first_seen = {task: requested.index(task) + 1 for task in wanted}
    for task in [*wanted, *(task for task in answered if task not in wanted)]:
        items = answered.get(task, [])
        rows.append(_batch_row(task, first_seen.get(task), wanted[task], items))

    def tally(css: str) -> int:
        return sum(1 for row in rows if any(problem == css for problem, _ in row.problems))

    highlights = [
        f"{css}: {row.task_id}"
        + (f" (requested at #{row.order})" if row.order else f" (answered at [{row.positions[0]}])")
        for row in rows
        for css, _ in row.problems
        if css in STRUCTURAL
    ]

    return BatchView(
        rows=rows,
        requested=len(requested),
        distinct=len(wanted),
        items=len(answer["migration_tasks"]),
        missing=tally("missing"),
        foreign=tally("foreign"),
        duplicated=tally("duplicated"),
        unexpected=tally("unexpected"),
        malformed=malformed,
        highlights=highlights,
    )


def _requested_ids(body: Any) -> list[str] | None:
    if not isinstance(body, str):
        return None
    try:
        request = json.loads(body)
    except (ValueError, RecursionError):
        return None
    if not isinstance(request, dict):
        return None
    tasks = request.get("migration_tasks")
    if not isinstance(tasks, list) or not tasks or not all(isinstance(task, str) for task in tasks):
        return None
    return tasks


def _batch_row(task: str, order: int | None, requested: int, items: list[tuple[int, dict[str, Any]]]) -> BatchRow:
    results = [
        _json_text(item.get("result"), None) if not isinstance(item.get("result"), str) else item["result"]
        for _, item in items
    ]
    codes = [str(item["error_code"]) for _, item in items if item.get("error_code") is not None]
    problems: list[tuple[str, str]] = []
    if not requested:
        problems.append(("foreign", "answered, never requested"))
    elif not items:
        problems.append(("missing", "requested, not answered"))
    elif len(items) not in {1, requested}:
        problems.append(("duplicated", f"answered {len(items)}× for {requested}× requested"))
    if any(item.get("result") not in RESULTS for _, item in items):
        problems.append(("unexpected", "result is not success or failed"))
    full = _json_text(task, None)
    shown_id = full if len(full) <= ID_DISPLAY_CHARS else f"{full[:ID_DISPLAY_CHARS]}… ({len(task)} characters)"
    return BatchRow(
        task_id=_visible(shown_id),
        full_id=_visible(full),
        order=order,
        requested=requested,
        answered=len(items),
        results=[_visible(result) for result in results],
        error_codes=[_visible(code) for code in codes],
        positions=[index for index, _ in items],
        problems=problems,
    )
