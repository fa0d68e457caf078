"""Nobody left waiting for nobody (issue 18, acceptance 4; ADR 0027), in Chromium: with no
counsellor signed in, the child is told so (not "You are next!"), offered 116 111, can say "I am in
danger now" and see 112 and 129, leaves a message, and later reads a counsellor's answer after resuming with the code
in a fresh browser profile."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.conftest import Loop, axe_violations
from tests.chat_client import StaffClient
from tests.support import ServerProcess, Stack, add_user

TOLD = {"sq": "nuk ka njeri që të përgjigjet", "en": "Nobody can answer in the chat right now."}
SAVED = {"sq": "Mesazhi yt u ruajt.", "en": "Your message is saved."}
FIRST = {"sq": "Je në vendin e parë në radhë.", "en": "You are first in the queue."}  # not "You are next!"


@pytest.mark.parametrize("lang", ["sq", "en"])
def test_a_child_leaves_a_message_when_nobody_is_on_duty_and_reads_the_answer_with_the_code(
        stack: Stack, server: ServerProcess, browser: Browser, loop: Loop, lang: str) -> None:
    ana = StaffClient(server.url, "ana", add_user(stack, "ana"))
    loop.run(ana.sign_in())  # her key is enrolled and signed; she is not on duty
    query = "" if lang == "sq" else "?lang=en"
    context = browser.new_context(viewport={"width": 320, "height": 700})
    try:
        page = context.new_page()
        page.goto(server.url + "/" + query)
        page.click("#start-chat")
        page.click("#prechat-submit")
        expect(page.locator("#waiting-why")).to_contain_text(TOLD[lang])
        expect(page.locator('#waiting-offer a[href="tel:116111"]')).to_have_text("116 111")
        expect(page.locator("#queue-wait")).to_have_text("")  # no promise of a wait nobody can keep
        expect(page.locator("#queue-position")).to_have_text(FIRST[lang])

        page.click("#in-danger")
        expect(page.locator('#emergency-numbers a[href="tel:112"]')).to_have_text("112")
        expect(page.locator('#emergency-numbers a[href="tel:129"]')).to_have_text("129")
        expect(page.locator("#in-danger")).to_be_hidden()
        assert axe_violations(page) == []

        page.click("#leave-message")  # nothing written yet: the page asks for the message first
        expect(page.locator("#message-input")).to_be_focused()
        page.fill("#message-input", "Më ngacmojnë në shkollë çdo ditë")
        page.click("#send-message")
        expect(page.locator("#messages .msg.me .meta").last).not_to_contain_text("…")
        page.click("#leave-message")
        expect(page.locator("#leave-status")).to_contain_text(SAVED[lang])
        expect(page.locator("#leave-message")).to_be_hidden()
        assert axe_violations(page) == []
        code = page.locator("#resume-code").text_content() or ""
        assert len(code.replace("-", "")) == 16, code
    finally:
        context.close()

    # The next counsellor sees the message waiting, reads it and answers.
    loop.run(ana.connect())
    queue = loop.run(ana.socket.next_event("queue"))  # type: ignore[union-attr]
    conv = queue["messages"][0]["conv"]
    ack = loop.run(ana.accept(conv))
    ana._take_key(conv, ack["key"], ack["wrapper_public_key"])
    loop.run(ana.sync(conv, 0))
    loop.run(ana.say(conv, "Të lexova. Nuk është faji yt. Fol me mua këtu."))

    fresh = browser.new_context(viewport={"width": 320, "height": 700})
    try:
        page = fresh.new_page()
        page.goto(server.url + "/" + query)
        page.click("#resume-link")
        page.fill("#resume-input", code)
        page.click("#resume-submit")
        expect(page.locator("#messages")).to_contain_text("Më ngacmojnë në shkollë çdo ditë")
        expect(page.locator("#messages")).to_contain_text("Nuk është faji yt. Fol me mua këtu.")
        assert [m.text for m in ana.received[conv].values()] == ["Më ngacmojnë në shkollë çdo ditë"]
    finally:
        fresh.close()
        loop.run(ana.close())
        loop.close([])
