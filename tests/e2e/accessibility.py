"""axe-core accessibility checks for the browser tests, with JavaScript on or off.

A test calls ``assert_accessible(page)`` on whatever page its fixture gave it. With
JavaScript on, axe runs in that page as it stands. With JavaScript off, Chromium still
lets Playwright evaluate a script, but the page's timers never fire, so ``axe.run`` never
settles. The page is then checked as a copy: its HTML as the browser holds it now (what a
person without JavaScript sees), with every ``<script>`` removed and ``<noscript>``
unwrapped, is served at its own URL to a separate JavaScript-enabled context, where axe
runs. Every other request (stylesheets, images, fonts) goes to the live server, so colour
contrast is computed with the real CSS.

Which pages have JavaScript off is recorded when their context is made, by
``new_test_context`` (the conftest fixtures use it).

axe-core itself is fetched from the npm registry by ``make axe`` into
``var/vendor/axe-core/<version>/axe.min.js``; ``make test`` passes that path in
``CIVICFLOW_AXE_JS``, and without it the version pinned in the Makefile is used.
"""

from __future__ import annotations

import functools
import os
import re
import weakref
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Route

ROOT = Path(__file__).resolve().parents[2]
AXE_ENV_VAR = "CIVICFLOW_AXE_JS"

# The WCAG levels CivicFlow promises: A and AA, up to WCAG 2.2 (2.2 added only AA rules
# to axe's tag set, hence no ``wcag22a``).
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

_CONTEXTS_WITHOUT_JS: weakref.WeakSet[BrowserContext] = weakref.WeakSet()

_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script\s*>", re.IGNORECASE | re.DOTALL)
_NOSCRIPT_TAG = re.compile(r"</?noscript\b[^>]*>", re.IGNORECASE)


def new_test_context(browser: Browser, *, javascript: bool = True, **options: Any) -> BrowserContext:
    """A browser context in English, remembered as JavaScript-less when ``javascript`` is False."""
    options.setdefault("locale", "en-US")
    context = browser.new_context(java_script_enabled=javascript, **options)
    if not javascript:
        _CONTEXTS_WITHOUT_JS.add(context)
    return context


def javascript_enabled(page: Page) -> bool:
    return page.context not in _CONTEXTS_WITHOUT_JS


def axe_core_path() -> Path:
    """Where axe.min.js is: ``$CIVICFLOW_AXE_JS``, else the Makefile's pinned version in var/."""
    configured = os.environ.get(AXE_ENV_VAR)
    if configured:
        return Path(configured)
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    pinned = re.search(r"^AXE_VERSION\s*:?=\s*(\S+)\s*$", makefile, re.MULTILINE)
    if pinned is None:
        pytest.fail("the Makefile does not pin AXE_VERSION; tests/e2e/accessibility.py cannot find axe-core")
    return ROOT / "var" / "vendor" / "axe-core" / pinned.group(1) / "axe.min.js"


@functools.cache
def axe_core_source() -> str:
    path = axe_core_path()
    if not path.is_file():
        pytest.fail(f"axe-core is missing at {path}: run `make axe` (it fetches it from the npm registry)")
    return path.read_text(encoding="utf-8")


def assert_accessible(page: Page, *, context: str = "") -> None:
    """Fail, with a readable report, if axe finds WCAG 2.2 A/AA violations on the page."""
    javascript = javascript_enabled(page)
    violations = _run_axe(page) if javascript else _run_axe_on_copy(page)
    if violations:
        raise AssertionError(_report(violations, url=page.url, javascript=javascript, context=context))


def _run_axe(page: Page) -> list[dict[str, Any]]:
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(axe_core_source())
    options = {"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"], "iframes": False}
    results: dict[str, Any] = page.evaluate("options => window.axe.run(document, options)", options)
    violations: list[dict[str, Any]] = results["violations"]
    return violations


def without_scripts(html: str) -> str:
    """The HTML with no ``<script>`` element, and ``<noscript>`` content as plain markup.

    The input is the browser's own serialisation (``page.content()``), where a script's
    text never contains ``</script``, so a pattern is enough. Unwrapping ``<noscript>``
    keeps what a JavaScript-less browser renders, since a JavaScript-enabled one would
    treat it as text.
    """
    return _NOSCRIPT_TAG.sub("", _SCRIPT.sub("", html))


def _run_axe_on_copy(page: Page) -> list[dict[str, Any]]:
    browser = page.context.browser
    if browser is None:
        pytest.fail("assert_accessible needs a page from a browser context, not a persistent one")
    url = page.url.split("#", 1)[0]
    html = without_scripts(page.content())

    def serve_copy(route: Route) -> None:
        # No script of ours may run in the copy, not even an inline handler: the page
        # keeps its JavaScript-less state. axe is evaluated by Playwright, which CSP does not limit.
        route.fulfill(
            status=200,
            content_type="text/html; charset=utf-8",
            headers={"Content-Security-Policy": "script-src 'none'"},
            body=html,
        )

    copy_context = browser.new_context(
        locale="en-US",
        viewport=page.viewport_size,
        storage_state=page.context.storage_state(),
    )
    try:
        copy_context.route(lambda requested: requested.split("#", 1)[0] == url, serve_copy)
        copy = copy_context.new_page()
        copy.set_default_timeout(15_000)
        copy.goto(url, wait_until="load")
        return _run_axe(copy)
    finally:
        copy_context.close()


def _report(violations: list[dict[str, Any]], *, url: str, javascript: bool, context: str) -> str:
    nodes = sum(len(violation["nodes"]) for violation in violations)
    where = f"{url} (JavaScript {'on' if javascript else 'off'}{'; ' + context if context else ''})"
    lines = [f"axe found {len(violations)} accessibility rule(s) broken, on {nodes} element(s), at {where}:"]
    for violation in violations:
        lines.append("")
        lines.append(f"[{violation.get('impact') or 'unknown'}] {violation['id']}: {violation['help']}")
        lines.append(f"  {violation['helpUrl']}")
        for node in violation["nodes"]:
            lines.append(f"  - {_target(node['target'])}")
            lines.append(f"    {node['html']}")
            summary = (node.get("failureSummary") or "").strip()
            lines.extend(f"      {line.strip()}" for line in summary.splitlines() if line.strip())
    return "\n".join(lines)


def _target(target: list[Any]) -> str:
    # A selector per frame or shadow root; a nested list is a path into shadow DOM.
    return " >> ".join(" >>> ".join(part) if isinstance(part, list) else str(part) for part in target)
