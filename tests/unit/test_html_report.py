"""index.html: rendered from the report dictionary alone, self-contained, safe against hostile target output.

The real reports are golden files (tests/golden/report-*.json, written by tests/golden/regenerate.py from runs
against the embedded reference), so that these tests prove the page against report.json as it is, without a run.
"""

from __future__ import annotations

import copy
import html as htmllib
import json
import os
import re
import shlex
from pathlib import Path
from typing import Any, cast

import pytest

from conformance.judging.results import MAX_BODY_CHARS
from conformance.report.model import Detail
from conformance.report.store import load_report
from conformance.reporters import html, json_report
from conformance.reporters.batch_view import batch_view
from conformance.reporters.curl import curl_command, replay_for

HOSTILE = (
    '</textarea></pre></details><script>alert("owned")</script><img src=x onerror=alert(1)>'
    "<style>@import url(//evil.example/x.css);</style>"
)
URL = "https://dcs.example.com/v2/p1/migration-tasks/batch-restart"
GOLDEN = Path(__file__).parent.parent / "golden"


# ---------------------------------------------------------------------------------------------------------------
# Reports: golden reports of real runs (a conformant one, one with items dropped from large batches), and small
# hand-made ones.


@pytest.fixture(scope="module")
def runs() -> dict[str, dict[str, Any]]:
    return {
        name: json.loads((GOLDEN / f"report-{name}.json").read_text(encoding="utf-8"))
        for name in ("conformant", "non-conformant")
    }


def exchange(
    *,
    request_body: str | None = '{"migration_tasks": ["a"]}',
    response_body: str = '{"migration_tasks": [{"task_id": "a", "result": "success"}]}',
    status: int = 200,
    headers: dict[str, str] | None = None,
    label: str = "a batch",
    explanation: str = "",
) -> dict[str, Any]:
    return {
        "label": label,
        "seq": 7,
        "request": {
            "method": "POST",
            "url": URL,
            "headers": headers
            if headers is not None
            else {
                "host": "dcs.example.com",
                "content-length": "30",
                "connection": "keep-alive",
                "accept-encoding": "gzip, deflate",
                "content-type": "application/json;charset=utf-8",
                "x-auth-token": "[REDACTED]",
            },
            "body": request_body,
        },
        "response": {
            "status": status,
            "headers": {"content-type": "application/json"},
            "body": response_body,
            "elapsed_ms": 3.2,
        },
        "explanation": explanation,
    }


def requirement(
    rid: str, status: str, level: str = "MUST", evidence: list[dict[str, Any]] | None = None, reason: str = ""
) -> dict[str, Any]:
    return {
        "id": rid,
        "level": level,
        "title": f"Title of {rid}",
        "statement": f"Statement of {rid} about `migration_tasks`.",
        "sources": [{"cite": "API page: Table 2", "quote": "migration_tasks Yes Array of strings"}],
        "status": status,
        "reason": reason or f"{status} because of reasons",
        "checks": 3,
        "violations": 1 if status in ("failed", "warning") else 0,
        "evidence": evidence or [],
    }


def make_report(requirements: list[dict[str, Any]], **overrides: Any) -> dict[str, Any]:
    report: dict[str, Any] = {
        "verdict": "non-conformant",
        "error": None,
        "suite_version": "9.9.9",
        "spec_sha256": "ab" * 32,
        "seed": 42,
        "target": {
            "base_url": "https://dcs.example.com",
            "project_id": "p1",
            "embedded": False,
            "fixtures": None,
            "auth": "token",
            "faults": [],
            "variants": [],
        },
        "options": {"max_examples": 10, "rate_limit": None, "max_requests": None, "strict": False, "certify": False},
        "command": "dcs-conformance run --base-url https://dcs.example.com --seed 42 --auth-token $DCS_AUTH_TOKEN",
        "started_at": "2026-01-02T03:04:05Z",
        "duration_s": 12.5,
        "stats": {
            "requests": 5,
            "generated_cases": 2,
            "generated_by_phase": {"fuzzing": 2},
            "first_must_failure": None,
        },
        "counts": {},
        "requirements": requirements,
        "observations": [
            {
                "id": "OBS-001",
                "title": "Response order",
                "about": "Whether order is kept.",
                "seen": [{"value": "request order kept", "count": 4}],
                "evidence": [{"value": "request order kept", **exchange()}],
            },
            {
                "id": "OBS-008",
                "title": "Additional fields",
                "about": "Undocumented fields.",
                "seen": [],
                "evidence": [],
            },
        ],
    }
    report.update(overrides)
    return report


