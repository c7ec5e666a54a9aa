"""Every kind of page the suite writes, in a real Chromium at phone width (390 px) and desktop width (1280 px): the
document never scrolls sideways (wide tables scroll inside their own box or stack), requirement IDs never break
across lines, and axe-core finds no serious or critical accessibility violation.

The five pages: a conformant report, a non-conformant one (swapped outcomes in mixed batches), an incomplete one
(fixtures used up by an earlier run), a comparison, and the overview of those reports as targets mode writes it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from conformance.app.run import execute
from conformance.config.settings import resolve
from conformance.reference.app import create_app
from conformance.reference.server import BackgroundServer
from conformance.reference.store import seed_store
from conformance.report.compare import compare
from conformance.reporters import compare_html, compare_json, html, json_report, junit, overview

if TYPE_CHECKING:
    from tests.browser.conftest import Watched

pytestmark = pytest.mark.e2e

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
PAGES = ("conformant", "non-conformant", "incomplete", "compare", "overview")
#: What axe-core must never find; "moderate" and "minor" ones are left to judgement.
BLOCKING = ("serious", "critical")
PROJECT = "p-nightly"


def _run(directory: Path, **flags: Any) -> dict[str, Any]:
    settings = resolve({"seed": 3, "max_examples": 10, "report_dir": str(directory), **flags}, env={})
    return execute(settings, progress=lambda _: None).report


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("pages")
    conformant = json.loads((GOLDEN / "report-conformant.json").read_text(encoding="utf-8"))
    (root / "conformant").mkdir()
    json_report.write(conformant, root / "conformant")
    junit.write(conformant, root / "conformant")
    html.write(conformant, root / "conformant")

    _run(root / "non-conformant", fault=["swap-outcomes-in-mixed"])

    store, fixtures = seed_store(restartable=2, not_restartable=2, seed=3)
    fixtures_file = root / "fixtures.json"
    fixtures_file.write_text(json.dumps(fixtures), encoding="utf-8")
    with BackgroundServer(create_app(store, projects=[PROJECT])) as server:
        nightly = {"base_url": server.base_url, "project_id": PROJECT, "fixtures": str(fixtures_file), "workers": 1}
        _run(root / "first-night", **nightly)
        incomplete = _run(root / "incomplete", **nightly)
    assert incomplete["verdict"] == "incomplete"

    (root / "compare").mkdir()
    other = json.loads((GOLDEN / "report-non-conformant.json").read_text(encoding="utf-8"))
    comparison = compare(conformant, other, base_name="conformant", candidate_name="drop-in-large-batches")
    compare_json.write(comparison, root / "compare")
    compare_html.write(comparison, root / "compare")

    (root / "overview").mkdir()
    targets = overview.read_report_dirs([root / name for name in ("conformant", "non-conformant", "incomplete")])
    overview.write(overview.build(targets, root / "overview"), root / "overview")
    return {
        "conformant": root / "conformant" / "index.html",
        "non-conformant": root / "non-conformant" / "index.html",
        "incomplete": root / "incomplete" / "index.html",
        "compare": root / "compare" / "compare.html",
        "overview": root / "overview" / "index.html",
    }


#: How many lines each requirement or observation ID on the page takes (the distinct tops of its text's boxes).
ID_LINES = """() => Array.from(document.querySelectorAll("td.id, .finding > header .id, .req-id"))
  .filter((element) => element.offsetParent !== null)
  .map((element) => {
    const range = document.createRange();
    range.selectNodeContents(element);
    const tops = new Set(Array.from(range.getClientRects()).map((rect) => Math.round(rect.top)));
    return [element.textContent.trim(), tops.size];
  })"""

AXE_RUN = """async () => {
  const result = await axe.run(document, { resultTypes: ["violations"] });
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ")),
  }));
}"""


@pytest.mark.parametrize("name", PAGES)
def test_the_document_never_scrolls_sideways_and_ids_stay_whole(
    sized_tab: Watched, pages: dict[str, Path], name: str, screenshots: Path
) -> None:
    url = sized_tab.open(pages[name])
    page = sized_tab.page
    width = page.evaluate("window.innerWidth")
    assert page.evaluate("document.documentElement.scrollWidth") == width
    ids = page.evaluate(ID_LINES)
    assert ids, "the page shows requirement IDs"
    assert [(text, lines) for text, lines in ids if lines != 1] == []
    page.screenshot(path=str(screenshots / f"{name}-{width}.png"), full_page=True)
    sized_tab.assert_quiet(url)


@pytest.mark.parametrize("name", PAGES)
def test_axe_finds_no_serious_or_critical_violation(
    sized_tab: Watched, pages: dict[str, Path], name: str, axe_script: Path
) -> None:
    url = sized_tab.open(pages[name])
    sized_tab.page.add_script_tag(path=str(axe_script))
    violations = sized_tab.page.evaluate(AXE_RUN)
    assert [violation for violation in violations if violation["impact"] in BLOCKING] == []
    sized_tab.assert_quiet(url)


def test_swapped_outcomes_mark_the_failed_row_and_every_row_shows_its_role(
    sized_tab: Watched, pages: dict[str, Path]
) -> None:
    """The restartable task that came back failed is the marked row, beside the rest of the batch with their
    roles; at phone width the role and the finding are on screen beside the ID, not beyond a sideways scroll."""
    from playwright.sync_api import expect

    url = sized_tab.open(pages["non-conformant"])
    page = sized_tab.page
    batch = page.locator("#req-BR-REQ-014 table.per-id").first
    marked = batch.locator("tbody tr.problem-outcome")
    expect(marked).to_have_count(1)
    expect(marked).to_have_attribute("data-role", "restartable")
    expect(marked).to_contain_text("came back failed; a restartable task must come back success")
    roles = [row.get_attribute("data-role") for row in batch.locator("tbody tr").all()]
    assert "non-restartable" in roles and "" not in roles
    expect(marked.locator("td.role-cell")).to_have_text("restartable")
    width = page.evaluate("window.innerWidth")
    for cell in ("td.tid", "td.role-cell", "td.finding-cell"):
        marked.locator(cell).scroll_into_view_if_needed()
        box = marked.locator(cell).bounding_box()
        assert box is not None and box["width"] > 0 and box["x"] + box["width"] <= width, cell
    sized_tab.assert_quiet(url)


def test_the_overview_gives_the_url_and_project_room_and_states_a_diagnosis_once(
    sized_tab: Watched, pages: dict[str, Path]
) -> None:
    url = sized_tab.open(pages["overview"])
    page = sized_tab.page
    row = page.locator('tr[data-target="incomplete"]')
    diagnosis = json.loads((pages["incomplete"].parent / "report.json").read_text(encoding="utf-8"))["diagnosis"][0]
    assert row.locator("td.why").inner_text().count(diagnosis) == 1
    if page.evaluate("window.innerWidth") >= 1280:
        for cell, at_least in (("td.url", 200), ("td.project", 150)):
            box = row.locator(cell).bounding_box()
            assert box is not None and box["width"] >= at_least, cell
    sized_tab.assert_quiet(url)
