"""Recording a 116 111 call in the console, by keyboard alone, in real Chromium (issue 18, acceptance 1).

The counsellor opens "Record a contact", starts the timer with one key when the phone rings and
stops it with the same key when the call ends; from then on the test counts every key she presses
(the letters of the note are counted apart: they are what she has to say, not form-filling). The
call then shows in her case list, in the statistics (page, JSON API, both CSV layouts), and its
note is ciphertext in the database. axe finds nothing, in Albanian and in English.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.conftest import axe_violations
from tests.browser.console_signin import sign_in
from tests.chat_client import StaffClient
from tests.integration.referral_support import execute, query
from tests.support import ServerProcess, Stack, add_user, run_async

pytestmark = pytest.mark.slow

MAX_PRESSES = 25
NOTE = "Bullizëm në shkollë, flet me mësuesen"
# The typical call: a child, a counselling contact about bullying, 13 to 15, a girl, Tiranë, low risk.
CHOICES = (("contact_by", "child"), ("contact_type", "counselling"), ("primary_category", "violence"),
           ("sub_category", "violence.bullying"), ("age_band", "13-15"), ("gender", "girl"),
           ("municipality", "Tiranë"), ("risk", "low"), ("outcome", "emotional_support"))
TITLES = {"en": ("Contacts by channel", "10. Contacts by channel", "Phone call", "Contact recorded."),
          "sq": ("Kontaktet sipas kanalit", "10. Kontaktet sipas kanalit", "Telefonatë", "Kontakti u regjistrua.")}


def type_ahead(labels: list[str], current: int, target: int) -> str:
    """The fewest letters that make a focused <select> jump from ``current`` to ``target``, as
    Chromium's type-ahead does: the first letter searches from the next option on, a longer prefix
    from the option it is on; both wrap around."""
    folded = [label.casefold() for label in labels]
    for length in range(1, len(folded[target]) + 1):
        at = current
        for size in range(1, length + 1):
            prefix = folded[target][:size]
            start = at + 1 if size == 1 else at
            order = [(start + i) % len(folded) for i in range(len(folded))]
            at = next((i for i in order if folded[i].startswith(prefix)), at)
        if at == target:
            return labels[target][:length]
    raise AssertionError(f"no prefix reaches {labels[target]!r}")


class Keys:
    """The keyboard, counting what it presses."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.count = 0

    def press(self, key: str) -> None:
        self.page.keyboard.press(key)
        self.count += 1


def fill_by_keyboard(page: Page, keys: Keys, note: str = NOTE) -> None:
    """From the stopped timer: Tab to each field and type the first letters of the choice."""
    form = page.locator("#record-contact form")
    for name, code in CHOICES:
        keys.press("Tab")
        field = form.locator(f"[name={name}]")
        expect(field).to_be_focused()
        options: list[dict[str, Any]] = field.evaluate(
            "s => Array.from(s.options).map(o => ({value: o.value, label: o.label}))")
        values = [o["value"] for o in options]
        current = field.evaluate("s => s.selectedIndex")
        if values[current] != code:
            for letter in type_ahead([o["label"] for o in options], current, values.index(code)):
                keys.press(letter)
        expect(field).to_have_value(code)
    keys.press("Tab")  # to the note
    expect(form.locator("[name=note]")).to_be_focused()
    page.keyboard.type(note)  # her words: not counted as form-filling
    keys.press("Control+Enter")


async def _two_earlier_calls(stack: Stack) -> None:
    """Two calls recorded earlier today by a colleague: with the browser's, the phone count is 3 = k."""
    staff = (await query(stack, "SELECT id FROM staff WHERE username = 'drita'"))[0][0]
    now = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=30)).replace(tzinfo=None)  # columns hold naive UTC
    for i in range(2):
        await execute(stack, "INSERT INTO case_records (ref, channel, counsellor_id, contact_type, risk, outcome, "
                      "follow_up, secondary_categories, taxonomy_version, started_at, created_at, updated_at) "
                      "VALUES (:ref, 'phone', :staff, 'silent', 'none', 'none', :no, '[]', 'chi-2024-al1', "
                      ":at, :at, :at)", {"ref": f"earlier-call-{i}", "staff": staff, "at": now, "no": False})


