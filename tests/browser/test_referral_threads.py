"""Issue 19, acceptance 2, in real Chromium on both backends: the counsellor sends one referral to
the Child Protection Unit of Shkodër and the Shkodër police from the console, ticking which details
the police read; each officer signs in to the portal and reads only the details shared with their
agency (sealed in the counsellor's page for them); both write to and read the one shared thread,
each message showing the agency that wrote it; the counsellor reads it too. axe-core finds nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser.conftest import axe_violations
from tests.browser.console_signin import open_referral_form, sign_in
from tests.browser.test_referral_portal import portal_sign_in
from tests.integration.referral_support import cli, query
from tests.support import Stack, add_user, run_async

CHILD = "Arta, 12 vjeç"
PLACE = "Rruga e Detit 7, Shkodër"
WHAT = "Babai e godet në shtëpi"
ASK = "Vizitë në shtëpi sot"
FROM_UNIT = "Nesër në 10 vizitojmë familjen"
FROM_POLICE = "Patrulla kaloi, do të jemi edhe nesër"
FROM_HELPLINE = "Fëmija e di që do të vini"
UNIT = "Njësia për Mbrojtjen e Fëmijëve – Bashkia Shkodër"
POLICE = "Drejtoria Vendore e Policisë Shkodër"


@pytest.fixture
def contexts(browser: Browser) -> Iterator[dict[str, BrowserContext]]:
    made = {"child": browser.new_context(viewport={"width": 360, "height": 740}),
            "counsellor": browser.new_context(viewport={"width": 1280, "height": 900}),
            "unit": browser.new_context(viewport={"width": 1280, "height": 900}),
            "police": browser.new_context(viewport={"width": 1280, "height": 900})}
    yield made
    for context in made.values():
        context.close()


def open_only_referral(page: Page) -> None:
    page.click("#views button[data-view=referrals]")
    expect(page.locator("#portal-list tbody tr")).to_have_count(1)
    page.locator("#portal-list button[data-open]").click()
    expect(page.locator("#referral-view")).to_be_visible()


def write_in_thread(page: Page, prefix: str, text: str) -> None:
    page.fill(f"#{prefix}-thread-body", text)
    page.locator(".thread-form button[type=submit]").click()
    expect(page.locator(".thread-messages")).to_contain_text(text)


def test_one_referral_to_two_agencies_each_reads_its_share_and_both_one_thread(
        stack: Stack, start_server: Any, contexts: dict[str, BrowserContext]) -> None:
    cli(stack, "directory", "load")
    server = start_server()
    counsellor_password = add_user(stack, "ana")
    unit_password = add_user(stack, "drita", "officer")
    cli(stack, "directory", "officer", "drita", "cpu-shkoder")
    police_password = add_user(stack, "gent", "officer")
    cli(stack, "directory", "officer", "gent", "police-shkoder")
    errors: list[str] = []
    pages = {name: context.new_page() for name, context in contexts.items()}
    for page in pages.values():
        page.on("pageerror", lambda exc: errors.append(str(exc)))
    child, counsellor, unit, police = (pages[n] for n in ("child", "counsellor", "unit", "police"))

    # Both officers have signed in once (their keys enrolled) before the referral is written.
    portal_sign_in(unit, server, "drita", unit_password, "en")
    portal_sign_in(police, server, "gent", police_password, "en")

    sign_in(counsellor, server, "ana", counsellor_password)
    panel = open_referral_form(child, counsellor, server)
    form = panel.locator("form.referral-form")
    expect(form.locator("select[name=agency]")).to_have_value("cpu-shkoder")
    form.locator("select[name=urgency]").select_option("urgent")
    form.locator("select[name=chi_category]").select_option("violence.physical")
    for item, text in (("identity", CHILD), ("location", PLACE), ("account_of_events", WHAT)):
        form.locator(f"textarea[name=text-{item}]").fill(text)
        form.locator(f"select[name=basis-{item}]").select_option("child_consented")
    form.locator("textarea[name=requested_action]").fill(ASK)
    # The police too, in the same referral: the county's police is proposed; only what happened is ticked.
    form.locator("button.add-agency").click()
    leg = form.locator(".extra-leg")
    expect(leg.locator("select")).to_have_value("police-shkoder")
    expect(leg.locator("select")).to_be_focused()
    expect(leg.locator("input[value=account_of_events]")).to_be_checked()
    expect(leg.locator("input[value=identity]")).not_to_be_checked()
    expect(leg.locator("input[value=location]")).not_to_be_checked()
    assert axe_violations(counsellor) == [], "referral form with a second agency"
    form.locator("button[type=submit]").click()
    sent = panel.locator(".referral-sent")
    expect(sent).to_contain_text("They share one thread")
    expect(sent).to_contain_text(POLICE)
    rows = run_async(query(stack, "SELECT a.code, r.thread_id, r.state FROM referrals r "
                                  "JOIN agencies a ON a.id = r.agency_id ORDER BY a.code"))
    assert [(code, state) for code, _thread, state in rows] == [("cpu-shkoder", "sent"), ("police-shkoder", "sent")]
    assert rows[0][1] is not None and rows[0][1] == rows[1][1]

    # The unit reads everything shared; the police read what happened and the requested action only.
    open_only_referral(unit)
    for shown in (CHILD, PLACE, WHAT, ASK):
        expect(unit.locator("#referral-content")).to_contain_text(shown)
    legs = unit.locator(".ref-legs")
    expect(legs.locator("li[data-agency=police-shkoder]")).to_contain_text(POLICE)
    expect(legs.locator("li[data-agency=cpu-shkoder]")).to_contain_text("this part")
    write_in_thread(unit, "portal", FROM_UNIT)
    assert axe_violations(unit) == [], "portal referral with its thread"

    open_only_referral(police)
    content = police.locator("#referral-content")
    for shown in (WHAT, ASK):
        expect(content).to_contain_text(shown)
    for hidden in (CHILD, "Arta", PLACE, "Detit"):
        expect(content).not_to_contain_text(hidden)
    message = police.locator(".thread-messages li[data-message]")
    expect(message).to_have_count(1)
    expect(message).to_contain_text(FROM_UNIT)
    expect(message.locator(".agency")).to_have_text(UNIT)
    write_in_thread(police, "portal", FROM_POLICE)
    # The unit's part is not for the police: the API refuses it.
    unit_leg = run_async(query(stack, "SELECT r.id FROM referrals r JOIN agencies a ON a.id = r.agency_id "
                                      "WHERE a.code = 'cpu-shkoder'"))[0][0]
    refused = contexts["police"].request.get(f"{server.url}/referrals/api/referrals/{unit_leg}")
    assert refused.status == 403

    # The helpline reads and writes the same thread from the console.
    counsellor.click("#views button[data-view=referrals]")
    expect(counsellor.locator("#referral-list tbody tr")).to_have_count(2)
    counsellor.locator(f"#referral-list tr[data-referral='{unit_leg}'] button[data-open]").click()
    thread = counsellor.locator(".thread-messages")
    expect(thread).to_contain_text(FROM_UNIT)
    expect(thread).to_contain_text(FROM_POLICE)
    write_in_thread(counsellor, "console", FROM_HELPLINE)
    assert axe_violations(counsellor) == [], "console referral with its thread"

    # Both officers read the one thread, each message with the agency that wrote it.
    for page in (unit, police):
        open_only_referral(page)
        messages = page.locator(".thread-messages li[data-message]")
        expect(messages).to_have_count(3)
        expect(messages.nth(0).locator(".agency")).to_have_text(UNIT)
        expect(messages.nth(1).locator(".agency")).to_have_text(POLICE)
        expect(messages.nth(1)).to_contain_text(FROM_POLICE)
        expect(messages.nth(2).locator(".agency")).to_have_text("Helpline")
        expect(messages.nth(2)).to_contain_text(FROM_HELPLINE)
    stored = run_async(query(stack, "SELECT body FROM referral_thread_messages"))
    assert len(stored) == 3 and not any("Patrulla" in body or "vizitojmë" in body for (body,) in stored)
    assert errors == []
