"""Issue 19, services near the child, in real Chromium on both backends: on a chat, the referral
form's "Services near the child" lists the services of a kind for the child's municipality, with
their contacts (imported by an admin as CSV); axe-core finds nothing."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Browser, expect

from tests.browser.conftest import axe_violations
from tests.browser.console_signin import open_referral_form, sign_in
from tests.integration.referral_support import cli, member
from tests.support import Stack, add_user, run_async

CSV = """code,kind,name,county,municipality,phone,email,address,website,hours
psy-shkoder,psychological,Qendra e Këshillimit Psikologjik Shkodër,Shkodër,Shkodër,022 123 456,psy@shkoder.example,,,
psy-vlore,psychological,Qendra Psikologjike Vlorë,Vlorë,Vlorë,033 111 222,,,,
"""


async def import_services(url: str, stack: Stack) -> None:
    admin = await member(stack, "adi", "admin", with_key=False)
    async with admin.client(url) as http:
        answer = await http.post("/admin/api/services/import", json={"csv": CSV})
        assert answer.status_code == 200, answer.text


def test_a_counsellor_finds_services_near_the_child_from_the_chat(stack: Stack, start_server: Any,
                                                                  browser: Browser) -> None:
    cli(stack, "directory", "load")
    server = start_server()
    run_async(import_services(server.url, stack))
    password = add_user(stack, "ana")
    child_context = browser.new_context(viewport={"width": 360, "height": 740})
    staff_context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        child, counsellor = child_context.new_page(), staff_context.new_page()
        errors: list[str] = []
        counsellor.on("pageerror", lambda exc: errors.append(str(exc)))
        sign_in(counsellor, server, "ana", password)
        panel = open_referral_form(child, counsellor, server)
        finder = panel.locator("form.referral-form .services-finder")
        finder.locator("summary").click()
        finder.locator("select.svc-kind").select_option("psychological")
        finder.locator("button.svc-find").click()
        listed = finder.locator(".svc-list li")
        expect(listed).to_have_count(1)
        expect(listed).to_contain_text("Qendra e Këshillimit Psikologjik Shkodër")
        expect(listed.locator("a[href='tel:022123456']")).to_have_text("022 123 456")
        finder.locator("select.svc-kind").select_option("police")
        finder.locator("button.svc-find").click()
        expect(finder.locator(".svc-list li").first).to_contain_text("Shkodër")
        finder.locator("select.svc-kind").select_option("shelter")
        finder.locator("button.svc-find").click()
        expect(finder.locator(".svc-status")).not_to_be_empty()
        expect(finder.locator(".svc-list li")).to_have_count(0)
        assert axe_violations(counsellor) == [], "the services finder"
        assert errors == []
    finally:
        child_context.close()
        staff_context.close()
