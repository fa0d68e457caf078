"""Cases in real Chromium (issue 18): a case's note opens in the browser of its owner and of the
colleague she added, and in no other counsellor's (the key is not wrapped for her: checked in the
database); a follow-up due in half a minute appears on the owner's console in time. axe-clean."""

from __future__ import annotations

import datetime as dt

from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import select

from helpline.models import CaseMember, CaseRecord, Staff
from tests.browser.conftest import Loop, axe_violations
from tests.browser.console_signin import sign_in
from tests.chat_client import ChildClient, StaffClient
from tests.integration.test_casework import db_rows
from tests.integration.test_chat_e2e import PRECHAT
from tests.integration.test_teamwork import api
from tests.support import ServerProcess, Stack, add_user, run_async

SECRET = "Drini-9-vjeç-ka-frikë-të-shkojë-në-shtëpi"
TASK = "Telefono mësuesen e Drinit"


def press(page: Page, selector: str) -> None:
    page.locator(selector).focus()
    page.keyboard.press("Enter")


def record_a_chat(page: Page, loop: Loop, server: ServerProcess, stack: Stack,
                  secret: bytes | None = None) -> tuple[bytes, str]:
    """A child (or, with ``secret``, a returning child) chats; the counsellor ends and records it."""
    press(page, '#views button[data-view="work"]')
    child = ChildClient(server.url, stack.org_public_key, secret)
    loop.run(child.connect())
    conv = loop.run(child.start(PRECHAT))
    press(page, f'button[data-accept="{conv}"]')
    expect(page.locator(f'[data-conv="{conv}"] .waiting-key')).to_have_count(0)
    page.on("dialog", lambda dialog: dialog.accept())
    press(page, f'[data-conv="{conv}"] button.end-chat')
    form = page.locator(f'[data-conv="{conv}"] .case-form')
    form.locator("select[name=contact_type]").select_option("counselling")
    form.locator("select[name=primary_category]").select_option("violence")
    form.locator("select[name=risk]").select_option("high")
    form.locator("select[name=outcome]").select_option("advice")
    form.locator("textarea[name=note]").fill(SECRET)
    form.locator("button[type=submit]").press("Enter")
    expect(page.locator(f'[data-conv="{conv}"] .case-saved')).to_be_visible()
    loop.run(child.close())
    return child.secret, conv


def test_a_case_note_opens_for_its_team_only_and_a_follow_up_falls_due_in_time(
        stack: Stack, server: ServerProcess, staff_context: BrowserContext, second_context: BrowserContext,
        loop: Loop) -> None:
    ana_pw, bea_pw, cem_pw = add_user(stack, "ana"), add_user(stack, "bea"), add_user(stack, "cem")
    sara_pw = add_user(stack, "sara", "supervisor")
    sara, cem = StaffClient(server.url, "sara", sara_pw), StaffClient(server.url, "cem", cem_pw)
    loop.run(sara.sign_in())
    loop.run(cem.sign_in())  # cem has a signed key too: the server could have wrapped for him
    ana, bea = staff_context.new_page(), second_context.new_page()
    errors: list[str] = []
    for page in (ana, bea):
        page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(bea, server, "bea", bea_pw)
    sign_in(ana, server, "ana", ana_pw)
    try:
        secret, _ = record_a_chat(ana, loop, server, stack)
        press(ana, '#views button[data-view="casework"]')
        expect(ana.locator("#unlinked-list tbody tr")).to_have_count(1)
        ana.locator("#unlinked-list tbody button", has_text="Open a case").press("Enter")
        expect(ana.locator("#case-detail-title")).to_be_focused()
        expect(ana.locator("#case-timeline")).to_contain_text("Case note: " + SECRET)
        expect(ana.locator("#case-team li")).to_have_text(["Ana – owner", "Sara – supervisor"])
        case_id = int(ana.locator("#case-detail-title").inner_text().split()[-1])

        ana.locator("#case-member").select_option(label="Bea")
        ana.locator("#case-add-member button").press("Enter")
        expect(ana.locator("#case-detail-status")).to_contain_text("Colleague added")
        expect(ana.locator("#case-team li")).to_have_count(3)

        due = dt.datetime.now() + dt.timedelta(seconds=30)  # the browser's local time, as the field takes it
        ana.locator("#task-due").fill(due.strftime("%Y-%m-%dT%H:%M:%S"))
        ana.locator("#task-text").fill(TASK)
        ana.locator("#task-text").press("Enter")
        expect(ana.locator("#case-tasks li")).to_contain_text(TASK)
        assert axe_violations(ana) == []

        press(bea, '#views button[data-view="casework"]')
        bea.locator("#casework-list tbody button").press("Enter")
        expect(bea.locator("#case-timeline")).to_contain_text("Case note: " + SECRET)
        expect(bea.locator("#case-tasks li")).to_contain_text(TASK)
        assert axe_violations(bea) == []

        # Cem: refused, and no key of this case or its note is wrapped for him anywhere.
        assert loop.run(api(cem, "GET", f"/console/api/casework/{case_id}")).status_code == 403
        cem_id = run_async(db_rows(stack, select(Staff.id).where(Staff.username == "cem")))[0][0]
        assert run_async(db_rows(stack, select(CaseMember).where(CaseMember.staff_id == cem_id))) == []
        for (keys,) in run_async(db_rows(stack, select(CaseRecord.note_keys))):
            assert cem.participant not in keys["keys"]

        # The child comes back to Bea: once recorded, the new chat is offered for the earlier case.
        _, second = record_a_chat(bea, loop, server, stack, secret)
        offer = bea.locator(f'[data-conv="{second}"] .case-offer')
        expect(offer).to_contain_text(f"The same child's earlier chat is in Case {case_id}.")
        offer.locator("button").press("Enter")
        expect(bea.locator("#case-timeline > li")).to_have_count(2)
        expect(bea.locator("#case-timeline")).to_contain_text("Case note: " + SECRET)

        # The follow-up falls due: it shows in Ana's console within the job's interval.
        expect(ana.locator("#followups li")).to_contain_text(TASK, timeout=95_000)
        assert dt.datetime.now() >= due - dt.timedelta(seconds=1)
        assert dt.datetime.now() <= due + dt.timedelta(seconds=30)
        expect(ana.locator("#followups-status")).to_contain_text("A follow-up is due")
        assert axe_violations(ana) == []
        assert errors == []
    finally:
        loop.close([])