@pytest.fixture
def hostile_report() -> dict[str, Any]:
    """Every string the target controls is markup here: bodies, headers, task IDs, observation values."""
    evidence = exchange(
        request_body=json.dumps({"migration_tasks": [HOSTILE, "b"]}),
        response_body=json.dumps({"migration_tasks": [{"task_id": HOSTILE, "result": HOSTILE, "error_code": HOSTILE}]}),
        headers={"content-type": "application/json", "x-evil": HOSTILE},
        label=HOSTILE,
        explanation=f"$.migration_tasks[0].result is {HOSTILE!r}",
    )
    raw = exchange(response_body=HOSTILE, status=500, explanation="the error body is not JSON")
    raw["response"]["headers"] = {HOSTILE: HOSTILE}
    report = make_report([requirement("BR-REQ-001", "failed", evidence=[evidence, raw])])
    report["observations"][0]["seen"] = [{"value": HOSTILE, "count": 1}]
    report["observations"][0]["evidence"] = [{"value": HOSTILE, **raw}]
    report["error"] = HOSTILE
    return report


def matrix_rows(page: str) -> list[tuple[str, str]]:
    """(status, ID) of each requirement-matrix row, in page order."""
    return re.findall(r'data-status="([^"]+)" data-level="[^"]*" id="row-req-([^"]+)"', page)


def section(page: str, anchor: str) -> str:
    start = page.index(f'id="{anchor}"')
    end = page.find('<article class="finding', start + 1)
    return page[start : end if end > 0 else len(page)]


# ---------------------------------------------------------------------------------------------------------------
# Real reports.


def test_conformant_run_gets_a_green_banner_and_no_failure_section(runs: dict[str, dict[str, Any]]) -> None:
    page = html.render(runs["conformant"])
    assert '<header class="banner verdict-conformant"' in page
    assert re.search(r'<h1 id="verdict"[^>]*>.*Conformant</h1>', page)
    assert 'id="findings"' not in page
    assert {status for status, _ in matrix_rows(page)} == {"passed"}
    assert len(matrix_rows(page)) == len(runs["conformant"]["requirements"])


def test_banner_shows_the_run_facts_and_the_reproducing_command(runs: dict[str, dict[str, Any]]) -> None:
    report = runs["non-conformant"]
    page = html.render(report)
    assert '<header class="banner verdict-non-conformant"' in page
    assert "Non-conformant</h1>" in page
    for fact in (
        report["spec_sha256"],
        report["suite_version"],
        report["target"]["project_id"],
        "embedded reference server",
        "drop-in-large-batches",
        str(report["stats"]["requests"]),
    ):
        assert fact in page
    assert f'<pre class="cmd" id="command">{report["command"]}</pre>' in page
    assert html.render(report) == page  # deterministic: the same report gives the same page


def test_failed_requirements_come_first_then_by_status_and_id(runs: dict[str, dict[str, Any]]) -> None:
    rows = matrix_rows(html.render(runs["non-conformant"]))
    statuses = [status for status, _ in rows]
    assert statuses[:2] == ["failed", "failed"]
    assert max(i for i, s in enumerate(statuses) if s == "failed") < min(
        i for i, s in enumerate(statuses) if s == "passed"
    )
    assert rows == sorted(rows, key=lambda row: (html.STATUS_ORDER.index(row[0]), row[1]))


def test_every_matrix_row_links_to_a_detail_section(runs: dict[str, dict[str, Any]]) -> None:
    page = html.render(runs["non-conformant"])
    for _, rid in matrix_rows(page):
        assert f'href="#req-{rid}"' in page
        assert f'id="req-{rid}"' in page


