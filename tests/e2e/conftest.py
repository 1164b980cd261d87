"""End-to-end tests in real headless Chromium (Debian's package, never a downloaded browser).

The tests drive pytest-django's ``live_server`` (a real HTTP server in this process that also
serves static files). Without ``/usr/bin/chromium`` they are skipped, unless
``SST_REQUIRE_BROWSER`` is set (as in CI), in which case they fail.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def _require_chromium() -> None:
    if CHROMIUM.exists():
        return
    message = (
        f"{CHROMIUM} not found: install Debian's Chromium (apt-get install chromium) "
        "to run the end-to-end tests"
    )
    if os.environ.get("SST_REQUIRE_BROWSER"):
        pytest.fail(message + " (SST_REQUIRE_BROWSER is set)", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="module")
def _chromium() -> Iterator[object]:
    """One browser process per test module; every test gets its own context.

    Playwright's sync API keeps an asyncio event loop running in this thread, and Django then
    refuses ORM calls from it (SynchronousOnlyOperation) -- but the fixtures need the ORM here
    (the `world` factories, the database flush). DJANGO_ALLOW_ASYNC_UNSAFE is Django's
    documented escape hatch for exactly this; it is set only while the browser is up (module
    scope) so the rest of the test suite keeps Django's async-safety check.
    """
    _require_chromium()
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
            try:
                yield browser
            finally:
                browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def browser_page(_chromium):  # type: ignore[no-untyped-def]
    """A fresh page in a Swedish browser context (no cookies shared between tests)."""
    context = _chromium.new_context(locale="sv-SE", viewport={"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def e2e_world(transactional_db, world):  # type: ignore[no-untyped-def]
    """The shared `world`, committed so the live server's thread can see it."""
    return world


@pytest.fixture
def shot(request):  # type: ignore[no-untyped-def]
    """``shot(page, "step")`` saves a screenshot to test-artifacts/<test>/<n>-<step>.png."""
    folder = ARTIFACTS / re.sub(r"[^\w.-]+", "_", request.node.name)
    folder.mkdir(parents=True, exist_ok=True)
    counter = iter(range(1, 1000))

    def save(page, step: str) -> Path:  # type: ignore[no-untyped-def]
        path = folder / f"{next(counter):02d}-{step}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return save
