"""Issue 4, acceptance 1, in real Chromium on both backends: a counsellor refers a child's case to the
Child Protection Unit of Shkodër from the console; the notice reaches a real SMTP server (aiosmtpd)
with nothing personal in it; the officer signs in to the portal (password and TOTP), reads the
referral decrypted in the page, acknowledges it, records an action and closes it, all with the
keyboard alone; the counsellor sees every step. axe-core finds nothing on the portal's pages in
Albanian and English."""

from __future__ import annotations

import email
import json
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser.conftest import axe_violations
from tests.browser.console_signin import open_referral_form, sign_in
from tests.chat_client import remember_totp, totp_secret_for
from tests.integration.referral_support import cli, query
from tests.integration.test_referral_smtp import Inbox
from tests.support import ServerProcess, Stack, add_user, free_port, run_async, totp_code

CHILD = "Arta, 12 vjeç"
PLACE = "Rruga e Detit 7, Shkodër"
WHAT = "Babai e godet në shtëpi"
ASK = "Vizitë në shtëpi sot"
ACTION = "Vizituam familjen në orën 14"
CLOSING = "Fëmija është te gjyshja, e sigurt"
QUESTION = "A ka vëlla apo motër?"
ANSWER = "Po, një vëlla 8 vjeç"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


@pytest.fixture
def contexts(browser: Browser) -> Iterator[dict[str, BrowserContext]]:
    made = {"child": browser.new_context(viewport={"width": 360, "height": 740}),
            "counsellor": browser.new_context(viewport={"width": 1280, "height": 900}),
            "officer": browser.new_context(viewport={"width": 1280, "height": 900}),
            "officer2": browser.new_context(viewport={"width": 1280, "height": 900}),
            "elsewhere": browser.new_context(viewport={"width": 1024, "height": 800})}
    yield made
    for context in made.values():
        context.close()


def tab_to(page: Page, selector: str, limit: int = 60) -> None:
    """Presses Tab until the element matching ``selector`` has the focus (keyboard only)."""
    for _ in range(limit):
        if page.evaluate("(s) => !!document.activeElement && document.activeElement.matches(s)", selector):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {selector}")


def portal_sign_in(page: Page, server: ServerProcess, username: str, password: str, lang: str) -> None:
    """The officer signs in at /referrals with the keyboard alone: password, then the second factor."""
    page.goto(f"{server.url}/referrals?lang={lang}")
    expect(page.locator("html")).to_have_attribute("lang", lang)
    assert axe_violations(page) == [], "sign-in screen"
    tab_to(page, "#login-username")
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    page.keyboard.type(password)
    page.keyboard.press("Enter")
    expect(page.locator("#mfa-enrol:not([hidden]), #mfa-verify:not([hidden])")).to_be_visible()
    if page.locator("#mfa-enrol").is_visible():
        expect(page.locator("#mfa-qr")).to_have_attribute("src", re.compile(r"^data:image/svg\+xml"))
        assert axe_violations(page) == [], "second factor enrolment"
        secret = page.locator("#mfa-secret").inner_text().replace(" ", "")
        remember_totp(username, password, secret)
        page.keyboard.type(totp_code(secret))
        page.keyboard.press("Enter")
        expect(page.locator("#recovery-list li")).to_have_count(10)
        tab_to(page, "#recovery-done")
        page.keyboard.press("Enter")
    else:
        secret = totp_secret_for(username, password)
        assert secret
        expect(page.locator("#mfa-code")).to_be_focused()
        page.keyboard.type(totp_code(secret))
        page.keyboard.press("Enter")
    expect(page.locator("body")).to_have_attribute("data-state", "working")
    expect(page.locator("#screen-referrals")).to_be_visible()


def wait_for(check: Any, timeout: float = 45) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("condition not met in time")