def test_the_per_id_view_marks_the_dropped_id_as_missing(runs: dict[str, dict[str, Any]]) -> None:
    report = runs["non-conformant"]
    failed = next(req for req in report["requirements"] if req["id"] == "BR-REQ-009")
    evidence = next(ev for ev in failed["evidence"] if ev.get("detail"))
    dropped = re.search(r"'([^']+)'$", evidence["explanation"])
    assert dropped, evidence["explanation"]
    assert evidence["detail"] == {"missing": [dropped.group(1)]}  # what check_coverage knew
    details = section(html.render(report), "req-BR-REQ-009")
    missing_rows = re.findall(r'<tr class="problem problem-missing[^"]*"[^>]*>(.*?)</tr>', details, re.S)
    assert missing_rows
    assert f"&#34;{dropped.group(1)}&#34;" in missing_rows[0]
    assert "requested, not answered" in missing_rows[0]
    assert f"missing: &#34;{dropped.group(1)}&#34;" in details  # spelled out above the table too


def test_the_page_is_rendered_from_report_json_alone(runs: dict[str, dict[str, Any]], tmp_path: Path) -> None:
    json_report.write(runs["non-conformant"], tmp_path)
    assert html.render(load_report(tmp_path)) == html.render(runs["non-conformant"])


# ---------------------------------------------------------------------------------------------------------------
# Per-ID view.


def test_batch_view_marks_the_ids_the_finding_names_and_unexpected_results() -> None:
    request = json.dumps({"migration_tasks": ["a", "b", "b", "c", "d", "e"]})
    response = json.dumps(
        {
            "migration_tasks": [
                {"task_id": "a", "result": "success"},
                {"task_id": "b", "result": "failed", "error_code": "DCS.4800", "error_msg": "no"},
                {"task_id": "e", "result": "success"},
                {"task_id": "e", "result": "success"},
                {"task_id": "e", "result": "failed"},
                {"task_id": "c", "result": "SUCCESS"},
                {"task_id": "x", "result": "success"},
                "garbage",
            ]
        }
    )
    view = batch_view(request, response, {"missing": ["d"], "foreign": ["x"], "repeated": ["e"]})
    assert view is not None
    rows = {row.task_id: row for row in view.rows}
    assert [row.task_id for row in view.rows] == ['"a"', '"b"', '"c"', '"d"', '"e"', '"x"']
    assert rows['"a"'].problems == []
    assert rows['"b"'].requested == 2 and rows['"b"'].problems == []  # once per ID is allowed
    assert rows['"b"'].error_codes == ["DCS.4800"]
    assert [css for css, _ in rows['"c"'].problems] == ["unexpected"]
    assert [css for css, _ in rows['"d"'].problems] == ["missing"] and rows['"d"'].order == 5
    assert [css for css, _ in rows['"e"'].problems] == ["duplicated"] and rows['"e"'].positions == [2, 3, 4]
    assert [css for css, _ in rows['"x"'].problems] == ["foreign"] and rows['"x"'].order is None
    assert (view.missing, view.foreign, view.duplicated, view.unexpected) == (1, 1, 1, 1)
    assert view.requested == 6 and view.distinct == 5 and view.items == 8
    assert view.malformed == ['$.migration_tasks[7] is "garbage"']


def test_batch_view_marks_the_row_whose_outcome_the_finding_names_with_its_role() -> None:
    """Swapped outcomes: the restartable task came back failed. Its row must say so, not "ok", and count among the
    unexpected outcomes, so the table never contradicts the finding above it."""
    request = json.dumps({"migration_tasks": ["r", "n"]})
    response = json.dumps(
        {
            "migration_tasks": [
                {"task_id": "r", "result": "failed", "error_code": "DCS.4957", "error_msg": "state"},
                {"task_id": "n", "result": "success"},
            ]
        }
    )
    detail = {"expected": "success", "actual": "failed", "task": "r", "role": "restartable"}
    view = batch_view(request, response, cast(Detail, detail))
    assert view is not None
    rows = {row.task_id: row for row in view.rows}
    assert rows['"r"'].problems == [("outcome", "came back failed; a restartable task must come back success")]
    assert rows['"n"'].problems == []
    assert view.unexpected == 1


