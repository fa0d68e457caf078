"""A child comes back with their resume code in a fresh browser profile, starts a new chat, and the
new counsellor can read the earlier chat: the child's page shares it (ADR 0009)."""

from __future__ import annotations

import httpx
from playwright.sync_api import Browser, expect

from tests.browser.test_child_chat import BackgroundCounsellor
from tests.chat_client import StaffClient
from tests.support import ServerProcess, Stack, add_user


def next_queued(counsellor: BackgroundCounsellor) -> str:
    queue = counsellor.run(counsellor.client.socket.next_event("queue"))  # type: ignore[union-attr]
    while not queue.get("items"):
        queue = counsellor.run(counsellor.client.socket.next_event("queue"))  # type: ignore[union-attr]
    conv: str = queue["items"][0]["conv"]
    return conv


def record_case(staff: StaffClient, conv: str) -> None:
    with httpx.Client(base_url=staff.base_url, cookies=staff.cookies,
                      headers={"origin": staff.base_url, "x-csrf-token": staff.csrf}) as http:
        answer = http.put(f"/console/api/cases/{conv}", json={
            "contact_type": "counselling", "primary_category": "peers", "risk": "low", "outcome": "advice"})
        assert answer.status_code == 200, answer.text


def test_a_returning_child_shares_the_earlier_chat_from_a_fresh_browser(
        stack: Stack, server: ServerProcess, browser: Browser) -> None:
    ana_pw, bea_pw = add_user(stack, "ana"), add_user(stack, "bea")
    first_context = browser.new_context(viewport={"width": 320, "height": 700})
    page = first_context.new_page()
    page.goto(server.url + "/")
    page.click("#start-chat")
    page.click("#prechat-submit")
    ana = BackgroundCounsellor(server, "ana", ana_pw)
    bea: BackgroundCounsellor | None = None
    try:
        first = next_queued(ana)
        ana.run(ana.client.accept(first))
        ana.run(ana.client.wait_for_key(first))
        page.fill("#message-input", "herën e parë: shoqet më lënë jashtë")
        page.click("#send-message")
        expect(page.locator("#messages")).to_contain_text("shoqet më lënë jashtë")
        code = page.locator("#resume-code").text_content() or ""
        assert len(code.replace("-", "")) == 16, code
        ana.run(ana.client.end(first))
        record_case(ana.client, first)
        first_context.close()

        # A fresh profile: nothing of the first one is here, only the code the child wrote down.
        context = browser.new_context(viewport={"width": 320, "height": 700})
        page = context.new_page()
        page.goto(server.url + "/")
        page.click("#resume-link")
        page.fill("#resume-input", code)
        page.click("#resume-submit")
        expect(page.locator("#messages")).to_contain_text("shoqet më lënë jashtë")
        page.click("#new-chat")
        page.click("#prechat-submit")
        bea = BackgroundCounsellor(server, "bea", bea_pw)
        second = next_queued(bea)
        assert second != first
        bea.run(bea.client.accept(second))
        history = bea.run(bea.client.socket.next_event("history"))  # type: ignore[union-attr]
        assert history["earlier"] == first
        bea.client._take_key(first, history["key"], history["wrapper_public_key"])
        bea.run(bea.client.sync(first, 0))
        expect(page.locator("#messages")).to_contain_text("bisedat e tua të mëparshme")
        texts = [m.text for m in bea.client.received.get(first, {}).values()]
        assert texts == ["herën e parë: shoqet më lënë jashtë"]
        context.close()
    finally:
        ana.close()
        if bea is not None:
            bea.close()
