"""The console's shift work in real Chromium: three chats in tabs, transfer, ask a supervisor,
wrap-up. Counsellors and supervisors use the browser (keyboard where it matters); children are
PyNaCl clients on a background event loop."""

from __future__ import annotations

import time

from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.conftest import Loop, axe_violations
from tests.browser.console_signin import sign_in
from tests.support import ServerProcess, Stack, add_user


def press(page: Page, selector: str) -> None:
    """Keyboard alone: focus the control and press Enter."""
    page.locator(selector).focus()
    page.keyboard.press("Enter")


def accept(page: Page, conv: str) -> None:
    press(page, f'button[data-accept="{conv}"]')
    expect(page.locator(f'[data-conv="{conv}"]')).to_have_count(1)  # accepted: before that no key is awaited
    expect(page.locator(f'[data-conv="{conv}"] .waiting-key')).to_have_count(0)


def test_three_chats_at_once_land_in_their_tabs_and_a_fourth_waits(
        stack: Stack, server: ServerProcess, staff_context: BrowserContext, loop: Loop) -> None:
    password = add_user(stack, "ana")
    page = staff_context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(page, server, "ana", password)
    children = [loop.child(server, stack) for _ in range(4)]
    try:
        expect(page.locator("button[data-accept]")).to_have_count(4)
        for _, conv in children[:3]:
            accept(page, conv)
        expect(page.locator("[role=tab]")).to_have_count(3)
        for i, (child, _) in enumerate(children[:3]):
            loop.run(child.say(f"mesazhi i fëmijës {i}"))
        for i, (_, conv) in enumerate(children[:3]):
            expect(page.locator(f'[data-conv="{conv}"] .from-child')).to_have_text([f"mesazhi i fëmijës {i}"])
        # Messages to the chats in the background show as unread on their tabs.
        expect(page.locator("[role=tab] .unread")).to_have_count(2)

        press(page, f'button[data-accept="{children[3][1]}"]')
        expect(page.locator("#work-error")).to_contain_text("already hold")
        expect(page.locator("[role=tab]")).to_have_count(3)
        expect(page.locator(f'button[data-accept="{children[3][1]}"]')).to_have_count(1)
        assert axe_violations(page) == []
        assert errors == []
    finally:
        loop.close([c for c, _ in children])


def test_transfer_in_the_browser_hands_the_whole_history_to_a_colleague(
        stack: Stack, server: ServerProcess, staff_context: BrowserContext, second_context: BrowserContext,
        loop: Loop) -> None:
    ana_pw, bea_pw = add_user(stack, "ana"), add_user(stack, "bea")
    ana, bea = staff_context.new_page(), second_context.new_page()
    sign_in(bea, server, "bea", bea_pw)
    sign_in(ana, server, "ana", ana_pw)
    child, conv = loop.child(server, stack)
    try:
        accept(ana, conv)
        loop.run(child.say("kam një problem në shkollë"))
        panel = ana.locator(f'[data-conv="{conv}"]')
        expect(panel.locator(".from-child")).to_have_count(1)
        panel.locator("textarea.compose").fill("Më trego më shumë.")
        panel.locator("textarea.compose").press("Enter")
        expect(panel.locator(".from-staff")).to_have_count(1)

        press(ana, f'[data-conv="{conv}"] button.transfer')
        form = panel.locator(".transfer-form")
        expect(form.locator("option")).to_have_count(2)
        form.locator("select").select_option(label="Bea (0/3)")
        form.locator("textarea").fill("Ngacmim nga shokët e klasës")
        form.locator("button[type=submit]").press("Enter")
        expect(panel).to_contain_text("You handed this chat to Bea.")

        bea_panel = bea.locator(f'[data-conv="{conv}"]')
        expect(bea_panel.locator(".from-child")).to_have_text(["kam një problem në shkollë"])
        expect(bea_panel.locator(".from-colleague")).to_have_text(["Më trego më shumë."])
        expect(bea_panel).to_contain_text("Handover note: Ngacmim nga shokët e klasës")

        loop.run(child.say("faleminderit"))
        expect(bea_panel.locator(".from-child")).to_have_count(2)
        time.sleep(0.5)
        expect(panel.locator(".from-child")).to_have_count(1)  # the first counsellor no longer receives
        bea_panel.locator("textarea.compose").fill("Jam Bea, vazhdojmë bashkë.")
        bea_panel.locator("textarea.compose").press("Enter")
        deadline = time.monotonic() + 10
        while not any(m.text == "Jam Bea, vazhdojmë bashkë." for m in child.received.values()):
            assert time.monotonic() < deadline, "the child never got the new counsellor's message"
            time.sleep(0.05)
        assert child.refused == []  # the child's page checked the new counsellor's key and went on
        assert axe_violations(ana) == [] and axe_violations(bea) == []
    finally:
        loop.close([child])


