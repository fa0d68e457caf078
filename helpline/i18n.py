"""Babel catalogs for templates, server messages and browser scripts.

Each area has its own domain (``child``, ``console``) so its catalog can be edited
on its own; at run time they are merged into one translation per locale.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import jinja2
from babel.messages.extract import extract_javascript
from babel.support import NullTranslations, Translations

ROOT = Path(__file__).resolve().parent.parent
LOCALES_DIR = ROOT / "locales"
DOMAINS = ("child", "console")
LOCALES = ("sq", "en")
DEFAULT_LOCALE = "sq"
BABEL_LOCALES = {"sq": "sq_AL", "en": "en"}
JS_SOURCES: dict[str, list[Path]] = {
    "child": [ROOT / "child_ui" / "static" / "child.js"],
    "console": sorted((ROOT / "counsellor_ui" / "static").glob("console*.js")),
}


def pick_locale(requested: str | None, fallback: str = DEFAULT_LOCALE) -> str:
    return requested if requested in LOCALES else fallback


@functools.cache
def translations(locale: str) -> NullTranslations:
    """All domains of one locale merged; English falls back to the msgid itself."""
    merged: NullTranslations | None = None
    for domain in DOMAINS:
        loaded = Translations.load(str(LOCALES_DIR), [locale], domain)
        if not isinstance(loaded, Translations):
            continue
        if merged is None:
            merged = loaded
        else:
            assert isinstance(merged, Translations)
            merged.merge(loaded)
    return merged or NullTranslations()


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


@functools.cache
def js_strings(domain: str, locale: str) -> dict[str, str]:
    """The translated strings a browser script asks for with ``_("…")``, for its config block."""
    catalog = translations(locale)
    return {msg: catalog.gettext(msg) for path in JS_SOURCES[domain] for msg in js_messages(path)}


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
