"""`helpline pack check DIR`: every problem of a helpline pack, each naming its file and field.

Errors stop `helpline pack load`; warnings (strings a language still lacks) do not. The agency kinds and
the services CSV are the referral package's to judge: the command passes them in (the core imports no
feature).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jinja2
from babel import Locale, UnknownLocaleError

from helpline import _pack_catalogs as catalogs
from helpline.pack import ROUTES, Pack, PackError, read
from helpline.taxonomy import LISTS

CODE_LIMIT = 48


@dataclass
class Report:
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def _json(root: Path, name: str, report: Report) -> Any:
    try:
        return json.loads((root / name).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        report.errors.append(f"{name}: cannot be read as JSON ({exc})")
        return None


def _entries(data: Any, key: str, where: str, report: Report, label: str = "label") -> dict[str, dict[str, Any]]:
    items = data.get(key) if isinstance(data, dict) else None
    if not isinstance(items, list):
        report.errors.append(f"{where}: {key} must be a list")
        return {}
    found: dict[str, dict[str, Any]] = {}
    for index, item in enumerate(items):
        if not (isinstance(item, dict) and isinstance(item.get("code"), str) and item["code"]
                and isinstance(item.get(label), str) and item[label]):
            report.errors.append(f"{where}: {key} #{index} needs a code and a {label}")
        elif item["code"] in found:
            report.errors.append(f"{where}: {key} has {item['code']} twice")
        else:
            found[item["code"]] = item
    return found


def check_taxonomy(root: Path, report: Report) -> dict[str, set[str]]:
    """The taxonomy's schema; returns the codes of each list (and "categories", "topics")."""
    data = _json(root, "taxonomy.json", report)
    if data is None:
        return {}
    if not isinstance(data, dict) or not isinstance(data.get("version"), str) or not data["version"]:
        report.errors.append("taxonomy.json: needs a version text")
        if not isinstance(data, dict):
            return {}
    codes = {"categories": set(_entries(data, "categories", "taxonomy.json", report))}
    for category in data.get("categories") or []:
        if isinstance(category, dict) and category.get("code"):
            where = f"taxonomy.json: category {category['code']}"
            for sub in _entries(category, "sub", where, report):
                if not sub.startswith(f"{category['code']}."):
                    report.errors.append(f"{where}: sub-code {sub} must start with {category['code']}.")
    for name in LISTS:
        codes[name] = set(_entries(data, name, "taxonomy.json", report))
    codes["topics"] = set(_entries(data, "topics", "taxonomy.json", report, "child_label")) if "topics" in data \
        else set()
    return codes


def check_agencies(root: Path, pack: Pack | None, kinds: Collection[str] | None, report: Report) -> set[str]:
    """The directory's schema and its places; returns the agency codes."""
    data = _json(root, "agencies.json", report)
    if not isinstance(data, dict) or not isinstance(data.get("version"), str) \
            or not isinstance(data.get("agencies"), list):
        if data is not None:
            report.errors.append("agencies.json: needs a version text and an agencies list")
        return set()
    county_of = pack.county_of if pack else {}
    counties = set(county_of.values())
    if pack and "counties" in data and set(data["counties"] or []) != counties:
        report.errors.append("agencies.json: counties differ from municipalities.json's: "
                             f"{', '.join(sorted(set(data['counties'] or []) ^ counties))}")
    codes: set[str] = set()
    for index, entry in enumerate(data["agencies"]):
        code = entry.get("code") if isinstance(entry, dict) else None
        if not isinstance(code, str) or not code or len(code) > CODE_LIMIT or code in codes:
            report.errors.append(f"agencies.json: agency #{index} has a missing, long or repeated code")
            continue
        codes.add(code)
        where = f"agencies.json: agency {code}"
        if kinds is not None and entry.get("kind") not in kinds:
            report.errors.append(f"{where}: unknown kind {entry.get('kind')!r}")
        if not isinstance(entry.get("name"), str) or not entry["name"]:
            report.errors.append(f"{where}: has no name")
        municipality, county = entry.get("municipality"), entry.get("county")
        if pack is None:
            continue
        if municipality is not None and municipality not in county_of:
            report.errors.append(f"{where}: municipality {municipality!r} is not in municipalities.json")
        elif municipality is not None and county != county_of[municipality]:
            report.errors.append(f"{where}: county {county!r} is not {municipality}'s ({county_of[municipality]})")
        elif county is not None and county not in counties:
            report.errors.append(f"{where}: county {county!r} is not a county of municipalities.json")
    return codes