def test_ask_a_supervisor_reaches_their_console_within_a_second_and_they_join(
        stack: Stack, server: ServerProcess, staff_context: BrowserContext, second_context: BrowserContext,
        loop: Loop) -> None:
    ana_pw, sara_pw = add_user(stack, "ana"), add_user(stack, "sara", role="supervisor")
    ana, sara = staff_context.new_page(), second_context.new_page()
    sign_in(sara, server, "sara", sara_pw)
    sign_in(ana, server, "ana", ana_pw)
    child, conv = loop.child(server, stack)
    try:
        accept(ana, conv)
        loop.run(child.say("dikush po më kërcënon"))
        expect(ana.locator(f'[data-conv="{conv}"] .from-child')).to_have_count(1)
        asked = time.monotonic()
        press(ana, f'[data-conv="{conv}"] button.ask-supervisor')
        expect(sara.locator("#alerts li")).to_have_count(1, timeout=1000)
        assert time.monotonic() - asked < 1.5  # within a second, plus the browser's own polling
        expect(sara.locator("#alerts")).to_contain_text("Ana")

        press(sara, "#alerts button[data-join]")
        sara_panel = sara.locator(f'[data-conv="{conv}"]')
        expect(sara_panel.locator(".from-child")).to_have_text(["dikush po më kërcënon"])
        expect(ana.locator(f'[data-conv="{conv}"]')).to_contain_text("(supervisor) can now read and write")
        sara_panel.locator("textarea.compose").fill("Jam Sara, mbikëqyrëse. Je i sigurt tani?")
        sara_panel.locator("textarea.compose").press("Enter")
        expect(ana.locator(f'[data-conv="{conv}"] .from-colleague')).to_have_count(1)
        assert axe_violations(sara) == []
        press(sara, '#views button[data-view="supervise"]')
        expect(sara.locator("#team tbody tr")).to_have_count(2)  # Ana and Sara, with status and load
        expect(sara.locator("#live-chats tbody tr")).to_have_count(1)
        assert axe_violations(sara) == []
    finally:
        loop.close([child])


def test_wrap_up_form_records_the_case_before_the_next_chat(
        stack: Stack, server: ServerProcess, staff_context: BrowserContext, loop: Loop) -> None:
    password = add_user(stack, "ana")
    page = staff_context.new_page()
    sign_in(page, server, "ana", password)
    (first, conv), (second, next_conv) = loop.child(server, stack), loop.child(server, stack)
    try:
        accept(page, conv)
        page.on("dialog", lambda dialog: dialog.accept())
        press(page, f'[data-conv="{conv}"] button.end-chat')
        form = page.locator(f'[data-conv="{conv}"] .case-form')
        expect(form).to_be_visible()
        press(page, f'button[data-accept="{next_conv}"]')
        expect(page.locator("#work-error")).to_contain_text("Record the case")
        form.locator("select[name=contact_type]").select_option("counselling")
        form.locator("select[name=primary_category]").select_option("violence")
        form.locator("select[name=risk]").select_option("medium")
        form.locator("select[name=outcome]").select_option("advice")
        form.locator("textarea[name=note]").fill("Shënim i enkriptuar për rastin")
        assert axe_violations(page) == []
        form.locator("button[type=submit]").press("Enter")
        expect(page.locator(f'[data-conv="{conv}"] .case-saved')).to_be_visible()
        accept(page, next_conv)
        press(page, '#views button[data-view="cases"]')
        expect(page.locator("#case-list tbody tr")).to_have_count(2)
        assert axe_violations(page) == []
    finally:
        loop.close([first, second])


async def _waited_two_minutes(stack: Stack) -> None:
    """As if the waiting chats had arrived two minutes ago (the button leaves newer ones alone)."""
    import datetime as dt

    from sqlalchemy import update

    from helpline.db import make_engine
    from helpline.models import Conversation, utcnow

    engine = make_engine(stack.database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(update(Conversation).values(created_at=utcnow() - dt.timedelta(minutes=2)))
    finally:
        await engine.dispose()


def test_a_supervisor_clears_the_empty_waiting_chats_with_one_button(
        stack: Stack, server: ServerProcess, staff_context: BrowserContext, loop: Loop) -> None:
    password = add_user(stack, "sara", role="supervisor")
    page = staff_context.new_page()
    sign_in(page, server, "sara", password)
    children = [loop.child(server, stack) for _ in range(3)]
    loop.run(children[0][0].say("jam këtu"))  # a child who wrote stays
    loop.run(_waited_two_minutes(stack))
    try:
        expect(page.locator("button[data-accept]")).to_have_count(3)
        press(page, '#views button[data-view="supervise"]')
        expect(page.locator("#live-chats tbody tr")).to_have_count(3)
        press(page, "#clear-empty")
        expect(page.locator("#clear-empty-status")).to_have_text("2 waiting chats with no message were closed.")
        expect(page.locator("#live-chats tbody tr")).to_have_count(1)
        expect(page.locator("button[data-accept]")).to_have_count(1)
        expect(page.locator(f'button[data-accept="{children[0][1]}"]')).to_have_count(1)
        assert axe_violations(page) == []
    finally:
        loop.close([child for child, _ in children])
