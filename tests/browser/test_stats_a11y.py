"""The statistics dashboard in real Chromium: axe-core finds no WCAG 2.1 A/AA violation, in Albanian
and in English, with data (charts and tables), filtered, and when a filter is refused (issue 7,
acceptance 4)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from playwright.sync_api import BrowserContext, expect

from tests.browser.conftest import axe_violations
from tests.chat_client import StaffClient
from tests.support import ROOT, ServerProcess, Stack, add_user, run_async

pytestmark = pytest.mark.slow


def signed_in_manager(context: BrowserContext, server: ServerProcess, stack: Stack) -> None:
    password = add_user(stack, "stats-reader", role="manager")
    staff = StaffClient(server.url, "stats-reader", password)
    run_async(staff.sign_in())
    context.add_cookies([{"name": name, "value": value, "url": server.url} for name, value in staff.cookies.items()])


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
def test_dashboard_pages_have_no_axe_violations(stack: Stack, server: ServerProcess,
                                                staff_context: BrowserContext) -> None:
    subprocess.run(  # noqa: S603 - our own command
        [sys.executable, "-m", "helpline.cli", "demo-data", "--conversations", "400", "--referrals", "60",
         "--days", "40", "--seed", "5"], cwd=ROOT, env=stack.env, check=True, capture_output=True)
    signed_in_manager(staff_context, server, stack)
    page = staff_context.new_page()
    checked = []
    for lang, heading in (("sq", "Statistikat"), ("en", "Statistics")):
        for query in ("", "&county=Tiranë", "&category=violence&from=2020-01-01", "&from=not-a-date"):
            page.goto(f"{server.url}/stats?lang={lang}{query}")
            expect(page.locator("html")).to_have_attribute("lang", lang)
            expect(page.locator("h1")).to_have_text(heading)
            if "not-a-date" not in query:
                expect(page.locator("svg").first).to_be_visible()
                expect(page.locator("table").first).to_be_visible()
            assert axe_violations(page) == [], f"/stats?lang={lang}{query}"
            checked.append(query)
    assert len(checked) == 8
