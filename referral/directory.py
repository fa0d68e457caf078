"""The agency directory: a versioned data file of the helpline pack, loaded into ``agencies`` by code.

`helpline directory load`, `helpline pack load` (and `helpline setup`) upsert every agency of the pack's
agencies.json (packs/al/agencies.json ships);
agencies added by admins (codes not in the file) are left alone. Contacts (fallback address,
officers) belong to the installation, not the file, so a reload never overwrites them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from helpline import pack
from helpline.models import Agency

KINDS = ("helpline", "cpu", "police", "police_cyber", "state_agency", "health", "education", "social", "ngo",
         "psychological", "legal", "medical", "shelter")  # the last four: the services directory (issue 19)
FILE_FIELDS = ("name", "kind", "county", "municipality")

# The concern chosen on the referral form decides which kind of agency is suggested first.
POLICE_CONCERNS = frozenset({"violence_emergency", "crime", "missing_child", "trafficking"})
CYBER_CONCERNS = frozenset({"online_abuse", "illegal_content", "sextortion", "grooming"})


@dataclass(frozen=True)
class LoadResult:
    version: str
    added: int
    updated: int
    unchanged: int


def data_file() -> Path:
    """The active helpline pack's agencies.json."""
    return pack.active().agencies_file


def read_file(path: Path | None = None) -> dict[str, Any]:
    """Reads and checks the data file; raises ValueError naming the first bad entry."""
    path = path or data_file()
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data.get("version"), str) or not isinstance(data.get("agencies"), list):
        raise ValueError(f"{path}: needs a 'version' string and an 'agencies' list")
    seen: set[str] = set()
    for index, entry in enumerate(data["agencies"]):
        code = entry.get("code")
        if not isinstance(code, str) or not code or len(code) > 48 or code in seen:
            raise ValueError(f"{path}: agency #{index} has a missing, long or repeated code")
        if entry.get("kind") not in KINDS:
            raise ValueError(f"{path}: agency {code} has an unknown kind {entry.get('kind')!r}")
        if not isinstance(entry.get("name"), str) or not entry["name"]:
            raise ValueError(f"{path}: agency {code} has no name")
        seen.add(code)
    return data


async def load(db: AsyncSession, path: Path | None = None) -> LoadResult:
    """Upserts every agency of the file by code, in the caller's transaction; idempotent."""
    data = read_file(path)
    existing = {a.code: a for a in (await db.execute(select(Agency))).scalars()}
    added = updated = unchanged = 0
    for entry in data["agencies"]:
        agency = existing.get(entry["code"])
        if agency is None:
            db.add(Agency(code=entry["code"], name=entry["name"], kind=entry["kind"], county=entry.get("county"),
                          municipality=entry.get("municipality"), active=True))
            added += 1
            continue
        changed = False
        for name in FILE_FIELDS:
            if getattr(agency, name) != entry.get(name):
                setattr(agency, name, entry.get(name))
                changed = True
        updated += changed
        unchanged += not changed
    await db.flush()
    return LoadResult(str(data["version"]), added, updated, unchanged)


slug = pack.slug  # 'Malësi e Madhe' -> 'malesi-e-madhe': how routing builds codes from place names


def suggest_code(municipality: str | None, county: str | None, concern: str | None) -> str | None:
    """The agency code a referral form proposes first (the counsellor may pick any other), by the
    helpline pack's [routing] rules."""
    rules = pack.active()
    if concern in CYBER_CONCERNS:
        return rules.route("cyber")
    if concern in POLICE_CONCERNS:
        return rules.route("police", municipality, county) if county else rules.route("police_national")
    if municipality:
        return rules.route("child_protection", municipality, county or rules.county_of.get(municipality))
    return None


def public(agency: Agency) -> dict[str, Any]:
    return {"code": agency.code, "name": agency.name, "kind": agency.kind, "county": agency.county,
            "municipality": agency.municipality, "active": agency.active}