def test_every_per_id_row_names_its_role_in_the_run_and_an_answered_stranger_is_foreign() -> None:
    """The roles come from the run's plan (the evidence's ``roles``: fixtures and the IDs the run minted), so a
    reader sees which IDs were restartable, non-restartable or unknown without knowing the fixtures file."""
    request = json.dumps({"migration_tasks": ["r", "n", "u", "z"]})
    answered = [{"task_id": task, "result": "failed"} for task in ("r", "n", "u", "z", "stranger")]
    roles = {"r": "restartable", "n": "non-restartable", "u": "unknown", "z": "other"}
    view = batch_view(request, json.dumps({"migration_tasks": answered}), None, roles)
    assert view is not None
    assert [(row.task_id, row.role) for row in view.rows] == [
        ('"r"', "restartable"),
        ('"n"', "non-restartable"),
        ('"u"', "unknown"),
        ('"z"', "other"),
        ('"stranger"', "foreign"),
    ]
    assert [row.role for row in batch_view(request, json.dumps({"migration_tasks": answered[:1]}), None, "junk").rows][
        :2
    ] == ["", ""]  # a hand-edited report's roles are read defensively: no role rather than a wrong one


def test_swapped_outcomes_show_the_failed_row_marked_and_every_row_s_role_on_the_page() -> None:
    request = json.dumps({"migration_tasks": ["r-1", "n-1"]})
    response = json.dumps(
        {
            "migration_tasks": [
                {"task_id": "r-1", "result": "failed", "error_code": "DCS.4957", "error_msg": "state"},
                {"task_id": "n-1", "result": "success"},
            ]
        }
    )
    evidence = exchange(request_body=request, response_body=response)
    evidence["detail"] = {"expected": "success", "actual": "failed", "task": "r-1", "role": "restartable"}
    evidence["roles"] = {"r-1": "restartable", "n-1": "non-restartable"}
    page = html.render(
        make_report([requirement("BR-REQ-014", "failed", evidence=[evidence])], verdict="non-conformant")
    )
    finding = page[page.index('id="req-BR-REQ-014"') : page.index('id="observations"')]
    rows = re.findall(r'<tr class="([^"]*)" data-task-problems="[^"]*" data-role="([^"]*)">', finding)
    assert rows == [("problem problem-outcome ", "restartable"), ("", "non-restartable")]
    assert '<span class="role role-non-restartable">non-restartable</span>' in page
    assert "<th>Role</th>" in page


def test_batch_view_derives_no_coverage_problem_the_finding_does_not_name() -> None:
    request = json.dumps({"migration_tasks": ["a", "b"]})
    response = json.dumps({"migration_tasks": [{"task_id": "a", "result": "success"}]})
    view = batch_view(request, response)
    assert view is not None
    assert [row.problems for row in view.rows] == [[], []]
    assert [row.answered for row in view.rows] == [1, 0]  # the facts are still laid out
    assert view.problem_count == 0 and view.highlights == []


def test_a_batch_answer_holding_a_5000_digit_number_keeps_its_per_id_view_and_is_pretty_printed() -> None:
    """The page reads a body as the checks do (jsontext): a number CPython's json.loads refuses to convert is still
    JSON, so the answer keeps its per-ID table and is shown pretty-printed with every digit."""
    digits = "7" * 5000
    request = json.dumps({"migration_tasks": ["a", "b"]})
    response = (
        '{"migration_tasks": [{"task_id": "a", "result": "success"}, '
        f'{{"task_id": "b", "result": "failed", "error_code": {digits}, "error_msg": "no"}}], "total": -{digits}}}'
    )
    view = batch_view(request, response)
    assert view is not None
    assert [row.task_id for row in view.rows] == ['"a"', '"b"']
    assert [row.answered for row in view.rows] == [1, 1] and view.items == 2
    assert view.rows[1].error_codes == ["77777777777777777777...(5000 digits)"]  # shortened in the table
    evidence = exchange(request_body=request, response_body=response)
    page = html.render(make_report([requirement("BR-REQ-009", "failed", evidence=[evidence])]))
    details = section(page, "req-BR-REQ-009")
    assert '<details class="batch" open>' in details
    assert f"&#34;error_code&#34;: {digits},\n" in details  # pretty-printed, the number whole
    assert f"&#34;total&#34;: -{digits}\n}}" in details


