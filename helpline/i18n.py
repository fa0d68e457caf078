"""Babel catalogs for templates, server messages and browser scripts.

Each area has its own domain (``child``, ``console``) so its catalog can be edited
on its own; at run time they are merged into one translation per locale. Which languages the
helpline speaks, their names and plural rules live in helpline/languages.py (ADR 0039).
"""

from __future__ import annotations

import functools
import gettext
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
from babel.dates import get_month_names
from babel.messages.extract import extract_javascript
from babel.support import NullTranslations, Translations

from helpline.languages import (
    PSEUDO,
    babel_locale,
    bcp47,
    catalog_dirs,
    configure,
    default_locale,
    enable_pseudo,
    language_name,
    locales,
    options,
    pick_locale,
    plural_forms,
    switcher,
    text_direction,
)

if TYPE_CHECKING:
    from helpline.pack import Pack

__all__ = ["PSEUDO", "babel_locale", "bcp47", "catalog_dirs", "configure", "default_locale", "enable_pseudo",
           "language_name", "locales", "options", "pick_locale", "plural_forms", "switcher", "text_direction"]

log = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parent.parent
LOCALES_DIR = ROOT / "locales"
DOMAINS = ("child", "console")
SOURCE_LANGUAGE = "en"  # the msgids are English: an English string missing from a catalog is already right
JS_SOURCES: dict[str, list[Path]] = {
    "child": [ROOT / "child_ui" / "static" / "child.js"],
    "console": sorted((ROOT / "counsellor_ui" / "static").glob("console*.js")),
}
# What a script calls for a translated string and for one with plural forms (helpline/static/js/l10n.js).
JS_KEYWORDS: dict[str, Any] = {"_": None, "_n": (1, 2), "ngettext": (1, 2)}
_PLURAL_PROBE = range(0, 200)



def use_pack(helpline_pack: Pack) -> None:
    """The helpline pack's languages, default language and catalogs (its own come before the core's)."""
    configure(helpline_pack.languages, helpline_pack.default_language, catalogs=[helpline_pack.root / "locales"])

def _cldr_plurals(catalog: NullTranslations, locale: str, domain: str) -> None:
    """Plural forms follow Babel's CLDR rule when the catalog's Plural-Forms header is missing or disagrees."""
    if not isinstance(catalog, Translations):
        return
    count, expr = plural_forms(locale)
    rule = gettext.c2py(expr)
    header = catalog._info.get("plural-forms")
    if header and all(catalog.plural(n) == rule(n) for n in _PLURAL_PROBE):
        return
    if header:
        log.warning("%s/%s: Plural-Forms %r disagrees with CLDR; using %r", locale, domain, header, expr)
    catalog.plural = rule  # type: ignore[assignment]
    catalog._info["plural-forms"] = f"nplurals={count}; plural={expr};"


def load_catalog(locale: str, domains: Iterable[str] = DOMAINS) -> NullTranslations:
    """The domains of one locale merged; a later one wins a msgid both have (the console's over the
    child's, a folder `configure` added over the shipped one). No catalog: the msgid itself."""
    merged: NullTranslations | None = None
    for domain, folder in ((d, f) for d in domains for f in (LOCALES_DIR, *catalog_dirs())):
        loaded = Translations.load(str(folder), [locale], domain)
        if not isinstance(loaded, Translations):
            continue
        _cldr_plurals(loaded, locale, domain)
        if merged is None:
            merged = loaded
        else:
            assert isinstance(merged, Translations)
            merged.merge(loaded)
    # A language other than English shows what its catalogs lack in the default language (the pack's).
    if locale.split("_")[0] != SOURCE_LANGUAGE and locale != default_locale() and locale != PSEUDO:
        behind = load_catalog(default_locale(), domains)
        if merged is None:
            return behind
        merged.add_fallback(behind)
    return merged or NullTranslations()


@functools.cache
def translations(locale: str) -> NullTranslations:
    """All domains of one locale merged; English falls back to the msgid itself."""
    return load_catalog(locale)


def clear_caches() -> None:
    translations.cache_clear()
    js_strings.cache_clear()
    js_config.cache_clear()


def N_(message: str) -> str:  # noqa: N802 - the marker name pybabel extracts by default
    """Marks a message for extraction where it is defined; it is translated where it is shown."""
    return message


def translate(locale: str, message: str) -> str:
    """Translates a server-side message; extracted with `pybabel extract -k translate:2`."""
    return translations(locale).gettext(message)


