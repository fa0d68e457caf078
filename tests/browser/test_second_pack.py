"""Issue 23, acceptance 1, in real Chromium on both backends: a second helpline — the Kosovo-like pack in
tests/packs/xk — runs the whole flow from its pack alone. The operator runs `helpline pack load` and
nothing else: no code, no setting names Kosovo. A child opens the chat and sees the pack's brand and
police number (192, not Albania's 129), picks a Kosovo municipality grouped by its district, and chats
with a counsellor; the counsellor refers her to the Centre for Social Work of Gjakovë, which the pack's
routing proposes; the officer of that centre reads it in the portal; the statistics count the contacts
by Kosovo's districts. The chat keeps the pack's week (closed on Sundays and holidays), and the Serbian
page shows Serbian where the pack's catalog has it and Albanian, the default language, elsewhere."""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Callable, Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, BrowserContext, expect

from tests.browser.conftest import Loop, axe_violations
from tests.browser.console_signin import sign_in
from tests.browser.test_referral_portal import portal_sign_in
from tests.chat_client import ChildClient, StaffClient
from tests.integration.referral_support import cli
from tests.support import ROOT, ServerProcess, Stack, add_user, run_async

XK = ROOT / "tests" / "packs" / "xk"
PACK: dict[str, Any] = tomllib.loads((XK / "pack.toml").read_text(encoding="utf-8"))
DISTRICTS = ["Ferizaj", "Gjakovë", "Gjilan", "Mitrovicë", "Pejë", "Prishtinë", "Prizren"]
ALBANIA = ["Shkodër", "Tiranë", "Berat"]  # places of the shipped pack, which must not show
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WHAT = "Babai pi dhe bërtet natën"
ASK = "Vizitë në familje këtë javë"


def week_state(now: dt.datetime) -> tuple[bool, str | None]:
    """Open at ``now`` by the pack's own table, and if not, when it opens next ("08:00"), read here from
    pack.toml with zoneinfo alone — not through the code under test."""
    local = now.astimezone(ZoneInfo(PACK["timezone"]))
    hours: dict[str, str] = PACK["hours"]
    holidays = {dt.date.fromisoformat(day) for day in hours.get("holidays", [])}
    minute = local.hour * 60 + local.minute
    for offset in range(9):
        day = local.date() + dt.timedelta(days=offset)
        span = hours.get(DAYS[day.weekday()])
        if day in holidays or not isinstance(span, str):
            continue
        start, end = (int(t[:2]) * 60 + int(t[3:]) for t in span.split("-"))
        if offset == 0 and start <= minute < end:
            return True, None
        if offset > 0 or minute < start:
            return False, span.split("-")[0]
    raise AssertionError("the pack is never open")


@pytest.fixture
def contexts(browser: Browser) -> Iterator[dict[str, BrowserContext]]:
    made = {"child": browser.new_context(viewport={"width": 320, "height": 700}),
            "counsellor": browser.new_context(viewport={"width": 1280, "height": 900}),
            "officer": browser.new_context(viewport={"width": 1280, "height": 900}),
            "manager": browser.new_context(viewport={"width": 1280, "height": 900})}
    yield made
    for context in made.values():
        context.close()


def load_pack(stack: Stack) -> str:
    """What the operator does, and all of it: `helpline pack load tests/packs/xk`."""
    loaded = cli(stack, "pack", "load", str(XK))
    assert "Pack xk installed" in loaded.stdout, loaded.stdout + loaded.stderr
    return loaded.stdout


def kosovo_child(loop: Loop, server: ServerProcess, stack: Stack, municipality: str) -> ChildClient:
    child = ChildClient(server.url, stack.org_public_key)
    loop.run(child.connect())
    loop.run(child.start({"who": "child", "age_band": "13-15", "municipality": municipality, "topic": "family"}))
    return child


