"""Numbers and names reach strings as placeholders, never inside translations (issue 23, ADR 0038).

No msgid or msgstr of any catalog (ours, a pack's, a test pack's) holds one of the pack's numbers or
its brand: a helpline whose police is 192 must not find 129 inside a sentence. The pages' templates
and scripts do not write them either; they take them from `helpline.pack.numbers()`.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from helpline import pack
from helpline.i18n import LOCALES_DIR
from tests.support import ROOT

CATALOGS = sorted({*LOCALES_DIR.glob("*.pot"), *LOCALES_DIR.rglob("*.po"), *ROOT.glob("packs/*/locales/**/*.po"),
                   *ROOT.glob("tests/packs/*/locales/**/*.po")})
PAGES = sorted({*(ROOT / "child_ui").rglob("*.html"), *(ROOT / "child_ui" / "static").glob("*.js"),
                *(ROOT / "counsellor_ui").rglob("*.html"), *(ROOT / "counsellor_ui" / "static").glob("*.js"),
                *(ROOT / "stats" / "templates").rglob("*.html"), *(ROOT / "helpline" / "static" / "js").glob("*.js")})
DIGITS = re.compile(r"\d+(?:[ \u00a0]\d+)*")  # "116 111" is one number, as a reader sees it


def written_numbers(text: str) -> list[str]:
    """The pack's numbers and brand that a text writes out instead of using a placeholder."""
    values = pack.numbers()
    numbers = {re.sub(r"\D", "", v): key for key, v in values.items() if key != "brand" and re.sub(r"\D", "", v)}
    found = [numbers[run] for run in (re.sub(r"\D", "", m) for m in DIGITS.findall(text)) if run in numbers]
    return found + (["brand"] if values["brand"] in text else [])


def test_the_check_finds_a_number_written_out() -> None:
    assert written_numbers('Call <a href="tel:116111">116 111</a> or 112.') == ["helpline", "helpline", "emergency"]
    assert written_numbers("ALO 116 111: help for children") == ["helpline", "brand"]
    assert written_numbers("Call %(helpline)s, or the police at %(police)s.") == []
    assert written_numbers("Ages 11129 and 1120, 16–17, 12.9") == []


def test_there_are_catalogs_to_check() -> None:
    assert {p.name for p in CATALOGS} >= {"child.pot", "console.pot", "child.po", "console.po"}


@pytest.mark.parametrize("path", CATALOGS, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_catalog_writes_a_number_or_the_brand(path: Path) -> None:
    with path.open("rb") as handle:
        catalog = read_po(handle)
    problems = []
    for message in [*catalog, *catalog.obsolete.values()]:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for text in (str(t) for t in (*ids, *strings) if t):
            if written_numbers(text):
                problems.append(f"{written_numbers(text)} in {text!r}")
    assert problems == []


@pytest.mark.parametrize("path", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_page_writes_a_number_or_the_brand(path: Path) -> None:
    found = [f"line {n}: {line.strip()}" for n, line in enumerate(path.read_text("utf-8").splitlines(), 1)
             if written_numbers(line)]
    assert found == []


@pytest.mark.parametrize("locale", ["sq", "en"])
def test_every_sentence_with_a_number_formats_with_the_packs_numbers(locale: str) -> None:
    """Each message whose placeholders are all the pack's keys takes `% pack.numbers()` in every locale,
    and then says the pack's numbers (the Python side: reports, the emergency protocol, blocked chats)."""
    values = pack.numbers()
    placeholder = re.compile(r"%\((\w+)\)[sdr]")
    checked = 0
    for domain in ("child", "console"):
        with (LOCALES_DIR / locale / "LC_MESSAGES" / f"{domain}.po").open("rb") as handle:
            catalog = read_po(handle, locale=locale, domain=domain)
        for message in catalog:
            names = set(placeholder.findall(str(message.id))) if isinstance(message.id, str) else set()
            if not names or not names <= set(values):
                continue
            said = (message.string or message.id) % values
            assert all(values[name] in said for name in names), said
            checked += 1
    assert checked >= 20
