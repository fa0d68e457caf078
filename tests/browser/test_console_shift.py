"""The console for a shift (issue 20, acceptance 1–3), in real Chromium, in Albanian and in English.

1. A counsellor with three chats answers each by keyboard without scrolling at 1280×800; after Accept
   the focus is in the composer; a message typed while the server is down shows "sending", then
   "stored", once.
2. The tab's title counts a new waiting child and a new message within 2 s; no notification carries
   any text of a message.
3. Dates are in the chosen language's format, the same in the browser (Intl) and on the server
   (Babel): one date is pinned.
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_datetime
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser.conftest import Loop, axe_violations
from tests.browser.console_signin import sign_in
from tests.browser.test_console_teamwork import press
from tests.integration.referral_support import query
from tests.support import ServerProcess, Stack, add_user, run_async

WORDS = {
    "en": {"sending": "Sending…", "stored": "Stored", "waiting": "1 waiting", "new": "1 new message",
           "girl": "Girl", "topic": "Something that happened online", "pinned": "5 Dec 2026, 10:30",
           "ended": "The chat has ended."},
    "sq": {"sending": "Po dërgohet…", "stored": "U ruajt", "waiting": "1 në pritje", "new": "1 mesazh i ri",
           "girl": "Vajzë", "topic": "Diçka që ndodhi në internet", "pinned": "5 dhj 2026, 10:30",
           "ended": "Biseda u mbyll."},
}
BABEL = {"sq": "sq_AL", "en": "en"}
PATTERN = "d MMM y, HH:mm"
TIRANE = ZoneInfo("Europe/Tirane")


@pytest.fixture
def shift_context(browser: Browser) -> BrowserContext:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    yield context  # type: ignore[misc]
    context.close()


def in_view(page: Page, selector: str) -> None:
    """Visible on the screen as it is: the page was not scrolled to reach it."""
    assert page.evaluate("() => window.scrollY") == 0
    box = page.locator(selector).bounding_box()
    assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= 800, (selector, box)


@pytest.mark.parametrize("lang", ["sq", "en"])
def test_three_chats_by_keyboard_and_a_message_through_an_outage(
        stack: Stack, server: ServerProcess, shift_context: BrowserContext, loop: Loop, lang: str) -> None:
    words = WORDS[lang]
    password = add_user(stack, "ana")
    page = shift_context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(page, server, "ana", password, lang=lang)
    children, convs = [], []
    for i in range(3):
        child, conv = loop.child(server, stack)
        children.append(child)
        convs.append(conv)
        expect(page.locator(f'button[data-accept="{conv}"]')).to_be_visible()
        # The queue says what the child answered in words, not codes.
        expect(page.locator("#queue tbody tr").first).to_contain_text(words["girl"])
        press(page, f'button[data-accept="{conv}"]')
        panel = page.locator(f'[data-conv="{conv}"]')
        expect(panel.locator("textarea.compose")).to_be_focused()
        expect(panel.locator(".waiting-key")).to_have_count(0)
        expect(panel.locator(".chat-context")).to_contain_text(words["topic"])
        loop.run(child.say(f"fëmija {i} shkruan"))

    # Each chat answered by keyboard alone: Alt+N opens it with the focus in its composer, in view.
    for i, conv in enumerate(convs):
        page.keyboard.press(f"Alt+{i + 1}")
        panel = page.locator(f'[data-conv="{conv}"]')
        expect(panel.locator("textarea.compose")).to_be_focused()
        expect(panel.locator(".from-child")).to_have_text([f"fëmija {i} shkruan"])
        page.keyboard.type(f"përgjigje {i}")
        page.keyboard.press("Enter")
        line = panel.locator(".line", has=page.locator(".from-staff"))
        expect(line).to_have_attribute("data-state", "stored")
        expect(line.locator(".line-meta")).to_contain_text(words["stored"])
        expect(line.locator(".line-time")).to_have_text(re.compile(r"^\d\d:\d\d$"))
        in_view(page, f'[data-conv="{conv}"] textarea.compose')
        in_view(page, f'[data-conv="{conv}"] button.send')
        in_view(page, f'[data-conv="{conv}"] .chat-context')
    assert axe_violations(page) == []

    # The server goes away; the message typed meanwhile stays on screen as "sending".
    server.kill()
    page.keyboard.press("Alt+1")
    page.keyboard.type("mesazh gjatë ndërprerjes")
    page.keyboard.press("Enter")
    first = page.locator(f'[data-conv="{convs[0]}"]')
    pending = first.locator(".line", has_text="mesazh gjatë ndërprerjes")
    expect(pending).to_have_attribute("data-state", "sending")
    expect(pending.locator(".line-meta")).to_contain_text(words["sending"])
    again = ServerProcess(stack, server.port).start()
    stack.servers.append(again)
    expect(pending).to_have_attribute("data-state", "stored", timeout=30000)
    expect(pending.locator(".line-meta")).to_contain_text(words["stored"])
    page.wait_for_timeout(1500)  # a replay after the reconnect would show a second copy by now
    expect(first.locator(".from-staff", has_text="mesazh gjatë ndërprerjes")).to_have_count(1)
    cid = pending.get_attribute("data-cid")
    assert run_async(query(stack, "SELECT count(*) FROM messages WHERE client_id = :cid", {"cid": cid})) == [(1,)]

    # Acceptance 3 through the cases list: its "started" column is the chat's start, in the language.
    started = run_async(query(stack, "SELECT created_at FROM conversations WHERE id = :c", {"c": convs[2]}))[0][0]
    started = started if isinstance(started, dt.datetime) else dt.datetime.fromisoformat(str(started))
    started = started if started.tzinfo else started.replace(tzinfo=dt.UTC)
    page.locator('#views [data-view="cases"]').click()
    expect(page.locator("#case-list tbody tr").first.locator("td").first).to_have_text(
        format_datetime(started, PATTERN, tzinfo=TIRANE, locale=BABEL[lang]))
    assert errors == []
    for child in children:
        try:
            loop.run(child.close())
        except Exception:  # noqa: BLE001, S112 - its socket died with the first server
            continue


@pytest.mark.parametrize("lang", ["sq", "en"])
def test_title_counts_and_notifications_carry_no_text(
        stack: Stack, server: ServerProcess, shift_context: BrowserContext, loop: Loop, lang: str) -> None:
    words = WORDS[lang]
    # The browser's notifications, recorded; and a counsellor who is looking elsewhere.
    shift_context.add_init_script("""
      window.__notes = [];
      window.Notification = function (title, options) { window.__notes.push({title: title, options: options || {}}); };
      window.Notification.permission = 'granted';
      window.Notification.requestPermission = function () { return Promise.resolve('granted'); };
      window.Notification.prototype.close = function () {};
      document.hasFocus = function () { return false; };
    """)
    password = add_user(stack, "ana")
    page = shift_context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(page, server, "ana", password, lang=lang)
    expect(page.locator("#notify-sound")).not_to_be_checked()  # off until she switches it on
    page.locator("#notify-sound").check()

    first, conv1 = loop.child(server, stack)
    expect(page).to_have_title(re.compile(re.escape(words["waiting"])), timeout=2000)
    press(page, f'button[data-accept="{conv1}"]')
    expect(page.locator(f'[data-conv="{conv1}"] .waiting-key')).to_have_count(0)
    second, conv2 = loop.child(server, stack)
    expect(page).to_have_title(re.compile(re.escape(words["waiting"])), timeout=2000)
    press(page, f'button[data-accept="{conv2}"]')
    expect(page.locator(f'[data-conv="{conv2}"] .waiting-key')).to_have_count(0)
    expect(page).not_to_have_title(re.compile(re.escape(words["waiting"])))

    loop.run(first.say("sekreti i fëmijës"))  # in the chat that is not open
    expect(page).to_have_title(re.compile(re.escape(words["new"])), timeout=2000)
    notes = page.evaluate("() => window.__notes")
    assert len(notes) >= 3, notes  # two children, one message
    for note in notes:
        shown = note["title"] + " " + str(note["options"].get("body", ""))
        assert "sekreti" not in shown and "Shkodër" not in shown and words["girl"] not in shown, note
        assert note["options"].get("body", "") == ""
    assert "sekreti" not in page.title()
    page.keyboard.press("Alt+1")
    expect(page).not_to_have_title(re.compile(re.escape(words["new"])), timeout=2000)
    assert axe_violations(page) == []

    # An ended chat no longer says the child is connected, and its tab closes once it is recorded.
    page.on("dialog", lambda dialog: dialog.accept())
    panel = page.locator(f'[data-conv="{conv1}"]')
    press(page, f'[data-conv="{conv1}"] button.end-chat')
    expect(panel.locator(".presence")).to_have_text(words["ended"])
    form = panel.locator(".case-form")
    expect(form).to_be_visible()
    press(page, f'[data-conv="{conv1}"] button.close-chat')
    expect(page.locator(f'[data-tab="{conv1}"]')).to_have_count(1)  # not before its case is recorded
    form.locator("select[name=contact_type]").select_option("counselling")
    form.locator("select[name=primary_category]").select_option("violence")
    form.locator("select[name=risk]").select_option("medium")
    form.locator("select[name=outcome]").select_option("advice")
    form.locator("button[type=submit]").press("Enter")
    expect(panel.locator(".case-saved")).to_be_visible()
    press(page, f'[data-conv="{conv1}"] button.close-chat')
    expect(page.locator(f'[data-tab="{conv1}"]')).to_have_count(0)
    expect(page.locator(f'[data-conv="{conv1}"]')).to_have_count(0)
    expect(page.locator(f'[data-tab="{conv2}"]')).to_be_focused()
    assert axe_violations(page) == []
    assert errors == []
    loop.close([first, second])


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
@pytest.mark.parametrize("lang", ["sq", "en"])
def test_one_date_is_pinned_in_each_language(stack: Stack, server: ServerProcess, shift_context: BrowserContext,
                                             lang: str) -> None:
    pinned = dt.datetime(2026, 12, 5, 9, 30, tzinfo=dt.UTC)
    assert format_datetime(pinned, PATTERN, tzinfo=TIRANE, locale=BABEL[lang]) == WORDS[lang]["pinned"]
    page = shift_context.new_page()
    for path in ("/console", "/referrals"):  # the console (and its cases) and the officers' portal
        page.goto(f"{server.url}{path}?lang={lang}")
        shown = page.evaluate("() => HelplineConsole.when('2026-12-05T09:30:00Z')")
        assert shown == WORDS[lang]["pinned"], path
    # Plural forms by the language's rules: one referral, two referrals.
    one = page.evaluate("() => HelplineConsole._n('{count} one', '{count} other', 1)")
    two = page.evaluate("() => HelplineConsole._n('{count} one', '{count} other', 2)")
    assert (one, two) == ("1 one", "2 other")
