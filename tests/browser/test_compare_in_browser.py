"""compare.html in a real browser, opened from disk: it renders with its own style under its CSP, shows the
fidelity figure and the differing exchanges, logs no error, runs no script and asks the network for nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from conformance.app.run import execute
from conformance.config.settings import resolve
from conformance.report.compare import compare
from conformance.reporters import compare_html, compare_json

if TYPE_CHECKING:
    from tests.browser.conftest import Watched

pytestmark = pytest.mark.e2e

#: The banner colour the page borrows from the report for "behaviour differs" (#9a6700).
BEHAVIOUR_DIFFERS_RGB = "rgb(154, 103, 0)"


@pytest.fixture(scope="module")
def compare_pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """compare.html beside compare.json for the reference against a variant that refuses unknown IDs, and for the
    reference against itself, as ``dcs-conformance compare --out DIR`` leaves them."""
    runs = {}
    for name, variants in (("reference", []), ("unknown-ids-rejected", ["unknown-ids-rejected"])):
        directory = tmp_path_factory.mktemp(name)
        settings = resolve({"seed": 3, "max_examples": 20, "report_dir": str(directory), "variant": variants}, env={})
        runs[name] = execute(settings, progress=lambda _: None).report
    pages = {}
    for name, candidate in (("differs", runs["unknown-ids-rejected"]), ("same", runs["reference"])):
        out = tmp_path_factory.mktemp(f"compare-{name}")
        comparison = compare(runs["reference"], candidate, base_name="reference", candidate_name=name)
        compare_json.write(comparison, out)
        pages[name] = compare_html.write(comparison, out)
    return pages


def test_a_comparison_with_differences(tab: Watched, compare_pages: dict[str, Path], screenshots: Path) -> None:
    from playwright.sync_api import expect

    comparison = json.loads((compare_pages["differs"].parent / "compare.json").read_text(encoding="utf-8"))
    url = tab.open(compare_pages["differs"])
    page = tab.page
    expect(page.locator("#state")).to_have_attribute("data-state", "behaviour")
    expect(page.locator("#state")).to_have_text("Behaviour differs")
    expect(page.locator("#fidelity")).to_contain_text(f"{comparison['fidelity']['percent']:.1f}% fidelity")
    assert page.locator("header.banner").evaluate("e => getComputedStyle(e).backgroundColor") == BEHAVIOUR_DIFFERS_RGB

    rows = page.locator("#exchange-table tbody tr")
    assert rows.count() == len(comparison["exchanges"]["differ"]) > 0
    unknown = page.locator('#exchange-table tr[data-key="unknown task IDs"]')
    expect(unknown).to_be_visible()
    expect(unknown).to_contain_text("404 DCS.4001")
    expect(unknown).to_contain_text("unknown 3 failed")

    differing = page.locator("#observation-table tbody tr.differs")
    assert differing.count() == comparison["observations"]["differ"]
    expect(page.locator('#observation-table tr[data-id="OBS-004"]')).to_have_class("differs")
    expect(page.locator("#requirement-table tbody tr.differs")).to_have_count(0)
    expect(page.locator("#not-comparable")).to_be_visible()

    page.locator('nav a[href="#exchanges"]').click()
    expect(page.locator("#exchanges h2")).to_be_in_viewport()
    page.screenshot(path=str(screenshots / "compare-differs.png"), full_page=True)
    tab.assert_quiet(url)


def test_a_comparison_of_a_run_with_itself(tab: Watched, compare_pages: dict[str, Path], screenshots: Path) -> None:
    from playwright.sync_api import expect

    url = tab.open(compare_pages["same"])
    page = tab.page
    expect(page.locator("#state")).to_have_attribute("data-state", "same")
    expect(page.locator("#fidelity")).to_contain_text("100.0% fidelity")
    expect(page.locator("#all-agree")).to_be_visible()
    expect(page.locator("tr.differs")).to_have_count(0)
    page.screenshot(path=str(screenshots / "compare-same.png"), full_page=True)
    tab.assert_quiet(url)


def test_printing_keeps_every_table(tab: Watched, compare_pages: dict[str, Path]) -> None:
    from playwright.sync_api import expect

    url = tab.open(compare_pages["differs"])
    tab.page.emulate_media(media="print")
    for table in ("#requirement-table", "#observation-table", "#exchange-table", "#role-table"):
        expect(tab.page.locator(table)).to_be_visible()
    expect(tab.page.locator("nav.toc")).to_be_hidden()
    tab.assert_quiet(url)
