"""`helpline pack check`, the catalogs: they parse, their plural forms are the language's, they name only
numbers the pack has, and how many of the core's strings each language still lacks."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from babel import Locale
from babel.messages.catalog import Catalog
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po

from helpline.i18n import DOMAINS, LOCALES_DIR, SOURCE_LANGUAGE

PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def plural_counts(locale: str) -> set[int]:
    """How many forms the language has: Babel's gettext table, and its CLDR rule (tags and "other")."""
    counts = {get_plural(locale).num_plurals}
    counts.add(len(Locale.parse(locale).plural_form.tags | {"other"}))
    return counts


def read_catalog(path: Path, locale: str | None, domain: str) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=locale, domain=domain, abort_invalid=True)


def names(texts: Iterable[object]) -> set[str]:
    found: set[str] = set()
    for text in texts:
        if isinstance(text, str):
            found.update(PLACEHOLDER.findall(text))
        elif isinstance(text, (tuple, list)):
            found |= names(text)
    return found


def _has_plural_header(path: Path) -> bool:
    """Babel fills a missing Plural-Forms in from the locale: look at the file's own header entry."""
    header = path.read_text(encoding="utf-8").split('msgid "', 2)[:2]
    return "Plural-Forms:" in "".join(header)


def _plural_problems(where: str, path: Path, catalog: Catalog, locale: str) -> list[str]:
    problems: list[str] = []
    expected = plural_counts(locale)
    wanted = " or ".join(str(n) for n in sorted(expected))
    if not _has_plural_header(path):
        problems.append(f"{where}: no Plural-Forms header ({locale} has {wanted} plural forms)")
        return problems
    if catalog.num_plurals not in expected:
        problems.append(f"{where}: Plural-Forms says nplurals={catalog.num_plurals}; {locale} has {wanted}")
        return problems
    for message in catalog:
        if not message.id or not message.pluralizable:
            continue
        strings = message.string if isinstance(message.string, (tuple, list)) else (message.string,)
        if not any(strings):
            continue  # untranslated: counted as missing, not an error
        if len(strings) != catalog.num_plurals or not all(strings):
            problems.append(f"{where}: {message.id[0]!r} needs all {catalog.num_plurals} plural forms "
                            f"(msgstr[0] to msgstr[{catalog.num_plurals - 1}])")
    return problems


def _placeholder_problems(where: str, catalog: Catalog) -> list[str]:
    problems = []
    for message in catalog:
        if not message.id or not message.string:
            continue
        extra = names([message.string]) - names([message.id])
        if extra:
            problems.append(f"{where}: {message.id if isinstance(message.id, str) else message.id[0]!r} names "
                            f"{', '.join(f'%({n})s' for n in sorted(extra))}, which its msgid does not")
    return problems


def pack_catalogs(root: Path) -> list[tuple[str, str, Path]]:
    """(locale, domain, path) of every .po the pack brings."""
    folder = root / "locales"
    if not folder.is_dir():
        return []
    return [(po.parent.parent.name, po.stem, po) for po in sorted(folder.glob("*/LC_MESSAGES/*.po"))]


def check_catalogs(root: Path, languages: tuple[str, ...]) -> tuple[list[str], dict[tuple[str, str], Catalog]]:
    """Problems of the pack's catalogs, and those that parsed, by (locale, domain)."""
    problems: list[str] = []
    parsed: dict[tuple[str, str], Catalog] = {}
    for locale, domain, path in pack_catalogs(root):
        where = str(path.relative_to(root))
        if locale not in languages:
            problems.append(f"{where}: {locale} is not one of pack.toml's languages")
            continue
        if domain not in DOMAINS:
            problems.append(f"{where}: the domains are {', '.join(DOMAINS)}")
            continue
        try:
            catalog = read_catalog(path, locale, domain)
        except Exception as exc:  # noqa: BLE001 - any parse error is reported with the file
            problems.append(f"{where}: cannot be read ({exc})")
            continue
        problems += _plural_problems(where, path, catalog, locale) + _placeholder_problems(where, catalog)
        parsed[(locale, domain)] = catalog
    return problems, parsed


def core_messages(domain: str) -> set[str]:
    """The msgids of the core's template (locales/<domain>.pot), plural ones by their singular."""
    catalog = read_catalog(LOCALES_DIR / f"{domain}.pot", None, domain)
    return {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id}


def _translated(catalog: Catalog | None) -> set[str]:
    if catalog is None:
        return set()
    found = set()
    for message in catalog:
        strings = message.string if isinstance(message.string, (tuple, list)) else (message.string,)
        if message.id and all(strings) and not message.fuzzy:
            found.add(message.id if isinstance(message.id, str) else message.id[0])
    return found


def placeholders_used(parsed: dict[tuple[str, str], Catalog]) -> dict[str, str]:
    """Each %(name)s the core templates and the pack's catalogs use, with where it is first seen."""
    used: dict[str, str] = {}
    for domain in DOMAINS:
        catalog = read_catalog(LOCALES_DIR / f"{domain}.pot", None, domain)
        for name in names(m.id for m in catalog if m.id):
            used.setdefault(name, f"locales/{domain}.pot")
    for (locale, domain), catalog in parsed.items():
        for name in names([m.id for m in catalog if m.id] + [m.string for m in catalog if m.id]):
            used.setdefault(name, f"locales/{locale}/LC_MESSAGES/{domain}.po")
    return used


def missing_counts(languages: tuple[str, ...], parsed: dict[tuple[str, str], Catalog]) -> list[str]:
    """Warnings: per language, how many of the core's strings neither the pack nor the core translates."""
    warnings = []
    for locale in languages:
        if locale.split("_")[0] == SOURCE_LANGUAGE:
            continue
        parts, total, missing = [], 0, 0
        for domain in DOMAINS:
            wanted = core_messages(domain)
            core_po = LOCALES_DIR / locale / "LC_MESSAGES" / f"{domain}.po"
            core = read_catalog(core_po, locale, domain) if core_po.is_file() else None
            lacking = wanted - _translated(core) - _translated(parsed.get((locale, domain)))
            total, missing = total + len(wanted), missing + len(lacking)
            parts.append(f"{domain} {len(lacking)} of {len(wanted)}")
        if missing:
            warnings.append(f"{locale}: {missing} of {total} strings are not translated ({', '.join(parts)}); "
                            f"they show in the default language")
    return warnings
