"""Rules every response must follow, whatever was asked: status codes, content type, error body, request ID."""

from __future__ import annotations

import json

from conformance.checks.rules import Rule, covers
from conformance.judging.results import NOT_JSON, TOO_DEEP, Exchange, Finding, Seen

DOCUMENTED_STATUSES = frozenset({200, 400, 401, 403, 404, 500})

NO_SERVER_ERROR = Rule("BR-REQ-003")
ERROR_BODY = Rule("BR-REQ-004")
JSON_CONTENT_TYPE = Rule("BR-REQ-005")
SUCCESS_IS_200 = Rule("BR-REQ-006")
REQUEST_ID = Rule("BR-REQ-021")
DOCUMENTED_STATUS = Rule("BR-REQ-022")
ANSWERED = Rule("BR-REQ-023")


@covers(NO_SERVER_ERROR)
def check_no_server_error(ex: Exchange) -> list[Finding]:
    """Client input is never the server's fault: a 5xx answer to anything we send is a violation."""
    return [NO_SERVER_ERROR.judged(ex.status < 500, f"status {ex.status} answered a client request")]


@covers(SUCCESS_IS_200)
def check_success_is_200(ex: Exchange) -> list[Finding]:
    """The only documented success status is 200; other 2xx (201, 207...) break clients that expect it."""
    if not 200 <= ex.status < 300:
        return []
    return [SUCCESS_IS_200.judged(ex.status == 200, f"success answered with undocumented status {ex.status}")]


@covers(DOCUMENTED_STATUS)
def check_documented_status(ex: Exchange) -> list[Finding]:
    message = f"status {ex.status} is not among 200/400/401/403/404/500"
    return [DOCUMENTED_STATUS.judged(ex.status in DOCUMENTED_STATUSES, message)]


@covers(JSON_CONTENT_TYPE)
def check_json_content_type(ex: Exchange) -> list[Finding | Seen]:
    """A body must be declared as application/json; parameters such as charset are allowed."""
    if not ex.response_body:
        return []
    declared = ex.header("content-type")
    seen: list[Finding | Seen] = [Seen("OBS-010", declared or "(none)")]
    media_type = (declared or "").split(";", 1)[0].strip().lower()
    message = f"Content-Type is {declared!r}, not application/json"
    return [*seen, JSON_CONTENT_TYPE.judged(media_type == "application/json", message)]


@covers(REQUEST_ID)
def check_request_id(ex: Exchange) -> list[Finding]:
    present = bool((ex.header("x-request-id") or "").strip())
    return [REQUEST_ID.judged(present, "no X-Request-Id header on the response")]


def error_body_problem(body: object) -> str | None:
    """Why a body is not the documented error body, or None when it is."""
    if body is NOT_JSON:
        return "the error body is not JSON"
    if not isinstance(body, dict):
        return f"the error body is a JSON {type(body).__name__}, not an object"
    for key in ("error_code", "error_msg"):
        if key not in body:
            return f"the error body has no {key!r}"
        if not isinstance(body[key], str):
            return f"$.{key} is {type(body[key]).__name__} {body[key]!r}, not a string"
    ext = body.get("error_ext_msg")
    if ext is not None and not isinstance(ext, str):
        return f"$.error_ext_msg is {type(ext).__name__}, not a string or null"
    return None


def json_text_problem(body: bytes) -> str | None:
    """Why a body that parses as JSON is still not the JSON text a client reads, or None.

    Python's ``json.loads`` of bytes (what the checks parse with) skips a UTF-8 byte order mark and reads UTF-16 and
    UTF-32; RFC 8259, the definition of application/json, says JSON sent over a network is UTF-8 without a byte
    order mark, and the official SDK decodes the body as UTF-8 text and parses that, which fails on both."""
    encoding = json.detect_encoding(body)  # how json.loads read it: from the first four bytes
    if encoding == "utf-8":
        return None
    if encoding == "utf-8-sig":
        return "the body starts with a byte order mark (U+FEFF), which a JSON parser of the text refuses"
    return f"the body is {encoding.upper()}, not UTF-8 (JSON on a network is UTF-8, RFC 8259)"


def error_code_format(code: str) -> str:
    if code.startswith("DCS.") and code[4:].isdigit():
        return "DCS.NNNN"
    parts = code.split(".")
    if len(parts) == 3 and parts[0] == "dcs" and parts[1].isdigit() and parts[2].isdigit():
        return "dcs.NN.NNNN"
    return "other"


@covers(ERROR_BODY)
def check_error_body(ex: Exchange) -> list[Finding | Seen]:
    """The SDK reads error_code/error_msg from every 4xx/5xx body; without them a client learns nothing."""
    if ex.status < 400:
        return []
    if ex.response_json is TOO_DEEP:
        return [ERROR_BODY.unjudged(f"the error body is {ex.body_problem}")]
    problem = error_body_problem(ex.response_json)
    if ex.response_json is NOT_JSON:
        problem = f"{problem} ({ex.body_problem})"
    if problem is None and (text_problem := json_text_problem(ex.response_body)) is not None:
        # The SDK turns an error body it cannot parse into error_code = the status: the caller loses the code.
        problem = f"the error body parses only leniently: {text_problem}"
    results: list[Finding | Seen] = [ERROR_BODY.judged(problem is None, problem or "")]
    if problem is None:
        code = ex.response_json["error_code"]
        results.append(Seen("OBS-007", f"{code} ({error_code_format(code)}, status {ex.status})"))
    return results


@covers(ANSWERED)
def check_answered(ex: Exchange) -> list[Finding]:
    """A request left without a complete answer gives the caller nothing; the reason is the evidence."""
    if ex.complete:
        return [ANSWERED.held()]
    status = f" (status {ex.status} had arrived)" if ex.status else ""
    return [ANSWERED.violated(f"{ex.failure}{status}")]


def check_response(ex: Exchange) -> list[Finding | Seen]:
    """All rules that hold for any response to any request; a request without a complete answer is judged only on
    having had none."""
    if not ex.complete:
        return [*check_answered(ex)]
    return [
        *check_answered(ex),
        *check_no_server_error(ex),
        *check_success_is_200(ex),
        *check_documented_status(ex),
        *check_json_content_type(ex),
        *check_request_id(ex),
        *check_error_body(ex),
    ]
