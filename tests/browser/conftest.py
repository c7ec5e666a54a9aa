"""Browser tests open index.html from disk in a real Chromium, driven by Playwright.

No browser is ever downloaded: the tests use the system's Chromium (Debian's package at /usr/bin/chromium, or
$DCS_CHROMIUM). When Playwright or Chromium is missing they are skipped, loudly: a warning, and a line in the
terminal summary, so that a green run without them is never mistaken for a run with them.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import pytest

from conformance.reporters import html, json_report, junit
from tests import summary

CHROMIUM = Path(os.environ.get("DCS_CHROMIUM", "/usr/bin/chromium"))
#: axe-core, installed by ``npm ci --prefix tests/browser`` (.ci/run does it when npm exists) from the committed
#: package-lock.json; injected into each page from this file, so the page itself still loads nothing.
AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
#: No background traffic of Chromium's own: the tests assert that the page makes no request at all.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
GOLDEN = Path(__file__).resolve().parents[1] / "golden"


def _skip_loudly(reason: str) -> NoReturn:
    message = f"BROWSER TESTS SKIPPED: {reason}"
    if summary.add(message, loud=True):
        warnings.warn(message, stacklevel=2)
    pytest.skip(message)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _skip_loudly("the Python package 'playwright' is not installed (pip install playwright; no browser download)")
    if not CHROMIUM.is_file() or not os.access(CHROMIUM, os.X_OK):
        found = shutil.which("chromium") or shutil.which("chromium-browser")
        hint = f" (found {found}: set DCS_CHROMIUM)" if found else " (apt-get install chromium)"
        _skip_loudly(f"no Chromium at {CHROMIUM}{hint}")
    with sync_playwright() as playwright:
        started = time.perf_counter()
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        summary.add(f"browser tests: Chromium started in {time.perf_counter() - started:.2f} s")
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="session")
def axe_script() -> Path:
    if not AXE.is_file():
        _skip_loudly(f"no axe-core at {AXE} (npm ci --prefix tests/browser): the accessibility checks did not run")
    return AXE


@pytest.fixture(scope="session")
def report_pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """index.html of the golden reports of two real runs against the embedded reference server (tests/golden): a
    conformant one, and one whose server drops an item from large batches; each beside its report.json and
    junit.xml, as the CLI leaves them."""
    pages = {}
    for name in ("conformant", "non-conformant"):
        directory = tmp_path_factory.mktemp(name)
        report = json.loads((GOLDEN / f"report-{name}.json").read_text(encoding="utf-8"))
        json_report.write(report, directory)
        junit.write(report, directory)
        pages[name] = html.write(report, directory)
    return pages


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Full-page screenshots, kept as test artefacts in pytest's temporary directory (never in the repository)."""
    return tmp_path_factory.mktemp("screenshots")


@dataclass
class Watched:
    """A page with everything it did recorded: console errors, uncaught exceptions, dialogs and every request."""

    page: Any
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def open(self, path: Path) -> str:
        url = path.as_uri()
        self.page.goto(url)
        return url

    def assert_quiet(self, url: str) -> None:
        assert self.errors == []
        assert self.requests == [url], "the page must load nothing but itself"


def watch(context: Any) -> Watched:
    watched = Watched(context.new_page())
    watched.page.on("console", lambda msg: watched.errors.append(msg.text) if msg.type == "error" else None)
    watched.page.on("pageerror", lambda exc: watched.errors.append(f"uncaught: {exc}"))
    watched.page.on("request", lambda request: watched.requests.append(request.url))
    watched.page.on("dialog", lambda dialog: (watched.errors.append(f"dialog: {dialog.message}"), dialog.dismiss()))
    return watched


@pytest.fixture
def tab(browser: Any) -> Iterator[Watched]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        yield watch(context)
    finally:
        context.close()


@pytest.fixture(params=[390, 1280], ids=["390px", "1280px"])
def sized_tab(browser: Any, request: pytest.FixtureRequest) -> Iterator[Watched]:
    """A tab at phone width (390 px) or desktop width (1280 px) that lets a test inject axe-core: the pages' CSP
    allows no script but their own, so this context alone bypasses it (the pages are unchanged)."""
    context = browser.new_context(viewport={"width": request.param, "height": 844}, bypass_csp=True)
    try:
        yield watch(context)
    finally:
        context.close()


@pytest.fixture
def tab_without_js(browser: Any) -> Iterator[Watched]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, java_script_enabled=False)
    try:
        yield watch(context)
    finally:
        context.close()
