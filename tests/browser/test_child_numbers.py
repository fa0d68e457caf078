"""The child's pages take the numbers and the name from the pack (issue 23, ADR 0038), in Chromium.

A server whose `helpline.pack.numbers()` gives another helpline's numbers (set in its process, so no
code path of ours is replaced) shows them, as tel: links, on the chat page, every safety page and the
report page, in the page config and in the scripts' sentences, and never Albania's. A waiting child
with nobody on duty is not told "You are next!"."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from child_ui.web import SAFETY_PAGES
from tests.integration.referral_support import cli
from tests.support import ServerProcess, Stack, free_port

OTHER = {"helpline": "116 123", "emergency": "911", "police": "192", "brand": "Linja e Provës 116 123"}
ALBANIA = ["116 111", "tel:116111", "tel:112", "tel:129", "ALO 116"]
# `helpline serve` with the pack's numbers set to OTHER: the data function alone, as a pack would give it.
SERVE = ("import json, sys; import helpline.pack as p; numbers = json.loads(sys.argv[1]); "
         "p.numbers = lambda: dict(numbers); from helpline.cli import main; main(sys.argv[2:])")


@pytest.fixture
def other_helpline(stack: Stack) -> ServerProcess:
    port = free_port()
    command = [sys.executable, "-c", SERVE, json.dumps(OTHER), "serve", "--port", str(port), "--workers", "1"]
    server = ServerProcess(stack, port, command=command).start()
    stack.servers.append(server)
    return server


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 320, "height": 700})
    yield context.new_page()
    context.close()


def assert_no_albanian_numbers(page: Page) -> None:
    html = page.content()
    assert [n for n in ALBANIA if n in html] == []


def test_the_chat_page_and_its_scripts_show_the_packs_numbers(other_helpline: ServerProcess, page: Page) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(other_helpline.url + "/")
    expect(page).to_have_title(f"Fol me ne – {OTHER['brand']}")
    expect(page.locator("footer")).to_contain_text(f"{OTHER['brand']}: ndihmë falas dhe anonime për fëmijët.")
    welcome = page.locator("#screen-welcome")
    expect(welcome.locator('a[href="tel:911"]')).to_have_text("911")
    expect(welcome.locator('a[href="tel:192"]')).to_have_text("192")
    expect(welcome.locator('a[href="tel:116123"]')).to_have_text("116 123")
    config = page.evaluate("() => JSON.parse(document.getElementById('helpline-config').textContent)")
    assert config["numbers"] == OTHER
    assert_no_albanian_numbers(page)

    # Nobody is on duty: the queue says so honestly, and the waiting script offers the pack's number.
    page.click("#start-chat")
    page.click("#prechat-submit")
    expect(page.locator("#queue-position")).to_have_text("Je në vendin e parë në radhë.")
    expect(page.locator("#waiting-offer a[href='tel:116123']")).to_have_text("116 123")
    expect(page.locator("#waiting-offer")).not_to_contain_text("116 111")
    page.click("#in-danger")
    expect(page.locator('#emergency-numbers a[href="tel:911"]')).to_have_text("911")
    expect(page.locator('#emergency-numbers a[href="tel:192"]')).to_have_text("192")
    # fmt.js, as child.js uses it for its own sentences.
    said = page.evaluate("() => HelplineFmt('Telefono %(helpline)s.', JSON.parse("
                         "document.getElementById('helpline-config').textContent).numbers)")
    assert said == "Telefono 116 123."
    assert errors == []


def test_every_safety_page_and_the_report_page_show_the_packs_numbers(
        other_helpline: ServerProcess, browser: Browser) -> None:
    context = browser.new_context(java_script_enabled=False)  # what a child reads with no script
    try:
        page = context.new_page()
        for slug in SAFETY_PAGES:
            page.goto(other_helpline.url + f"/help/{slug}")
            expect(page.locator('a[href="tel:116123"]').first).to_have_text("116 123")
            expect(page).to_have_title(f"{page.locator('h1').inner_text()} – {OTHER['brand']}")
            assert_no_albanian_numbers(page)
        page.goto(other_helpline.url + "/help/more-help?lang=en")
        numbers = page.locator("ul.numbers")
        expect(numbers).to_contain_text(f"116 123: {OTHER['brand']}, the free phone line for children.")
        expect(numbers.locator('a[href="tel:911"]')).to_have_text("911")
        expect(numbers.locator('a[href="tel:192"]')).to_have_text("192")
        page.goto(other_helpline.url + "/report")
        expect(page).to_have_title(f"Raporto çfarë pe në internet – {OTHER['brand']}")
        notice = page.locator("noscript, .notice").filter(has_text="JavaScript")
        expect(notice.locator('a[href="tel:116123"]')).to_have_count(1)
        expect(notice.locator('a[href="tel:192"]')).to_have_count(1)
        assert_no_albanian_numbers(page)
    finally:
        context.close()


def test_the_report_script_says_the_packs_number_when_it_cannot_send(stack: Stack, other_helpline: ServerProcess,
                                                                    page: Page) -> None:
    cli(stack, "directory", "load")  # the cybercrime sector is there, but no officer of it has a key yet
    page.goto(other_helpline.url + "/report?lang=en")
    page.locator("input[name=kind]").first.check()
    page.fill("#report-platform", "Instagram")
    page.fill("#report-link", "https://instagram.example/someone")
    page.click("#report-submit")
    expect(page.locator("#report-error")).to_have_text("Reports cannot be sent right now. Please call 116 123.")
