"""What the pseudo-locale sweep looks for on a page (ADR 0039): text a person sees that did not come
through the catalogs, and anything wider than the 320 px screen.

In the pseudo-locale every translated string is "[Ŝéñď ţĥé ɱéššåĝé ······]": accented, in brackets. So
Latin letters left once the bracketed parts are gone were never translated — unless they are what no
catalog translates (the brand, names of places and agencies, people's names, dates from CLDR, codes).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from playwright.sync_api import Page

from helpline.i18n import options
from tests.support import ROOT

WIDTH = 320

# Visible text (innerText: only what is rendered), the title, and the attributes people hear or see.
_SEEN = """() => {
  const seen = [['title', document.title]];
  seen.push(['text', document.body.innerText]);
  for (const el of document.body.querySelectorAll('[placeholder], [aria-label], [title], [alt]')) {
    if (!el.checkVisibility()) continue;
    for (const name of ['placeholder', 'aria-label', 'title', 'alt']) {
      const value = el.getAttribute(name);
      if (value) seen.push([name + ' of ' + (el.id ? '#' + el.id : el.tagName.toLowerCase()), value]);
    }
  }
  return seen;
}"""

# Wider than the screen: the page scrolls sideways, or a rendered element's right edge passes the viewport
# (unless a scrolling box within the screen holds it: a wide table may scroll inside its own frame).
_WIDE = """(width) => {
  const found = [];
  const root = document.documentElement;
  const right = (el) => el.getBoundingClientRect().right;
  const describe = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + ' reaches ' +
    Math.round(right(el)) + ' px: ' + (el.textContent || '').replace(/\\s+/g, ' ').trim().slice(0, 50);
  if (root.scrollWidth > width) found.push('the page is ' + root.scrollWidth + ' px wide');
  const reported = new Set();
  for (const el of document.body.querySelectorAll('*')) {
    if (!el.checkVisibility()) continue;
    const box = el.getBoundingClientRect();
    if (box.width <= 1 || box.height <= 1 || box.right <= width + 1) continue;
    let held = false;
    for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
      if (reported.has(up)) { held = true; break; }
      if (getComputedStyle(up).overflowX !== 'visible') { held = right(up) <= width + 1; break; }
    }
    if (held) continue;
    reported.add(el);
    found.push(describe(el));
  }
  if (found.length === 1 && root.scrollWidth > width) {  // wide, but no rendered box says why: the widest ones
    const beyond = (el) => right(el) > width + 1;
    const boxes = Array.from(document.body.querySelectorAll('*')).filter(
      el => beyond(el) && !Array.from(el.children).some(beyond));
    for (const el of boxes.slice(0, 5)) found.push('(' + describe(el) + ')');
  }
  return found;
}"""

_BRACKETED = re.compile(r"\[[^\[\]]*\]")
_LATIN = re.compile(r"[A-Za-z]+")


def _names(paths: tuple[str, ...], *keys: str) -> set[str]:
    """Names in the first of `paths` that exists (the Albanian pack's data, or where it was before packs)."""
    path = next(ROOT / p for p in paths if (ROOT / p).exists())
    data: Any = json.loads(path.read_text(encoding="utf-8"))
    rows = data if isinstance(data, list) else data.get("agencies", data)
    return {str(row[key]) for row in rows if isinstance(row, dict) for key in keys if row.get(key)}


def untranslatable(extra: Iterable[str] = ()) -> re.Pattern[str]:
    """What no catalog translates: the brand, language names, places, agencies, CLDR's English dates
    (the pseudo-locale dates as English), and what the test itself created (`extra`)."""
    words = {"ALO 116 111", *(o["name"] for o in options()), *extra,
             *_names(("packs/al/municipalities.json", "helpline/data/municipalities.json"), "name", "county"),
             *_names(("packs/al/agencies.json", "referral/data/agencies.json"), "name")}
    months = ("January February March April May June July August September October November December "
              "Jan Feb Mar Apr Jun Jul Aug Sep Sept Oct Nov Dec").split()
    alternatives = sorted((re.escape(w) for w in words if w), key=len, reverse=True)
    codes = [r"\b\d{4}-W\d\d\b"]  # ISO weeks in the statistics ("2026-W45")
    return re.compile("|".join([*alternatives, *(rf"\b{m}\b" for m in months), r"\bat\b(?= \d)", *codes]))


def untranslated(page: Page, allowed: re.Pattern[str]) -> list[str]:
    """Each place a Latin letter shows outside the pseudo-locale's brackets, with the words around it."""
    found: list[str] = []
    for where, text in page.evaluate(_SEEN):
        for line in str(text).splitlines():
            rest = line
            while True:
                stripped = _BRACKETED.sub(" ", rest)
                if stripped == rest:
                    break
                rest = stripped
            rest = allowed.sub(" ", rest)
            if _LATIN.search(rest):
                found.append(f"{where}: {line.strip()[:120]!r}")
    return sorted(set(found))


def too_wide(page: Page) -> list[str]:
    result: list[str] = page.evaluate(_WIDE, WIDTH)
    return result
