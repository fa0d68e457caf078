"""The easy-read safety pages (issue 23) in real Chromium: two taps from the start page, short lines each
beside a named picture, large text, axe clean, nothing wider than a 320 px phone, readable without
JavaScript, and the quick exit on every one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from child_ui.easy_read import EASY_PAGES
from tests.browser.conftest import axe_violations
from tests.browser.test_child_pages import layout_problems
from tests.support import ServerProcess, Stack


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 320, "height": 700})
    yield context.new_page()
    context.close()


def beyond_the_edge(page: Page) -> list[str]:
    """Anything, down to a word or a picture, that reaches past the viewport's right edge or spills out of
    its own box (a button's words running over its border)."""
    found: list[str] = page.evaluate("""() => {
      const width = document.documentElement.clientWidth;
      return [...document.querySelectorAll('body *')].filter(el => {
        const box = el.getBoundingClientRect();
        if (!box.width) return false;
        if (box.right > width + 1) return true;
        const block = getComputedStyle(el).display !== 'inline' && !(el instanceof SVGElement);
        return block && el.scrollWidth > el.clientWidth + 1;
      }).map(el => el.tagName + ' ' + (el.textContent || '').trim().slice(0, 30));
    }""")
    return found


def lines(page: Page) -> list[str]:
    found: list[str] = page.locator(".easy-lines li").all_inner_texts()
    return [text.strip() for text in found]


@pytest.mark.parametrize("lang", ["sq", "en"])
def test_every_easy_read_page_is_two_taps_away_axe_clean_and_fits_320_px(
        stack: Stack, server: ServerProcess, page: Page, lang: str) -> None:
    found: dict[str, list[object]] = {}
    for slug in EASY_PAGES:
        page.goto(server.url + f"/?lang={lang}")
        expect(page.locator("body")).to_have_attribute("data-state", "welcome")
        page.locator("#screen-welcome a[href^='/easy']").click()  # tap 1
        page.wait_for_url(f"{server.url}/easy?lang={lang}" if lang != "sq" else f"{server.url}/easy")
        if slug == EASY_PAGES[0]:
            found["index"] = [*axe_violations(page), *layout_problems(page), *beyond_the_edge(page)]
            assert page.locator(".easy-list a").count() == len(EASY_PAGES)
        page.locator(f".easy-list a[href^='/easy/{slug}']").first.click()  # tap 2
        page.wait_for_url(f"{server.url}/easy/{slug}" + (f"?lang={lang}" if lang != "sq" else ""))
        expect(page.locator("h1")).not_to_be_empty()
        assert page.locator("html").get_attribute("lang") == lang
        found[slug] = [*axe_violations(page), *layout_problems(page), *beyond_the_edge(page)]
        shown = lines(page)
        assert len(shown) >= 6, shown
        # One idea a line: short sentences, each beside a picture with a name.
        assert all(len(text.split()) <= 14 and text.count(". ") <= 1 for text in shown), shown
        assert page.locator(".easy-lines li svg[role=img]").count() == len(shown)
        labels = page.locator(".easy-lines li svg[role=img]").evaluate_all(
            "els => els.map(e => e.getAttribute('aria-label') + '|' + e.querySelector('title').textContent)")
        assert all(label.split("|")[0] and label.split("|")[0] == label.split("|")[1] for label in labels), labels
        # Large text: the lines are bigger than the rest of the child pages (16 px).
        size = page.locator(".easy-lines li").first.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
        assert size >= 19, size
        assert page.locator("#quick-exit").is_visible()
        assert page.locator("a[href='tel:116111']").count() >= 1
        assert page.locator(f".easy-list a[aria-current=page][href^='/easy/{slug}']").count() == 1
    assert {name: problems for name, problems in found.items() if problems} == {}


def test_easy_read_pages_speak_albanian_and_need_no_script(stack: Stack, server: ServerProcess,
                                                           browser: Browser) -> None:
    context = browser.new_context(viewport={"width": 320, "height": 700}, java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(server.url + "/easy/hurt")
        expect(page.locator("h1")).to_have_text("Kur dikush të lëndon")
        assert "Nuk është faji yt." in lines(page)
        assert page.locator(".easy-lines svg[aria-label='Një fytyrë e trishtuar']").count() == 1
        page.goto(server.url + "/easy/photos")
        expect(page.locator("h1")).to_have_text("Fotot e tua janë të tuat")
        # No picture comes from anywhere else: every one is drawn in the page.
        assert page.locator("img").count() == 0
        missing = page.goto(server.url + "/easy/no-such-page")
        assert missing is not None and missing.status == 404
        assert page.locator(".easy-list a").count() == len(EASY_PAGES)
    finally:
        context.close()


def test_the_easy_read_link_is_hidden_during_a_chat(stack: Stack, server: ServerProcess, page: Page) -> None:
    page.goto(server.url + "/")
    expect(page.locator("#screen-welcome a[href^='/easy']")).to_be_visible()
    page.click("#start-chat")
    expect(page.locator("body")).to_have_attribute("data-state", "prechat")
    expect(page.locator("a[href^='/easy']").first).to_be_hidden()


def test_easy_read_pages_at_200_percent_text_fit_320_px(stack: Stack, server: ServerProcess, page: Page) -> None:
    problems: dict[str, list[str]] = {}
    for slug in ("", *EASY_PAGES):
        page.goto(server.url + f"/easy/{slug}".rstrip("/"))
        page.evaluate("() => { document.documentElement.style.fontSize = '200%'; }")
        problems[slug or "index"] = [*layout_problems(page), *beyond_the_edge(page)]
    assert {name: found for name, found in problems.items() if found} == {}
