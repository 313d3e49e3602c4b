"""Browser fixtures: Playwright driving Debian's chromium against pytest-django's live server.

Use the ``page`` fixture in a test marked ``browser``; it is already pointed at the live
server (``page.goto("/vendors/")``) and signed out. ``login(page, username)`` signs in a user
made with the factories (their password is ``factories.PASSWORD``).

Every browser test:
- leaves a screenshot in ``test-artifacts/screenshots/<test>.png``, taken at the end; a failing
  test also keeps ``<test>.failed-<database>.png`` and prints the page's console in its report;
- fails if the page logged a Content-Security-Policy violation (a blocked script or style);
  ``page_console`` holds every console line if a test wants to look at them itself.

Why each browser test starts its own Playwright: the sync API keeps an asyncio loop running
in this thread for as long as Playwright is started, and Django refuses ORM calls while a
loop runs (SynchronousOnlyOperation). Starting and stopping it around each test keeps that
state, and DJANGO_ALLOW_ASYNC_UNSAFE, confined to browser tests; a launch costs about a second.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from core.testing.factories import PASSWORD

CHROMIUM = Path(os.environ.get("STEWARD_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
# Generous: a loaded 2-core CI machine runs two test processes, each with a browser and a server.
TIMEOUT_MS = 20_000

# Chromium logs "... violates the following Content Security Policy directive ..." for every
# blocked script or style; the init script below adds one line per securitypolicyviolation event.
CSP_PATTERN = re.compile(r"Content[- ]Security[- ]Policy", re.IGNORECASE)
_REPORT_CSP_VIOLATIONS = """
document.addEventListener('securitypolicyviolation', (e) => {
  console.error('Content Security Policy violation: ' + e.violatedDirective + ' blocked '
    + (e.blockedURI || 'inline') + ' in ' + (e.sourceFile || document.location.pathname)
    + ':' + e.lineNumber);
});
"""


@dataclass
class PageConsole:
    """What the page said: console lines (``type: text @ url``) and uncaught errors."""

    lines: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def csp_violations(self) -> list[str]:
        return [line for line in self.lines if CSP_PATTERN.search(line)]


def screenshot_name(nodeid: str) -> str:
    """A file name for a test: ``core/tests/test_x.py::test_y[a]`` -> ``core.tests.test_x.test_y-a``."""
    name = nodeid.replace(".py::", ".").replace("/", ".").replace("::", ".")
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-")[:200]


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """When a browser test fails: a screenshot of the page as it was, and its console in the report."""
    report = yield
    funcargs = getattr(item, "funcargs", {})
    if report.when == "call" and report.failed and "page" in funcargs:
        # Kept apart from <test>.png, which the next database's stage of `make test` overwrites.
        shot = _screenshot(funcargs["page"], f"{screenshot_name(item.nodeid)}.failed-{connection.vendor}")
        report.sections.append(("browser", _describe(shot, funcargs["page_console"])))
    return report


def _screenshot(tab: Any, name: str) -> str:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    try:
        tab.screenshot(path=str(path), full_page=True)
    except Exception as exc:  # a crashed tab must not hide the test's own failure
        return f"(no screenshot: {exc})"
    return str(path)


@pytest.fixture
def browser(live_server: Any, transactional_db: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A headless chromium, started for this test only (see the module docstring for why)."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium (make test does) to run browser tests")
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=TIMEOUT_MS)  # expect() has its own default of 5 s
    # Factories in the test body touch the ORM while Playwright's loop runs in this thread.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page_console() -> PageConsole:
    return PageConsole()


@pytest.fixture
def page(
    browser: Any, live_server: Any, page_console: PageConsole, request: pytest.FixtureRequest
) -> Iterator[Any]:
    """A fresh, signed-out tab on the live server, in Hong Kong time and English."""
    context = browser.new_context(
        base_url=live_server.url,
        locale="en-HK",
        timezone_id="Asia/Hong_Kong",
        viewport={"width": 1280, "height": 900},
    )
    context.set_default_timeout(TIMEOUT_MS)
    context.add_init_script(_REPORT_CSP_VIOLATIONS)
    tab = context.new_page()
    tab.on("console", lambda m: page_console.lines.append(f"{m.type}: {m.text} @ {tab.url}"))
    tab.on("pageerror", lambda e: page_console.errors.append(str(e)))
    try:
        yield tab
    finally:
        _screenshot(tab, screenshot_name(request.node.nodeid))
        context.close()
    violations = page_console.csp_violations()
    assert not violations, "Content-Security-Policy blocked something:\n" + "\n".join(violations)


def _describe(shot: str, console: PageConsole) -> str:
    lines = [f"screenshot: {shot}", "console:", *console.lines, "page errors:", *console.errors]
    return "\n".join(lines)


def login(page: Any, username: str, password: str = PASSWORD) -> None:
    """Sign in through the real form and wait until Steward has left the sign-in page."""
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def nav_labels(page: Any) -> list[str]:
    """The labels of the main navigation, in order."""
    return [label.strip() for label in page.locator("nav.mainnav a").all_inner_texts()]
