"""The idle lock holds across a reload, Back/Forward and a restored tab, in real Chromium on both
backends (issue 17): while locked, nothing in the page or in its storage decrypts the chat, and
only the resume code brings it back."""

from __future__ import annotations

import json
from collections.abc import Callable

from playwright.sync_api import Browser, Page, expect

from helpline import crypto
from tests.browser.test_child_chat import BackgroundCounsellor
from tests.browser.test_child_safety import new_page, open_chat
from tests.support import ServerProcess, Stack, add_user

THEIRS = "Jam këtu për ty, Lira."
MINE = "Babai më bërtet çdo natë"
LATER = "Mesazh ndërsa ishte e fshehur"

# Everything a script (or anyone at the keyboard) could read: the document with its form values,
# and both storages of the origin.
READABLE = """() => ({
  state: document.body.getAttribute('data-state'),
  html: document.documentElement.outerHTML,
  values: Array.from(document.querySelectorAll('input, textarea')).map(e => e.value),
  session: Object.fromEntries(Object.entries(sessionStorage)),
  local: Object.fromEntries(Object.entries(localStorage)),
})"""


def assert_nothing_readable(page: Page, code: str) -> None:
    expect(page.locator("body")).to_have_attribute("data-state", "lock")
    expect(page.locator("#screen-lock")).to_be_visible()
    seen = page.evaluate(READABLE)
    secret = crypto.parse_resume_code(code)
    readable = json.dumps(seen, ensure_ascii=False)
    for words in (THEIRS, MINE, LATER, code, crypto.b64u_encode(secret)):
        assert words not in readable, f"{words!r} is readable while the chat is locked"
    assert "helpline.secret" not in seen["session"], seen["session"]
    assert set(seen["local"]) <= {"helpline.device"}, seen["local"]


def unlock_with(page: Page, code: str) -> None:
    page.fill("#unlock-input", code)
    page.click("#unlock-submit")
    expect(page.locator("#messages")).to_contain_text(THEIRS)
    expect(page.locator("#messages")).to_contain_text(MINE)


def test_the_lock_survives_reload_back_forward_and_a_restored_tab(
        stack: Stack, start_server: Callable[..., ServerProcess], browser: Browser) -> None:
    server = start_server(HELPLINE_CHILD_AUTOLOCK_MINUTES="0.1")  # six seconds
    password = add_user(stack, "ana")
    page = new_page(browser)
    context = page.context
    ana = BackgroundCounsellor(server, "ana", password)
    try:
        conv = open_chat(page, server, ana)
        ana.run(ana.client.say(conv, THEIRS))
        page.fill("#message-input", MINE)
        page.click("#send-message")
        expect(page.locator("#messages")).to_contain_text(THEIRS)
        expect(page.locator("#messages .msg.me .meta").last).not_to_contain_text("…")
        code = page.locator("#resume-code").text_content() or ""
        page.fill("#message-input", "një draft")

        # The lock engages: the page itself keeps no word, no code, no draft.
        expect(page.locator("#screen-lock")).to_be_visible(timeout=15000)
        assert_nothing_readable(page, code)
        assert "një draft" not in json.dumps(page.evaluate(READABLE), ensure_ascii=False)
        ana.run(ana.client.say(conv, LATER))  # news while locked is not opened either
        page.wait_for_timeout(300)
        assert_nothing_readable(page, code)

        # (a) A reload shows the lock screen, not the chat and not a fresh start.
        page.reload()
        assert_nothing_readable(page, code)
        page.fill("#unlock-input", "4821")  # no PIN survives a reload
        page.click("#unlock-submit")
        expect(page.locator("#unlock-error")).to_contain_text("kodin tënd të rikthimit")
        unlock_with(page, code)
        expect(page.locator("#messages")).to_contain_text(LATER)

        # (b) Back/Forward: away to another page and back, locked meanwhile.
        expect(page.locator("#screen-lock")).to_be_visible(timeout=15000)
        page.goto(server.url + "/healthz")
        page.go_back()
        expect(page).to_have_url(server.url + "/")
        assert_nothing_readable(page, code)
        page.go_forward()
        page.go_back()
        assert_nothing_readable(page, code)
        unlock_with(page, code)

        # Away longer than the idle time while the chat showed: Back finds it locked at once.
        page.goto(server.url + "/healthz")
        page.wait_for_timeout(6500)
        page.go_back()
        expect(page.locator("body")).to_have_attribute("data-state", "lock", timeout=1000)
        assert_nothing_readable(page, code)
        unlock_with(page, code)

        # (c) A closed tab, reopened: Chromium gives it back its sessionStorage, nothing more.
        expect(page.locator("#screen-lock")).to_be_visible(timeout=15000)
        kept = page.evaluate("() => JSON.stringify(Object.entries(sessionStorage))")
        page.close()
        restored = context.new_page()
        origin, entries = json.dumps(server.url), json.dumps(kept)
        restored.add_init_script(
            f"if (location.origin === {origin})"
            f" for (const [k, v] of JSON.parse({entries})) sessionStorage.setItem(k, v);")
        restored.goto(server.url + "/")
        assert_nothing_readable(restored, code)
        unlock_with(restored, code)
        expect(restored.locator("#message-form")).to_be_visible()
        context.close()
    finally:
        ana.close()


def test_a_locked_page_can_start_over_without_the_code(
        stack: Stack, start_server: Callable[..., ServerProcess], browser: Browser) -> None:
    server = start_server(HELPLINE_CHILD_AUTOLOCK_MINUTES="0.05")
    password = add_user(stack, "ana")
    page = new_page(browser)
    ana = BackgroundCounsellor(server, "ana", password)
    try:
        conv = open_chat(page, server, ana)
        ana.run(ana.client.say(conv, THEIRS))
        expect(page.locator("#messages")).to_contain_text(THEIRS)
        code = page.locator("#resume-code").text_content() or ""
        expect(page.locator("#screen-lock")).to_be_visible(timeout=10000)
        page.reload()
        assert_nothing_readable(page, code)
        page.click("#lock-new")
        expect(page.locator("body")).to_have_attribute("data-state", "welcome")
        assert page.evaluate("() => Object.keys(sessionStorage)") == []
        page.reload()
        expect(page.locator("body")).not_to_have_attribute("data-state", "lock")
        expect(page.locator("#screen-welcome")).to_be_visible()
        page.context.close()
    finally:
        ana.close()
