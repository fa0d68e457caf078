"""Babel catalogs for templates, server messages and browser scripts.

Each area has its own domain (``child``, ``console``) so its catalog can be edited
on its own; at run time they are merged into one translation per locale. The helpline pack's
catalogs (``<pack>/locales``) come first; a string they lack comes from the core catalog, then, for a
language other than English (the msgids' own), from the default language's.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

import jinja2
from babel.dates import get_month_names
from babel.messages.extract import extract_javascript
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from helpline import pack

ROOT = Path(__file__).resolve().parent.parent
LOCALES_DIR = ROOT / "locales"
DOMAINS = ("child", "console")
LOCALES: tuple[str, ...] = ("sq", "en")
DEFAULT_LOCALE = "sq"
SOURCE_LANGUAGE = "en"  # the msgids are English: an English string missing from a catalog is already right
BABEL_LOCALES = {"sq": "sq_AL", "en": "en"}
JS_SOURCES: dict[str, list[Path]] = {
    "child": [ROOT / "child_ui" / "static" / "child.js"],
    "console": sorted((ROOT / "counsellor_ui" / "static").glob("console*.js")),
}


F = TypeVar("F", bound=Callable[..., Any])
_CACHES: list[Callable[[], None]] = []


def cached(function: F) -> F:
    """functools.cache, emptied by configure() (a new pack brings other catalogs)."""
    wrapped = functools.cache(function)
    _CACHES.append(wrapped.cache_clear)
    return wrapped  # type: ignore[return-value]


def configure(languages: Iterable[str], default: str) -> None:
    """The languages the service speaks (the helpline pack's), the first page's being ``default``."""
    global LOCALES, DEFAULT_LOCALE
    LOCALES = tuple(languages)
    DEFAULT_LOCALE = default if default in LOCALES else LOCALES[0]
    for locale in LOCALES:
        BABEL_LOCALES.setdefault(locale, locale)
    for clear in _CACHES:
        clear()


def locales() -> tuple[str, ...]:
    return LOCALES


def default_locale() -> str:
    return DEFAULT_LOCALE


def pick_locale(requested: str | None, fallback: str | None = None) -> str:
    return requested if requested in LOCALES else (fallback or DEFAULT_LOCALE)


def pack_catalog(root: Path, locale: str, domain: str) -> Translations | None:
    """A pack's catalog: its compiled .mo (`helpline pack load`), else its .po compiled in memory."""
    folder = root / "locales" / locale / "LC_MESSAGES"
    mo, po = folder / f"{domain}.mo", folder / f"{domain}.po"
    if mo.is_file() and (not po.is_file() or mo.stat().st_mtime_ns >= po.stat().st_mtime_ns):
        with mo.open("rb") as handle:
            return Translations(handle, domain)
    if not po.is_file():
        return None
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=locale, domain=domain)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer, domain)


def _stack(found: list[Translations]) -> Translations | None:
    """Later catalogs win over earlier ones; the first's plural rule stays (same language)."""
    merged: Translations | None = None
    for loaded in found:
        if merged is None:
            merged = loaded
        else:
            merged.merge(loaded)
    return merged


@cached
def domain_translations(locale: str, domains: tuple[str, ...] = DOMAINS) -> NullTranslations:
    """The core catalogs of ``domains`` with the pack's over them, and the default language behind."""
    core = [Translations.load(str(LOCALES_DIR), [locale], domain) for domain in domains]
    root = pack.active().root
    own = [pack_catalog(root, locale, domain) for domain in domains]
    merged = _stack([c for c in core if isinstance(c, Translations)] + [c for c in own if c is not None])
    if locale.split("_")[0] != SOURCE_LANGUAGE and locale != DEFAULT_LOCALE:
        behind = domain_translations(DEFAULT_LOCALE, domains)
        if merged is None:
            return behind
        merged.add_fallback(behind)
    return merged or NullTranslations()


def translations(locale: str) -> NullTranslations:
    """All domains of one locale merged; English falls back to the msgid itself."""
    return domain_translations(locale, DOMAINS)


def N_(message: str) -> str:  # noqa: N802 - the marker name pybabel extracts by default
    """Marks a message for extraction where it is defined; it is translated where it is shown."""
    return message


def translate(locale: str, message: str) -> str:
    """Translates a server-side message; extracted with `pybabel extract -k translate:2`."""
    return translations(locale).gettext(message)


def js_messages(path: Path) -> list[str]:
    if not path.exists():
        return []
    with path.open("rb") as handle:
        messages: list[str] = []
        for _line, _func, message, _comments in extract_javascript(handle, {"_": None}, [], {}):
            if isinstance(message, str):
                messages.append(message)
        return messages


@cached
def js_strings(domain: str, locale: str) -> dict[str, str]:
    """The translated strings a browser script asks for with ``_("…")``, for its config block."""
    catalog = translations(locale)
    return {msg: catalog.gettext(msg) for path in JS_SOURCES[domain] for msg in js_messages(path)}


def month_names(locale: str) -> list[str]:
    """The twelve short month names (Babel's "MMM") for the staff pages' dates (helpline/static/js/l10n.js)."""
    names = get_month_names("abbreviated", locale=BABEL_LOCALES.get(locale, locale))
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


def render(env: jinja2.Environment, template: str, locale: str, context: dict[str, Any]) -> str:
    catalog = translations(locale)
    tmpl = env.get_template(template)
    # Install per render: the environment is shared between locales.
    return tmpl.render(
        **context,
        gettext=catalog.gettext,
        ngettext=catalog.ngettext,
        _=catalog.gettext,
        lang=locale,
    )
