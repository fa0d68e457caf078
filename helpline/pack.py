"""The helpline pack: everything that differs between helplines, as one folder of data (issue 23).

Brand, languages, time zone and hours, numbers, places, the agency directory and its routing, the
taxonomy, the pre-chat choices, safety pages and catalogs (docs/packs.md). Albania's ships in
``packs/al``; `helpline pack load DIR` checks another and installs it in the data folder
(``<HELPLINE_DATA_DIR>/pack``), where ``active()`` finds it from then on.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import os
import re
import tomllib
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from helpline.opening import OpeningHours, from_table

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "packs" / "al"
INSTALLED = "pack"  # the folder under the data folder that `pack load` fills
ROUTES = ("child_protection", "police", "police_national", "cyber", "state_agency")
HOURS_EXTRA = ("holidays", "holiday_hours")


class PackError(ValueError):
    """A pack that cannot be used; ``problems`` name each file and field."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def slug(name: str) -> str:
    """'Malësi e Madhe' -> 'malesi-e-madhe': how routing builds agency codes from place names."""
    plain = unicodedata.normalize("NFKD", name.replace("ë", "e").replace("Ë", "E")).encode("ascii", "ignore")
    return re.sub(r"[^a-z0-9]+", "-", plain.decode("ascii").lower()).strip("-")


@dataclass(frozen=True, eq=False)
class Pack:
    """One helpline's data, read once; nothing in it changes while the service runs."""

    root: Path
    code: str
    brand: str
    languages: tuple[str, ...]
    default_language: str
    timezone: str
    hours: OpeningHours
    holidays: tuple[dt.date, ...]
    numbers: Mapping[str, str]
    number_labels: Mapping[str, str]
    routing: Mapping[str, str]
    topics: tuple[str, ...]
    age_bands: tuple[str, ...]
    urgent_topics: tuple[str, ...]  # pre-chat topics that queue a child as urgent (often mean harm)
    municipalities: tuple[Mapping[str, str], ...]

    @property
    def agencies_file(self) -> Path:
        return self.root / "agencies.json"

    @property
    def taxonomy_file(self) -> Path:
        return self.root / "taxonomy.json"

    @property
    def services_file(self) -> Path | None:
        path = self.root / "services.csv"
        return path if path.is_file() else None

    @functools.cached_property
    def county_of(self) -> Mapping[str, str]:
        """Each municipality's county."""
        return MappingProxyType({m["name"]: m["county"] for m in self.municipalities})

    @functools.cached_property
    def counties(self) -> tuple[str, ...]:
        return tuple(sorted(set(self.county_of.values())))

    def route(self, name: str, municipality: str | None = None, county: str | None = None) -> str:
        """The agency code a routing rule gives for a place (``{municipality}``/``{county}`` as slugs)."""
        return self.routing[name].format(municipality=slug(municipality or ""), county=slug(county or ""))

    def placeholders(self) -> dict[str, str]:
        """What translated strings may name: every number and the brand."""
        return {**self.numbers, "brand": self.brand}


def _need(table: Mapping[str, Any], key: str, kind: type, where: str, problems: list[str]) -> Any:
    value = table.get(key)
    if not isinstance(value, kind) or (kind is str and not value):
        problems.append(f"{where}: {key} is missing or not a {'text' if kind is str else kind.__name__}")
        return kind()
    return value


def _texts(table: Any, where: str, problems: list[str]) -> dict[str, str]:
    if not isinstance(table, dict):
        problems.append(f"{where} is missing or not a table")
        return {}
    bad = [k for k, v in table.items() if not isinstance(v, str) or not v.strip()]
    problems.extend(f"{where}.{k} must be a text that is not empty" for k in bad)
    return {k: v for k, v in table.items() if k not in bad}


def _codes(table: Mapping[str, Any], key: str, where: str, problems: list[str]) -> tuple[str, ...]:
    value = table.get(key)
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        problems.append(f"{where}.{key} must be a list of codes")
        return ()
    return tuple(value)


def _municipalities(path: Path, problems: list[str]) -> tuple[dict[str, str], ...]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        problems.append(f"{path.name}: cannot be read as JSON ({exc})")
        return ()
    if not isinstance(data, list) or not data:
        problems.append(f"{path.name}: must be a list of {{\"name\": …, \"county\": …}}")
        return ()
    seen: set[str] = set()
    good: list[dict[str, str]] = []
    for index, item in enumerate(data):
        if not (isinstance(item, dict) and isinstance(item.get("name"), str) and item["name"]
                and isinstance(item.get("county"), str) and item["county"]):
            problems.append(f"{path.name}: entry #{index} needs a name and a county")
        elif item["name"] in seen:
            problems.append(f"{path.name}: {item['name']} is listed twice")
        else:
            seen.add(item["name"])
            good.append({"name": item["name"], "county": item["county"]})
    return tuple(good)


