"""Every catalog follows its language's glossary: one word for one thing (docs/glossary.md).

A glossary is a file per language beside its catalogs, `<locales>/<locale>/glossary.toml`, with a
table per catalog (domain): an English term in a msgid means that word (or its stem) in the
translation. Albanian's ships in locales/sq/; a pack's language brings its own in its locales folder.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from helpline.i18n import LOCALES_DIR
from tests.support import ROOT

LOCALE_FOLDERS = [LOCALES_DIR, *sorted(ROOT.glob("packs/*/locales")), *sorted(ROOT.glob("tests/packs/*/locales"))]


def glossaries() -> list[Path]:
    return [path for folder in LOCALE_FOLDERS for path in sorted(folder.glob("*/glossary.toml"))]


def departures(catalog: Catalog, glossary: dict[str, str]) -> list[str]:
    """The translations that use another word than the glossary's for a term their msgid has."""
    problems = []
    for message in catalog:
        if not message.id or not message.string:
            continue  # an untranslated message falls back to the msgid; the catalog tests count those
        english = str(message.id[0] if isinstance(message.id, tuple) else message.id).lower()
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for translated in (str(s).lower() for s in strings):
            problems += [f"{term!r} is not {word!r} in {translated!r}" for term, word in glossary.items()
                         if term in english and word.lower() not in translated]
    return problems


def test_the_check_finds_a_term_translated_with_another_word() -> None:
    catalog = Catalog(locale="sq")
    catalog.add("Your counsellor", "Këshilltarja jote")
    catalog.add("Handover note", "Shënim për kolegun")
    assert departures(catalog, {"counsellor": "këshillt"}) == []
    assert departures(catalog, {"handover": "dorëzim"}) == ["'handover' is not 'dorëzim' in 'shënim për kolegun'"]


def test_albanian_has_a_glossary_and_its_words_are_in_the_docs() -> None:
    albanian = LOCALES_DIR / "sq" / "glossary.toml"
    assert albanian in glossaries()
    docs = (ROOT / "docs" / "glossary.md").read_text(encoding="utf-8").lower()
    tables = tomllib.loads(albanian.read_text(encoding="utf-8"))
    assert {"child", "console"} <= set(tables)
    missing = [word for table in tables.values() for word in table.values() if word.lower() not in docs]
    assert missing == []


@pytest.mark.parametrize("path", glossaries(), ids=lambda p: str(p.relative_to(ROOT)))
def test_catalogs_follow_their_language_glossary(path: Path) -> None:
    locale = path.parent.name
    problems = []
    for domain, glossary in tomllib.loads(path.read_text(encoding="utf-8")).items():
        po = path.parent / "LC_MESSAGES" / f"{domain}.po"
        assert po.exists(), f"{path} has a table for {domain}, but there is no {po}"
        with po.open("rb") as handle:
            problems += [f"{domain}: {p}" for p in departures(read_po(handle, locale=locale, domain=domain), glossary)]
    assert problems == []


# The console's buttons: `el('button', …, _('…'))` in its scripts, `<button …>{{ _("…") }}` in its templates.
BUTTONS = [re.compile(r"el\('button'[^;]*?_\('((?:[^'\\]|\\.)+)'\)"),
           re.compile(r"<button[^>]*>\s*\{\{\s*_\(\"([^\"]+)\"\)")]
PLURAL_IMPERATIVE = re.compile(r"^\w+(?:ni|ini|uni|jeni|jani|juni)$")  # "Ruani", "Hyni", "Dërgojeni"


def test_staff_buttons_use_the_short_imperative_in_albanian() -> None:
    sources = [*(ROOT / "counsellor_ui" / "static").glob("*.js"),
               *(ROOT / "counsellor_ui" / "templates").rglob("*.html"), *(ROOT / "stats" / "templates").rglob("*.html")]
    labels = {label for path in sources for pattern in BUTTONS for label in pattern.findall(path.read_text("utf-8"))}
    assert len(labels) > 40, "the button patterns no longer find the console's buttons"
    with (LOCALES_DIR / "sq" / "LC_MESSAGES" / "console.po").open("rb") as handle:
        catalog = read_po(handle, locale="sq", domain="console")
    plural = []
    for label in sorted(labels):
        message = catalog.get(label)
        words = str(message.string).split() if message and message.string else []
        if words and PLURAL_IMPERATIVE.match(words[0]):
            plural.append(f"{label!r} -> {message.string!r}")  # type: ignore[union-attr]
    assert plural == []