@pytest.mark.parametrize(
    ("request_body", "response_body"),
    [
        (None, '{"migration_tasks": []}'),
        ("not json", '{"migration_tasks": []}'),
        ('{"migration_tasks": [1, 2]}', '{"migration_tasks": []}'),
        ('{"migration_tasks": []}', '{"migration_tasks": []}'),
        ('{"migration_tasks": ["a"]}', '{"error_code": "DCS.4800", "error_msg": "no"}'),
        ('{"migration_tasks": ["a"]}', ""),
    ],
)
def test_no_batch_view_when_there_is_no_batch_answer(request_body: str | None, response_body: str) -> None:
    assert batch_view(request_body, response_body) is None


# ---------------------------------------------------------------------------------------------------------------
# Safety: escaping, no network, no secrets.


def test_hostile_target_output_is_escaped_everywhere(hostile_report: dict[str, Any]) -> None:
    page = html.render(hostile_report)
    assert page.count("<script") == 1  # ours, at the end
    assert page.rstrip().endswith("</script>\n</body>\n</html>")
    for raw in ("<script>alert", "</textarea>", "<img src=x", "</pre></details><script", "<style>@import"):
        assert raw not in page
    assert "&lt;script&gt;alert(&#34;owned&#34;)&lt;/script&gt;" in page  # shown as text, in header and row
    assert "&lt;/textarea&gt;" in page
    assert page.count("<style") == 1
    assert page.count('<pre class="body" tabindex="0">') >= 2


def test_ids_in_running_text_are_kept_whole_and_the_text_is_still_escaped() -> None:
    from conformance.reporters.html_text import whole_ids

    shown = whole_ids("<b>BR-REQ-001</b>, OBS-004; not XBR-REQ-0019x")
    assert shown == (
        '&lt;b&gt;<span class="req-id">BR-REQ-001</span>&lt;/b&gt;, <span class="req-id">OBS-004</span>; '
        "not XBR-REQ-0019x"
    )


def test_csp_allows_only_the_inline_style_and_script_by_hash(hostile_report: dict[str, Any]) -> None:
    page = html.render(hostile_report)
    csp = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', htmllib.unescape(page))
    assert csp
    assert "default-src 'none'" in csp.group(1)
    assert "unsafe-inline" not in csp.group(1)
    assert re.search(r"script-src 'sha256-[A-Za-z0-9+/=]+'", csp.group(1))


@pytest.mark.parametrize("name", ["conformant", "non-conformant", "hostile"])
def test_no_resource_is_loaded_from_a_url(
    name: str, runs: dict[str, dict[str, Any]], hostile_report: dict[str, Any]
) -> None:
    page = html.render(hostile_report if name == "hostile" else runs[name])
    assert not re.search(r"""\b(?:src|href|action|srcset|poster|data)\s*=\s*["']?\s*(?:[a-z]+:)?//""", page, re.I)
    styles = re.findall(r"<style>(.*?)</style>", page, re.S)
    assert len(styles) == 1
    assert "@import" not in styles[0] and "url(" not in styles[0]
    assert not re.search(r"\sstyle\s*=", page, re.I)  # no inline style attribute could carry a url() either
    assert not re.search(r"<(?:link|iframe|object|embed|img|base|frame|audio|video|source)\b", page, re.I)
    hrefs = set(re.findall(r'href="([^"]*)"', page))
    assert {"report.json", "junit.xml"} <= hrefs
    assert all(href.startswith("#") or href in ("report.json", "junit.xml") for href in hrefs), hrefs


def test_no_secret_is_added(runs: dict[str, dict[str, Any]]) -> None:
    report = runs["non-conformant"]
    page = html.render(report)
    assert "[REDACTED]" in page  # the masked Authorization header is shown as masked
    assert "Access=" not in page and "Signature=" not in page


# ---------------------------------------------------------------------------------------------------------------
# curl.


