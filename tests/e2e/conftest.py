"""A real browser: Debian's Chromium driven by Playwright, against a live server."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.e2e.accessibility import axe_core_path, axe_core_source, new_test_context

# Playwright's sync API runs an event loop in this thread; the ORM calls the
# tests make between browser steps are still plain synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-background-networking", "--disable-gpu"]


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail(
            "the browser tests need Debian's chromium on PATH: run `make system-packages` (apt-get install chromium)"
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _page(browser: Browser, *, javascript: bool) -> Iterator[Page]:
    context = new_test_context(browser, javascript=javascript)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A page with JavaScript on, as most people browse."""
    yield from _page(browser, javascript=True)


@pytest.fixture
def page_without_js(browser: Browser) -> Iterator[Page]:
    """A page with JavaScript off: what the site must still do without any script."""
    yield from _page(browser, javascript=False)


@pytest.fixture(params=["js", "no-js"], ids=["js", "no-js"])
def any_page(request: pytest.FixtureRequest, browser: Browser) -> Iterator[Page]:
    """A page with JavaScript on, then off: the test runs once with each."""
    yield from _page(browser, javascript=request.param == "js")


@pytest.fixture(scope="session")
def axe_core_js() -> Path:
    """axe.min.js: `$CIVICFLOW_AXE_JS` (set by `make test`), else var/vendor/ as `make axe` leaves it.

    Fails, never skips, when the file is missing.
    """
    axe_core_source()
    return axe_core_path()
