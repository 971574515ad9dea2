"""Real-browser tests of the /integrations page: Playwright drives Debian's Chromium (by its path; nothing downloads a
browser) against the session's local stack, the same one the HTTP tests use."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, sync_playwright

from local.stack import LocalStack
from tests.conftest import ROOT

CHROMIUM = Path("/usr/bin/chromium")
AXE = ROOT / "frontend" / "node_modules" / "axe-core" / "axe.min.js"
IMAGES = ROOT / "docs" / "images"
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is missing: `make e2e` installs it (apt-get install chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        yield launched
        launched.close()


@pytest.fixture
def tenant(request: pytest.FixtureRequest) -> str:
    return "page-" + re.sub(r"[^a-z0-9]+", "-", request.node.name.lower())[:50]


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    opened = browser.new_context(viewport=DESKTOP, locale="en-US", timezone_id="UTC")
    opened.set_default_timeout(15_000)
    yield opened
    opened.close()


def open_page(context: BrowserContext, stack: LocalStack, tenant: str, locale: str = "en") -> Page:
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{stack.page_url}?tenant={tenant}&locale={locale}")
    page.get_by_role("heading", level=1).wait_for()
    page.errors = errors  # type: ignore[attr-defined]
    return page


@pytest.fixture
def page(context: BrowserContext, stack: LocalStack, tenant: str) -> Iterator[Page]:
    opened = open_page(context, stack, tenant)
    yield opened
    assert opened.errors == []  # type: ignore[attr-defined]


def api_for(stack: LocalStack, tenant: str) -> httpx.Client:
    token = stack.tokens.issue(tenant, subject="api-user")
    return httpx.Client(base_url=stack.api_url, headers={"Authorization": f"Bearer {token}"}, timeout=30)


def axe_violations(page: Page) -> list[dict[str, object]]:
    """Serious and critical axe-core violations of the page as it is now."""
    page.add_script_tag(path=str(AXE))
    violations: list[dict[str, object]] = page.evaluate("async () => (await axe.run()).violations")
    return [violation for violation in violations if violation.get("impact") in ("serious", "critical")]


def screenshot(page: Page, name: str) -> None:
    """The docs' pictures are taken here, so they show the page as it is."""
    IMAGES.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(IMAGES / name), full_page=True, animations="disabled", caret="hide")


def screenshot_of(locator: Locator, name: str) -> None:
    """A picture of one part of the page (a panel), for the docs."""
    IMAGES.mkdir(parents=True, exist_ok=True)
    locator.scroll_into_view_if_needed()
    locator.screenshot(path=str(IMAGES / name), animations="disabled", caret="hide")
