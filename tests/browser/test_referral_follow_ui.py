"""Issue 19 in real Chromium on both backends.

Acceptance 5: a referral to an agency where no officer can read it is refused in the form before
anything is sent, with a clear message that offers the agency's fallback; taking the fallback sends it.
Acceptance 1 (the list): the supervisors' console shows a missed action date on the overdue list,
with the agency, what it waits for and whom it was escalated to; axe-core finds nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, expect

from tests.browser.conftest import axe_violations
from tests.browser.console_signin import open_referral_form, sign_in
from tests.integration.referral_support import cli, eventually, member, query, refer
from tests.support import Stack, add_user, run_async


@pytest.fixture
def contexts(browser: Browser) -> Iterator[dict[str, BrowserContext]]:
    made = {"child": browser.new_context(viewport={"width": 360, "height": 740}),
            "staff": browser.new_context(viewport={"width": 1280, "height": 900})}
    yield made
    for context in made.values():
        context.close()


def test_a_referral_nobody_can_read_is_refused_and_the_fallback_offered(
        stack: Stack, start_server: Any, contexts: dict[str, BrowserContext]) -> None:
    cli(stack, "directory", "load")
    server = start_server()
    password = add_user(stack, "ana")
    run_async(member(stack, "vera", "officer", agency="ashdmf"))  # the State Agency can read; Shkodër's unit cannot
    errors: list[str] = []
    child, counsellor = contexts["child"].new_page(), contexts["staff"].new_page()
    for page in (child, counsellor):
        page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(counsellor, server, "ana", password)
    panel = open_referral_form(child, counsellor, server)
    form = panel.locator("form.referral-form")
    expect(form.locator("select[name=agency]")).to_have_value("cpu-shkoder")
    notice = form.locator(".agency-unreadable")
    expect(notice).to_be_visible()
    expect(notice).to_have_attribute("role", "alert")
    expect(notice).to_contain_text("Nobody at Njësia për Mbrojtjen e Fëmijëve – Bashkia Shkodër can read referrals")
    offer = notice.locator("button[data-fallback=ashdmf]")
    expect(offer).to_contain_text("Send to Agjencia Shtetërore")
    assert axe_violations(counsellor) == [], "referral form with the refusal"

    form.locator("select[name=urgency]").select_option("urgent")  # the form starts with none chosen
    form.locator("select[name=chi_category]").select_option("violence.physical")
    form.locator("textarea[name=text-account_of_events]").fill("Babai e godet")
    form.locator("select[name=basis-account_of_events]").select_option("child_consented")
    form.locator("textarea[name=requested_action]").fill("Vizitë në shtëpi")
    form.locator("button[type=submit]").click()
    expect(form.locator(".referral-error")).to_contain_text("Nobody at")
    assert run_async(query(stack, "SELECT count(*) FROM referrals")) == [(0,)]  # nothing was sent

    # Another agency with nobody to read it hides nothing either; the fallback's button sends it there.
    form.locator("select[name=agency]").select_option("cpu-tirane")
    expect(notice).to_contain_text("Bashkia Tiranë")
    notice.locator("button[data-fallback=ashdmf]").click()
    expect(form.locator("select[name=agency]")).to_have_value("ashdmf")
    expect(notice).to_be_hidden()
    form.locator("button[type=submit]").click()
    expect(panel.locator(".referral-sent")).to_be_visible()
    assert run_async(query(stack, "SELECT a.code FROM referrals r JOIN agencies a ON a.id = r.agency_id")) == [
        ("ashdmf",)]
    assert errors == []


def test_the_supervisor_sees_a_missed_action_date_on_the_overdue_list(
        stack: Stack, start_server: Any, contexts: dict[str, BrowserContext]) -> None:
    clock = stack.data_dir / "clock"
    clock.write_text("0")
    cli(stack, "directory", "load")
    cli(stack, "directory", "contact", "cpu-shkoder", "mbrojtja@shkoder.example")
    server = start_server(HELPLINE_TEST_CLOCK_FILE=str(clock), HELPLINE_WORKER_SECONDS="1")
    password = add_user(stack, "sara", "supervisor")
    page = contexts["staff"].new_page()
    sign_in(page, server, "sara", password)  # her key is enrolled here, before the referral is written
    page.click("#views button[data-view=referrals]")
    expect(page.locator("#overdue-area")).to_be_visible()
    expect(page.locator("#overdue-empty")).to_be_visible()

    ana = run_async(member(stack, "ana", "counsellor"))
    drita = run_async(member(stack, "drita", "officer", agency="cpu-shkoder"))
    created, _key = run_async(refer(server.url, ana, stack, urgency="urgent"))
    due = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=30)).isoformat()

    async def acknowledge_and_plan() -> None:
        async with drita.client(server.url) as portal:
            assert (await portal.post(f"/referrals/api/referrals/{created['id']}/acknowledge")).status_code == 200
            planned = await portal.post(f"/referrals/api/referrals/{created['id']}/plan",
                                        json={"kind": "assessment", "due": due})
            assert planned.status_code == 200, planned.text

    run_async(acknowledge_and_plan())
    clock.write_text(str(55 * 3600))  # past the date and a step beyond: the fallback contact, then supervisors

    async def escalated() -> bool:
        rows = await query(stack, "SELECT kind FROM referral_escalations WHERE kind = :k", {"k": "p2:supervisors"})
        return bool(rows)

    run_async(eventually(escalated, timeout=30))
    page.click("#referrals-refresh")
    row = page.locator("#overdue-list tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Bashkia Shkodër")
    expect(row).to_contain_text("Action: Assessment")
    expect(row).to_contain_text("The helpline’s supervisors")
    assert axe_violations(page) == [], "overdue list (en)"
    row.locator("button").click()
    events = page.locator("#ref-events")
    expect(events.locator("li[data-kind=plan]").last).to_contain_text("Planned: Assessment")
    expect(events.locator("li[data-kind=escalation]")).to_have_count(2)
    expect(events.locator("li[data-kind=escalation]").last).to_contain_text("The helpline’s supervisors")


def test_the_officer_records_what_the_agency_will_do_and_by_when_in_albanian(
        stack: Stack, start_server: Any, contexts: dict[str, BrowserContext]) -> None:
    from tests.browser.test_referral_portal import portal_sign_in, tab_to

    cli(stack, "directory", "load")
    server = start_server()
    password = add_user(stack, "drita", "officer")
    cli(stack, "directory", "officer", "drita", "cpu-shkoder")
    page = contexts["staff"].new_page()
    portal_sign_in(page, server, "drita", password, "sq")  # her key is enrolled here
    ana = run_async(member(stack, "ana", "counsellor"))
    run_async(refer(server.url, ana, stack, urgency="urgent"))
    page.click("#views button[data-view=referrals]")
    page.locator("#portal-list button[data-open]").click()
    page.click("#referral-acknowledge")
    expect(page.locator("#plan-box")).to_be_visible()
    expect(page.locator("#plan-current")).to_contain_text("Ende pa veprim të planifikuar")  # the default date
    day = (dt.date.today() + dt.timedelta(days=5)).isoformat()
    tab_to(page, "#plan-kind")
    page.select_option("#plan-kind", "home_visit")
    page.fill("#plan-due", day)
    page.fill("#plan-body", "Vizitë të martën me punonjësen sociale")
    page.click("#plan-form button[type=submit]")
    expect(page.locator("#referral-status")).to_have_text("Plani u regjistrua.")
    expect(page.locator("#plan-current")).to_contain_text("Vizitë në shtëpi")
    latest = page.locator("#referral-events li[data-kind=plan]").last
    expect(latest).to_contain_text("Planifikuar: Vizitë në shtëpi")
    expect(latest).to_contain_text("Vizitë të martën me punonjësen sociale")  # decrypted in the page
    assert axe_violations(page) == [], "plan (sq)"
    due = run_async(query(stack, "SELECT action_kind, due_at FROM referral_follow"))
    assert due[0][0] == "home_visit" and str(due[0][1]).startswith(day)

    # Closing needs the support the child received: none chosen is refused in the page.
    page.click("#close-form button[type=submit]")
    expect(page.locator("#referral-error")).to_contain_text("Shënoni çfarë mbështetjeje mori fëmija")
    page.check("#support-none")
    page.select_option("#support-none-reason", "family_refused")
    page.click("#close-form button[type=submit]")
    expect(page.locator("#referral-events li[data-kind=support]")).to_contain_text("Asnjë (Familja refuzoi)")
    expect(page.locator("#plan-box")).to_be_hidden()
