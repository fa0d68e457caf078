"""Signing in to the console in Chromium with the keyboard alone: password, then the second factor
(enrolment with the QR code's key at the first sign-in, a fresh code afterwards)."""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, expect

from tests.chat_client import remember_totp, totp_secret_for
from tests.support import ServerProcess, totp_code


def sign_in(page: Page, server: ServerProcess, username: str, password: str, secret: str | None = None,
            lang: str = "en", path: str = "/console") -> str:
    """Signs in and waits for the working console (or portal, at /referrals); returns the TOTP secret
    (enrolled if needed)."""
    page.goto(server.url + f"{path}?lang={lang}")
    page.fill("#login-username", username)
    page.fill("#login-password", password)
    page.press("#login-password", "Enter")
    enrol = page.locator("#mfa-enrol")
    expect(page.locator("#mfa-enrol:not([hidden]), #mfa-verify:not([hidden])")).to_be_visible()
    if enrol.is_visible():
        expect(page.locator("#mfa-qr")).to_have_attribute("src", re.compile(r"^data:image/svg\+xml"))
        secret = page.locator("#mfa-secret").inner_text().replace(" ", "")
        remember_totp(username, password, secret)
        page.keyboard.type(totp_code(secret))  # the code field has the focus
        page.keyboard.press("Enter")
        expect(page.locator("#recovery-list li")).to_have_count(10)
        page.keyboard.press("Tab")
        expect(page.locator("#recovery-done")).to_be_focused()
        page.keyboard.press("Enter")
    else:
        secret = secret or totp_secret_for(username, password)
        assert secret, f"no TOTP secret known for {username}"
        expect(page.locator("#mfa-code")).to_be_focused()
        page.keyboard.type(totp_code(secret))
        page.keyboard.press("Enter")
    expect(page.locator("body")).to_have_attribute("data-state", "working")
    return secret


def open_referral_form(child: Page, counsellor: Page, server: ServerProcess, municipality: str = "Shkodër") -> Locator:
    """A child from `municipality` starts a chat, the (signed-in) counsellor takes it and opens the
    referral form in the chat's panel; returns the panel."""
    child.goto(server.url + "/")
    child.click("#start-chat")
    child.select_option("#municipality", municipality)
    child.click("#prechat-submit")
    counsellor.locator("button[data-accept]").click()
    panel = counsellor.locator("[data-conv]")
    panel.locator("button.refer").click()
    return panel
