"""index.html in a real browser, opened from disk: it renders, its filters work, it logs no error and it asks the
network for nothing."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from conformance.contract import load_catalogue

if TYPE_CHECKING:
    from tests.browser.conftest import Watched

pytestmark = pytest.mark.e2e


def rows(tab: Watched, selector: str = "") -> Any:
    return tab.page.locator(f"#matrix-table tbody tr{selector}")


def visible_count(tab: Watched, selector: str = "") -> int:
    return sum(1 for row in rows(tab, selector).all() if row.is_visible())


def test_conformant_report(tab: Watched, report_pages: dict[str, Path], screenshots: Path) -> None:
    from playwright.sync_api import expect

    url = tab.open(report_pages["conformant"])
    page = tab.page
    expect(page.locator("#verdict")).to_have_attribute("data-verdict", "conformant")
    expect(page.locator("#verdict")).to_contain_text("Conformant")
    expect(page.locator("header.banner")).to_be_visible()
    expect(page.locator("#command")).to_contain_text("dcs-conformance run --seed 3")
    total = rows(tab, "[data-status]").count()
    assert total == len(load_catalogue().requirements)
    expect(page.locator("#matrix-count")).to_have_text(f"Showing {total} of {total} requirements")

    page.locator('input[data-filter="status"][value="passed"]').uncheck()
    assert visible_count(tab) == 0
    expect(page.locator("#matrix-count")).to_have_text(f"Showing 0 of {total} requirements")
    expect(page.locator("#matrix-empty")).to_be_visible()
    page.locator("[data-filter-reset]").click()
    assert visible_count(tab, "[data-status]") == total

    should = rows(tab, '[data-level="SHOULD"]').count()
    assert should > 0
    page.locator('input[data-filter="level"][value="SHOULD"]').uncheck()
    assert visible_count(tab, '[data-level="SHOULD"]') == 0
    assert visible_count(tab, '[data-level="MUST"]') == total - should
    expect(page.locator("#matrix-count")).to_have_text(f"Showing {total - should} of {total} requirements")
    page.locator("[data-filter-reset]").click()

    page.screenshot(path=str(screenshots / "conformant.png"), full_page=True)
    tab.assert_quiet(url)


def test_non_conformant_report(tab: Watched, report_pages: dict[str, Path], screenshots: Path) -> None:
    from playwright.sync_api import expect

    url = tab.open(report_pages["non-conformant"])
    page = tab.page
    expect(page.locator("#verdict")).to_have_attribute("data-verdict", "non-conformant")
    expect(page.locator("#verdict")).to_contain_text("Non-conformant")
    expect(page.locator(".banner .summary")).to_contain_text("requirements failed")
    statuses = [row.get_attribute("data-status") for row in rows(tab, "[data-status]").all()]
    failed = statuses.count("failed")
    assert failed >= 1 and statuses[:failed] == ["failed"] * failed

    page.locator('input[data-filter="status"][value="passed"]').uncheck()
    assert visible_count(tab, '[data-status="passed"]') == 0
    assert visible_count(tab, '[data-status="failed"]') == failed
    expect(page.locator("#matrix-count")).to_have_text(
        f"Showing {len(statuses) - statuses.count('passed')} of {len(statuses)} requirements"
    )
    page.locator('input[data-filter="level"][value="MUST"]').uncheck()
    page.locator('input[data-filter="status"][value="passed"]').check()
    assert visible_count(tab, '[data-level="MUST"]') == 0
    assert visible_count(tab, "[data-status]") == rows(tab, '[data-level="SHOULD"]').count()
    page.locator("[data-filter-reset]").click()

    page.locator("#row-req-BR-REQ-009 a").click()
    assert page.url.endswith("#req-BR-REQ-009")
    finding = page.locator("#req-BR-REQ-009")
    expect(finding).to_be_in_viewport()
    missing = finding.locator("tr.problem-missing").first
    expect(missing).to_be_visible()
    expect(missing).to_contain_text("requested, not answered")
    expect(finding.locator("pre.curl").first).to_contain_text("curl -sS -i -X POST")

    page.screenshot(path=str(screenshots / "non-conformant.png"), full_page=True)
    tab.assert_quiet(url)


def test_without_javascript_every_row_is_shown_and_no_dead_filter(
    tab_without_js: Watched, report_pages: dict[str, Path]
) -> None:
    from playwright.sync_api import expect

    url = tab_without_js.open(report_pages["non-conformant"])
    page = tab_without_js.page
    expect(page.locator("#verdict")).to_be_visible()
    expect(page.locator("#filters")).to_be_hidden()
    assert visible_count(tab_without_js, "[data-status]") == rows(tab_without_js, "[data-status]").count()
    summary = page.locator("#req-BR-REQ-009 details.body-fold summary").first
    summary.click()  # folded bodies open without JavaScript
    expect(page.locator("#req-BR-REQ-009 details.body-fold pre").first).to_be_visible()
    tab_without_js.assert_quiet(url)


def test_print_layout_hides_the_filters(tab: Watched, report_pages: dict[str, Path]) -> None:
    from playwright.sync_api import expect

    url = tab.open(report_pages["non-conformant"])
    tab.page.emulate_media(media="print")
    expect(tab.page.locator("#filters")).to_be_hidden()
    expect(tab.page.locator("#verdict")).to_be_visible()
    tab.assert_quiet(url)


def test_hostile_bodies_stay_text(tab: Watched, tmp_path: Path) -> None:
    """Markup in what the target sent is shown, never run, and fetches nothing."""
    from playwright.sync_api import expect

    from conformance.reporters import html

    hostile = (
        '</pre><script>window.owned = 1; alert(1)</script><img src="https://evil.example/x.png" onerror="alert(2)">'
    )
    evidence = {
        "label": hostile,
        "seq": 1,
        "request": {
            "method": "POST",
            "url": "https://dcs.example.com/v2/p/migration-tasks/batch-restart",
            "headers": {"x-evil": hostile},
            "body": '{"migration_tasks": ["a"]}',
        },
        "response": {"status": 500, "headers": {}, "body": hostile, "elapsed_ms": 1.0},
        "explanation": hostile,
    }
    report = {
        "verdict": "non-conformant",
        "error": hostile,
        "requirements": [
            {
                "id": "BR-REQ-003",
                "level": "MUST",
                "title": "t",
                "statement": "s",
                "sources": [],
                "status": "failed",
                "reason": hostile,
                "checks": 1,
                "violations": 1,
                "evidence": [evidence],
            }
        ],
        "observations": [],
    }
    url = tab.open(html.write(report, tmp_path))
    expect(tab.page.locator("#run-error")).to_have_text(hostile)
    assert tab.page.evaluate("window.owned") is None
    tab.assert_quiet(url)  # a dialog the page opened would be among its errors