def test_a_kosovo_like_helpline_runs_the_whole_flow_from_its_pack(
        stack: Stack, start_server: Callable[..., ServerProcess], contexts: dict[str, BrowserContext],
        loop: Loop) -> None:
    output = load_pack(stack)
    # The partial Serbian catalog is counted, and falls back: a warning, not an error.
    assert any(line.startswith("warning: sr_Latn: ") for line in output.splitlines()), output
    # Open round the clock for this test, so that it runs at any hour (the week itself: the test below).
    server = start_server(HELPLINE_OPENING_HOURS="00:00-24:00", HELPLINE_STATS_K="3")
    counsellor_password = add_user(stack, "arta")
    officer_password = add_user(stack, "vjosa", "officer")
    cli(stack, "directory", "officer", "vjosa", "qps-gjakove")
    pages = {name: context.new_page() for name, context in contexts.items()}
    errors: list[str] = []
    for page in pages.values():
        page.on("pageerror", lambda exc: errors.append(str(exc)))
    child, counsellor, officer = pages["child"], pages["counsellor"], pages["officer"]
    portal_sign_in(officer, server, "vjosa", officer_password, "sq")  # her key, signed: she can read referrals
    sign_in(counsellor, server, "arta", counsellor_password)

    # The child's page: the pack's brand and numbers, its places by district, its pre-chat topics.
    child.goto(server.url + "/")
    expect(child.locator("body")).to_have_attribute("data-state", "welcome")
    expect(child.locator(".brand")).to_have_text(PACK["brand"])
    assert PACK["brand"] in child.title()
    expect(child.locator("#screen-welcome a[href='tel:192']")).to_have_count(1)
    text = child.locator("body").inner_text()
    assert "192" in text and "129" not in text and "ALO" not in text and "Shqipëri" not in text
    assert child.locator("a[href='tel:129']").count() == 0
    groups = child.locator("#municipality optgroup").evaluate_all("els => els.map(e => e.label)")
    assert groups == DISTRICTS
    assert child.locator("#municipality optgroup option").count() == 38
    options = child.locator("#municipality").inner_text()
    assert "Gjakovë" in options and "Mitrovicë e Veriut" in options
    assert not any(place in options for place in ALBANIA)
    topics = child.locator("input[name=topic]").evaluate_all("els => els.map(e => e.value)")
    assert topics == PACK["prechat"]["topics"]
    assert axe_violations(child) == [], "start page"

    child.click("#start-chat")
    child.select_option("#municipality", "Gjakovë")
    child.check("input[name=topic][value=family]")
    child.click("#prechat-submit")
    expect(child.locator("body")).to_have_attribute("data-state", "queue")
    accept = counsellor.locator("button[data-accept]")
    expect(accept).to_have_count(1)
    expect(counsellor.locator("#queue")).to_contain_text("Gjakovë")
    accept.click()
    panel = counsellor.locator("[data-conv]")
    expect(child.locator("#counsellor")).not_to_be_empty()
    panel.locator("textarea.compose").fill("Përshëndetje, unë jam Arta. Si mund të të ndihmoj?")
    panel.locator("button.send").click()
    expect(child.locator("#messages")).to_contain_text("Si mund të të ndihmoj?")
    child.fill("#message-input", WHAT)
    child.click("#send-message")
    expect(panel.locator(".messages .from-child")).to_have_text([WHAT])

    # The referral: the pack's routing proposes Gjakovë's Centre for Social Work.
    panel.locator("button.refer").click()
    form = panel.locator("form.referral-form")
    expect(form.locator("select[name=agency]")).to_have_value("qps-gjakove")
    expect(form.locator(".suggestion")).to_contain_text("Gjakovë")
    form.locator("select[name=urgency]").select_option("urgent")
    form.locator("select[name=chi_category]").select_option("violence.emotional")
    form.locator("textarea[name=text-account_of_events]").fill(WHAT)
    form.locator("select[name=basis-account_of_events]").select_option("child_consented")
    form.locator("textarea[name=requested_action]").fill(ASK)
    form.locator("button[type=submit]").click()
    expect(panel.locator(".referral-sent")).to_be_visible()

    # The officer of the centre reads it in the portal, decrypted in her page.
    officer.reload()
    portal_sign_in(officer, server, "vjosa", officer_password, "sq")
    row = officer.locator("#portal-list tbody tr")
    expect(row).to_have_count(1)
    row.locator("button[data-open]").click()
    expect(officer.locator("#referral-content")).to_contain_text(WHAT)
    expect(officer.locator("#referral-content")).to_contain_text(ASK)
    assert axe_violations(officer) == [], "the referral in the portal"

    # Two more children from Gjakovë, and the statistics count them under Kosovo's district.
    others = [kosovo_child(loop, server, stack, "Gjakovë") for _ in range(2)]
    manager_password = add_user(stack, "menaxher", "manager")
    staff = StaffClient(server.url, "menaxher", manager_password)
    run_async(staff.sign_in())
    contexts["manager"].add_cookies([{"name": name, "value": value, "url": server.url}
                                     for name, value in staff.cookies.items()])
    stats = pages["manager"]
    stats.goto(server.url + "/stats")
    counties = stats.locator("#f-county option").evaluate_all("els => els.map(e => e.textContent.trim())")
    assert all(district in counties for district in DISTRICTS), counties
    assert not any(place in counties for place in ALBANIA), counties
    by_county = stats.locator("#table-county tbody tr")
    expect(by_county.filter(has_text="Gjakovë")).to_have_count(1)
    assert by_county.filter(has_text="Gjakovë").locator("td").first.inner_text().strip() == "3"
    loop.close(others)
    assert errors == []