def translate_plural(locale: str, singular: str, plural: str, count: int) -> str:
    """The form of a message for `count` by the locale's plural rule (CLDR); `-k translate_plural:2,3`."""
    return translations(locale).ngettext(singular, plural, count)


def _js_extract(path: Path) -> list[str | tuple[str, str]]:
    if not path.exists():
        return []
    with path.open("rb") as handle:
        found: list[str | tuple[str, str]] = []
        for _line, _func, message, _comments in extract_javascript(handle, JS_KEYWORDS, [], {}):
            if isinstance(message, str):
                found.append(message)
            elif isinstance(message, (tuple, list)) and len(message) == 2 and all(isinstance(m, str) for m in message):
                found.append((str(message[0]), str(message[1])))
        return found


def js_messages(path: Path) -> list[str]:
    """The strings a script asks for with `_("…")`."""
    return [m for m in _js_extract(path) if isinstance(m, str)]


def js_plural_ids(path: Path) -> list[tuple[str, str]]:
    """The (singular, plural) pairs a script asks for with `_n("…", "…", n)`."""
    return [m for m in _js_extract(path) if isinstance(m, tuple)]


def plural_table(catalog: NullTranslations, locale: str, pairs: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    """Every plural form of each pair, in the order of the locale's rule; a pair the catalog lacks is left
    out and the page falls back to the English one (singular for 1)."""
    count, _expr = plural_forms(locale)
    table: dict[str, list[str]] = {}
    entries: dict[Any, str] = getattr(catalog, "_catalog", {})
    for singular, _plural in pairs:
        forms = [entries.get((singular, index)) for index in range(count)]
        if all(forms):
            table[singular] = [str(form) for form in forms]
    return table


PLURAL_TABLE_SIZE = 200


def plural_indexes(expr: str) -> list[int]:
    """The form's index for n = 0…199 by a gettext plural rule. Our CSP lets the page run no rule's text;
    past 199 CLDR's rules for whole numbers depend only on n % 100 and thresholds below 100, so the page
    reads 100 + n % 100 (plural.js). Only Breton's and Cornish's millions would differ (ADR 0039)."""
    rule = gettext.c2py(expr)
    return [rule(n) for n in range(PLURAL_TABLE_SIZE)]


def plural_config(locale: str) -> dict[str, Any]:
    """The locale's plural rule for the page, as the index of the form for each n it reads."""
    count, expr = plural_forms(locale)
    return {"count": count, "table": plural_indexes(expr)}


@functools.cache
def js_strings(domain: str, locale: str) -> dict[str, str]:
    """The translated strings a browser script asks for with ``_("…")``, for its config block."""
    catalog = translations(locale)
    return {msg: catalog.gettext(msg) for path in JS_SOURCES[domain] for msg in js_messages(path)}


@functools.cache
def js_config(domain: str, locale: str) -> dict[str, Any]:
    """Strings, plural forms and the plural rule of a staff page's scripts, for its config block."""
    pairs = [pair for path in JS_SOURCES[domain] for pair in js_plural_ids(path)]
    return {"strings": js_strings(domain, locale), "plurals": plural_table(translations(locale), locale, pairs),
            "plural": plural_config(locale), "lang": locale, "lang_tag": bcp47(locale)}


def month_names(locale: str) -> list[str]:
    """The twelve short month names (Babel's "MMM") for the staff pages' dates (helpline/static/js/l10n.js)."""
    names = get_month_names("abbreviated", locale=babel_locale(locale))
    return [str(names[month]) for month in range(1, 13)]


def make_environment(search_paths: Iterable[Path]) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(p) for p in search_paths]),
        autoescape=True,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env


def page_language(locale: str) -> dict[str, Any]:
    """What every page's frame needs: `lang` (our code), its BCP 47 tag and direction, the switcher."""
    return {"lang": locale, "lang_tag": bcp47(locale), "lang_dir": text_direction(locale),
            "languages": switcher(locale), "all_languages": options()}


def render(env: jinja2.Environment, template: str, locale: str, context: dict[str, Any]) -> str:
    catalog = translations(locale)
    tmpl = env.get_template(template)
    # Install per render: the environment is shared between locales.
    return tmpl.render(
        **context,
        gettext=catalog.gettext,
        ngettext=catalog.ngettext,
        _=catalog.gettext,
        **page_language(locale),
    )
