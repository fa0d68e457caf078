"""In Chromium with JavaScript turned off, submitting a sign-in form never puts the password in a
URL: the form is sent with POST, without the password (its field has no name), and the page says
that the console needs JavaScript (issue 17)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Request, expect

from tests.support import ServerProcess, Stack

SECRET = "no-script-secret-1234"


@pytest.fixture
def no_script(browser: Browser) -> Iterator[BrowserContext]:
    made = browser.new_context(java_script_enabled=False)
    yield made
    made.close()


@pytest.mark.parametrize("path", ["/console?lang=en", "/referrals?lang=en"])
def test_a_sign_in_form_sent_without_its_script_keeps_the_password_out_of_urls(
        stack: Stack, server: ServerProcess, no_script: BrowserContext, path: str) -> None:
    page = no_script.new_page()
    sent: list[Request] = []
    page.on("request", lambda request: sent.append(request))
    page.goto(server.url + path)
    expect(page.locator("#login-no-script")).to_have_text("The console needs JavaScript: turn it on to sign in.")
    page.fill("#login-username", "ana")
    page.fill("#login-password", SECRET)
    with page.expect_navigation():
        page.press("#login-password", "Enter")
    expect(page.locator("#login-form")).to_be_visible()
    submitted = [r for r in sent if r.is_navigation_request()][1:]
    assert submitted, "the form was not submitted"
    for request in submitted:
        assert request.method == "POST", request.method
        assert SECRET not in request.url and "password" not in request.url
        assert SECRET not in (request.post_data or "")
    assert SECRET not in page.url and "password" not in page.url
    assert SECRET not in server.log()
