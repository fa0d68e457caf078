"""Every page in the pseudo-locale at 320 px (issue 23, acceptance 2; ADR 0039): the child's screens, the
report and safety pages, the console, the officers' portal and the statistics. A string that did not come
through the catalogs shows as plain Latin letters; a layout that does not fit 320 px reaches past the screen.
Either fails the test, which names each page and what it found."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from child_ui.easy_read import EASY_PAGES
from child_ui.web import SAFETY_PAGES
from tests.browser.console_signin import sign_in
from tests.browser.pseudo_sweep import WIDTH, too_wide, untranslatable, untranslated
from tests.browser.test_child_pages import closed_hours
from tests.chat_client import StaffClient
from tests.integration.referral_support import cli
from tests.support import ROOT, ServerProcess, Stack, add_user, run_async

LANG = "qps"
PSEUDO = {"HELPLINE_PSEUDO_LOCALE": "1"}
USERS = {"sweep-sup": "supervisor", "sweep-admin": "admin", "sweep-officer": "officer", "sweep-manager": "manager"}


def build_pseudo_catalogs() -> None:
    """`make catalogs` builds them; a test run from a fresh checkout builds them too."""
    import importlib.util

    locales = ROOT / "locales"

    def built(domain: str) -> float:
        mo = locales / "qps" / "LC_MESSAGES" / f"{domain}.mo"
        return mo.stat().st_mtime if mo.exists() else 0.0

    stale = [d for d in ("child", "console") if built(d) < max(
        (locales / f"{d}.pot").stat().st_mtime, (locales / "en" / "LC_MESSAGES" / f"{d}.po").stat().st_mtime)]
    if stale:
        spec = importlib.util.spec_from_file_location("pseudo", ROOT / "locales" / "tools" / "pseudo.py")
        assert spec and spec.loader
        tool = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(tool)
        for domain in stale:
            tool.build(domain, ROOT / "locales")


class Sweep:
    def __init__(self, browser: Browser, users: dict[str, str]) -> None:
        self.browser = browser
        self.allowed = untranslatable([*users, *(name.title() for name in users)])
        self.found: dict[str, list[str]] = {}
        self.errors: list[str] = []
        self.contexts: list[BrowserContext] = []

    def page(self) -> Page:
        context = self.browser.new_context(viewport={"width": WIDTH, "height": 700})
        self.contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        return page

    def check(self, name: str, page: Page) -> None:
        expect(page.locator("html")).to_have_attribute("lang", LANG)
        problems = [f"untranslated {p}" for p in untranslated(page, self.allowed)]
        problems += [f"too wide: {p}" for p in too_wide(page)]
        if problems:
            self.found[name] = problems

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def sweep(browser: Browser) -> Iterator[Sweep]:
    made = Sweep(browser, USERS)
    yield made
    made.close()


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
def test_every_page_is_translated_and_fits_320_px(stack: Stack, start_server: Callable[..., ServerProcess],
                                                  sweep: Sweep) -> None:
    build_pseudo_catalogs()
    cli(stack, "directory", "load")
    server = start_server(**PSEUDO)
    closed = start_server(HELPLINE_OPENING_HOURS=closed_hours(), **PSEUDO)
    passwords = {name: add_user(stack, name, role) for name, role in USERS.items()}
    cli(stack, "directory", "officer", "sweep-officer", "cpu-shkoder")
    url = server.url

    # The child: start, pre-chat, queue; the report page, every safety page, the resume screen, closed hours.
    child = sweep.page()
    child.goto(f"{url}/?lang={LANG}")
    sweep.check("child: start", child)
    child.click("#start-chat")
    expect(child.locator("body")).to_have_attribute("data-state", "prechat")
    sweep.check("child: pre-chat", child)
    child.select_option("#municipality", "Shkodër")
    child.click("#prechat-submit")
    expect(child.locator("body")).to_have_attribute("data-state", "queue")
    expect(child.locator("#resume-code")).not_to_be_empty()
    sweep.allowed = untranslatable([*USERS, *(n.title() for n in USERS), child.locator("#resume-code").inner_text()])
    sweep.check("child: queue", child)
    other = sweep.page()
    for path in ["/report", *(f"/help/{slug}" for slug in SAFETY_PAGES), "/help/no-such-page",
                 "/easy", *(f"/easy/{slug}" for slug in EASY_PAGES)]:
        other.goto(f"{url}{path}?lang={LANG}")
        sweep.check(f"child: {path}", other)
    other.goto(f"{closed.url}/?lang={LANG}")
    expect(other.locator("body")).to_have_attribute("data-state", "closed")
    sweep.check("child: closed", other)

    # The console: sign-in, the shift with the child waiting, her chat, the referral form and services,
    # a contact recorded by hand, and every view of a supervisor.
    staff = sweep.page()
    staff.goto(f"{url}/console?lang={LANG}")
    sweep.check("console: sign-in", staff)
    sign_in(staff, server, "sweep-sup", passwords["sweep-sup"], lang=LANG)
    expect(staff.locator("button[data-accept]")).to_be_visible()
    sweep.check("console: shift, a child waiting", staff)
    staff.locator("button[data-accept]").click()
    expect(child.locator("body")).to_have_attribute("data-state", "chat")
    sweep.check("child: chat", child)
    panel = staff.locator("[data-conv]")
    panel.locator("button.refer").click()
    expect(panel.locator("form.referral-form")).to_be_visible()
    panel.locator("details.services-finder summary").click()
    sweep.check("console: chat, referral form, services", staff)
    for view in ("cases", "casework", "referrals", "supervise"):
        staff.click(f"#views button[data-view={view}]")
        staff.wait_for_load_state("networkidle")
        sweep.check(f"console: {view}", staff)
        if view == "cases":
            staff.click("#record-contact-open")
            expect(staff.locator("#record-contact form")).to_be_visible()
            sweep.check("console: contact recorded by hand", staff)

    # The child ends the chat; another comes back with a resume code.
    child.click("#end-chat")
    child.click("#end-yes")
    expect(child.locator("body")).to_have_attribute("data-state", "ended")
    sweep.check("child: ended", child)
    other.goto(f"{url}/?lang={LANG}")
    other.click("#resume-link")
    expect(other.locator("body")).to_have_attribute("data-state", "resume")
    sweep.check("child: resume", other)

    # The admin's view (accounts, settings, canned replies, directory, protocol).
    admin = sweep.page()
    sign_in(admin, server, "sweep-admin", passwords["sweep-admin"], lang=LANG)
    admin.click("#views button[data-view=admin]")
    admin.wait_for_load_state("networkidle")
    sweep.check("console: admin", admin)

    # The officers' portal.
    officer = sweep.page()
    officer.goto(f"{url}/referrals?lang={LANG}")
    sweep.check("portal: sign-in", officer)
    sign_in_portal(officer, server, "sweep-officer", passwords["sweep-officer"])
    sweep.check("portal: referrals", officer)

    # The statistics: the dashboard and the yearly report.
    manager = sweep.page()
    client = StaffClient(url, "sweep-manager", passwords["sweep-manager"])
    run_async(client.sign_in())
    manager.context.add_cookies([{"name": n, "value": v, "url": url} for n, v in client.cookies.items()])
    for path in ("/stats", "/stats/yearly"):
        manager.goto(f"{url}{path}?lang={LANG}")
        sweep.check(f"statistics: {path}", manager)

    report = "\n".join(f"{name}:\n  " + "\n  ".join(found) for name, found in sweep.found.items())
    listing = ROOT / "test-artifacts" / "pseudo-sweep.txt"  # the whole list for whoever fixes it (not in git)
    listing.unlink(missing_ok=True)
    if sweep.found:
        listing.parent.mkdir(exist_ok=True)
        listing.write_text(report, encoding="utf-8")
    assert not sweep.found, f"the pseudo-locale sweep found:\n{report}"
    assert sweep.errors == []


def sign_in_portal(page: Page, server: ServerProcess, username: str, password: str) -> None:
    """The portal's sign-in is the console's (same form, same second factor)."""
    sign_in(page, server, username, password, lang=LANG, path="/referrals")
    expect(page.locator("#screen-referrals")).to_be_visible()