def check_routing(pack: Pack, codes: set[str], report: Report) -> None:
    """Every rule gives an agency of the directory, for every municipality and county."""
    try:
        for name in ROUTES:
            pack.route(name, "x", "x")
    except (KeyError, IndexError, ValueError) as exc:
        report.errors.append(f"pack.toml: [routing] may use only {{municipality}} and {{county}} ({exc})")
        return
    for municipality, county in sorted(pack.county_of.items()):
        code = pack.route("child_protection", municipality, county)
        if code not in codes:
            report.errors.append(f"pack.toml: [routing] child_protection gives {code} for {municipality}: "
                                 "no such agency in agencies.json")
    for county in pack.counties:
        code = pack.route("police", None, county)
        if code not in codes:
            report.errors.append(f"pack.toml: [routing] police gives {code} for {county}: no such agency in "
                                 "agencies.json")
    for name in ("police_national", "cyber", "state_agency"):
        if pack.route(name) not in codes:
            report.errors.append(f"pack.toml: [routing] {name} = {pack.route(name)}: no such agency in agencies.json")


LANGUAGE_CODE_MAX = 8


def check_basics(pack: Pack, taxonomy: dict[str, set[str]], report: Report) -> None:
    for language in pack.languages:
        try:
            Locale.parse(language)
        except (UnknownLocaleError, ValueError):
            report.errors.append(f"pack.toml: languages: {language!r} is not a language Babel knows")
        if len(language) > LANGUAGE_CODE_MAX:  # staff.locale and the like hold 8 characters
            report.errors.append(f"pack.toml: languages: {language!r} is longer than {LANGUAGE_CODE_MAX} characters "
                                 f"(write it shorter, as sr_Latn rather than sr_Latn_XK)")
    try:
        ZoneInfo(pack.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        report.errors.append(f"pack.toml: timezone {pack.timezone!r} is not an IANA time zone (Europe/Tirane)")
    if taxonomy:
        for name, key in (("topics", "topics"), ("age_bands", "age_bands")):
            for code in getattr(pack, name):
                if code not in taxonomy.get(key, set()):
                    report.errors.append(f"pack.toml: [prechat] {name}: {code} is not in taxonomy.json's {key}")


def check_pages(root: Path, languages: tuple[str, ...], report: Report) -> None:
    env = jinja2.Environment(extensions=["jinja2.ext.i18n"], autoescape=True)
    for page in sorted((root / "pages").glob("*/*.html")) if (root / "pages").is_dir() else []:
        where = str(page.relative_to(root))
        if page.parent.name not in languages:
            report.errors.append(f"{where}: {page.parent.name} is not one of pack.toml's languages")
        try:
            env.parse(page.read_text(encoding="utf-8"))
        except (jinja2.TemplateSyntaxError, UnicodeDecodeError) as exc:
            report.errors.append(f"{where}: {exc}")


def check_numbers(pack: Pack, used: dict[str, str], reference: Collection[str], report: Report) -> None:
    """A number a string names must be in [numbers]. The numbers are the keys any pack gives (the shipped
    one's included), so %(agency)s and the like are not taken for one."""
    known = set(reference) | set(pack.numbers) | set(pack.number_labels)
    for name, where in sorted(used.items()):
        if name in known and name not in pack.numbers and name != "brand":
            report.errors.append(f"pack.toml: [numbers] has no {name}, which {where} uses as %({name})s")


def check(root: Path, *, kinds: Collection[str] | None = None,
          services: Callable[[str], str | None] | None = None) -> Report:
    """Every problem of the pack in ``root``; ``services`` judges services.csv (None: fine)."""
    from helpline import pack as packs

    report = Report()
    try:
        pack: Pack | None = read(root)
    except PackError as exc:
        report.errors += exc.problems
        pack = None
    taxonomy = check_taxonomy(root, report)
    codes = check_agencies(root, pack, kinds, report)
    if pack is None:
        return report
    check_basics(pack, taxonomy, report)
    if codes:
        check_routing(pack, codes, report)
    problems, parsed = catalogs.check_catalogs(root, pack.languages)
    report.errors += problems
    reference = packs.read(packs.SHIPPED).numbers if root.resolve() != packs.SHIPPED else {}
    check_numbers(pack, catalogs.placeholders_used(parsed), reference, report)
    check_pages(root, pack.languages, report)
    if services is not None and pack.services_file is not None:
        problem = services(pack.services_file.read_text(encoding="utf-8"))
        if problem:
            report.errors.append(f"services.csv: {problem}")
    report.warnings += catalogs.missing_counts(pack.languages, parsed)
    return report