def test_curl_uses_placeholders_for_credentials_and_drops_hop_by_hop_headers() -> None:
    body = '{"migration_tasks": ["it\'s", "$(rm -rf /)"]}'
    headers = {
        "host": "dcs.example.com",
        "content-length": "40",
        "connection": "keep-alive",
        "accept-encoding": "gzip",
        "content-type": "application/json",
        "x-auth-token": "[REDACTED]",
        "authorization": "[REDACTED]",
        "x-sdk-date": "20260102T030405Z",
    }
    command, notes = curl_command("POST", URL, headers, body)
    assert '-H "X-Auth-Token: $DCS_AUTH_TOKEN"' in command
    assert "Authorization: <SDK-HMAC-SHA256 signature: sign with CLOUD_SDK_AK/CLOUD_SDK_SK>" in command
    assert "[REDACTED]" not in command
    for hop in ("host:", "content-length:", "connection:", "accept-encoding:"):
        assert hop not in command.lower()
    words = shlex.split(command.replace("\\\n", " "))
    assert words[:6] == ["curl", "-sS", "-i", "-X", "POST", URL]
    assert words[words.index("--data-binary") + 1] == body  # the shell hands curl the exact body
    assert "x-sdk-date: 20260102T030405Z" in words
    assert any("DCS_AUTH_TOKEN" in note for note in notes) and any("CLOUD_SDK_AK" in note for note in notes)


def test_an_embedded_run_s_request_is_replayed_against_serve_started_as_the_run_had_it() -> None:
    """The embedded reference's port is gone and its keys were the run's alone: the curl goes to serve's default
    port without them, and a note gives the serve command (same seed, seeded counts, faults and variants)."""
    report = {
        "seed": 4,
        "command": "dcs-conformance run --seed 4 --max-examples 100 --embedded-restartable 5 --fault drop-last-item",
        "target": {"embedded": True, "faults": ["drop-last-item"], "variants": ["lowercase-result"]},
    }
    replay = replay_for(report)
    assert replay is not None
    assert replay.serve == (
        "dcs-conformance serve --seed 4 --restartable 5 --fault drop-last-item --variant lowercase-result"
    )
    headers = {"authorization": "[REDACTED]", "x-sdk-date": "20260102T030405Z", "content-type": "application/json"}
    url = "http://127.0.0.1:40123/v2/p/migration-tasks/batch-restart"
    command, notes = curl_command("POST", url, headers, '{"migration_tasks": []}', replay=replay)
    words = shlex.split(command.replace("\\\n", " "))
    assert words[5] == "http://127.0.0.1:18080/v2/p/migration-tasks/batch-restart"
    assert not any(word.lower().startswith(("authorization", "x-sdk-date")) for word in words)
    assert any(replay.serve in note for note in notes)
    assert replay_for({"seed": 4, "target": {"embedded": False}}) is None
    assert replay_for({"seed": "4; id", "target": {"embedded": True}}) is None, "a stranger's seed is not printed"


def test_curl_for_a_truncated_body_sends_what_was_kept_and_says_so() -> None:
    kept = '{"migration_tasks": ["' + "a" * (MAX_BODY_CHARS - 22)
    command, notes = curl_command("POST", URL, {}, kept + "... [99 more characters folded]", truncated_chars=99)
    assert "more characters folded" not in command
    words = shlex.split(command.replace("\\\n", " "))
    assert words[words.index("--data-binary") + 1] == kept
    assert any("99 characters left out" in note for note in notes)


def test_a_truncated_body_is_shown_as_text_with_what_was_left_out() -> None:
    evidence = exchange(response_body='{"migration_tasks": []}... [5 more characters folded]')
    evidence["response"]["body_truncated_chars"] = 5
    page = html.render(make_report([requirement("BR-REQ-001", "failed", evidence=[evidence])]))
    assert "5 characters were left out" in page
    assert "{&#34;migration_tasks&#34;: []}... [5 more characters folded]" in page  # not pretty-printed


def test_the_expected_and_answered_outcome_of_a_finding_is_shown() -> None:
    evidence = {**exchange(explanation="task 'a' failed"), "detail": {"expected": "success", "actual": "failed"}}
    page = html.render(make_report([requirement("BR-REQ-014", "failed", evidence=[evidence])]))
    assert "Expected outcome <strong>success</strong>, answered <strong>failed</strong>" in page


