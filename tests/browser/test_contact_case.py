"""A call recorded by keyboard goes into a case (issue 18, acceptance 1: "in a linked case's
timeline"), in real Chromium, on both backends.

Right after the call is saved, the contact form offers to open a case from it or to link it to
an open case. The counsellor opens a case from a first call and links a second one to it, by
keyboard alone; the case's timeline shows both as "Phone call" with their notes opened in her
browser, and the database holds the link (``case_records.case_id``) and only ciphertext. axe-clean.
"""

from __future__ import annotations

from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.conftest import axe_violations
from tests.browser.console_signin import sign_in
from tests.browser.test_record_contact import NOTE, Keys, fill_by_keyboard
from tests.integration.referral_support import query
from tests.support import ServerProcess, Stack, add_user, run_async

SECOND_NOTE = "Telefonoi sërish, tani flet me psikologen"


def record_a_call(page: Page, note: str) -> None:
    """Cases → Record a contact, the timer on and off with Space, every field by keyboard."""
    page.locator('#views button[data-view="cases"]').focus()
    page.keyboard.press("Enter")
    page.locator("#record-contact-open").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#record-contact .contact-timer")).to_be_focused()
    page.keyboard.press(" ")
    expect(page.locator("#record-contact .contact-clock")).not_to_have_text("0:00", timeout=5000)
    page.keyboard.press(" ")
    fill_by_keyboard(page, Keys(page), note)
    expect(page.locator("#record-contact .case-saved")).to_have_text("Contact recorded.")
    expect(page.locator("#record-contact .contact-case")).to_contain_text(
        "Open a case from this contact, or link it to an open case.")


def _calls(stack: Stack) -> list[tuple[object, ...]]:
    return [tuple(r) for r in run_async(query(
        stack, "SELECT case_id, channel, note FROM case_records WHERE conversation_id IS NULL ORDER BY id"))]


def test_a_call_recorded_by_keyboard_opens_a_case_and_a_second_is_linked(
        stack: Stack, server: ServerProcess, staff_context: BrowserContext) -> None:
    password = add_user(stack, "drita")
    page = staff_context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(page, server, "drita", password, lang="en")

    record_a_call(page, NOTE)
    page.keyboard.press("Tab")  # from "Record a contact" to the offer
    expect(page.locator("#record-contact .contact-case button", has_text="Open a case")).to_be_focused()
    assert axe_violations(page) == []
    page.keyboard.press("Enter")
    expect(page.locator("#case-detail-title")).to_be_focused()
    timeline = page.locator("#case-timeline > li")
    expect(timeline).to_have_count(1)
    expect(timeline.first).to_contain_text("Phone call")
    expect(timeline.first).to_contain_text("Case note: " + NOTE)
    case_id = int(page.locator("#case-detail-title").inner_text().split()[-1])
    [(linked, channel, note)] = _calls(stack)
    assert (linked, channel) == (case_id, "phone")
    assert note and NOTE not in str(note) and "Bulliz" not in str(note)  # ciphertext only
    assert axe_violations(page) == []

    record_a_call(page, SECOND_NOTE)
    link = page.locator("#record-contact .contact-case button", has_text="Link")
    expect(link).to_be_visible()
    for _ in range(2):  # past "Open a case", to the list of open cases
        page.keyboard.press("Tab")
    expect(page.locator("#record-contact .contact-case select")).to_be_focused()
    expect(page.locator("#record-contact .contact-case select")).to_have_value(str(case_id))
    page.keyboard.press("Tab")
    expect(link).to_be_focused()
    assert axe_violations(page) == []
    page.keyboard.press("Enter")
    expect(page.locator("#case-detail-title")).to_be_focused()
    expect(timeline).to_have_count(2)
    for text in ("Case note: " + NOTE, "Case note: " + SECOND_NOTE):
        expect(page.locator("#case-timeline")).to_contain_text(text)
    expect(timeline.nth(1)).to_contain_text("Phone call")
    calls = _calls(stack)
    assert [(c[0], c[1]) for c in calls] == [(case_id, "phone"), (case_id, "phone")]
    assert all(c[2] and "Telefonoi" not in str(c[2]) and NOTE not in str(c[2]) for c in calls)
    assert axe_violations(page) == []
    assert errors == []
