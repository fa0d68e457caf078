"""Issue 4, "admins edit the directory in the browser", in real Chromium on both backends: an admin,
by keyboard alone, finds an agency, renames it and sets its fallback contact, adds an officer
account to it and removes it again; every change is in the database and the audit log; the admin
sees the notices of the embedded outbox. axe-core finds nothing in English and Albanian."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser.conftest import axe_violations
from tests.browser.console_signin import sign_in
from tests.integration.referral_support import cli, member, query, refer
from tests.support import ServerProcess, Stack, add_user, run_async, totp_code

NEW_NAME = "Njësia për Mbrojtjen e Fëmijëve, Bashkia Shkodër (qendra)"
FALLBACK = "njmf@shkoder.example"


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    made = browser.new_context(viewport={"width": 1280, "height": 900})
    yield made
    made.close()


def tab_to(page: Page, selector: str, limit: int = 400) -> None:
    """Presses Tab until the element matching ``selector`` has the focus (keyboard only)."""
    for _ in range(limit):
        if page.evaluate("(s) => !!document.activeElement && document.activeElement.matches(s)", selector):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {selector}")


def test_admin_edits_an_agency_and_its_officers_by_keyboard_and_sees_the_outbox(
        stack: Stack, server: ServerProcess, context: BrowserContext) -> None:
    cli(stack, "directory", "load")
    # A referral to Shkodër, so the outbox holds a notice (no SMTP server: the embedded outbox).
    drita = run_async(member(stack, "drita", "officer", agency="cpu-shkoder", email="drita@shkoder.example"))
    ana = run_async(member(stack, "ana", "counsellor"))
    run_async(refer(server.url, ana, stack))
    add_user(stack, "besa", "officer")
    admin_password = add_user(stack, "root", role="admin")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    secret = sign_in(page, server, "root", admin_password)
    expect(page.locator("#directory-admin")).to_be_visible()
    expect(page.locator("#outbox-table tbody tr")).to_have_count(1)
    expect(page.locator("#outbox-table tbody tr")).to_contain_text("drita@shkoder.example")
    expect(page.locator("#outbox-mode")).to_contain_text("outbox folder")
    assert axe_violations(page) == [], "directory and outbox (en)"

    # Find Shkodër's unit and open it, with the keyboard.
    tab_to(page, "#directory-filter")
    page.keyboard.type("Shkod")
    row = page.locator("#directory-table tbody tr[data-code=cpu-shkoder]")
    expect(row).to_have_count(1)
    tab_to(page, "#directory-table tr[data-code=cpu-shkoder] button")
    page.keyboard.press("Enter")
    expect(page.locator("#agency-form-title")).to_be_focused()
    expect(page.locator("#officers-list li[data-username=drita]")).to_have_count(1)
    assert axe_violations(page) == [], "agency form (en)"

    # Rename, set the fallback contact; Enter saves. A bad address is refused first.
    tab_to(page, "#agency-name")
    page.keyboard.press("Control+A")
    page.keyboard.type(NEW_NAME)
    page.keyboard.press("Tab")
    page.keyboard.type("not an address")
    page.keyboard.press("Enter")
    expect(page.locator("#agency-error")).to_have_text("That is not an email address.")
    page.keyboard.press("Control+A")
    page.keyboard.type(FALLBACK)
    page.keyboard.press("Enter")
    expect(page.locator("#directory-status")).to_have_text("The agency was saved.")
    expect(row).to_contain_text(NEW_NAME)
    expect(row).to_contain_text(FALLBACK)
    expect(row.locator("button")).to_be_focused()
    stored = run_async(query(stack, "SELECT name, fallback_email FROM agencies WHERE code = 'cpu-shkoder'"))
    assert stored == [(NEW_NAME, FALLBACK)]

    # Add besa to the agency with an address for notices, then remove her again.
    page.keyboard.press("Enter")
    expect(page.locator("#agency-form-title")).to_be_focused()
    tab_to(page, "#officer-username")
    page.keyboard.press("b")  # the first account whose name starts with B
    expect(page.locator("#officer-username")).to_have_value("besa")
    page.keyboard.press("Tab")
    page.keyboard.type("besa@shkoder.example")
    page.keyboard.press("Enter")
    expect(page.locator("#officers-list li[data-username=besa]")).to_contain_text("besa@shkoder.example")
    expect(row).to_contain_text("2")
    assert run_async(query(stack, "SELECT a.code FROM staff s JOIN agencies a ON a.id = s.agency_id "
                                  "WHERE s.username = 'besa'")) == [("cpu-shkoder",)]
    tab_to(page, "#officers-list button[aria-label='Remove (besa)']")
    page.keyboard.press("Enter")
    expect(page.locator("#officers-list li[data-username=besa]")).to_have_count(0)
    expect(page.locator("#officer-username")).to_be_focused()
    assert run_async(query(stack, "SELECT agency_id FROM staff WHERE username = 'besa'")) == [(None,)]
    assert run_async(query(stack, "SELECT count(*) FROM officer_contacts oc JOIN staff s ON s.id = oc.staff_id "
                                  "WHERE s.username = 'besa'")) == [(0,)]
    assert drita.username == "drita"  # drita stays
    expect(page.locator("#officers-list li[data-username=drita]")).to_have_count(1)

    actions = [row[0] for row in run_async(query(stack, "SELECT action FROM audit_log WHERE action LIKE 'agency.%' "
                                                        "ORDER BY id"))]
    assert actions == ["agency.updated", "agency.officer_added", "agency.officer_removed"]

    # The same pages in Albanian: the language is chosen on the sign-in screen.
    page.goto(server.url + "/console?lang=sq")
    expect(page.locator("html")).to_have_attribute("lang", "sq")
    page.fill("#login-username", "root")
    page.fill("#login-password", admin_password)
    page.press("#login-password", "Enter")
    expect(page.locator("#mfa-code")).to_be_focused()
    page.keyboard.type(totp_code(secret))
    page.keyboard.press("Enter")
    expect(page.locator("body")).to_have_attribute("data-state", "working")
    expect(page.locator("#directory-table tbody tr").first).to_be_visible()
    page.locator("#directory-table tr[data-code=cpu-shkoder] button").click()
    expect(page.locator("#agency-officers")).to_be_visible()
    assert axe_violations(page) == [], "directory (sq)"
    assert errors == []
