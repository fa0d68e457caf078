"""Every child screen at 320 px in both locales: no sideways scrolling, quick exit in view, a screenshot.

`make screenshots` runs this with HELPLINE_SCREENSHOTS_DIR=docs/screenshots (on SQLite) to refresh
the committed images; in `make test` they go to a temporary directory.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Page, expect

from child_ui.web import SAFETY_PAGES
from tests.support import ServerProcess, Stack

WIDTH = 320


def closed_hours() -> str:
    now = dt.datetime.now(ZoneInfo("Europe/Tirane"))
    start = (now + dt.timedelta(hours=2)).replace(minute=0)
    end = (now + dt.timedelta(hours=3)).replace(minute=0)
    return f"{start:%H:%M}-{end:%H:%M}" if start.hour < end.hour else "03:00-04:00"


def check_and_shoot(page: Page, out: Path, name: str) -> None:
    page.evaluate("() => window.scrollTo(0, 0)")
    sizes = page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert sizes[0] <= sizes[1] == WIDTH, f"{name}: the page scrolls sideways {sizes}"
    exit_box = page.locator("#quick-exit").bounding_box()
    assert exit_box is not None and exit_box["y"] >= 0 and exit_box["x"] + exit_box["width"] <= WIDTH, name
    assert page.locator("#quick-exit").is_visible()
    assert page.evaluate("() => { const b = document.getElementById('quick-exit').getBoundingClientRect();"
                         " const hit = document.elementFromPoint(b.left + b.width / 2, b.top + b.height / 2);"
                         " return hit && hit.closest('#quick-exit') !== null; }"), f"{name}: quick exit is covered"
    # Scrolled down, the quick exit stays on screen (the bar is sticky).
    page.evaluate("() => window.scrollTo(0, document.body.scrollHeight)")
    box = page.locator("#quick-exit").bounding_box()
    assert box is not None and 0 <= box["y"] < 100, f"{name}: quick exit scrolled away"
    page.evaluate("() => window.scrollTo(0, 0)")
    path = out / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 5_000


@pytest.mark.parametrize("lang", ["sq", "en"])
def test_child_screens_at_320_px(stack: Stack, start_server: Callable[..., ServerProcess], browser: Browser,
                                 lang: str, tmp_path: Path) -> None:
    out = Path(os.environ.get("HELPLINE_SCREENSHOTS_DIR") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    server = start_server()
    context = browser.new_context(viewport={"width": WIDTH, "height": 640}, reduced_motion="reduce")
    page = context.new_page()
    try:
        page.goto(server.url + f"/?lang={lang}")
        check_and_shoot(page, out, f"{lang}-1-start")
        page.click("#start-chat")
        check_and_shoot(page, out, f"{lang}-2-prechat")
        page.click("#prechat-submit")
        expect(page.locator("#resume-code")).not_to_be_empty()
        expect(page.locator("#waiting-offer")).to_be_visible()  # nobody on duty: 116 111 and a message (ADR 0027)
        check_and_shoot(page, out, f"{lang}-3-queue")
        page.fill("#message-input", "Përshëndetje, kam frikë nga dikush në internet." if lang == "sq"
                  else "Hello, someone online scares me.")
        page.click("#send-message")
        expect(page.locator("#messages .msg.me .meta").last).not_to_contain_text("…")
        check_and_shoot(page, out, f"{lang}-4-chat")
        page.click("#end-chat")
        check_and_shoot(page, out, f"{lang}-5-end-confirm")
        page.click("#end-yes")
        expect(page.locator("body")).to_have_attribute("data-state", "ended")
        check_and_shoot(page, out, f"{lang}-5-ended")
        page.evaluate("() => sessionStorage.clear()")
        page.goto(server.url + f"/?lang={lang}")
        page.click("#resume-link")
        check_and_shoot(page, out, f"{lang}-6-resume")
        for number, slug in enumerate(SAFETY_PAGES, start=1):
            page.goto(server.url + f"/help/{slug}?lang={lang}")
            check_and_shoot(page, out, f"{lang}-8-help-{number}-{slug}")
        closed = start_server(HELPLINE_OPENING_HOURS=closed_hours())
        page.goto(closed.url + f"/?lang={lang}")
        expect(page.locator("body")).to_have_attribute("data-state", "closed")
        check_and_shoot(page, out, f"{lang}-7-out-of-hours")
    finally:
        context.close()
