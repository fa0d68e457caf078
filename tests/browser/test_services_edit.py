"""Issue 19, the services directory, in real Chromium on both backends: an admin edits one service's
public contacts in the console's directory (a bad phone number is refused and nothing changes);
a counsellor opens the services near the child from a case view (not only from a chat) and sees the
contacts the admin set. axe-core finds nothing."""

from __future__ import annotations

import json
from typing import Any

from playwright.sync_api import Browser, expect

from tests.browser.conftest import axe_violations
from tests.browser.console_signin import sign_in
from tests.browser.test_contact_case import record_a_call
from tests.integration.referral_support import cli, member, query
from tests.support import Stack, add_user, run_async

CSV_SERVICE = "psy-tirane"


def test_an_admin_edits_a_service_and_a_counsellor_finds_it_from_a_case(stack: Stack, start_server: Any,
                                                                          browser: Browser) -> None:
    cli(stack, "directory", "load")
    server = start_server()
    admin_password = add_user(stack, "root", role="admin")
    password = add_user(stack, "ana")
    admin_context = browser.new_context(viewport={"width": 1280, "height": 900})
    staff_context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        admin, counsellor = admin_context.new_page(), staff_context.new_page()
        errors: list[str] = []
        for page in (admin, counsellor):
            page.on("pageerror", lambda exc: errors.append(str(exc)))

        # A service of Tirana, added by hand: the admin opens it in the directory and sets its contacts.
        run_async(_add_service(server.url, stack))
        sign_in(admin, server, "root", admin_password)
        admin.fill("#directory-filter", "Tiranë (psy)")
        row = admin.locator(f"#directory-table tr[data-code={CSV_SERVICE}]")
        expect(row).to_have_count(1)
        row.locator("button").click()
        expect(admin.locator("#agency-form-title")).to_be_focused()
        expect(admin.locator("#service-phone")).to_have_value("")
        admin.fill("#service-phone", "call us")
        admin.fill("#service-hours", "E hënë–e premte 08–16")
        admin.locator("#agency-form button[type=submit]").click()
        expect(admin.locator("#agency-error")).to_have_text("A phone number may hold only digits, spaces and + ( ) -.")
        assert run_async(query(stack, "SELECT phone, hours FROM service_contacts c JOIN agencies a "
                                      "ON a.id = c.agency_id WHERE a.code = :c", {"c": CSV_SERVICE})) == [(None, None)]
        admin.fill("#service-phone", "04 222 333")
        admin.locator("#agency-form button[type=submit]").click()
        expect(admin.locator("#directory-status")).to_have_text("The agency was saved.")
        assert run_async(query(stack, "SELECT phone, hours FROM service_contacts c JOIN agencies a "
                                      "ON a.id = c.agency_id WHERE a.code = :c", {"c": CSV_SERVICE})) == [
            ("04 222 333", "E hënë–e premte 08–16")]
        audited = run_async(query(stack, "SELECT detail FROM audit_log WHERE action = 'agency.updated'"))
        details = [d if isinstance(d, dict) else json.loads(d) for (d,) in audited]
        assert details == [{"fields": ["contact.hours", "contact.phone"]}]  # which fields, never the values
        row.locator("button").click()
        expect(admin.locator("#service-phone")).to_have_value("04 222 333")
        assert axe_violations(admin) == [], "agency form with the public contacts"

        # A call from Tirana goes into a case; the case view lists the services near the child.
        sign_in(counsellor, server, "ana", password, lang="en")
        record_a_call(counsellor, "Flet për ankthin në shkollë")
        counsellor.locator("#record-contact .contact-case button", has_text="Open a case").click()
        expect(counsellor.locator("#case-detail-title")).to_be_focused()
        finder = counsellor.locator("#case-services .services-finder")
        expect(counsellor.locator("#case-services")).to_have_attribute("data-municipality", "Tiranë")
        finder.locator("summary").click()
        finder.locator("select.svc-kind").select_option("psychological")
        finder.locator("button.svc-find").click()
        listed = finder.locator(".svc-list li")
        expect(listed).to_have_count(1)
        expect(listed).to_contain_text("Qendra Psikologjike Tiranë (psy)")
        expect(listed.locator("a[href='tel:04222333']")).to_have_text("04 222 333")
        expect(listed).to_contain_text("E hënë–e premte 08–16")
        assert axe_violations(counsellor) == [], "case view with the services finder"
        assert errors == []
    finally:
        admin_context.close()
        staff_context.close()


async def _add_service(url: str, stack: Stack) -> None:
    """A psychological service of Tirana with no contacts yet (the CSV import, one row)."""
    admin = await member(stack, "imp", "admin", with_key=False)
    csv = ("code,kind,name,county,municipality,phone,email,address,website,hours\n"
           f"{CSV_SERVICE},psychological,Qendra Psikologjike Tiranë (psy),Tiranë,Tiranë,,,,,\n")
    async with admin.client(url) as http:
        answer = await http.post("/admin/api/services/import", json={"csv": csv})
        assert answer.status_code == 200, answer.text
