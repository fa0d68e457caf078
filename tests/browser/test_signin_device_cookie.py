"""In Chromium: the browser that signed in before keeps signing in while a stranger keeps the
account locked for every other browser (device cookie, ADR 0006 as amended for issue 17)."""

from __future__ import annotations

import httpx
from playwright.sync_api import Browser, expect

from helpline.security import devices
from tests.browser.console_signin import sign_in
from tests.support import ServerProcess, Stack, add_user, login_body


def test_a_locked_out_stranger_does_not_lock_out_the_counsellors_browser(
        stack: Stack, server: ServerProcess, browser: Browser) -> None:
    password = add_user(stack, "ana")
    own = browser.new_context()
    page = own.new_page()
    sign_in(page, server, "ana", password)
    cookies = [c for c in own.cookies() if c["name"] == devices.COOKIE_NAME]
    assert len(cookies) == 1 and cookies[0]["httpOnly"] and cookies[0]["sameSite"] == "Strict"
    assert cookies[0]["path"] == devices.COOKIE_PATH

    with httpx.Client(base_url=server.url, headers={"origin": server.url}) as stranger:
        answers = [stranger.post("/console/api/login", json=login_body(stranger, "ana", f"guess-{i}")).status_code
                   for i in range(5)]
        assert answers[-1] == 423, answers
        assert stranger.post("/console/api/login", json=login_body(stranger, "ana", password)).status_code == 423

    # Another browser, with the right password, is refused like the stranger ...
    other = browser.new_context()
    elsewhere = other.new_page()
    elsewhere.goto(server.url + "/console?lang=en")
    elsewhere.fill("#login-username", "ana")
    elsewhere.fill("#login-password", password)
    elsewhere.press("#login-password", "Enter")
    expect(elsewhere.locator("#login-error")).to_contain_text("locked")
    other.close()

    # ... while the counsellor's own browser signs in with the right password and code.
    page = own.new_page()
    sign_in(page, server, "ana", password)
    expect(page.locator("body")).to_have_attribute("data-state", "working")
    own.close()
