"""dcs-conformance compare: what two reports are compared on, what is left out as not comparable, the fidelity
figure; compare.html (self-contained, escaped) and the command's files, output and exit codes."""

from __future__ import annotations

import base64
import copy
import hashlib
import html as htmllib
import json
import re
from pathlib import Path
from typing import Any

import pytest

from conformance.cli.main import main
from conformance.report.compare import compare, describe, should_fail
from conformance.report.store import ReportError, load_report, report_file
from conformance.reporters import compare_html


def entry(key: str, status: int = 400, error_code: str | None = "DCS.4800", **extra: Any) -> dict[str, Any]:
    label, _, occurrence = key.partition(" (#")
    return {
        "key": key,
        "label": label,
        "occurrence": int(occurrence.rstrip(")") or 1),
        "status": status,
        "error_code": error_code,
        **extra,
    }


def batch(key: str, items: dict[str, dict[str, int]], codes: dict[str, list[str]] | None = None) -> dict[str, Any]:
    return entry(key, 200, None, items=items, item_codes=codes or {})


def report(**changes: Any) -> dict[str, Any]:
    """A small report as the runner writes it: two requirements, two observations, a trace of four exchanges."""
    document: dict[str, Any] = {
        "verdict": "conformant",
        "error": None,
        "suite_version": "1.0.0",
        "spec_sha256": "a" * 64,
        "seed": 1,
        "target": {"base_url": "embedded reference server", "fixtures": "seeded", "faults": [], "variants": []},
        "options": {"max_examples": 20},
        "requirements": [
            {"id": "BR-REQ-001", "level": "MUST", "title": "Refusals", "statement": "4xx.", "status": "passed"},
            {"id": "BR-REQ-002", "level": "SHOULD", "title": "Exactly 400", "statement": "400.", "status": "passed"},
        ],
        "observations": [
            {"id": "OBS-001", "title": "Response order", "seen": [{"value": "request order kept", "count": 30}]},
            {"id": "OBS-004", "title": "Unknown task IDs", "seen": [{"value": "answered per item", "count": 1}]},
        ],
        "trace": {
            "format": 1,
            "scenarios": [
                entry("invalid: body is not JSON", 400, "DCS.4005"),
                batch("unknown task IDs", {"unknown": {"failed": 3}}, {"unknown": ["DCS.4800"]}),
                batch("mixed batch: 1+1+1", {"restartable": {"success": 1}, "unknown": {"failed": 1}}),
                entry("no credentials", 401, "DCS.1001"),
            ],
            "roles": {"unknown": {"items": {"failed": 4}, "error_codes": {"DCS.4800": 4}}},
            "generated": [
                {
                    "label": "generated (coverage, negative)",
                    "phase": "coverage",
                    "mode": "negative",
                    "media_type": None,
                    "count": 3,
                    "statuses": {"400": 3},
                    "error_codes": {"DCS.4800": 3},
                },
            ],
        },
    }
    document.update(changes)
    return document


def scenarios(document: dict[str, Any]) -> list[dict[str, Any]]:
    return document["trace"]["scenarios"]


def test_a_report_compared_with_itself_agrees_on_everything() -> None:
    comparison = compare(report(), report())
    assert comparison["fidelity"] == {"agree": 4, "compared": 4, "percent": 100.0}
    assert comparison["differs"] == {"requirements": False, "observations": False, "exchanges": False}
    assert comparison["notices"] == []
    assert not should_fail(comparison, "any")


def test_seeds_and_generated_cases_never_count_as_differences() -> None:
    candidate = report(seed=99)
    candidate["trace"]["generated"][0]["statuses"] = {"400": 2, "500": 1}
    comparison = compare(report(), candidate)
    assert comparison["differs"] == {"requirements": False, "observations": False, "exchanges": False}
    assert comparison["notices"] == []
    assert comparison["generated"]["rows"][0]["same_statuses"] is False


