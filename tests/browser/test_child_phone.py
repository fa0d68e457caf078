"""The chat on a cheap phone (issue 20), at 320 px in Albanian and English, axe clean: a child in
danger sees 112, 129 and 116 111 on the queue screen at once; she can start from the top of the
questions and answer them while she waits; the message box is above the fold; "End chat" asks
once; the end of the chat shows where she is looking, and "did it help?" only after a talk."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from tests.browser.conftest import axe_violations
from tests.browser.test_child_chat import BackgroundCounsellor
from tests.support import ServerProcess, Stack, add_user

LOCALES = ["sq", "en"]
NUMBERS = ["tel:112", "tel:129", "tel:116111"]
SLOW = 15_000  # ms: a counsellor's frames crossing a machine shared with other suites


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 320, "height": 640})
    yield context.new_page()
    context.close()


def in_view(page: Page, target: Locator) -> bool:
    """Wholly inside the visible viewport and not under the sticky header."""
    box = target.bounding_box()
    assert box is not None, "not rendered"
    header = page.locator("header.bar").bounding_box()
    assert header is not None
    height = page.evaluate("() => window.innerHeight")
    return bool(box["y"] >= header["y"] + header["height"] - 1 and box["y"] + box["height"] <= height + 1)


def queued_item(counsellor: BackgroundCounsellor, wanted: Any) -> dict[str, Any]:
    """The first item of a `queue` frame for which wanted(item) holds."""
    for _ in range(20):
        queue = counsellor.run(counsellor.client.socket.next_event("queue"))  # type: ignore[union-attr]
        found = [item for item in queue.get("items", []) if wanted(item)]
        if found:
            return found[0]
    pytest.fail("no such item in the queue")


@pytest.mark.parametrize("lang", LOCALES)
def test_a_child_in_danger_sees_the_numbers_at_once(stack: Stack, server: ServerProcess, page: Page,
                                                    lang: str) -> None:
    page.goto(server.url + f"/?lang={lang}")
    for number in NUMBERS:  # the start page has all three as links too
        expect(page.locator(f'#screen-welcome a[href="{number}"]')).to_have_count(1)
    page.click("#start-chat")
    page.locator('input[name=danger][value=yes]').check()
    page.click("#prechat-submit")
    expect(page.locator("body")).to_have_attribute("data-state", "queue")
    numbers = page.locator("#emergency-numbers")
    expect(numbers).to_be_visible()
    for number in NUMBERS:
        link = numbers.locator(f'a[href="{number}"]')
        expect(link).to_be_visible()
        assert in_view(page, link), f"{number} is not in view on the queue screen"
    assert axe_violations(page) == []


@pytest.mark.parametrize("lang", LOCALES)
def test_she_starts_at_the_top_and_answers_while_waiting(stack: Stack, server: ServerProcess, page: Page,
                                                         lang: str) -> None:
    counsellor = BackgroundCounsellor(server, "ana", add_user(stack, "ana"))
    try:
        page.goto(server.url + f"/?lang={lang}")
        page.click("#start-chat")
        start_now = page.locator("#prechat-start-now")
        assert in_view(page, start_now), "the start button is not at the top of the questions"
        start_now.click()
        expect(page.locator("body")).to_have_attribute("data-state", "queue")
        expect(page.locator("#resume-code")).not_to_be_empty()
        # The message box and its button are above the fold; the empty conversation says she can write.
        assert in_view(page, page.locator("#message-input")), "the message box is below the fold"
        assert in_view(page, page.locator("#send-message")), "the Send button is below the fold"
        empty = page.locator("#messages").evaluate("e => getComputedStyle(e, '::before').content")
        assert len(empty) > 10, empty
        expect(page.locator("#emergency-numbers")).to_be_hidden()
        item = queued_item(counsellor, lambda i: True)
        assert item["urgency"] == 0 and item["topic"] is None
        assert axe_violations(page) == []
        # The questions wait below the message box; each answer goes at once.
        later = page.locator("#later-questions")
        expect(later).to_be_visible()
        later.locator("summary").click()
        later.locator('input[name=topic][value=school]').check()
        later.locator('input[name=danger][value=yes]').check()
        expect(page.locator("#emergency-numbers")).to_be_visible()
        item = queued_item(counsellor, lambda i: i["urgency"] == 2 and i["topic"] == "school")
        assert item["topic"] == "school"
        assert axe_violations(page) == []
    finally:
        counsellor.close()


@pytest.mark.parametrize("lang", LOCALES)
def test_the_end_shows_where_she_is_looking(stack: Stack, server: ServerProcess, page: Page, lang: str) -> None:
    counsellor = BackgroundCounsellor(server, "ana", add_user(stack, "ana"))
    try:
        page.goto(server.url + f"/?lang={lang}")
        page.click("#start-chat")
        page.click("#prechat-submit")
        conv = queued_item(counsellor, lambda i: True)["conv"]
        counsellor.run(counsellor.client.accept(conv))
        counsellor.run(counsellor.client.wait_for_key(conv))
        expect(page.locator("body")).to_have_attribute("data-state", "chat", timeout=SLOW)
        for n in range(12):  # a long chat: the end must not be screens away
            counsellor.run(counsellor.client.say(conv, f"Mesazhi {n}: jam këtu për ty."))
        expect(page.locator("#messages .msg.them")).to_have_count(12, timeout=SLOW)
        page.fill("#message-input", "Faleminderit")
        page.click("#send-message")
        expect(page.locator("#messages .msg.me .meta").last).not_to_contain_text("…")
        # "End chat" asks once; "No" keeps the chat.
        page.click("#end-chat")
        expect(page.locator("#end-confirm")).to_be_visible()
        assert axe_violations(page) == []
        page.click("#end-no")
        expect(page.locator("#end-confirm")).to_be_hidden()
        expect(page.locator("#end-chat")).to_be_focused()
        expect(page.locator("body")).to_have_attribute("data-state", "chat")
        counsellor.run(counsellor.client.end(conv))
        expect(page.locator("body")).to_have_attribute("data-state", "ended", timeout=SLOW)
        title = page.locator("#ended-title")
        expect(title).to_be_focused()
        assert in_view(page, title), "the end of the chat is not where she is looking"
        expect(page.locator("#connection-state")).to_be_hidden()  # no green "Connected" over an ended chat
        expect(page.locator("#feedback")).to_be_visible()  # she talked with a counsellor: asked once
        assert in_view(page, page.locator("#feedback-yes"))
        assert axe_violations(page) == []
        page.click("#feedback-yes")
        expect(page.locator("#feedback-thanks")).not_to_be_empty()
    finally:
        counsellor.close()


def test_a_child_who_talked_to_nobody_is_not_asked_if_it_helped(stack: Stack, server: ServerProcess,
                                                                 page: Page) -> None:
    page.goto(server.url + "/")
    page.click("#start-chat")
    page.click("#prechat-submit")
    expect(page.locator("#resume-code")).not_to_be_empty()
    page.click("#end-chat")
    expect(page.locator("#end-chat")).to_be_hidden()
    expect(page.locator("#end-yes")).to_be_focused()
    page.click("#end-yes")
    expect(page.locator("body")).to_have_attribute("data-state", "ended")
    expect(page.locator("#ended-panel")).to_be_visible()
    expect(page.locator("#feedback")).to_be_hidden()
    assert in_view(page, page.locator("#ended-title"))