def test_the_chat_keeps_the_packs_week(stack: Stack, start_server: Callable[..., ServerProcess],
                                       browser: Browser) -> None:
    load_pack(stack)
    server = start_server()
    page = browser.new_context(viewport={"width": 320, "height": 700}).new_page()
    open_now, opens_at = week_state(dt.datetime.now(dt.UTC))
    page.goto(server.url + "/")
    if open_now:
        expect(page.locator("body")).to_have_attribute("data-state", "welcome")
    else:
        expect(page.locator("body")).to_have_attribute("data-state", "closed")
        expect(page.locator("#screen-closed")).to_contain_text(str(opens_at))
        expect(page.locator("#screen-closed a[href='tel:192']")).to_have_count(1)
    assert page.locator("a[href='tel:129']").count() == 0
    # The easy-read pages speak of the pack's numbers too.
    page.goto(server.url + "/easy/helpers")
    expect(page.locator(".easy-lines a[href='tel:192']")).to_have_count(1)
    assert page.locator("a[href='tel:129']").count() == 0
    assert PACK["brand"] in page.title()
    # The pack's own page replaces the shipped one in Albanian: Kosovo's Centre for Social Work, by komuna.
    page.goto(server.url + "/help/more-help")
    expect(page.locator("article")).to_contain_text("Qendra për Punë Sociale")
    expect(page.locator("article")).not_to_contain_text("bashki")
    page.select_option("#unit-municipality", "Gjakovë")
    page.click(".unit-finder button")
    expect(page.locator("#unit-title")).to_have_text("Qendra për Punë Sociale Gjakovë")
    assert axe_violations(page) == []


def test_the_serbian_page_shows_serbian_where_translated_and_albanian_elsewhere(
        stack: Stack, start_server: Callable[..., ServerProcess], browser: Browser) -> None:
    load_pack(stack)
    server = start_server(HELPLINE_OPENING_HOURS="00:00-24:00")
    page = browser.new_context(viewport={"width": 320, "height": 700}).new_page()
    page.goto(server.url + "/?lang=sr_Latn")
    expect(page.locator("html")).to_have_attribute("lang", "sr-Latn")
    expect(page.locator("#welcome-title")).to_have_text("Zdravo! Tu smo za tebe.")
    expect(page.locator("#start-chat")).to_have_text("Započni razgovor")
    expect(page.locator("#quick-exit")).to_have_text("Brzi izlaz")
    expect(page.locator(".foot")).to_contain_text(PACK["brand"] + ": besplatna i anonimna pomoć za decu.")
    # Not in the pack's Serbian catalog: shown in Albanian, the pack's default language, never blank.
    expect(page.locator("#screen-welcome a[href^='/easy']")).to_have_text("Faqe me fjali të shkurtra dhe figura")
    expect(page.locator(".danger").first).to_contain_text("192")
    assert axe_violations(page) == []
