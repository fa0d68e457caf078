"""A console whose session is ended while it is open says so, in the counsellor's language, and
offers the sign-in (issue 17): the server closes the socket with 4401 and the page turns that
into "sign in again", with nothing of the old session left on screen."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, expect

from helpline.i18n import translate
from tests.chat_client import StaffClient
from tests.support import ServerProcess, Stack, add_user, run_async, totp_code


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    made = browser.new_context(viewport={"width": 1280, "height": 900})
    yield made
    made.close()


def disable(server: ServerProcess, stack: Stack, username: str) -> None:
    """An admin, in another browser, disables the account."""

    async def run() -> None:
        root = StaffClient(server.url, "root", add_user(stack, "root", role="admin"))
        await root.sign_in()
        async with httpx.AsyncClient(base_url=server.url, cookies=root.cookies,
                                     headers={"x-csrf-token": root.csrf}) as admin:
            listed = (await admin.get("/console/api/admin/staff")).json()["staff"]
            target = next(s["id"] for s in listed if s["username"] == username)
            answer = await admin.post(f"/console/api/admin/staff/{target}/disabled", json={"disabled": True})
            assert answer.status_code == 200, answer.text

    run_async(run())


def test_the_console_asks_in_albanian_to_sign_in_again_when_its_session_is_ended(
        stack: Stack, server: ServerProcess, context: BrowserContext) -> None:
    password = add_user(stack, "ana")
    first = StaffClient(server.url, "ana", password)
    run_async(first.sign_in())  # second factor and key enrolled; the browser signs in with a code
    assert first.totp_secret
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(server.url + "/console?lang=sq")
    page.fill("#login-username", "ana")
    page.fill("#login-password", password)
    page.press("#login-password", "Enter")
    expect(page.locator("#mfa-code")).to_be_focused()
    page.keyboard.type(totp_code(first.totp_secret))
    page.keyboard.press("Enter")
    expect(page.locator("body")).to_have_attribute("data-state", "working")
    expect(page.locator("#connection-state")).to_have_text(translate("sq", "Connected"))

    disable(server, stack, "ana")

    ended = translate("sq", "Your session has ended. Sign in again.")
    assert ended != "Your session has ended. Sign in again."  # the Albanian text, not the English id
    expect(page.locator("#ended-title")).to_have_text(ended)
    expect(page.locator("#screen-ended")).to_be_visible()
    expect(page.locator("#connection-state")).to_have_text(ended)
    expect(page.locator("#screen-work")).to_be_hidden()
    again = page.locator("#sign-in-again")
    expect(again).to_have_text(translate("sq", "Sign in again"))
    expect(again).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#login-form")).to_be_visible()
    expect(page.locator("#screen-ended")).to_be_hidden()
    assert page.url.endswith("/console?lang=sq")
    assert errors == []
