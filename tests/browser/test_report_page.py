"""Issue 4, acceptance 8, in real Chromium on both backends: a reporter with no account fills the
public report page (/report) with the keyboard alone and gets a code; the report is encrypted in the
page to the police cybercrime officers' keys, so the database holds ciphertext only; the officer sees
it in the portal list and acknowledges it; the reporter's status check then says so, and when.
axe-core finds nothing on the page in Albanian and English; the page offers no upload and says why;
quick exit leaves no way back."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import axe_violations
from tests.browser.test_child_pages import layout_problems
from tests.browser.test_referral_portal import portal_sign_in, tab_to
from tests.integration.referral_support import Member, cli, member, open_text, query, unwrap
from tests.support import ServerProcess, Stack, add_user, run_async

PLATFORM = "Instagram"
LINK = "https://instagram.example/nje.llogari"
WHAT = "Një i rritur i kërkon foto një vajze 13 vjeç"
CONTACT = "069 000 0000"


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 360, "height": 740})
    yield context.new_page()
    context.close()


async def _officer_reads_and_acknowledges(server: ServerProcess, officer: Member) -> dict[str, Any]:
    async with officer.client(server.url) as portal:
        listing = (await portal.get("/referrals/api/referrals")).json()["referrals"]
        assert len(listing) == 1 and listing[0]["source"] == "report", listing
        assert listing[0]["chi_category"] == "illegal_content.grooming"
        rid = listing[0]["id"]
        read = (await portal.get(f"/referrals/api/referrals/{rid}")).json()
        acknowledged = await portal.post(f"/referrals/api/referrals/{rid}/acknowledge")
        assert acknowledged.status_code == 200, acknowledged.text
        return dict(read)


def test_reporter_sends_by_keyboard_officer_acknowledges_reporter_sees_it(
        stack: Stack, server: ServerProcess, page: Page) -> None:
    cli(stack, "directory", "load")
    cyber = run_async(member(stack, "gent", "officer", agency="police-cyber"))
    run_async(member(stack, "sara", "supervisor"))
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    posted: list[str] = []
    page.on("request", lambda r: posted.append(r.post_data or "") if r.method == "POST" else None)

    # The child start page links to the report page.
    page.goto(server.url + "/")
    expect(page.locator("a[href^='/report']")).to_have_count(1)

    page.goto(server.url + "/report")
    expect(page.locator("html")).to_have_attribute("lang", "sq")
    expect(page.locator("#quick-exit")).to_be_visible()
    expect(page.locator("#no-photos-title")).to_have_text("Mos na dërgo kurrë fotot ose videot")
    expect(page.locator("body")).to_contain_text("është krim")  # why: holding or sending them is a crime
    assert page.locator("input[type=file]").count() == 0
    # The words have no form names: without the script, a submit can never put them in a URL.
    assert page.locator("#report-form [name]:not([name=kind])").count() == 0
    assert axe_violations(page) == [], "report page (sq)"

    # Nothing chosen: the page says what is missing and puts the focus there.
    tab_to(page, "#report-submit")
    page.keyboard.press("Enter")
    expect(page.locator("#report-error")).to_have_text("Zgjidh çfarë pe.")
    expect(page.locator("input[name=kind][value=sexual_images]")).to_be_focused()
    assert axe_violations(page) == [], "report page with an error"

    # The keyboard alone: arrow to "grooming", then each field in turn, Enter sends.
    page.keyboard.press("ArrowDown")
    expect(page.locator("input[name=kind][value=grooming]")).to_be_checked()
    tab_to(page, "#report-platform")
    page.keyboard.type(PLATFORM)
    page.keyboard.press("Tab")
    page.keyboard.type(LINK)
    page.keyboard.press("Tab")
    page.keyboard.type(WHAT)
    page.keyboard.press("Tab")
    page.keyboard.type(CONTACT)
    page.keyboard.press("Enter")
    expect(page.locator("#report-sent")).to_be_visible()
    expect(page.locator("#sent-title")).to_be_focused()
    expect(page.locator("#report-form")).to_be_hidden()
    code = page.locator("#report-code").inner_text()
    assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}", code), code
    assert axe_violations(page) == [], "report sent (sq)"

    # What left the page was ciphertext: none of the words in any request body.
    assert posted and all(secret not in body for body in posted for secret in (PLATFORM, LINK, WHAT, CONTACT,
                                                                                "instagram", "vajze"))
    # And in the database too: the content is ciphertext, the code only a keyed hash, no creator.
    stored = run_async(query(stack, "SELECT content, report_code_hash, created_by, source FROM referrals"))
    assert len(stored) == 1 and stored[0][3] == "report" and stored[0][2] is None
    content, code_hash = stored[0][0], stored[0][1]
    for secret in (PLATFORM, LINK, WHAT, CONTACT, "instagram", "vajze", "069"):
        assert secret.lower() not in content.lower()
    assert code.replace("-", "") not in code_hash and code not in code_hash

    # Before the police see it: "not yet", with the day it arrived.
    tab_to(page, "#status-submit")
    page.keyboard.press("Enter")
    expect(page.locator("#status-result")).to_contain_text("Jo ende.")

    # The police cybercrime officer finds it in the portal list, opens it with their key, acknowledges.
    read = run_async(_officer_reads_and_acknowledges(server, cyber))
    assert json.loads(open_text(unwrap(cyber, read), read["content"])) == {
        "v": 1, "platform": PLATFORM, "link": LINK, "what": WHAT, "contact": CONTACT}
    assert read["sender"] is None
    # Nothing about the reporter anywhere: no address, no browser name; the police's notice says
    # only that a referral waits.
    user_agent = page.evaluate("() => navigator.userAgent")
    kept = repr(run_async(query(stack, "SELECT actor, action, subject, detail FROM audit_log")))
    kept += repr(run_async(query(stack, "SELECT * FROM referral_events")))
    kept += repr(run_async(query(stack, "SELECT subject, body FROM notices")))
    assert "public:report" in kept
    for secret in ("127.0.0.1", "localhost", user_agent, "Chrome", PLATFORM, LINK, WHAT, CONTACT, "vajze"):
        assert secret not in kept, secret

    # The reporter checks again, typing the code by hand in lower case.
    tab_to(page, "#status-code")
    page.keyboard.press("Control+A")
    page.keyboard.type(code.lower())
    page.keyboard.press("Enter")
    expect(page.locator("#status-result")).to_contain_text("Po. Policia e pa raportimin tënd më")
    # A wrong code is told apart from "not yet".
    page.fill("#status-code", "AAAA-BBBB-CCCC")
    page.keyboard.press("Enter")
    expect(page.locator("#status-result")).not_to_contain_text("Policia e pa")
    expect(page.locator("#status-result")).not_to_be_empty()
    assert axe_violations(page) == [], "status shown (sq)"
    assert errors == []


def test_report_page_in_english_passes_axe_and_quick_exit_leaves(
        stack: Stack, server: ServerProcess, page: Page) -> None:
    page.goto(server.url + "/report?lang=en")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text("Report what you saw online")
    expect(page.locator("#no-photos-title")).to_have_text("Never send us the photos or videos")
    assert axe_violations(page) == [], "report page (en)"
    # No cookie and nothing stored in the page.
    assert page.context.cookies() == []
    page.fill("#report-link", LINK)
    page.locator("body").press("Escape")
    page.locator("body").press("Escape")
    page.locator("body").press("Escape")
    page.wait_for_url("about:blank")
    page.go_back()
    assert not page.url.startswith(server.url + "/report"), page.url


@pytest.mark.parametrize("lang", ["sq", "en"])
def test_report_page_at_200_percent_text_fits_320_px(stack: Stack, server: ServerProcess, page: Page,
                                                      lang: str) -> None:
    page.set_viewport_size({"width": 320, "height": 700})
    page.goto(server.url + f"/report?lang={lang}")
    page.evaluate("() => { document.documentElement.style.fontSize = '200%'; }")
    assert layout_problems(page) == []
    page.click("#report-submit")  # nothing chosen: the error shows and must fit too
    expect(page.locator("#report-error")).not_to_be_empty()
    page.press("#status-code", "Enter")  # no code: the hint about its shape shows
    expect(page.locator("#status-result")).not_to_be_empty()
    assert layout_problems(page) == []


def test_report_reaches_the_portal_page_of_the_cybercrime_officer(
        stack: Stack, server: ServerProcess, browser: Browser) -> None:
    """The whole path in pages: the officer's browser enrols its key, the reporter's page encrypts to
    it, the officer opens the report decrypted in the portal and acknowledges it by keyboard."""
    cli(stack, "directory", "load")
    password = add_user(stack, "gent", "officer")
    cli(stack, "directory", "officer", "gent", "police-cyber")
    contexts = [browser.new_context(viewport={"width": 1280, "height": 900}) for _ in range(3)]
    try:
        first, reporter, officer = (context.new_page() for context in contexts)
        portal_sign_in(first, server, "gent", password, "en")  # the key is made and signed here
        expect(first.locator("#portal-empty")).to_be_visible()

        reporter.goto(server.url + "/report?lang=en")
        reporter.check("input[name=kind][value=sexual_images]")
        reporter.fill("#report-platform", PLATFORM)
        reporter.fill("#report-link", LINK)
        reporter.fill("#report-what", WHAT)
        reporter.click("#report-submit")
        expect(reporter.locator("#report-code")).not_to_be_empty()

        portal_sign_in(officer, server, "gent", password, "en")
        expect(officer.locator("#portal-list tbody tr")).to_have_count(1)
        tab_to(officer, "button[data-open]")
        officer.keyboard.press("Enter")
        content = officer.locator("#referral-content")
        for shown in (PLATFORM, LINK, WHAT):
            expect(content).to_contain_text(shown)  # decrypted in the officer's page
        tab_to(officer, "#referral-acknowledge")
        officer.keyboard.press("Enter")
        expect(officer.locator("#referral-events li.to-acknowledged")).to_have_count(1)

        reporter.click("#status-submit")
        expect(reporter.locator("#status-result")).to_contain_text("Yes. The police saw your report on")
    finally:
        for context in contexts:
            context.close()
