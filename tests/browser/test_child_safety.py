"""Shared and watched phones, floods and blocks, in real Chromium on both backends (issue 9):
quick exit wipes the device and the code still opens the chat on a fresh profile; the chat locks
itself when idle; proof of work under a flood lets a real child through and keeps scripts out;
a blocked resume identity and its device get the calm message."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import axe_violations
from tests.browser.test_child_chat import BackgroundCounsellor
from tests.browser.test_returning_child import next_queued
from tests.chat_client import ChildClient, FrameError, StaffClient
from tests.integration.test_chat_e2e import PRECHAT
from tests.support import ServerProcess, Stack, add_user, run_async

WHAT_IS_LEFT = """async () => ({
  local: Object.keys(localStorage), session: Object.keys(sessionStorage),
  databases: (await indexedDB.databases()).map(d => d.name), history: history.length,
})"""


def new_page(browser: Browser) -> Page:
    return browser.new_context(viewport={"width": 320, "height": 700}).new_page()


def open_chat(page: Page, server: ServerProcess, counsellor: BackgroundCounsellor) -> str:
    page.goto(server.url + "/")
    page.click("#start-chat")
    page.click("#prechat-submit")
    conv = next_queued(counsellor)
    counsellor.run(counsellor.client.accept(conv))
    counsellor.run(counsellor.client.wait_for_key(conv))
    return conv


def test_quick_exit_wipes_the_device_and_the_code_opens_the_chat_on_a_fresh_profile(
        stack: Stack, server: ServerProcess, browser: Browser) -> None:
    password = add_user(stack, "ana")
    page = new_page(browser)
    ana = BackgroundCounsellor(server, "ana", password)
    try:
        conv = open_chat(page, server, ana)
        ana.run(ana.client.say(conv, "Mirë që na shkrove."))
        page.fill("#message-input", "Mami ma kontrollon telefonin")
        page.click("#send-message")
        expect(page.locator("#messages")).to_contain_text("Mirë që na shkrove.")
        expect(page.locator("#messages .msg.me .meta").last).not_to_contain_text("…")
        code = page.locator("#resume-code").text_content() or ""
        expect(page).to_have_title("Shënime")  # discreet: the tab does not name the helpline
        # Something a browser extension or an older page version could have left in this origin.
        page.evaluate("""() => new Promise(done => { const r = indexedDB.open('helpline-old', 1);
            r.onupgradeneeded = () => r.result.createObjectStore('keys').put('secret', 'k');
            r.onsuccess = () => { r.result.close(); done(); }; })""")
        before = page.evaluate(WHAT_IS_LEFT)
        # Nothing decrypted is stored: the resume secret and last seq for a reload, the device token.
        assert sorted(before["session"]) == ["helpline.secret", "helpline.seq"], before
        assert before["local"] == ["helpline.device"], before
        stored = page.evaluate("() => JSON.stringify([Object.values(localStorage), Object.values(sessionStorage)])")
        assert "Mami" not in stored and "shkrove" not in stored
        # The tab's history: Chromium's first blank entry, then the page (links replace entries).
        assert before["databases"] == ["helpline-old"] and before["history"] == 2, before
        assert page.evaluate("() => Notification.permission") == "default"  # never asked

        page.click("#quick-exit")
        page.wait_for_url("about:blank")
        assert page.evaluate("() => history.length") == 2  # the chat's entry was replaced, not followed
        page.go_back()
        assert page.url == "about:blank", "the Back button returned to the chat"
        page.goto(server.url + "/healthz")  # same origin, no script of ours: what did the exit leave?
        left = page.evaluate(WHAT_IS_LEFT)
        assert left["local"] == [] and left["session"] == [] and left["databases"] == [], left
        page.context.close()

        fresh = new_page(browser)  # another profile: only the code the child remembers
        fresh.goto(server.url + "/")
        fresh.click("#resume-link")
        fresh.fill("#resume-input", code)
        fresh.click("#resume-submit")
        expect(fresh.locator("#messages")).to_contain_text("Mami ma kontrollon telefonin")
        expect(fresh.locator("#messages")).to_contain_text("Mirë që na shkrove.")
        fresh.context.close()
    finally:
        ana.close()


def test_the_chat_locks_itself_when_idle_and_the_code_unlocks_it(
        stack: Stack, start_server: Callable[..., ServerProcess], browser: Browser) -> None:
    server = start_server(HELPLINE_CHILD_AUTOLOCK_MINUTES="0.05")  # three seconds
    password = add_user(stack, "ana")
    page = new_page(browser)
    ana = BackgroundCounsellor(server, "ana", password)
    try:
        conv = open_chat(page, server, ana)
        ana.run(ana.client.say(conv, "Jam këtu për ty."))
        expect(page.locator("#messages")).to_contain_text("Jam këtu për ty.")
        code = page.locator("#resume-code").text_content() or ""
        page.click("#code-box > summary")
        page.click("#pin-box > summary")
        page.fill("#pin-input", "4821")
        page.click("#pin-save")
        expect(page.locator("#pin-status")).to_contain_text("PIN-i u ruajt")
        began = time.monotonic()
        expect(page.locator("#screen-lock")).to_be_visible(timeout=8000)
        assert time.monotonic() - began >= 2
        expect(page.locator("#screen-chat")).to_be_hidden()
        expect(page.locator("#messages")).not_to_be_visible()
        assert axe_violations(page) == []
        assert page.locator("#resume-code").is_hidden()

        ana.run(ana.client.say(conv, "Mesazh ndërsa ishte e fshehur"))  # news does not unlock it
        page.wait_for_timeout(300)
        expect(page.locator("#screen-chat")).to_be_hidden()

        page.fill("#unlock-input", "AAAA-AAAA-AAAA-AAAA")
        page.click("#unlock-submit")
        expect(page.locator("#unlock-error")).not_to_be_empty()
        expect(page.locator("#screen-chat")).to_be_hidden()
        page.fill("#unlock-input", code.lower().replace("-", " "))
        page.click("#unlock-submit")
        expect(page.locator("#screen-chat")).to_be_visible()
        expect(page.locator("#messages")).to_contain_text("Mesazh ndërsa ishte e fshehur")
        expect(page.locator("#message-form")).to_be_visible()

        # Locked again: the PIN the child chose works too, but only for five tries.
        expect(page.locator("#screen-lock")).to_be_visible(timeout=8000)
        page.fill("#unlock-input", "4821")
        page.click("#unlock-submit")
        expect(page.locator("#screen-chat")).to_be_visible()
        expect(page.locator("#screen-lock")).to_be_visible(timeout=8000)
        for _ in range(5):
            page.fill("#unlock-input", "0000")
            page.click("#unlock-submit")
        expect(page.locator("#unlock-error")).to_contain_text("kodin tënd të rikthimit")
        page.fill("#unlock-input", "4821")
        page.click("#unlock-submit")
        expect(page.locator("#screen-chat")).to_be_hidden()
        page.fill("#unlock-input", code)
        page.click("#unlock-submit")
        expect(page.locator("#screen-chat")).to_be_visible()
        page.context.close()
    finally:
        ana.close()


def test_past_the_global_limit_a_real_child_solves_the_puzzle_and_is_queued(
        stack: Stack, start_server: Callable[..., ServerProcess], browser: Browser) -> None:
    # The helpline-wide limit prices a start, it does not refuse it (ADR 0020): before, this child
    # was told to wait while a script kept the limit exhausted.
    server = start_server(HELPLINE_NEW_CHATS_PER_MINUTE="2")

    async def two() -> None:
        for _ in range(2):
            child = ChildClient(server.url, stack.org_public_key)
            await child.connect()
            await child.start(PRECHAT)
            await child.close()

    run_async(two())
    page = new_page(browser)
    page.goto(server.url + "/")
    page.click("#start-chat")
    page.click("#prechat-submit")
    expect(page.locator("#queue-position")).to_contain_text("3", timeout=15000)
    expect(page.locator("#chat-error")).to_be_empty()
    assert len(run_async(queue_now_anyone(stack, server))) == 3
    page.context.close()


async def flood(server: ServerProcess, stack: Stack, count: int, solve: bool) -> tuple[list[ChildClient], list[Any]]:
    children, answers = [], []
    for _ in range(count):
        child = ChildClient(server.url, stack.org_public_key, solve_pow=solve)
        await child.connect()
        try:
            answers.append(await child.start(PRECHAT))
        except FrameError as exc:
            answers.append(exc.frame)
        children.append(child)
    return children, answers


def test_under_a_flood_scripts_are_refused_and_a_real_child_gets_through(
        stack: Stack, start_server: Callable[..., ServerProcess], browser: Browser) -> None:
    server = start_server(HELPLINE_POW_QUEUE_THRESHOLD="5")
    password = add_user(stack, "ana")
    ana = BackgroundCounsellor(server, "ana", password)  # its loop also runs the scripted children
    page = new_page(browser)
    children: list[ChildClient] = []
    try:
        first, accepted = ana.run(flood(server, stack, 5, solve=False))
        children += first
        assert all(isinstance(a, str) for a in accepted)  # no pressure yet: no puzzle
        second, refused = ana.run(flood(server, stack, 40, solve=False))
        children += second
        assert [a["code"] for a in refused] == ["pow_required"] * 40
        assert len(run_async(queue_now(server, "ana", password))) == 5, "the flood got into the queue"

        page.goto(server.url + "/")
        page.click("#start-chat")
        began = time.monotonic()
        page.click("#prechat-submit")
        expect(page.locator("#queue-position")).to_contain_text("6", timeout=15000)
        print("browser child through the proof of work in", round(time.monotonic() - began, 2), "s")
        expect(page.locator("#chat-error")).to_be_empty()
        assert len(run_async(queue_now(server, "ana", password))) == 6
        page.context.close()
    finally:
        ana.run(close_all(children))
        ana.close()


async def queue_now(server: ServerProcess, username: str, password: str) -> list[Any]:
    """The queue as a console that opens now sees it."""
    staff = StaffClient(server.url, username, password)
    await staff.sign_in()
    await staff.connect()
    try:
        snapshot = await staff.socket.next_event("queue")  # type: ignore[union-attr]
    finally:
        await staff.close()
    items: list[Any] = snapshot["items"]
    return items


async def queue_now_anyone(stack: Stack, server: ServerProcess) -> list[Any]:
    return await queue_now(server, "eda", add_user(stack, "eda"))


async def close_all(children: list[ChildClient]) -> None:
    for child in children:
        await child.close()


@pytest.mark.parametrize("how", ["same device", "fresh profile"])
def test_a_blocked_child_cannot_start_again_and_gets_the_calm_message(
        stack: Stack, server: ServerProcess, browser: Browser, how: str) -> None:
    password = add_user(stack, "ana")
    page = new_page(browser)
    ana = BackgroundCounsellor(server, "ana", password)
    calm = "Nëse ke nevojë për ndihmë, mund të telefonosh falas në 116 111."
    try:
        conv = open_chat(page, server, ana)
        code = page.locator("#resume-code").text_content() or ""
        ana.run(ana.client.command({"type": "block", "conv": conv, "reason": "prank"}))
        expect(page.locator("#chat-error")).to_contain_text(calm)
        expect(page.locator("#message-form")).to_be_hidden()
        if how == "same device":
            # A new resume identity from the same browser: the device token is blocked too.
            page.goto(server.url + "/")
            page.click("#start-chat")
            page.click("#prechat-submit")
        else:
            page.context.close()
            page = new_page(browser)
            page.goto(server.url + "/")
            page.click("#resume-link")
            page.fill("#resume-input", code)
            page.click("#resume-submit")
            expect(page.locator("#new-chat")).to_be_visible()
            page.click("#new-chat")
            page.click("#prechat-submit")
        expect(page.locator("#chat-error")).to_contain_text(calm)
        expect(page.locator("#message-form")).to_be_hidden()
        page.wait_for_timeout(300)
        assert run_async(queue_now(server, "ana", password)) == [], "a blocked child got into the queue"
        page.context.close()
    finally:
        ana.close()
