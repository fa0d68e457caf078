"""The Albanian catalogs are complete, and every string in the sources is in them."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from babel.messages.pofile import read_po

from helpline.i18n import DOMAINS, LOCALES_DIR, js_strings, translations
from tests.support import ROOT

PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]|\{\w*\}")


def catalog(locale: str, domain: str):  # type: ignore[no-untyped-def]
    with (LOCALES_DIR / locale / "LC_MESSAGES" / f"{domain}.po").open("rb") as handle:
        return read_po(handle, locale=locale, domain=domain)


def extracted(domain: str, tmp_path) -> set[str]:  # type: ignore[no-untyped-def]
    out = tmp_path / f"{domain}.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-k", "translate:2", "-k", "t",
                    "-k", "_n:1,2", "-k", "translate_plural:2,3",
                    "-F", str(LOCALES_DIR / f"{domain}.cfg"), "-o", str(out), "."],
                   cwd=ROOT, check=True, capture_output=True)
    with out.open("rb") as handle:
        return {m.id for m in read_po(handle) if m.id}


@pytest.mark.parametrize("domain", DOMAINS)
def test_albanian_catalog_is_complete_and_not_fuzzy(domain: str) -> None:
    problems = []
    for message in catalog("sq", domain):
        if not message.id:
            continue
        if not message.string:
            problems.append(f"untranslated: {message.id!r}")
        elif message.fuzzy:
            problems.append(f"fuzzy: {message.id!r}")
        elif sorted(PLACEHOLDER.findall(str(message.id))) != sorted(PLACEHOLDER.findall(str(message.string))):
            problems.append(f"placeholders differ: {message.id!r}")
    assert problems == []


@pytest.mark.parametrize("domain", DOMAINS)
def test_every_source_string_is_in_the_catalogs(domain: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    in_sources = extracted(domain, tmp_path)
    for locale in ("sq", "en"):
        in_catalog = {m.id for m in catalog(locale, domain) if m.id}
        assert in_sources - in_catalog == set(), f"run `make extract`: missing from {locale}/{domain}.po"


def test_browser_strings_come_translated_from_the_catalog() -> None:
    strings = js_strings("child", "sq")
    assert strings, "child.js asks for no strings?"
    translated = [k for k, v in strings.items() if v != k]
    assert len(translated) >= len(strings) * 0.9
    assert translations("sq").gettext("Sign in") == "Hyr"
