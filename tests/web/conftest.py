"""Browser fixtures: Debian chromium through Playwright, the fixture server, axe-core from npm."""
from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any, Callable, Iterator, List

import pytest

from tests.conftest import missing
from tests.web.fake_app import ServerThread

_LOGGER = logging.getLogger(__name__)

CHROMIUM = os.environ.get("GOVBOT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--autoplay-policy=no-user-gesture-required",
                 # a fake microphone (a beep) for the voice-input test; no dialog, no real device
                 "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]
AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"


def _missing(what: str) -> None:
    """Missing tools fail in CI and skip on a developer machine."""
    missing(what)


@pytest.fixture(scope="session")
def server() -> Iterator[ServerThread]:
    """The page, web channel and voice routes with the fixture Dialogue, on a random port."""
    srv = ServerThread().start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless chromium per module (never downloads a browser).

    Module scope on purpose: Playwright's sync API keeps an event loop running in the main
    thread while it is open, which breaks pytest-asyncio tests that run after it.
    """
    if not os.path.exists(CHROMIUM):
        _missing(f"{CHROMIUM} not found: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture(scope="session")
def axe_source() -> str:
    """axe-core's browser bundle, pinned in tests/web/package-lock.json."""
    if not AXE.is_file():
        _missing("axe-core missing: run `npm ci --prefix tests/web`")
    return AXE.read_text(encoding="utf-8")


@pytest.fixture
def new_page(browser: Any, server: ServerThread) -> Iterator[Callable[..., Any]]:
    """Factory: a fresh context (empty localStorage) and page at ``/``; all closed afterwards."""
    contexts: List[Any] = []

    def make(width: int = 1280, height: int = 860, axe: bool = False, goto: bool = True) -> Any:
        # bypass_csp only so the test can inject axe-core; the app itself runs under its CSP.
        context = browser.new_context(viewport={"width": width, "height": height}, bypass_csp=axe,
                                      locale="zh-CN")
        contexts.append(context)
        page = context.new_page()
        page.errors = []
        page.on("pageerror", lambda exc: page.errors.append(str(exc)))
        if goto:
            page.goto(server.url + "/")
            page.wait_for_function("() => document.documentElement.dataset.connection === 'open' && "
                                   "document.querySelectorAll('#log-list > li').length > 0")
        return page

    yield make
    for context in contexts:
        context.close()
