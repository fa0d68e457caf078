"""No template shows a word that is not in a catalog; plural messages have every form.

Every template under child_ui/templates, stats/templates and counsellor_ui/templates is read with its Jinja parts
taken out (comments, `{% trans %}…{% endtrans %}` blocks, which are in the catalog, other tags and
`{{ … }}` expressions). What is left is plain HTML: any letter in a text node or in an alt, title,
aria-label or placeholder attribute is text that no translator will ever see.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from helpline.i18n import DOMAINS, LOCALES_DIR
from tests.support import ROOT

TEMPLATE_DIRS = [ROOT / "child_ui" / "templates", ROOT / "stats" / "templates", ROOT / "counsellor_ui" / "templates"]
TEXT_ATTRIBUTES = {"alt", "title", "aria-label", "placeholder"}
# A language's own name is never translated: a reader looks for "Shqip" or "English" as written.
AUTONYMS = {"Shqip", "English"}
LETTER = re.compile(r"[^\W\d_]")
JINJA_PARTS = [
    re.compile(r"\{#.*?#\}", re.S),
    re.compile(r"\{%-?\s*trans\b.*?\{%-?\s*endtrans\s*-?%\}", re.S),
    re.compile(r"\{%.*?%\}", re.S),
    re.compile(r"\{\{.*?\}\}", re.S),
]


class _TextFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self.skipping += 1
        for name, value in attrs:
            if name in TEXT_ATTRIBUTES and value and LETTER.search(value):
                self.found.append(f"<{tag} {name}={value!r}>")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self.skipping:
            self.skipping -= 1

    def handle_data(self, data: str) -> None:
        if not self.skipping and LETTER.search(data) and data.strip() not in AUTONYMS:
            self.found.append(data.strip())


def untranslated_text(source: str) -> list[str]:
    """The user-visible words of a template that do not go through the catalog."""
    for pattern in JINJA_PARTS:
        source = pattern.sub(" ", source)
    finder = _TextFinder()
    finder.feed(source)
    finder.close()
    return finder.found


def templates() -> list[Path]:
    return sorted(p for d in TEMPLATE_DIRS for p in d.rglob("*.html"))


def test_the_check_finds_words_outside_the_catalog() -> None:
    assert untranslated_text("<p>{{ _('Hi') }}</p>") == []
    assert untranslated_text("<p>{% trans %}Call <a href='tel:112'>112</a>{% endtrans %}</p>") == []
    assert untranslated_text("{# a note #}<p>{{ x }} – 116 111</p>") == []
    assert untranslated_text("<p>Hello {{ name }}</p>") == ["Hello"]
    assert untranslated_text('<img alt="A cat" src="x">') == ["<img alt='A cat'>"]
    assert untranslated_text('<input placeholder="Kërko">') == ["<input placeholder='Kërko'>"]
    assert untranslated_text("<button aria-label='Mbyll'>×</button>") == ["<button aria-label='Mbyll'>"]
    assert untranslated_text("<style>a{color:red}</style><script>var x;</script>") == []
    assert untranslated_text('<option value="sq">Shqip</option><option>Anglisht</option>') == ["Anglisht"]


def test_there_are_templates_to_check() -> None:
    names = {p.name for p in templates()}
    assert {"child.html", "child_base.html", "grooming.html", "console.html"} <= names


@pytest.mark.parametrize("path", templates(), ids=lambda p: str(p.relative_to(ROOT)))
def test_template_has_no_text_outside_the_catalog(path: Path) -> None:
    assert untranslated_text(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("domain", DOMAINS)
def test_plural_messages_have_every_form_in_albanian(domain: str) -> None:
    with (LOCALES_DIR / "sq" / "LC_MESSAGES" / f"{domain}.po").open("rb") as handle:
        catalog = read_po(handle, locale="sq", domain=domain)
    assert catalog.num_plurals == 2
    problems = [m.id for m in catalog if m.id and m.pluralizable
                and (len(m.string) != catalog.num_plurals or not all(m.string))]
    assert problems == []


def test_child_script_gets_albanian_plurals_and_babel_number_signs() -> None:
    import datetime as dt

    from child_ui.web import child_js_config, child_translations, format_clock

    config = child_js_config("sq")
    assert config["plurals"]["Expected wait: about {n} minute"] == ["Pritja: rreth {n} minutë",
                                                                    "Pritja: rreth {n} minuta"]
    assert config["plural"]["count"] == 2  # CLDR's rule for sq (ADR 0039): one for 1, other for the rest
    assert config["plural"]["table"][:4] == [1, 0, 1, 1] and len(config["plural"]["table"]) == 200
    assert config["number"] == {"group": "\xa0", "decimal": ","}
    assert config["strings"]["Sent"] == "U dërgua"
    # A msgid the console also uses keeps the child's wording on the child pages.
    assert config["strings"]["Connected"] == "Në linjë"
    assert child_translations("sq").gettext("Under 10") == "Nën 10 vjeç"
    assert child_js_config("en")["plurals"]["Expected wait: about {n} minute"][1].endswith("minutes")
    assert format_clock(dt.time(8, 5), "sq") == "08:05"
    assert format_clock(dt.time(20, 0), "en") == "20:00"


def test_child_pages_lose_their_indentation_but_not_scripts_styles_or_text_areas() -> None:
    from child_ui.web import unindent

    page = ('<main>\n    <p>Hi <b>you</b>\n      there</p>\n  <style>\n  a { color: red }\n  </style>\n'
            '  <script type="application/json">\n  {"a": "  b"}\n  </script>\n'
            '  <textarea>\n  keep\n  </textarea>\n</main>')
    assert unindent(page) == ('<main>\n<p>Hi <b>you</b>\nthere</p>\n<style>\n  a { color: red }\n  </style>\n'
                              '<script type="application/json">\n  {"a": "  b"}\n  </script>\n<textarea>\n  keep\n'
                              '  </textarea>\n</main>')
