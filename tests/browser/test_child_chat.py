"""A child in real Chromium chats with a counsellor; quick exit; axe-core on every child screen."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import axe_violations
from tests.chat_client import StaffClient
from tests.support import ServerProcess, Stack, add_user


class BackgroundCounsellor:
    """A PyNaCl counsellor on its own event loop thread, so a sync browser test can drive a child."""

    def __init__(self, server: ServerProcess, username: str, password: str,
                 before_connect: Callable[[], object] | None = None) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.client = StaffClient(server.url, username, password)
        self.run(self.client.sign_in())
        if before_connect is not None:  # e.g. a test changes the signed key the socket will carry
            before_connect()
        self.run(self.client.connect())

    def run(self, coro):  # type: ignore[no-untyped-def]
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(30)

    def close(self) -> None:
        self.run(self.client.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 320, "height": 700}, bypass_csp=False)
    yield context.new_page()
    context.close()


def start_chat(page: Page, server: ServerProcess) -> None:
    page.goto(server.url + "/")
    expect(page.locator("html")).to_have_attribute("lang", "sq")
    page.click("#start-chat")
    page.click("#prechat-submit")
    expect(page.locator("#queue-position")).not_to_be_empty()


def test_child_in_chromium_chats_with_a_counsellor(stack: Stack, server: ServerProcess, page: Page) -> None:
    password = add_user(stack, "ana")
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    start_chat(page, server)
    counsellor = BackgroundCounsellor(server, "ana", password)
    try:
        queue = counsellor.run(counsellor.client.socket.next_event("queue"))  # type: ignore[union-attr]
        while not queue.get("items"):
            queue = counsellor.run(counsellor.client.socket.next_event("queue"))  # type: ignore[union-attr]
        conv = queue["items"][0]["conv"]
        counsellor.run(counsellor.client.accept(conv))
        counsellor.run(counsellor.client.wait_for_key(conv))
        counsellor.run(counsellor.client.say(conv, "Përshëndetje, jam Ana. Si je?"))
        expect(page.locator("#messages")).to_contain_text("Përshëndetje, jam Ana. Si je?")
        page.fill("#message-input", "Kam frikë nga dikush në internet")
        page.click("#send-message")
        for _ in range(200):
            said = counsellor.client.received.get(conv, {}).values()
            if any(m.text == "Kam frikë nga dikush në internet" for m in said):
                break
            page.wait_for_timeout(25)
        texts = [m.text for m in counsellor.client.received.get(conv, {}).values()]
        assert "Kam frikë nga dikush në internet" in texts
        assert axe_violations(page) == []
    finally:
        counsellor.close()
    assert errors == []


def test_quick_exit_leaves_no_way_back(stack: Stack, server: ServerProcess, page: Page) -> None:
    page.goto(server.url + "/healthz")
    start_chat(page, server)
    page.click("#quick-exit")
    page.wait_for_url("about:blank")
    page.go_back()
    assert not page.url.rstrip("/").endswith(str(server.port)), "the Back button returned to the chat"
    assert page.url.endswith("/healthz") or page.url == "about:blank"
    assert page.evaluate("() => sessionStorage.length + localStorage.length") == 0


@pytest.mark.parametrize("lang", ["sq", "en"])
def test_child_screens_have_no_axe_violations(stack: Stack, server: ServerProcess, page: Page, lang: str) -> None:
    page.goto(server.url + f"/?lang={lang}")
    assert axe_violations(page) == []
    page.click("#start-chat")
    assert axe_violations(page) == []
    page.click("#prechat-submit")
    expect(page.locator("#resume-code")).not_to_be_empty()
    assert axe_violations(page) == []
    page.evaluate("() => sessionStorage.clear()")  # a new visitor, not a reload of this chat
    page.goto(server.url + f"/?lang={lang}")
    page.click("#resume-link")
    assert axe_violations(page) == []
