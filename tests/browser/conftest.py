"""Real Chromium from Debian, driven by Playwright; never a downloaded browser."""

from __future__ import annotations

import asyncio
import shutil
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from tests.chat_client import ChildClient
from tests.support import ROOT, ServerProcess, Stack

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"


# Module scope: Playwright's sync API keeps an event loop running in the main thread while it is
# open, which async tests in later modules must not find.
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not shutil.which("chromium") and not shutil.which(CHROMIUM):
        pytest.fail("Chromium is required: apt-get install chromium (make test does it)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield launched
        launched.close()


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """Runs axe-core (from npm) in the page, WCAG 2.1 A and AA rules.

    The source goes in through the DevTools protocol, which the page's strict CSP does not
    govern, so the page under test keeps its real policy.
    """
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    result: dict[str, Any] = page.evaluate(
        "async () => await axe.run(document, {runOnly: {type: 'tag', values: "
        "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})")
    return [{"id": v["id"], "nodes": [n["target"] for n in v["nodes"]]} for v in result["violations"]]


PRECHAT = {"who": "child", "age_band": "13-15", "gender": "girl", "municipality": "Shkodër", "topic": "online"}


class Loop:
    """An event loop on its own thread for the PyNaCl children."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(30)

    def child(self, server: ServerProcess, stack: Stack) -> tuple[ChildClient, str]:
        child = ChildClient(server.url, stack.org_public_key)
        self.run(child.connect())
        return child, self.run(child.start(PRECHAT))

    def close(self, clients: list[ChildClient]) -> None:
        for client in clients:
            self.run(client.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


@pytest.fixture
def loop() -> Iterator[Loop]:
    made = Loop()
    yield made


@pytest.fixture
def staff_context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    yield context
    context.close()


@pytest.fixture
def second_context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    yield context
    context.close()