def test_an_exchange_differs_by_status_error_code_or_outcomes_per_role() -> None:
    candidate = report()
    scenarios(candidate)[0]["error_code"] = "dcs.40.0005"
    scenarios(candidate)[1] = entry("unknown task IDs", 404, "DCS.4001")
    comparison = compare(report(), candidate)
    differ = {row["key"]: row["fields"] for row in comparison["exchanges"]["differ"]}
    assert differ == {
        "invalid: body is not JSON": ["error_code"],
        "unknown task IDs": ["status", "error_code", "items", "item_codes"],
    }
    assert comparison["fidelity"] == {"agree": 2, "compared": 4, "percent": 50.0}
    assert comparison["differs"]["exchanges"]
    assert should_fail(comparison, "any")
    assert not should_fail(comparison, "requirements")


def test_exchanges_on_one_side_only_are_not_comparable_and_left_out_of_the_figure() -> None:
    candidate = report()
    scenarios(candidate)[2] = batch("mixed batch: 1+1+0", {"restartable": {"success": 1}})
    scenarios(candidate).append(batch("mixed batch: 1+1+0 (#2)", {"restartable": {"success": 1}}))
    comparison = compare(report(), candidate)
    exchanges = comparison["exchanges"]
    assert exchanges["only_in_base"] == ["mixed batch: 1+1+1"]
    assert exchanges["only_in_candidate"] == ["mixed batch: 1+1+0", "mixed batch: 1+1+0 (#2)"]
    assert exchanges["differ"] == []
    assert comparison["fidelity"] == {"agree": 3, "compared": 3, "percent": 100.0}
    assert not comparison["differs"]["exchanges"]


def test_throttled_exchanges_are_not_compared() -> None:
    candidate = report()
    scenarios(candidate)[3] = entry("no credentials", 429, "APIGW.0308", throttled=True)
    scenarios(candidate).insert(0, entry("invalid: body is not JSON (throttled)", 429, "APIGW.0308", throttled=True))
    comparison = compare(report(), candidate)
    assert comparison["exchanges"]["throttled"] == ["no credentials", "invalid: body is not JSON (throttled)"]
    assert comparison["exchanges"]["only_in_candidate"] == []
    assert comparison["fidelity"] == {"agree": 3, "compared": 3, "percent": 100.0}


def test_observations_agree_on_the_values_seen_not_on_their_counts() -> None:
    same_values = report()
    same_values["observations"][0]["seen"] = [{"value": "request order kept", "count": 41}]
    assert not compare(report(), same_values)["differs"]["observations"]

    other_values = report()
    other_values["observations"][1]["seen"] = [{"value": "whole request answered 404", "count": 1}]
    comparison = compare(report(), other_values)
    (row,) = [row for row in comparison["observations"]["rows"] if not row["same"]]
    assert (row["id"], row["only_in_base"], row["only_in_candidate"]) == (
        "OBS-004",
        ["answered per item"],
        ["whole request answered 404"],
    )
    assert should_fail(comparison, "observations")
    assert not should_fail(comparison, "requirements")


def test_a_requirement_status_that_differs_is_what_fail_on_requirements_catches() -> None:
    candidate = report()
    candidate["requirements"][1]["status"] = "warning"
    comparison = compare(report(), candidate)
    assert [row["id"] for row in comparison["requirements"]["rows"] if not row["same"]] == ["BR-REQ-002"]
    assert should_fail(comparison, "requirements")
    assert should_fail(comparison, "any")
    assert not should_fail(comparison, "observations")
    assert not should_fail(comparison, None)


def test_per_item_error_codes_by_role_are_compared_over_the_whole_run() -> None:
    candidate = report()
    candidate["trace"]["roles"]["unknown"]["error_codes"] = {"DCS.4800": 3, "DCS.4957": 1}
    candidate["trace"]["roles"]["other"] = {"items": {"failed": 1}, "error_codes": {"DCS.4800": 1}}
    rows = {row["role"]: row for row in compare(report(), candidate)["roles"]["rows"]}
    assert (rows["unknown"]["comparable"], rows["unknown"]["same"]) == (True, False)
    assert (rows["other"]["comparable"], rows["other"]["note"]) == (False, "no other item was answered in the base")
    assert compare(report(), candidate)["differs"]["exchanges"]


