"""Every child page in real Chromium: axe-core in both locales, keyboard only, 200 % text at 320 px,
reduced motion, the safety pages without JavaScript, and quick exit from every screen."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Page, expect

from child_ui.web import SAFETY_PAGES
from tests.browser.conftest import axe_violations
from tests.support import ServerProcess, Stack

LOCALES = ["sq", "en"]


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 320, "height": 700})
    yield context.new_page()
    context.close()


def closed_hours() -> str:
    now = dt.datetime.now(ZoneInfo("Europe/Tirane"))
    start = (now + dt.timedelta(hours=2)).replace(minute=0)
    end = (now + dt.timedelta(hours=3)).replace(minute=0)
    return f"{start:%H:%M}-{end:%H:%M}" if start.hour < end.hour else "03:00-04:00"


def open_start(page: Page, server: ServerProcess, lang: str = "sq") -> None:
    page.goto(server.url + f"/?lang={lang}")
    expect(page.locator("body")).to_have_attribute("data-state", "welcome")


def to_queue(page: Page) -> None:
    page.click("#start-chat")
    expect(page.locator("body")).to_have_attribute("data-state", "prechat")
    page.click("#prechat-submit")
    expect(page.locator("body")).to_have_attribute("data-state", "queue")
    expect(page.locator("#resume-code")).not_to_be_empty()


def send_first_message(page: Page, text: str) -> None:
    page.fill("#message-input", text)
    page.click("#send-message")
    expect(page.locator("#messages .msg.me").last).to_contain_text(text)
    expect(page.locator("#messages .msg.me .meta").last).not_to_contain_text("…")


def to_ended(page: Page) -> None:
    page.click("#end-chat")
    page.click("#end-yes")  # "End chat" asks once
    expect(page.locator("body")).to_have_attribute("data-state", "ended")


def layout_problems(page: Page) -> list[str]:
    """What does not fit the viewport: horizontal scrolling, or a visible control cut off or clipped."""
    found: list[str] = page.evaluate("""() => {
      const problems = [];
      const width = document.documentElement.clientWidth;
      if (document.documentElement.scrollWidth > width + 1) {
        problems.push('page scrolls sideways: ' + document.documentElement.scrollWidth + ' > ' + width);
      }
      for (const el of document.querySelectorAll('a, button, input, select, textarea, summary, label, h1, h2, p, li')) {
        const box = el.getBoundingClientRect();
        if (!box.width || !box.height || el.closest('[hidden]')) continue;
        if (box.left < -1 || box.right > width + 1) problems.push('outside: ' + (el.id || el.tagName));
        const style = getComputedStyle(el);
        if (style.overflowX !== 'visible' && el.scrollWidth > el.clientWidth + 1 && el.tagName !== 'TEXTAREA'
            && el.tagName !== 'SELECT') {
          problems.push('clipped: ' + (el.id || el.tagName + ' ' + el.textContent.slice(0, 30)));
        }
      }
      return problems;
    }""")
    return found


def exit_leaves_no_way_back(page: Page, server: ServerProcess, use_keys: bool = False) -> None:
    if use_keys:
        for _ in range(3):
            page.keyboard.press("Escape")
    else:
        page.click("#quick-exit")
    page.wait_for_url("about:blank")
    page.go_back()
    assert not page.url.startswith(server.url + "/") or page.url.endswith("/healthz"), page.url
    page.goto(server.url + "/healthz")  # the same tab, the same origin: its storage must be empty
    assert page.evaluate("() => sessionStorage.length + localStorage.length") == 0


@pytest.mark.parametrize("lang", LOCALES)
def test_every_child_page_passes_axe(stack: Stack, start_server: Callable[..., ServerProcess], page: Page,
                                     lang: str) -> None:
    server = start_server()
    open_start(page, server, lang)
    assert page.locator("html").get_attribute("lang") == lang
    screens = {"start": axe_violations(page)}
    for slug in SAFETY_PAGES:
        page.goto(server.url + f"/help/{slug}?lang={lang}")
        expect(page.locator("h1")).not_to_be_empty()
        screens[slug] = axe_violations(page)
    open_start(page, server, lang)
    page.click("#start-chat")
    screens["prechat"] = axe_violations(page)
    page.click("#prechat-submit")
    expect(page.locator("#resume-code")).not_to_be_empty()
    screens["queue"] = axe_violations(page)
    send_first_message(page, "Përshëndetje")
    screens["chat (before a counsellor)"] = axe_violations(page)
    page.click("#end-chat")
    screens["asked to confirm the end"] = axe_violations(page)
    page.click("#end-yes")
    expect(page.locator("body")).to_have_attribute("data-state", "ended")
    expect(page.locator("#feedback")).to_be_hidden()  # nobody talked with her: "did it help?" is not asked
    screens["ended"] = axe_violations(page)
    page.evaluate("() => sessionStorage.clear()")
    open_start(page, server, lang)
    page.click("#resume-link")
    page.fill("#resume-input", "not a code")
    page.click("#resume-submit")
    expect(page.locator("#resume-error")).not_to_be_empty()
    screens["resume"] = axe_violations(page)
    closed = start_server(HELPLINE_OPENING_HOURS=closed_hours())
    page.goto(closed.url + f"/?lang={lang}")
    expect(page.locator("body")).to_have_attribute("data-state", "closed")
    screens["out of hours"] = axe_violations(page)
    assert {name: found for name, found in screens.items() if found} == {}


def test_safety_pages_are_on_the_start_page_and_readable_without_javascript(
        stack: Stack, server: ServerProcess, browser: Browser) -> None:
    context = browser.new_context(viewport={"width": 320, "height": 700}, java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(server.url + "/")
        links = page.locator("#learn a")
        assert links.count() == len(SAFETY_PAGES)
        for index, slug in enumerate(SAFETY_PAGES):
            page.goto(server.url + "/")
            page.locator("#learn a").nth(index).click()
            page.wait_for_url(server.url + f"/help/{slug}")
            assert page.locator("article p, article li").count() >= 3
            assert page.locator("#quick-exit").is_visible()
            assert page.locator(f"a[aria-current=page][href='/help/{slug}']").count() == 1
            assert "116 111" in page.locator("body").inner_text()
        page.goto(server.url + "/help/grooming?lang=en")
        assert page.locator("html").get_attribute("lang") == "en"
        assert "grooming" in page.locator("h1").inner_text()
        assert page.goto(server.url + "/help/nothing-here").status == 404  # type: ignore[union-attr]
        assert page.locator("#quick-exit").is_visible()
    finally:
        context.close()


def test_keyboard_alone_starts_a_chat_and_focus_stays_put(stack: Stack, server: ServerProcess, page: Page) -> None:
    open_start(page, server)

    def tab_to(element_id: str) -> None:
        for _ in range(60):
            page.keyboard.press("Tab")
            if page.evaluate("() => document.activeElement.id") == element_id:
                return
        pytest.fail(f"Tab never reached #{element_id}")

    tab_to("start-chat")
    outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle + ' ' + "
                            "getComputedStyle(document.activeElement).outlineWidth")
    assert outline.startswith("solid") and float(outline.split()[1].removesuffix("px")) >= 2, outline
    page.keyboard.press("Enter")
    expect(page.locator("body")).to_have_attribute("data-state", "prechat")
    assert page.evaluate("() => document.activeElement.id") == "prechat-title"
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.id") == "prechat-start-now"  # she may start at once
    page.keyboard.press("Tab")
    page.keyboard.press("Space")  # the first choice of the first question
    assert page.locator("input[name=who]:checked").count() == 1
    tab_to("prechat-submit")
    page.keyboard.press("Enter")
    expect(page.locator("body")).to_have_attribute("data-state", "queue")
    expect(page.locator("#connection-state")).to_have_text("Në linjë")  # in words, not only a green dot
    assert page.locator("#messages").get_attribute("role") == "log"
    assert page.locator("#messages").get_attribute("aria-live") == "polite"
    assert page.locator("#queue-position").evaluate("e => e.closest('[role=status]') !== null")
    tab_to("message-input")
    page.keyboard.type("Kam një pyetje")
    tab_to("send-message")
    page.keyboard.press("Enter")
    expect(page.locator("#messages .msg.me .meta").last).not_to_contain_text("…")
    expect(page.locator("#queue-position")).not_to_contain_text("…")
    assert page.evaluate("() => document.activeElement.id") == "send-message", "focus moved when the reply came"
    page.locator("#message-input").focus()
    page.keyboard.type("dhe një tjetër")
    page.wait_for_timeout(300)
    assert page.evaluate("() => document.activeElement.id") == "message-input"
    exit_leaves_no_way_back(page, server, use_keys=True)


@pytest.mark.parametrize("lang", LOCALES)
def test_text_at_200_percent_fits_320_px(stack: Stack, server: ServerProcess, page: Page, lang: str) -> None:
    def bigger() -> None:
        page.evaluate("() => { document.documentElement.style.fontSize = '200%'; }")

    problems: dict[str, list[str]] = {}
    for slug in SAFETY_PAGES:
        page.goto(server.url + f"/help/{slug}?lang={lang}")
        bigger()
        problems[slug] = layout_problems(page)
    open_start(page, server, lang)
    bigger()
    problems["start"] = layout_problems(page)
    page.click("#start-chat")
    problems["prechat"] = layout_problems(page)
    page.click("#prechat-submit")
    expect(page.locator("#resume-code")).not_to_be_empty()
    problems["queue"] = layout_problems(page)
    page.evaluate("() => sessionStorage.clear()")
    open_start(page, server, lang)
    bigger()
    page.click("#resume-link")
    problems["resume"] = layout_problems(page)
    assert page.evaluate("() => getComputedStyle(document.querySelector('h1')).fontSize") == "48px"
    assert {name: found for name, found in problems.items() if found} == {}


def test_reduced_motion_is_respected(stack: Stack, server: ServerProcess, browser: Browser) -> None:
    for motion, expected in (("reduce", "auto"), ("no-preference", "smooth")):
        context = browser.new_context(viewport={"width": 320, "height": 700}, reduced_motion=motion)
        page = context.new_page()
        try:
            open_start(page, server)
            assert page.evaluate("() => getComputedStyle(document.getElementById('messages')).scrollBehavior") \
                == expected
        finally:
            context.close()


def test_quick_exit_from_every_child_screen_leaves_nothing(
        stack: Stack, start_server: Callable[..., ServerProcess], browser: Browser) -> None:
    server = start_server()
    closed = start_server(HELPLINE_OPENING_HOURS=closed_hours())

    def reach_safety_page(page: Page) -> None:
        open_start(page, server)
        page.click("#learn a >> nth=2")
        page.wait_for_url(server.url + "/help/photos")
        page.click("nav.learn a[href='/help/cyberbullying']")
        page.wait_for_url(server.url + "/help/cyberbullying")

    def reach_prechat(page: Page) -> None:
        open_start(page, server)
        page.click("#start-chat")

    def reach_resume(page: Page) -> None:
        open_start(page, server)
        page.click("#resume-link")

    def reach_queue(page: Page) -> None:
        open_start(page, server)
        to_queue(page)
        send_first_message(page, "Ndihmë")

    def reach_ended(page: Page) -> None:
        reach_queue(page)
        to_ended(page)

    def reach_english(page: Page) -> None:
        open_start(page, server)
        page.click("#switch-lang a[hreflang=en]")
        page.wait_for_url(server.url + "/?lang=en")

    def reach_closed(page: Page) -> None:
        page.goto(closed.url + "/")

    screens = {"start": lambda page: open_start(page, server), "prechat": reach_prechat, "resume": reach_resume,
               "queue": reach_queue, "ended": reach_ended, "safety pages": reach_safety_page,
               "language switched": reach_english, "out of hours": reach_closed}
    for name, reach in screens.items():
        context = browser.new_context(viewport={"width": 320, "height": 700})
        page = context.new_page()
        try:
            page.goto("about:blank")
            before = page.evaluate("() => history.length")
            reach(page)
            assert page.evaluate("() => history.length") == before + 1, f"{name}: our pages added history entries"
            exit_leaves_no_way_back(page, server if name != "out of hours" else closed)
        finally:
            context.close()
