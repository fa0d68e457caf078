"""A child and a counsellor, both in real Chromium, chat through the server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, expect

from tests.browser.conftest import axe_violations
from tests.browser.console_signin import sign_in  # password and TOTP, keyboard alone
from tests.support import ServerProcess, Stack, add_user


@pytest.fixture
def contexts(browser: Browser) -> Iterator[tuple[BrowserContext, BrowserContext]]:
    child = browser.new_context(viewport={"width": 320, "height": 700})
    staff = browser.new_context(viewport={"width": 1280, "height": 900})
    yield child, staff
    child.close()
    staff.close()


def test_child_and_counsellor_chat_in_chromium(stack: Stack, server: ServerProcess,
                                               contexts: tuple[BrowserContext, BrowserContext]) -> None:
    password = add_user(stack, "ana")
    child, counsellor = contexts[0].new_page(), contexts[1].new_page()
    errors: list[str] = []
    for page in (child, counsellor):
        page.on("pageerror", lambda exc: errors.append(str(exc)))

    sign_in(counsellor, server, "ana", password)
    assert axe_violations(counsellor) == []

    child.goto(server.url + "/")
    child.click("#start-chat")
    child.select_option("#municipality", "Shkodër")
    child.click("#prechat-submit")
    accept = counsellor.locator("button[data-accept]")
    expect(accept).to_have_count(1)
    expect(counsellor.locator("#queue")).to_contain_text("Shkodër")
    # The wait is counted in the page from when the child was queued (the server's clock).
    expect(counsellor.locator("#queue tbody tr td").nth(6)).to_have_text("0 min")
    expect(counsellor.locator("#queue-status")).to_have_text("1 waiting")
    accept.click()

    panel = counsellor.locator("[data-conv]")
    expect(child.locator("#counsellor")).not_to_be_empty()
    panel.locator("textarea.compose").fill("Përshëndetje! Unë jam Ana. Si mund të të ndihmoj?")
    panel.locator("button.send").click()
    expect(child.locator("#messages")).to_contain_text("Si mund të të ndihmoj?")

    child.fill("#message-input", "Dikush po më kërcënon në Instagram")
    child.click("#send-message")
    expect(panel.locator(".messages .from-child")).to_have_text(["Dikush po më kërcënon në Instagram"])
    assert axe_violations(counsellor) == []
    assert axe_violations(child) == []
    assert errors == []
