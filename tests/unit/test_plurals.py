"""Any language Babel knows, plural rules from CLDR (ADR 0039): Serbian in Latin script, three forms."""

from __future__ import annotations

import gettext
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from helpline import i18n
from helpline.languages import LanguageError
from tests.support import ROOT

SERBIAN = ROOT / "tests" / "locales"
# n → the form Serbian uses (CLDR: one = …1 but not …11, few = …2-4 but not …12-14, other = the rest).
FORMS = {1: 0, 2: 1, 5: 2, 21: 0, 22: 1, 25: 2, 11: 2, 12: 2, 0: 2, 101: 0, 111: 2, 1004: 1, 1014: 2}
MESSAGES = ["{count} nova poruka", "{count} nove poruke", "{count} novih poruka"]


def compile_serbian(folder: Path, header_from: str | None = None) -> Path:
    """The test catalogs compiled into `folder`; `header_from`: write another language's Plural-Forms."""
    for po in (SERBIAN / "sr_Latn" / "LC_MESSAGES").glob("*.po"):
        with po.open("rb") as handle:
            catalog = read_po(handle, locale="sr_Latn")
        if header_from:
            wrong = Catalog(locale=header_from, domain=catalog.domain, fuzzy=False)
            for message in catalog:
                if message.id:
                    wrong.add(message.id, message.string)
            catalog = wrong
        target = folder / "sr_Latn" / "LC_MESSAGES"
        target.mkdir(parents=True, exist_ok=True)
        with (target / po.with_suffix(".mo").name).open("wb") as handle:
            write_mo(handle, catalog)
    return folder


@pytest.fixture
def serbian(tmp_path: Path) -> Iterator[Path]:
    i18n.configure(["sq", "sr_Latn", "en"], "sq", catalogs=[compile_serbian(tmp_path)])
    try:
        yield tmp_path
    finally:
        i18n.configure(["sq", "en"], "sq")


def test_serbian_takes_three_plural_forms_from_cldr(serbian: Path) -> None:
    for n, form in FORMS.items():
        said = i18n.translate_plural("sr_Latn", "{count} new message", "{count} new messages", n)
        assert said == MESSAGES[form], n
    assert i18n.translate("sr_Latn", "Sign in") == "Prijavi se"
    # Albanian and English keep theirs: one for exactly 1.
    assert i18n.translate_plural("sq", "{count} new message", "{count} new messages", 1) == "{count} mesazh i ri"
    assert i18n.translate_plural("sq", "{count} new message", "{count} new messages", 21) == "{count} mesazhe të reja"


def test_a_wrong_plural_forms_header_gives_way_to_cldr(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    i18n.configure(["sq", "sr_Latn"], catalogs=[compile_serbian(tmp_path, header_from="en")])
    try:
        with caplog.at_level(logging.WARNING, logger="helpline.i18n"):
            said = [i18n.translate_plural("sr_Latn", "{count} new message", "{count} new messages", n) for n in FORMS]
        assert said == [MESSAGES[form] for form in FORMS.values()]
        assert "disagrees with CLDR" in caplog.text
    finally:
        i18n.configure(["sq", "en"], "sq")


def test_the_page_gets_the_rule_and_every_form(serbian: Path) -> None:
    from child_ui.web import child_js_config

    config = i18n.js_config("console", "sr_Latn")
    assert config["plural"]["count"] == 3
    assert config["plurals"]["{count} new message"] == MESSAGES
    assert config["lang_tag"] == "sr-Latn"
    child = child_js_config("sr_Latn")
    assert child["plurals"]["Expected wait: about {n} minute"][0] == "Čekanje: oko {n} minut"
    assert child["plural"] == config["plural"]


def test_languages_come_from_babel(serbian: Path) -> None:
    assert i18n.locales() == ("sq", "sr_Latn", "en")
    assert i18n.default_locale() == "sq"
    assert i18n.pick_locale("sr_Latn") == "sr_Latn"
    assert i18n.pick_locale("de") == "sq"
    assert [o["name"] for o in i18n.switcher("sq")] == ["Srpski (latinica)", "English"]
    assert i18n.language_name("sq") == "Shqip"
    assert i18n.bcp47("sr_Latn") == "sr-Latn"
    assert i18n.text_direction("sr_Latn") == "ltr"
    assert (i18n.text_direction("ar"), i18n.text_direction("he")) == ("rtl", "rtl")
    assert i18n.month_names("sr_Latn")[0].startswith("jan")


def test_configure_refuses_what_babel_does_not_know() -> None:
    with pytest.raises(LanguageError, match="xx"):
        i18n.configure(["sq", "xx"])
    with pytest.raises(LanguageError, match="default"):
        i18n.configure(["sq", "en"], "sr_Latn")
    assert i18n.locales() == ("sq", "en")  # nothing changed


def test_the_pseudo_locale_is_off_unless_asked(serbian: Path) -> None:
    assert i18n.PSEUDO not in i18n.locales()
    i18n.enable_pseudo(True)
    try:
        assert i18n.locales()[-1] == i18n.PSEUDO
        assert i18n.plural_forms(i18n.PSEUDO) == i18n.plural_forms("en")
    finally:
        i18n.enable_pseudo(False)


def test_every_rule_babel_knows_reads_from_the_table_like_gettext() -> None:
    """The page's table and its 100 + n % 100 beyond 199 give gettext's form for every language Babel knows,
    up to 999 (past that only Breton's and Cornish's millions and thousands would differ)."""
    from babel.localedata import locale_identifiers

    def page_index(table: list[int], n: int) -> int:  # helpline/static/js/plural.js index()
        return table[n if n < len(table) else 100 + n % 100]

    for code in {identifier.split("_")[0] for identifier in locale_identifiers()}:
        _count, expr = i18n.plural_forms(code)
        table = i18n.plural_indexes(expr)
        assert [page_index(table, n) for n in range(1000)] == [gettext.c2py(expr)(n) for n in range(1000)], code