def test_the_page_carries_the_curl_command(runs: dict[str, dict[str, Any]]) -> None:
    page = html.render(runs["non-conformant"])  # an embedded run: replayed against serve, as printed
    assert "curl -sS -i -X POST http://127.0.0.1:18080/v2/" in page
    assert "start it as the run had it first, dcs-conformance serve --seed" in page
    assert "SDK-HMAC-SHA256 signature" not in page
    remote = copy.deepcopy(runs["non-conformant"])
    remote["target"]["embedded"] = False
    assert "Authorization: &lt;SDK-HMAC-SHA256 signature: sign with CLOUD_SDK_AK/CLOUD_SDK_SK&gt;" in html.render(
        remote
    )
    token_page = html.render(make_report([requirement("BR-REQ-001", "failed", evidence=[exchange()])]))
    assert "-H &#34;X-Auth-Token: $DCS_AUTH_TOKEN&#34;" in token_page


# ---------------------------------------------------------------------------------------------------------------
# Content of the sections.


@pytest.mark.parametrize("verdict", ["conformant", "conformant-with-warnings", "non-conformant", "incomplete", "error"])
def test_each_verdict_has_its_banner(verdict: str) -> None:
    page = html.render(
        make_report(
            [requirement("BR-REQ-001", "passed")],
            verdict=verdict,
            error="the target could not be reached" if verdict == "error" else None,
        )
    )
    assert f'<header class="banner verdict-{verdict}"' in page
    assert f">{html.VERDICTS[verdict]}</h1>" in page
    assert ("the target could not be reached" in page) == (verdict == "error")


def test_an_incomplete_banner_states_the_diagnosis_once_and_one_count() -> None:
    """The runner's reason begins with the diagnosis; the banner shows the diagnosis in its box and only the rest
    of the reason below it, with the count of the MUST requirements that make the run incomplete (not every MUST
    skipped, some of which only wanted fixtures or extra credentials)."""
    diagnosis = "the credentials were rejected: every well-formed request was answered 401"
    reason = f"{diagnosis}; 7 MUST requirement(s) not exercised: BR-REQ-003, BR-REQ-004"
    skipped = [requirement(f"BR-REQ-{n:03}", "skipped") for n in range(1, 12)]
    page = htmllib.unescape(
        html.render(make_report(skipped, verdict="incomplete", verdict_reason=reason, diagnosis=[diagnosis]))
    )
    assert page.count(diagnosis) == 1
    assert "7 MUST requirement(s) not exercised: BR-REQ-003, BR-REQ-004</p>" in re.sub(r"</?span[^>]*>", "", page)
    assert "11 MUST" not in page and "could not judge enough to claim conformance" in page


def test_json_bodies_are_pretty_printed_and_long_ones_folded() -> None:
    big = json.dumps(
        {
            "migration_tasks": [
                {
                    "task_id": f"t{n}",
                    "result": "failed",
                    "error_code": "DCS.4800",
                    "error_msg": "no such migration task",
                }
                for n in range(60)
            ]
        }
    )
    evidence = exchange(request_body='{"migration_tasks":["a"]}', response_body=big)
    page = html.render(make_report([requirement("BR-REQ-001", "failed", evidence=[evidence])]))
    assert "{\n  &#34;migration_tasks&#34;: [\n    &#34;a&#34;\n  ]\n}" in page
    assert re.search(r'<details class="body-fold">\s*<summary>Response body', page)


def test_warnings_errors_skipped_and_observations_have_their_sections() -> None:
    report = make_report(
        [
            requirement("BR-REQ-010", "passed"),
            requirement("BR-REQ-002", "warning", level="SHOULD", evidence=[exchange(explanation="status 422")]),
            requirement("BR-REQ-003", "skipped", reason="needs fixtures (--fixtures)"),
            requirement("BR-REQ-004", "error", reason="harness fault: boom"),
            requirement("BR-REQ-9", "failed", evidence=[{"explanation": "no exchange for this one"}]),
        ],
        verdict="error",
    )
    page = html.render(report)
    assert [rid for _, rid in matrix_rows(page)] == ["BR-REQ-9", "BR-REQ-004", "BR-REQ-002", "BR-REQ-003", "BR-REQ-010"]
    findings = page[page.index('id="findings"') : page.index('id="skipped"')]
    for text in ("status 422", "harness fault: boom", "no exchange for this one", "No HTTP exchange was recorded"):
        assert text in findings
    skipped = page[page.index('id="skipped"') : page.index('id="observations"')]
    assert "needs fixtures (--fixtures)" in skipped and "BR-REQ-003" in skipped
    observations = page[page.index('id="observations"') : page.index('id="passed"')]
    assert "request order kept" in observations and "4×" in observations and "not seen in this run" in observations
    assert 'data-filter="level" value="SHOULD"' in page and 'data-filter="status" value="skipped"' in page