def test_reports_of_other_suite_versions_and_specs_compare_with_notices_of_what_cannot_be() -> None:
    candidate = report(suite_version="1.1.0", spec_sha256="b" * 64)
    candidate["requirements"][0]["statement"] = "Invalid requests get 4xx, now with more words."
    candidate["requirements"].append(
        {"id": "BR-REQ-099", "level": "MUST", "title": "New", "statement": "New.", "status": "failed"}
    )
    candidate["observations"].pop()
    comparison = compare(report(), candidate)
    notices = " ".join(comparison["notices"])
    assert "different suite versions (1.0.0 and 1.1.0)" in notices
    assert "different contracts" in notices
    notes = {row["id"]: row["note"] for row in comparison["requirements"]["rows"] if not row["comparable"]}
    assert notes == {
        "BR-REQ-001": "the requirement changed between the two suite versions",
        "BR-REQ-099": "only in candidate",
    }
    assert comparison["requirements"]["not_comparable"] == 2
    assert not comparison["differs"]["requirements"]
    assert [row["id"] for row in comparison["observations"]["rows"] if not row["comparable"]] == ["OBS-004"]


def test_a_report_without_a_trace_gives_no_fidelity_figure_and_says_why() -> None:
    old = report()
    del old["trace"]
    comparison = compare(old, report())
    assert comparison["fidelity"]["percent"] is None
    assert comparison["exchanges"]["comparable"] is False
    assert any("base report has no scenario trace" in notice for notice in comparison["notices"])


def test_traces_of_different_formats_are_not_compared() -> None:
    newer = report()
    newer["trace"]["format"] = 2
    comparison = compare(report(), newer)
    assert comparison["fidelity"]["percent"] is None
    assert any("different formats (1 and 2)" in notice for notice in comparison["notices"])


def test_a_run_that_ended_in_error_is_noticed() -> None:
    comparison = compare(report(), report(verdict="error", error="the target could not be reached: refused"))
    assert any("candidate run did not complete" in notice for notice in comparison["notices"])


def test_a_trace_entry_is_described_in_one_line() -> None:
    assert describe(entry("x", 404, "DCS.4001")) == "404 DCS.4001"
    described = describe(batch("y", {"restartable": {"success": 2}, "unknown": {"failed": 1}}, {"unknown": ["E"]}))
    assert described == "200 · restartable 2 success; unknown 1 failed [E]"
    assert describe(entry("z", 200, None, items=None)) == "200 · not a batch answer"
    assert describe(entry("z", 200, None, items={}, item_codes={})) == "200 · no items"
    assert describe(entry("t", 0, None, failure="no complete answer")) == "no complete answer"
    assert describe(None) == "–"


# -- loading: report.store.load_report as compare reads a report (a directory or its file, by its keys) ------------


def load(path: Path) -> Any:
    return load_report(path, or_file=True, loosely=True)


def test_a_report_loads_from_its_directory_or_its_file(tmp_path: Path) -> None:
    (tmp_path / "report.json").write_text(json.dumps(report()), encoding="utf-8")
    assert load(tmp_path) == load(tmp_path / "report.json") == report()
    assert report_file(tmp_path) == report_file(tmp_path / "report.json") == tmp_path / "report.json"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "does not exist"),
        ("{not json", "is not valid JSON"),
        ('{"verdict": "conformant"}', "is not a dcs-conformance report"),
        ("[1, 2]", "is not a dcs-conformance report"),
    ],
)
def test_what_is_not_a_report_is_refused_with_the_reason(tmp_path: Path, content: str | None, message: str) -> None:
    path = tmp_path / "report.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(ReportError, match=message):
        load(path)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda doc: doc.update(observations={"OBS-001": []}), "'observations' must be a list"),
        (lambda doc: doc["requirements"].append("BR-REQ-003"), "'requirements' must be a list of objects"),
        (lambda doc: doc.update(trace=[]), "'trace' must be an object"),
        (lambda doc: doc["trace"]["scenarios"][0].pop("key"), "'trace.scenarios' must be"),
        (lambda doc: doc["trace"]["scenarios"][1].update(items=[1]), "'trace.scenarios' must be"),
        (lambda doc: doc["trace"]["generated"][0].pop("statuses"), "'trace.generated' must be"),
        (lambda doc: doc["trace"].update(roles={"unknown": 3}), "'trace.roles' must map"),
    ],
)
def test_a_damaged_report_is_refused_with_what_is_wrong(tmp_path: Path, damage: Any, message: str) -> None:
    document = report()
    damage(document)
    path = tmp_path / "report.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(ReportError, match=f"is not a well-formed dcs-conformance report: {re.escape(message)}"):
        load(path)


