"""Nobody left waiting for nobody in the console (issue 18, ADR 0027), in Chromium: a counsellor
answers a message a child left under "messages waiting", and a supervisor takes over a chat whose
counsellor closed her browser, with the whole history. Children (and the counsellor who leaves) are
PyNaCl clients on a background event loop."""

from __future__ import annotations

import time
from collections.abc import Callable

from playwright.sync_api import BrowserContext, expect

from tests.browser.conftest import Loop, axe_violations
from tests.browser.console_signin import sign_in
from tests.browser.test_console_teamwork import press
from tests.chat_client import StaffClient
from tests.integration.test_waiting import leave_message
from tests.support import ServerProcess, Stack, add_user


def test_a_counsellor_answers_a_left_message_from_messages_waiting(
        stack: Stack, server: ServerProcess, staff_context: BrowserContext, loop: Loop) -> None:
    password = add_user(stack, "ana")
    page = staff_context.new_page()
    sign_in(page, server, "ana", password)
    child, conv = loop.child(server, stack)
    try:
        loop.run(leave_message(child, stack, "Askush nuk ishte aty. Më ngacmojnë."))
        expect(page.locator("#messages-waiting li")).to_have_count(1)
        assert axe_violations(page) == []
        press(page, f'button[data-answer="{conv}"]')
        panel = page.locator(f'[data-conv="{conv}"]')
        expect(panel.locator(".from-child")).to_have_text(["Askush nuk ishte aty. Më ngacmojnë."])
        expect(page.locator("#messages-waiting")).to_be_hidden()
        panel.locator("textarea.compose").fill("Të lexova. Jam këtu tani.")
        panel.locator("textarea.compose").press("Enter")
        deadline = time.monotonic() + 10
        while not any(m.text == "Të lexova. Jam këtu tani." for m in child.received.values()):
            assert time.monotonic() < deadline, "the child never got the answer"
            time.sleep(0.05)
    finally:
        loop.close([child])


def test_a_supervisor_takes_over_in_the_console_a_chat_whose_counsellor_closed_her_browser(
        stack: Stack, start_server: Callable[..., ServerProcess], staff_context: BrowserContext,
        loop: Loop) -> None:
    server = start_server(HELPLINE_TAKEOVER_AFTER_SECONDS="1")
    ana_pw, sara_pw = add_user(stack, "ana"), add_user(stack, "sara", role="supervisor")
    page = staff_context.new_page()
    sign_in(page, server, "sara", sara_pw)
    ana = StaffClient(server.url, "ana", ana_pw)
    loop.run(ana.sign_in())
    loop.run(ana.connect())
    child, conv = loop.child(server, stack)
    try:
        loop.run(ana.accept(conv))
        loop.run(ana.wait_for_key(conv))
        loop.run(child.say("më ndihmo"))
        loop.run(ana.say(conv, "Jam këtu."))
        loop.run(ana.close())  # her browser is gone
        press(page, '#views button[data-view="supervise"]')
        take = page.locator('button[data-take-over="me"]')
        expect(take).to_have_count(1, timeout=15000)
        assert axe_violations(page) == []
        take.focus()
        page.keyboard.press("Enter")
        press(page, '#views button[data-view="work"]')
        panel = page.locator(f'[data-conv="{conv}"]')
        expect(panel.locator(".from-child")).to_have_text(["më ndihmo"])
        expect(panel.locator(".from-colleague")).to_have_text(["Jam këtu."])
        panel.locator("textarea.compose").fill("Jam Sara. Vazhdojmë bashkë.")
        panel.locator("textarea.compose").press("Enter")
        deadline = time.monotonic() + 10
        while not any(m.text == "Jam Sara. Vazhdojmë bashkë." for m in child.received.values()):
            assert time.monotonic() < deadline, "the child never got the supervisor's message"
            time.sleep(0.05)
    finally:
        loop.close([child])