def test_odd_characters_do_not_break_the_page() -> None:
    request = '{"migration_tasks": ["\\ud800x", "\\u0000\\u0007bell", "迁移任务"]}'
    response = '{"migration_tasks": [{"task_id": "\\ud800x", "result": "failed"}]}'
    evidence = exchange(request_body=request, response_body=response)
    evidence["response"]["headers"] = {"x-odd": "a\x00b"}
    page = html.render(make_report([requirement("BR-REQ-001", "failed", evidence=[evidence])]))
    page.encode("utf-8")  # no lone surrogate survives
    assert "\\ud800x" in page and "迁移任务" in page
    assert "a\u2400b" in page and "\x00" not in page


def test_a_minimal_report_still_renders() -> None:
    page = html.render({"verdict": "error", "error": "crashed early", "requirements": [], "observations": []})
    assert "crashed early" in page and "Showing 0 of 0 requirements" in page


# ---------------------------------------------------------------------------------------------------------------
# write.


def test_write_is_atomic_and_replaces_the_previous_page(runs: dict[str, dict[str, Any]], tmp_path: Path) -> None:
    (tmp_path / html.FILENAME).write_text("old", encoding="utf-8")
    report = copy.deepcopy(runs["non-conformant"])
    path = html.write(report, tmp_path)
    assert path == tmp_path / "index.html"
    assert path.read_text(encoding="utf-8") == html.render(report)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index.html"]


def test_a_write_that_fails_halfway_leaves_the_previous_page(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / html.FILENAME).write_text("old", encoding="utf-8")
    fdopen = os.fdopen

    class DiskFull:
        """The temporary file, on a disk that fills up when half the page is written."""

        def __init__(self, handle: Any) -> None:
            self.handle = handle

        def __enter__(self) -> DiskFull:
            return self

        def __exit__(self, *exc_info: object) -> None:
            self.handle.close()

        def write(self, data: bytes) -> int:
            self.handle.write(data[: len(data) // 2])
            self.handle.flush()
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fdopen", lambda fd, *args, **kwargs: DiskFull(fdopen(fd, *args, **kwargs)))
    with pytest.raises(OSError, match="No space left"):
        html.write(make_report([]), tmp_path)
    monkeypatch.undo()
    assert (tmp_path / html.FILENAME).read_text(encoding="utf-8") == "old"
    assert [path.name for path in tmp_path.iterdir()] == [html.FILENAME], "no temporary left behind"


def test_the_page_says_how_the_restartable_tasks_were_spent(runs: dict[str, dict[str, Any]]) -> None:
    report = copy.deepcopy(runs["conformant"])
    report["fixture_plan"] = {
        "restartable": 3,
        "not_restartable": 2,
        "spent": [
            {"scenario": "batch of 50", "label": "batch of 50 tasks: 2+2+46", "index": 3, "batch_size": 50},
            {"scenario": "batch of 50", "label": "batch of 50 tasks: 2+2+46", "index": 49, "batch_size": 50},
        ],
    }
    page = html.render(report)
    section = page[page.index('<section id="fixture-plan">') :]
    section = section[: section.index("</section>")]
    assert "How the 3 restartable tasks were spent" in section
    assert "2 non-restartable tasks given besides; 1 restartable task not needed." in section
    assert "<td>batch of 50 tasks: 2+2+46</td><td>4th</td><td>50</td>" in section
    assert "<td>50th</td>" in section


def test_a_run_without_fixtures_has_no_fixture_plan_section(runs: dict[str, dict[str, Any]]) -> None:
    report = copy.deepcopy(runs["conformant"])
    report["fixture_plan"] = None
    assert 'id="fixture-plan"' not in html.render(report)
    assert 'id="fixture-plan"' in html.render(runs["conformant"])
