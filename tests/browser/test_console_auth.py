"""Sign-in with the second factor, the admin pages and canned replies, in real Chromium, by keyboard."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pyotp
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from counsellor_ui.admin import KEY_GONE
from tests.browser.conftest import axe_violations
from tests.browser.console_signin import sign_in
from tests.chat_client import StaffClient
from tests.support import ServerProcess, Stack, add_user, login_body, run_async, totp_code


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    made = browser.new_context(viewport={"width": 1280, "height": 900})
    yield made
    made.close()


def watch(page: Page) -> list[str]:
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors


def password_step(page: Page, server: ServerProcess, username: str, password: str) -> None:
    page.goto(server.url + "/console?lang=en")
    page.fill("#login-username", username)
    page.fill("#login-password", password)
    page.press("#login-password", "Enter")


def test_enrol_with_the_qr_code_then_sign_in_with_a_code(stack: Stack, server: ServerProcess,
                                                         context: BrowserContext) -> None:
    password = add_user(stack, "ana")
    page = context.new_page()
    errors = watch(page)
    password_step(page, server, "ana", password)
    expect(page.locator("#mfa-enrol")).to_be_visible()
    qr = page.locator("#mfa-qr")
    expect(qr).to_have_attribute("src", re.compile(r"^data:image/svg\+xml"))
    assert page.evaluate("() => document.getElementById('mfa-qr').naturalWidth") > 0  # the CSP let it draw
    assert axe_violations(page) == []
    secret = page.locator("#mfa-secret").inner_text().replace(" ", "")
    page.keyboard.type("123456" if pyotp.TOTP(secret).now() != "123456" else "654321")
    page.keyboard.press("Enter")
    expect(page.locator("#mfa-enrol-error")).to_contain_text("Wrong code")
    page.fill("#mfa-enrol-code", totp_code(secret))
    page.press("#mfa-enrol-code", "Enter")
    expect(page.locator("#recovery-list li")).to_have_count(10)
    assert axe_violations(page) == []
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.locator("body")).to_have_attribute("data-state", "working")
    expect(page.locator("#recovery-left")).to_contain_text("10")

    page.focus("#sign-out")
    page.keyboard.press("Enter")
    expect(page.locator("#login-form")).to_be_visible()
    password_step(page, server, "ana", password)
    expect(page.locator("#mfa-code")).to_be_focused()
    page.keyboard.type("000000" if pyotp.TOTP(secret).now() != "000000" else "111111")
    page.keyboard.press("Enter")
    expect(page.locator("#mfa-error")).to_have_text(
        "Wrong code. Check that your phone's clock is right and try the newest code.")
    page.fill("#mfa-code", totp_code(secret))
    page.press("#mfa-code", "Enter")
    expect(page.locator("body")).to_have_attribute("data-state", "working")
    assert axe_violations(page) == []
    assert errors == []


def test_a_locked_account_says_for_how_long(stack: Stack, server: ServerProcess, context: BrowserContext) -> None:
    password = add_user(stack, "ben")
    page = context.new_page()
    for attempt in range(5):
        password_step(page, server, "ben", f"wrong-{attempt}")
        expect(page.locator("#login-error")).not_to_be_empty()
    expect(page.locator("#login-error")).to_have_text(
        "This account is locked after too many failed attempts. Try again in 1 min or ask an admin.")
    password_step(page, server, "ben", password)
    expect(page.locator("#login-error")).to_contain_text("locked")
    expect(page.locator("#mfa-enrol")).to_be_hidden()


def test_admin_pages_by_keyboard_and_axe_clean(stack: Stack, server: ServerProcess, context: BrowserContext) -> None:
    add_user(stack, "ana")
    ben_password = add_user(stack, "ben")
    for attempt in range(5):  # ben is locked before the admin looks
        with httpx.Client(base_url=server.url) as http:
            http.post("/console/api/login", json=login_body(http, "ben", f"no-{attempt}"))
    admin_password = add_user(stack, "root", role="admin")
    page = context.new_page()
    errors = watch(page)
    page.on("dialog", lambda dialog: dialog.accept())
    sign_in(page, server, "root", admin_password)
    admin = page.locator("#screen-admin")
    expect(admin).to_be_visible()
    expect(page.locator("#staff-table tbody tr")).to_have_count(3)
    assert axe_violations(page) == []

    # A new supervisor, with the keyboard: type, Tab to the next field, Enter submits.
    page.focus("#new-username")
    page.keyboard.type("dita")
    page.keyboard.press("Tab")
    page.keyboard.type("Dita Hoxha")
    page.keyboard.press("Tab")
    page.keyboard.press("ArrowDown")  # counsellor -> supervisor
    page.focus("#new-child-name")  # the one first name children see (issue 17)
    page.keyboard.type("Drita")
    page.focus("#new-name")
    page.keyboard.press("Enter")
    expect(page.locator("#admin-result")).to_contain_text("Account dita created. One-time password (shown once):")
    row = page.locator("#staff-table tr[data-username='dita']")
    expect(row).to_contain_text("Not yet")
    expect(row).to_contain_text("Drita")
    expect(row.locator("select").first).to_have_value("supervisor")

    # Lift ben's lock.
    lift = page.get_by_role("button", name="Lift lock (ben)")
    lift.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#admin-result")).to_have_text("ben can sign in again.")
    expect(lift).to_have_count(0)
    with httpx.Client(base_url=server.url) as http:
        assert http.post("/console/api/login", json=login_body(http, "ben", ben_password)).status_code == 200

    # Reset ana: a one-time password and the warning about earlier conversations.
    page.get_by_role("button", name="Reset (ana)").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#admin-result")).to_contain_text("One-time password for ana (shown once):")
    # (server messages come in the admin's own language, Albanian for accounts the CLI makes)
    expect(page.locator("#admin-result")).to_contain_text(KEY_GONE)  # in the page's language

    # A canned reply.
    page.select_option("#canned-locale", "en")
    page.focus("#canned-shortcut")
    page.keyboard.type("hello")
    page.keyboard.press("Tab")
    page.keyboard.type("Greeting")
    page.keyboard.press("Tab")
    page.keyboard.type("Hello, I am glad you wrote to us.")
    page.focus("#canned-title-input")
    page.keyboard.press("Enter")
    expect(page.locator("#canned-table tbody")).to_contain_text("/hello")

    # Opening hours and limits.
    page.fill("#setting-max-chats", "2")
    page.press("#setting-max-chats", "Enter")
    expect(page.locator("#admin-result")).to_have_text("The settings were saved.")
    expect(page.locator("#settings-defaults")).to_contain_text("2 chats at once")
    page.fill("#setting-hours", "8-22")
    page.press("#setting-hours", "Enter")
    expect(page.locator("#settings-error")).to_contain_text("08:00-22:00")
    assert axe_violations(page) == []
    assert errors == []


def test_canned_reply_by_shortcut_in_the_composer(stack: Stack, server: ServerProcess, browser: Browser) -> None:
    admin_password = add_user(stack, "root", role="admin")
    admin = StaffClient(server.url, "root", admin_password)
    run_async(admin.sign_in())
    created = httpx.post(server.url + "/console/api/admin/canned", cookies=admin.cookies,
                         headers={"x-csrf-token": admin.csrf},
                         json={"locale": "sq", "shortcut": "hi", "title": "Greeting",
                               "body": "Përshëndetje, jam këtu."})
    assert created.status_code == 201
    password = add_user(stack, "ana")
    child_context = browser.new_context(viewport={"width": 320, "height": 700})
    staff_context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        child, counsellor = child_context.new_page(), staff_context.new_page()
        sign_in(counsellor, server, "ana", password)
        child.goto(server.url + "/")
        child.click("#start-chat")
        child.click("#prechat-submit")
        counsellor.locator("button[data-accept]").click()
        panel = counsellor.locator("[data-conv]")
        expect(child.locator("#counsellor")).not_to_be_empty()
        box = panel.locator("textarea.compose")
        box.focus()
        counsellor.keyboard.type("/hi")
        counsellor.keyboard.press("Tab")
        expect(box).to_have_value("Përshëndetje, jam këtu.")
        expect(box).to_be_focused()
        counsellor.keyboard.type(" Si je?")  # editable before sending
        counsellor.keyboard.press("Enter")
        expect(child.locator("#messages")).to_contain_text("Përshëndetje, jam këtu. Si je?")
        box.focus()
        counsellor.keyboard.type("/nothing")
        counsellor.keyboard.press("Tab")  # no such shortcut: Tab moves on as usual
        expect(box).not_to_be_focused()
        assert axe_violations(counsellor) == []
    finally:
        child_context.close()
        staff_context.close()


def test_password_change_in_the_browser_keeps_the_key(stack: Stack, server: ServerProcess,
                                                      context: BrowserContext) -> None:
    password = add_user(stack, "ana")
    page = context.new_page()
    errors = watch(page)
    secret = sign_in(page, server, "ana", password)
    public_before = page.request.get(server.url + "/console/api/me").json()["public_key"]
    assert public_before
    page.focus("#account-title")
    page.keyboard.press("Enter")  # opens the <details>
    page.focus("#password-old")
    page.keyboard.type(password)
    page.keyboard.press("Tab")
    page.keyboard.type("short")
    page.keyboard.press("Tab")
    page.keyboard.type("short")
    page.keyboard.press("Enter")
    expect(page.locator("#password-status")).to_have_text("A password needs at least 12 characters.")
    new_password = "a much longer passphrase"
    page.fill("#password-new", new_password)
    page.fill("#password-again", new_password)
    page.press("#password-again", "Enter")
    expect(page.locator("#password-status")).to_have_text("Your password was changed. Other sessions were signed out.")
    assert axe_violations(page) == []
    # The next sign-in opens the same key with the new password (the page would stop otherwise).
    sign_in(page, server, "ana", new_password, secret)
    again = page.request.get(server.url + "/console/api/me").json()
    assert again["public_key"] == public_before and again["needs_key"] is False
    assert errors == []
