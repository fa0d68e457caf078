"""Which languages this helpline speaks: any locale Babel knows, set once at start (ADR 0039).

The pack (helpline/pack.py) calls `configure` with its languages; every list of languages, every
`?lang=` check and every language switcher asks `locales()` and `default_locale()`. Names, script
direction, BCP 47 tags and plural rules all come from Babel's CLDR data, never from a table of ours.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.plural import to_gettext

# The pseudo-locale (HELPLINE_PSEUDO_LOCALE=1): accented, lengthened text generated from the .pot files
# (locales/tools/pseudo.py) that shows at a glance what never went through the catalogs. "qps" is a code
# from the range ISO 639 leaves for local use (Microsoft's "qps-ploc"); Babel knows it as English.
PSEUDO = "qps"
# Codes whose Babel data is not the code itself: Albanian dates and numbers as written in Albania.
_BABEL_CODES = {"sq": "sq_AL", PSEUDO: "en"}

_EXPONENT = re.compile(r"\b[ce]\b")
_languages: tuple[str, ...] = ("sq", "en")
_default = "sq"
_pseudo = False
_catalog_dirs: tuple[Path, ...] = ()


class LanguageError(ValueError):
    pass


@functools.cache
def babel_locale(code: str) -> Locale:
    """Babel's locale for one of our codes ("sr_Latn", "sq", "qps")."""
    return Locale.parse(_BABEL_CODES.get(code, code))


def configure(languages: Iterable[str], default: str | None = None, catalogs: Iterable[Path] = ()) -> None:
    """Sets the helpline's languages (first = default unless `default` names another).

    `catalogs`: folders of compiled catalogs (<locale>/LC_MESSAGES/<domain>.mo, e.g. a pack's) that
    add to and win over the shipped ones in locales/."""
    global _languages, _default, _catalog_dirs
    codes = tuple(dict.fromkeys(str(code) for code in languages))
    if not codes:
        raise LanguageError("at least one language is needed")
    unknown = []
    for code in codes:
        try:
            babel_locale(code)
        except (UnknownLocaleError, ValueError):
            unknown.append(code)
    if unknown:
        raise LanguageError("Babel knows no locale " + ", ".join(repr(c) for c in unknown))
    chosen = default or codes[0]
    if chosen not in codes:
        raise LanguageError(f"the default language {chosen!r} is not one of {', '.join(codes)}")
    _languages, _default, _catalog_dirs = codes, chosen, tuple(Path(folder) for folder in catalogs)
    _clear_caches()


def enable_pseudo(on: bool) -> None:
    """Adds (or removes) the pseudo-locale to the languages, whatever `configure` set."""
    global _pseudo
    _pseudo = on
    _clear_caches()


def _clear_caches() -> None:
    from helpline import i18n  # the catalogs cached per locale were built for the old languages

    i18n.clear_caches()


def catalog_dirs() -> tuple[Path, ...]:
    """The folders `configure` added, searched after (and winning over) the shipped catalogs."""
    return _catalog_dirs


def locales() -> tuple[str, ...]:
    return (*_languages, PSEUDO) if _pseudo and PSEUDO not in _languages else _languages


def default_locale() -> str:
    return _default


def pick_locale(requested: str | None, fallback: str | None = None) -> str:
    """`requested` when the helpline speaks it, else `fallback` (if it does), else the default."""
    for code in (requested, fallback):
        if code and code in locales():
            return code
    return _default


def language_name(code: str) -> str:
    """The language's name in itself ("Shqip", "srpski (latinica)"), never translated."""
    if code == PSEUDO:
        return "[Ƥšéûðö]"
    spoken = Locale.parse(code)  # the language itself, not the territory _BABEL_CODES adds ("sq", not "sq_AL")
    name = spoken.get_display_name(spoken) or code
    return name[:1].upper() + name[1:]


def bcp47(code: str) -> str:
    """The tag for `lang` attributes and Intl: "sr_Latn" → "sr-Latn"."""
    return code.replace("_", "-")


def text_direction(code: str) -> str:
    """"rtl" for Arabic, Hebrew and the other right-to-left scripts, else "ltr"."""
    return "rtl" if babel_locale(code).text_direction == "rtl" else "ltr"


@functools.cache
def plural_forms(code: str) -> tuple[int, str]:
    """CLDR's plural rule as gettext writes it: (nplurals, C expression of n)."""
    header = to_gettext(babel_locale(code).plural_form)
    count, expr = header.split(";", 1)
    # CLDR's compact-exponent operand (e, c: French "1 million") is 0 for a count written in full;
    # gettext (and plural.js) know only n.
    expr = _EXPONENT.sub("0", expr.split("plural=", 1)[1].strip().rstrip(";").strip())
    return int(count.split("=", 1)[1]), expr


def options() -> list[dict[str, str]]:
    """Every language, each named in itself, for a language switcher or a select."""
    return [{"code": code, "tag": bcp47(code), "name": language_name(code), "dir": text_direction(code)}
            for code in locales()]


def switcher(current: str) -> list[dict[str, str]]:
    """The language switcher's links: every language but the current one."""
    return [option for option in options() if option["code"] != current]