def read(root: Path) -> Pack:
    """Reads pack.toml and municipalities.json; raises PackError naming every problem.

    The deeper checks (directory, routing, taxonomy, catalogs) are `helpline pack check`'s
    (helpline.pack_check); this is what the service needs to start."""
    problems: list[str] = []
    try:
        meta = tomllib.loads((root / "pack.toml").read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise PackError([f"pack.toml: cannot be read ({exc})"]) from None
    code = _need(meta, "code", str, "pack.toml", problems)
    brand = _need(meta, "brand", str, "pack.toml", problems)
    languages = _codes(meta, "languages", "pack.toml", problems)
    default = meta.get("default_language", languages[0] if languages else "")
    if languages and default not in languages:
        problems.append(f"pack.toml: default_language {default!r} is not one of languages")
    timezone = _need(meta, "timezone", str, "pack.toml", problems)
    table = meta.get("hours", {})
    hours = OpeningHours((None,) * 7)
    if not isinstance(table, dict):
        problems.append("pack.toml: [hours] must be a table")
    else:
        try:
            hours = from_table({k: v for k, v in table.items() if k not in HOURS_EXTRA},
                               list(table.get("holidays", [])), table.get("holiday_hours"))
        except (ValueError, TypeError) as exc:
            problems.append(f"pack.toml: [hours] {exc}")
    numbers = _texts(meta.get("numbers"), "pack.toml: [numbers]", problems)
    labels = _texts(meta.get("number_labels", {}), "pack.toml: [number_labels]", problems)
    problems.extend(f"pack.toml: [number_labels].{k} labels no number of [numbers]" for k in labels if k not in numbers)
    routing = _texts(meta.get("routing"), "pack.toml: [routing]", problems)
    problems.extend(f"pack.toml: [routing].{k} is missing" for k in ROUTES if routing and k not in routing)
    prechat: dict[str, Any] = meta["prechat"] if isinstance(meta.get("prechat"), dict) else {}
    topics = _codes(prechat, "topics", "pack.toml: [prechat]", problems)
    age_bands = _codes(prechat, "age_bands", "pack.toml: [prechat]", problems)
    urgent = _codes(prechat, "urgent_topics", "pack.toml: [prechat]", problems) if "urgent_topics" in prechat else ()
    problems.extend(f"pack.toml: [prechat] urgent_topics: {code} is not one of its topics"
                    for code in urgent if topics and code not in topics)
    places = _municipalities(root / "municipalities.json", problems)
    if problems:
        raise PackError(problems)
    return Pack(root=root, code=code, brand=brand, languages=languages, default_language=str(default),
                timezone=timezone, hours=hours, holidays=tuple(sorted(hours.holidays)),
                numbers=MappingProxyType(numbers), number_labels=MappingProxyType(labels),
                routing=MappingProxyType(routing), topics=topics, age_bands=age_bands, urgent_topics=urgent,
                municipalities=tuple(MappingProxyType(m) for m in places))


def installed_dir(data_dir: Path | str) -> Path:
    return Path(data_dir) / INSTALLED


def folder_for(data_dir: Path | str) -> Path:
    """The installed pack of this data folder if `pack load` put one there, else the shipped one."""
    installed = installed_dir(data_dir)
    return installed if (installed / "pack.toml").is_file() else SHIPPED


@functools.cache
def _read_cached(root: Path, stamp: int) -> Pack:
    return read(root)


def for_data_dir(data_dir: Path | str) -> Pack:
    root = folder_for(data_dir)
    return _read_cached(root, (root / "pack.toml").stat().st_mtime_ns)


_active: Pack | None = None
_data_dir: Path | None = None


def _environment_data_dir() -> Path:
    from helpline.settings import read_dotenv

    raw = os.environ.get("HELPLINE_DATA_DIR") or read_dotenv(Path(".env")).get("HELPLINE_DATA_DIR") or "var"
    return Path(raw)


def use(data_dir: Path | str | None) -> Pack:
    """Makes this data folder's pack the active one (the app factory calls it); None: HELPLINE_DATA_DIR's."""
    global _active, _data_dir
    _data_dir = Path(data_dir) if data_dir is not None else None
    _active = for_data_dir(_data_dir or _environment_data_dir())
    return _active


def forget() -> None:
    """Reads the pack again on the next ``active()`` (after `pack load`)."""
    global _active
    _active = None


def active() -> Pack:
    """The pack in use: the data folder's installed one, else the shipped ``packs/al``."""
    global _active
    if _active is None:
        _active = for_data_dir(_data_dir or _environment_data_dir())
    return _active


def numbers() -> dict[str, str]:
    """The numbers strings name as placeholders (``%(helpline)s``…), with the brand (``%(brand)s``)."""
    return active().placeholders()