def test_a_directory_without_a_report_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match=r"holds no report\.json: give a report directory or its report\.json"):
        load(tmp_path)


def test_comparing_leaves_both_reports_untouched() -> None:
    base, candidate = report(), report(seed=2)
    before = copy.deepcopy((base, candidate))
    compare(base, candidate)
    assert (base, candidate) == before


# -- compare.html ----------------------------------------------------------------------------------------------

HOSTILE = '</td></table><script>alert("owned")</script><img src=x onerror=alert(1)><a href="https://evil.example/">'


def hostile_pair() -> tuple[dict[str, Any], dict[str, Any]]:
    """Two reports whose target-controlled text (labels, error codes, observation values) is markup."""
    base, candidate = report(), report()
    for document in (base, candidate):
        document["target"]["base_url"] = "https://dcs.example.com/" + HOSTILE
        scenarios(document).append(entry(f"scenario {HOSTILE}", 400, "DCS.4800"))
    scenarios(candidate)[-1]["error_code"] = HOSTILE
    candidate["observations"][1]["seen"] = [{"value": HOSTILE, "count": 1}]
    return base, candidate


def test_the_page_shows_the_figure_and_the_differences() -> None:
    candidate = report()
    scenarios(candidate)[1] = entry("unknown task IDs", 404, "DCS.4001")
    candidate["observations"][1]["seen"] = [{"value": "whole request answered 404", "count": 1}]
    page = compare_html.render(compare(report(), candidate))
    assert 'data-state="behaviour"' in page
    assert "75.0%" in page
    assert 'data-key="unknown task IDs"' in page
    assert "404 DCS.4001" in page and "200 · unknown 3 failed [DCS.4800]" in page
    assert '<li class="only"><span class="count">1×</span>whole request answered 404</li>' in page


@pytest.mark.parametrize(
    ("change", "state"),
    [
        ({}, "same"),
        (
            {
                "requirements": [
                    {"id": "BR-REQ-001", "level": "MUST", "title": "t", "statement": "4xx.", "status": "failed"}
                ]
            },
            "requirements",
        ),
        ({"trace": None}, "unmeasured"),
    ],
)
def test_the_banner_names_the_worst_kind_of_difference(change: dict[str, Any], state: str) -> None:
    page = compare_html.render(compare(report(), report(**change)))
    assert f'data-state="{state}"' in page


def test_target_output_is_escaped_everywhere() -> None:
    page = compare_html.render(compare(*hostile_pair()))
    for raw in ("<script", "<img", 'href="https://evil', "</td></table>"):
        assert raw not in page
    assert "&lt;script&gt;alert(&#34;owned&#34;)&lt;/script&gt;" in page


def test_the_page_loads_nothing_and_allows_only_its_own_style() -> None:
    page = compare_html.render(compare(*hostile_pair()))
    assert not re.search(r"""\b(?:src|href|action|srcset|poster|data)\s*=\s*["']?\s*(?:[a-z]+:)?//""", page, re.I)
    assert not re.search(r"<(?:link|iframe|object|embed|img|base|frame|audio|video|source|script)\b", page, re.I)
    assert all(href.startswith("#") for href in re.findall(r'href="([^"]*)"', page))
    (style,) = re.findall(r"<style>(.*?)</style>", page, re.S)
    assert "@import" not in style and "url(" not in style
    csp = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', htmllib.unescape(page))
    assert csp
    digest = base64.b64encode(hashlib.sha256(style.encode("utf-8")).digest()).decode("ascii")
    assert f"style-src 'sha256-{digest}'" in csp.group(1)
    assert "default-src 'none'" in csp.group(1) and "script-src 'none'" in csp.group(1)