def test_referral_to_shkoder_from_console_to_portal_and_back(
        stack: Stack, start_server: Any, smtp: tuple[Inbox, int], contexts: dict[str, BrowserContext]) -> None:
    inbox, port = smtp
    cli(stack, "directory", "load")
    server = start_server(HELPLINE_SMTP_HOST="127.0.0.1", HELPLINE_SMTP_PORT=str(port), HELPLINE_SMTP_TLS="none",
                          HELPLINE_MAIL_FROM="noreply@helpline.example", HELPLINE_WORKER_SECONDS="1")
    counsellor_password = add_user(stack, "ana")
    officer_password = add_user(stack, "drita", "officer")
    cli(stack, "directory", "officer", "drita", "cpu-shkoder", "--email", "drita@shkoder.example")
    elsewhere_password = add_user(stack, "besa", "officer")
    cli(stack, "directory", "officer", "besa", "cpu-tirane")
    errors: list[str] = []
    pages = {name: context.new_page() for name, context in contexts.items()}
    for page in pages.values():
        page.on("pageerror", lambda exc: errors.append(str(exc)))
    child, counsellor, officer, officer2 = (pages[n] for n in ("child", "counsellor", "officer", "officer2"))

    # The officer's first sign-in (English): second factor and key enrolled; nothing waiting yet.
    portal_sign_in(officer, server, "drita", officer_password, "en")
    expect(officer.locator("#portal-empty")).to_be_visible()
    assert axe_violations(officer) == [], "empty list"

    # A child from Shkodër chats; the counsellor refers the case from the chat.
    sign_in(counsellor, server, "ana", counsellor_password)
    panel = open_referral_form(child, counsellor, server)
    form = panel.locator("form.referral-form")
    expect(form.locator("select[name=agency]")).to_have_value("cpu-shkoder")  # suggested by the municipality
    expect(form.locator(".suggestion")).to_contain_text("Shkodër")
    assert axe_violations(counsellor) == [], "referral form"
    form.locator("select[name=urgency]").select_option("emergency")
    form.locator("select[name=chi_category]").select_option("violence.physical")
    form.locator("textarea[name=text-identity]").fill(CHILD)
    form.locator("select[name=basis-identity]").select_option("child_consented")
    form.locator("textarea[name=text-location]").fill(PLACE)
    form.locator("select[name=basis-location]").select_option("child_consented")
    form.locator("textarea[name=text-account_of_events]").fill(WHAT)
    # Written but marked not shared: the form refuses rather than leak it.
    form.locator("textarea[name=text-school]").fill("Shkolla 9-vjeçare")
    form.locator("textarea[name=requested_action]").fill(ASK)
    form.locator("button[type=submit]").click()
    expect(form.locator(".referral-error")).to_contain_text("not shared")
    form.locator("textarea[name=text-school]").fill("")
    form.locator("select[name=basis-account_of_events]").select_option("child_consented")
    form.locator("button[type=submit]").click()
    expect(panel.locator(".referral-sent")).to_be_visible()
    assert axe_violations(counsellor) == [], "console after the referral"

    # The notice arrives at the real SMTP server and says nothing about the child.
    wait_for(lambda: inbox.messages)
    recipients, raw = inbox.messages[0]
    assert recipients == ["drita@shkoder.example"]
    message = email.message_from_bytes(raw)
    text = message.get_payload(decode=True).decode("utf-8")  # type: ignore[union-attr]
    assert "/referrals" in text
    for secret in [CHILD, "Arta", PLACE, "Detit", WHAT, ASK, "Shkodër", "Shkoder", "violence", "dhun"]:
        assert secret not in text and secret not in str(message["Subject"]), secret

    # An officer of Tirana signs in: Shkodër's referral is not in their list.
    elsewhere = pages["elsewhere"]
    portal_sign_in(elsewhere, server, "besa", elsewhere_password, "en")
    expect(elsewhere.locator("#portal-status")).to_have_text("0 referrals.")
    expect(elsewhere.locator("#portal-empty")).to_be_visible()

    # The officer signs in again, in Albanian, and does everything with the keyboard.
    portal_sign_in(officer2, server, "drita", officer_password, "sq")
    row = officer2.locator("#portal-list tbody tr")
    expect(row).to_have_count(1)
    assert axe_violations(officer2) == [], "list (sq)"
    tab_to(officer2, "button[data-open]")
    officer2.keyboard.press("Enter")
    view = officer2.locator("#referral-view")
    expect(view).to_be_visible()
    expect(officer2.locator("#referral-title")).to_be_focused()
    content = officer2.locator("#referral-content")
    for shown in (CHILD, PLACE, WHAT, ASK):
        expect(content).to_contain_text(shown)  # decrypted in the page
    expect(officer2.locator("#referral-meta")).to_contain_text("Dhunë fizike")  # the category, in Albanian
    assert axe_violations(officer2) == [], "referral (sq)"

    tab_to(officer2, "#referral-acknowledge")
    officer2.keyboard.press("Enter")
    expect(officer2.locator("#referral-events li.to-acknowledged")).to_have_count(1)
    expect(officer2.locator("#action-form")).to_be_visible()

    tab_to(officer2, "#action-kind")
    officer2.keyboard.press("ArrowDown")  # contact_child → contact_family
    officer2.keyboard.press("ArrowDown")  # → home_visit
    expect(officer2.locator("#action-kind")).to_have_value("home_visit")
    officer2.keyboard.press("Tab")
    officer2.keyboard.type(ACTION)
    officer2.keyboard.press("Tab")
    officer2.keyboard.press("Enter")
    expect(officer2.locator("#referral-events li[data-kind=action]")).to_contain_text(ACTION)

    # A question to the helpline; the counsellor answers it in the console; the officer reads the answer.
    tab_to(officer2, "#question-body")
    officer2.keyboard.type(QUESTION)
    officer2.keyboard.press("Tab")
    officer2.keyboard.press("Enter")
    expect(officer2.locator("#referral-events li[data-kind=question]")).to_contain_text(QUESTION)
    counsellor.click("#views button[data-view=referrals]")
    counsellor.locator("#referral-list button[data-open]").click()
    expect(counsellor.locator("#ref-events li[data-kind=question]")).to_contain_text(QUESTION)
    counsellor.fill("#answer-body", ANSWER)
    counsellor.click("#answer-form button[type=submit]")
    expect(counsellor.locator("#ref-events li[data-kind=answer]")).to_contain_text(ANSWER)
    tab_to(officer2, "#referral-back")
    officer2.keyboard.press("Enter")
    expect(officer2.locator("#portal-title")).to_be_focused()
    tab_to(officer2, "button[data-open]")
    officer2.keyboard.press("Enter")
    expect(officer2.locator("#referral-events li[data-kind=answer]")).to_contain_text(ANSWER)

    tab_to(officer2, "#close-outcome")
    expect(officer2.locator("#close-outcome")).to_have_value("child_protected")
    officer2.keyboard.press("Tab")  # the support the child received (issue 19): psychological, then legal
    expect(officer2.locator("#support-psychological")).to_be_focused()
    officer2.keyboard.press("Space")
    tab_to(officer2, "#support-legal")
    officer2.keyboard.press("Space")
    tab_to(officer2, "#close-body")
    officer2.keyboard.type(CLOSING)
    officer2.keyboard.press("Tab")
    officer2.keyboard.press("Enter")
    expect(officer2.locator("#referral-events li.to-closed")).to_contain_text(CLOSING)
    expect(officer2.locator("#close-form")).to_be_hidden()
    expect(officer2.locator("#referral-events li[data-kind=support]")).to_contain_text("Mbështetje psikologjike")
    assert axe_violations(officer2) == [], "closed referral (sq)"

    # The print view: the referral alone, no navigation; the read is audited as a print.
    tab_to(officer2, "#referral-print")
    officer2.keyboard.press("Enter")
    expect(officer2.locator("body")).to_have_class(re.compile("print-view"))
    expect(officer2.locator("header.bar")).to_be_hidden()
    officer2.emulate_media(media="print")
    expect(officer2.locator("#referral-back")).to_be_hidden()
    expect(officer2.locator("#referral-content")).to_contain_text(CHILD)
    officer2.emulate_media(media="screen")
    assert axe_violations(officer2) == [], "print view (sq)"
    printed = run_async(query(stack, "SELECT actor, detail FROM audit_log WHERE action = 'referral.read'"))
    details = [detail if isinstance(detail, dict) else json.loads(detail) for _actor, detail in printed]
    assert sum(1 for detail in details if detail.get("print") is True) == 1, details
    assert cli(stack, "audit", "verify").returncode == 0

    # The English session of the first sign-in, still open: the list and the closed referral, axe-clean.
    officer.click("#views button[data-view=referrals]")
    expect(officer.locator("#portal-list tbody tr")).to_have_count(1)
    expect(officer.locator("#portal-list tbody tr")).to_contain_text("Closed")
    assert axe_violations(officer) == [], "list (en)"
    officer.click("#portal-list button[data-open]")
    expect(officer.locator("#referral-content")).to_contain_text(CHILD)
    expect(officer.locator("#referral-events li.to-closed")).to_contain_text("Child protected")
    assert axe_violations(officer) == [], "referral (en)"

    # The counsellor sees every step, with the officer's notes decrypted.
    counsellor.click("#referrals-refresh")
    listed = counsellor.locator("#referral-list tbody tr")
    expect(listed).to_have_count(1)
    expect(listed).to_contain_text("Closed")
    listed.locator("button[data-open]").click()
    steps = counsellor.locator("#ref-events")
    for selector in ("li.to-sent", "li.to-acknowledged", "li.to-in_progress", "li[data-kind=action]", "li.to-closed"):
        expect(steps.locator(selector)).to_have_count(1)
    expect(steps.locator("li[data-kind=action]")).to_contain_text("Home visit")
    expect(steps.locator("li[data-kind=action]")).to_contain_text(ACTION)
    expect(steps.locator("li.to-closed")).to_contain_text("Child protected")
    expect(counsellor.locator("#ref-content")).to_contain_text(CHILD)
    assert axe_violations(counsellor) == [], "console tracking"
    assert errors == []