def _manager_context(context: BrowserContext, server: ServerProcess, stack: Stack) -> None:
    password = add_user(stack, "stats-reader", role="manager")
    staff = StaffClient(server.url, "stats-reader", password)
    run_async(staff.sign_in())
    context.add_cookies([{"name": n, "value": v, "url": server.url} for n, v in staff.cookies.items()])


def _csv(page: Page, url: str) -> list[list[str]]:
    answer = page.request.get(url)
    assert answer.ok, answer.text()
    return list(csv.reader(io.StringIO(answer.text().removeprefix("\ufeff"))))


def _the_call_is_counted(page: Page, server: ServerProcess, lang: str) -> None:
    titles = TITLES[lang]
    today = dt.date.today()
    span = f"from={(today - dt.timedelta(days=1)).isoformat()}&to={(today + dt.timedelta(days=1)).isoformat()}"
    report = page.request.get(f"{server.url}/stats/api/report?{span}&lang={lang}").json()
    channel = next(t for t in report["tables"] if t["id"] == "channel")
    assert {r["key"]: r["value"] for r in channel["rows"]}["phone"] == "3", channel
    for layout, title in (("dashboard", titles[0]), ("chi", titles[1])):
        rows = _csv(page, f"{server.url}/stats/export.csv?{span}&lang={lang}&layout={layout}")
        assert [r[2:4] for r in rows if r[0] == title and r[1] == "phone"] == [[titles[2], "3"]], layout
    page.goto(f"{server.url}/stats?{span}&lang={lang}")
    expect(page.locator("main")).to_contain_text(titles[0])
    expect(page.locator("main")).to_contain_text(titles[2])
    assert axe_violations(page) == []


@pytest.mark.parametrize("lang", ["sq", "en"])
def test_a_call_recorded_by_keyboard_is_counted_everywhere(
        lang: str, stack: Stack, start_server: Any, staff_context: BrowserContext,
        second_context: BrowserContext) -> None:
    server = start_server(HELPLINE_STATS_K="3")
    password = add_user(stack, "drita")
    run_async(_two_earlier_calls(stack))
    page = staff_context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(page, server, "drita", password, lang=lang)
    page.locator('#views button[data-view="cases"]').focus()
    page.keyboard.press("Enter")
    page.locator("#record-contact-open").focus()
    page.keyboard.press("Enter")
    timer = page.locator("#record-contact .contact-timer")
    expect(timer).to_be_focused()
    expect(page.locator("#record-contact .contact-why")).to_be_visible()  # why there is no name or number
    assert page.locator("#record-contact input[type=tel], #record-contact [name*=name]").count() == 0
    page.keyboard.press(" ")  # the phone rings: one key starts the timer
    expect(page.locator("#record-contact .contact-clock")).not_to_have_text("0:00", timeout=5000)
    assert axe_violations(page) == []
    page.keyboard.press(" ")  # the call ends: the same key stops it
    keys = Keys(page)
    fill_by_keyboard(page, keys)
    expect(page.locator("#record-contact .case-saved")).to_have_text(TITLES[lang][3])
    assert keys.count <= MAX_PRESSES, keys.count
    print(f"\n{lang}: {keys.count} key presses after the timer stopped (and {len(NOTE)} letters of the note)")
    expect(page.locator("#case-list tbody")).to_contain_text(TITLES[lang][2])
    assert axe_violations(page) == []

    rows = run_async(query(stack, "SELECT channel, contact_by, primary_category, secondary_categories, municipality, "
                                  "county, duration_seconds, note, note_keys FROM case_records "
                                  "WHERE conversation_id IS NULL AND ref NOT LIKE 'earlier-%'"))
    assert len(rows) == 1
    channel, who, category, secondary, municipality, county, seconds, note, note_keys = rows[0]
    assert (channel, who, category, municipality, county) == ("phone", "child", "violence", "Tiranë", "Tiranë")
    assert "violence.bullying" in str(secondary) and seconds is not None and seconds >= 1
    assert note and NOTE not in note and "Bulliz" not in note and "keys" in str(note_keys)  # ciphertext only

    _manager_context(second_context, server, stack)
    _the_call_is_counted(second_context.new_page(), server, lang)
    assert errors == []