# -- the command -----------------------------------------------------------------------------------------------


def write_report(directory: Path, document: dict[str, Any]) -> Path:
    directory.mkdir(parents=True)
    (directory / "report.json").write_text(json.dumps(document), encoding="utf-8")
    return directory


def test_compare_writes_its_files_to_out_and_prints_the_figure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    candidate = report()
    scenarios(candidate)[0]["error_code"] = "dcs.40.0005"
    base_dir, cand_dir = write_report(tmp_path / "a", report()), write_report(tmp_path / "b", candidate)
    code = main(["compare", str(base_dir), str(cand_dir / "report.json"), "--out", str(tmp_path / "out")])
    out = capsys.readouterr().out
    assert code == 0
    written = json.loads((tmp_path / "out" / "compare.json").read_text(encoding="utf-8"))
    assert written == json.loads(
        json.dumps(
            compare(
                report(),
                candidate,
                base_name=str(base_dir / "report.json"),
                candidate_name=str(cand_dir / "report.json"),
            )
        )
    )
    assert (tmp_path / "out" / "compare.html").is_file()
    assert "fidelity: 75.0% (3 of 4 comparable scenario exchanges agree)" in out
    assert "  * invalid: body is not JSON  [error_code]" in out
    assert "      candidate: 400 dcs.40.0005" in out


def test_compare_writes_to_the_current_directory_by_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    base_dir = write_report(tmp_path / "a", report())
    monkeypatch.chdir(tmp_path)
    assert main(["compare", str(base_dir), str(base_dir)]) == 0
    assert (tmp_path / "compare.json").is_file() and (tmp_path / "compare.html").is_file()


@pytest.mark.parametrize(
    ("fail_on", "exit_code"),
    [(None, 0), ("requirements", 0), ("observations", 1), ("any", 1)],
)
def test_fail_on_exits_1_only_for_the_kind_named(tmp_path: Path, fail_on: str | None, exit_code: int) -> None:
    candidate = report()
    candidate["observations"][1]["seen"] = [{"value": "whole request answered 404", "count": 1}]
    base_dir, cand_dir = write_report(tmp_path / "a", report()), write_report(tmp_path / "b", candidate)
    flags = ["--fail-on", fail_on] if fail_on else []
    assert main(["compare", str(base_dir), str(cand_dir), "--out", str(tmp_path), *flags]) == exit_code


def test_fail_on_any_also_catches_a_differing_exchange(tmp_path: Path) -> None:
    candidate = report()
    scenarios(candidate)[3]["status"] = 403
    base_dir, cand_dir = write_report(tmp_path / "a", report()), write_report(tmp_path / "b", candidate)
    assert main(["compare", str(base_dir), str(cand_dir), "--out", str(tmp_path), "--fail-on", "observations"]) == 0
    assert main(["compare", str(base_dir), str(cand_dir), "--out", str(tmp_path), "--fail-on", "any"]) == 1


@pytest.mark.parametrize("problem", ["missing", "not json", "not a report"])
def test_a_bad_input_is_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str], problem: str) -> None:
    good = write_report(tmp_path / "good", report())
    bad = tmp_path / "bad.json"
    if problem != "missing":
        bad.write_text("{oops" if problem == "not json" else '{"verdict": "conformant"}', encoding="utf-8")
    code = main(["compare", str(good), str(bad), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("dcs-conformance compare: error: ") and err.count("\n") == 1
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_a_report_damaged_beyond_the_shape_check_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    damaged = report()
    damaged["observations"][0]["seen"] = ["request order kept"]
    good, bad = write_report(tmp_path / "good", report()), write_report(tmp_path / "bad", damaged)
    assert main(["compare", str(good), str(bad), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "is not a well-formed report (AttributeError" in err and err.count("\n") == 1


def test_an_unwritable_out_is_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = write_report(tmp_path / "good", report())
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    assert main(["compare", str(good), str(good), "--out", str(blocker / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("dcs-conformance compare: error: cannot write to ") and err.count("\n") == 1
