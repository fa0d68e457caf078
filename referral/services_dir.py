"""The services directory (issue 19, ADR 0034): the agency directory plus each service's public
contacts (helpline.models.ServiceContact), searched by municipality and kind, imported and
exported as CSV by admins. The 61 Child Protection Units and the police directorates ship in
packs/al/agencies.json; an installation adds psychological, legal, medical, shelter and NGO
services (and every contact) with a CSV import. An import is all or nothing: one bad row and
nothing changes, with the row named."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from helpline.i18n import N_
from helpline.models import Agency, ServiceContact, utcnow
from referral import directory
from referral.service import ReferralError

# What a counsellor searches by, and the directory kinds each means.
SEARCH_KINDS = {"cpu": ("cpu",), "police": ("police", "police_cyber"), "psychological": ("psychological",),
                "legal": ("legal",), "medical": ("medical", "health"), "shelter": ("shelter",), "ngo": ("ngo",),
                "state_agency": ("state_agency",), "social": ("social",), "education": ("education",)}
CONTACT_FIELDS = ("phone", "email", "address", "website", "hours")
CONTACT_LIMITS = {"phone": 40, "email": 254, "address": 200, "website": 200, "hours": 100}
COLUMNS = ("code", "kind", "name", "county", "municipality", *CONTACT_FIELDS)
CODE = re.compile(r"^[a-z0-9][a-z0-9-]{0,47}$")
PHONE = re.compile(r"^[0-9 +()-]{3,40}$")
MAX_ROWS = 2000


def county_of(municipalities: list[dict[str, str]], municipality: str) -> str | None:
    return next((m["county"] for m in municipalities if m["name"] == municipality), None)


def as_dict(agency: Agency, contact: ServiceContact | None) -> dict[str, Any]:
    return {**directory.public(agency), **{f: getattr(contact, f) if contact else None for f in CONTACT_FIELDS}}


async def search(db: AsyncSession, municipality: str | None, county: str | None, kind: str | None
                 ) -> list[dict[str, Any]]:
    """Active services of a kind near a municipality: its own first, then its county's, then national."""
    query = (select(Agency, ServiceContact).outerjoin(ServiceContact, ServiceContact.agency_id == Agency.id)
             .where(Agency.active.is_(True), Agency.kind != "helpline"))
    if kind:
        query = query.where(Agency.kind.in_(SEARCH_KINDS[kind]))
    if municipality:
        around = Agency.municipality.is_(None) & ((Agency.county == county) | Agency.county.is_(None))
        query = query.where(or_(Agency.municipality == municipality, around))
    rows = (await db.execute(query)).all()

    def rank(row: Any) -> tuple[int, str]:
        agency = row[0]
        return (0 if agency.municipality else 1 if agency.county else 2, agency.name)
    return [as_dict(agency, contact) for agency, contact in sorted(rows, key=rank)]


async def unit_of(db: AsyncSession, municipality: str) -> dict[str, Any] | None:
    """The municipality's Child Protection Unit and its public contacts, for the child's page."""
    row = (await db.execute(select(Agency, ServiceContact)
                            .outerjoin(ServiceContact, ServiceContact.agency_id == Agency.id)
                            .where(Agency.kind == "cpu", Agency.municipality == municipality,
                                   Agency.active.is_(True)))).first()
    return as_dict(row[0], row[1]) if row else None


async def export_csv(db: AsyncSession) -> str:
    rows = (await db.execute(select(Agency, ServiceContact)
                             .outerjoin(ServiceContact, ServiceContact.agency_id == Agency.id)
                             .order_by(Agency.kind, Agency.county, Agency.code))).all()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for agency, contact in rows:
        data = as_dict(agency, contact)
        writer.writerow(["" if data[c] is None else data[c] for c in COLUMNS])
    return out.getvalue()


def _bad(line: int, message: str) -> ReferralError:
    return ReferralError(400, message, {"row": line})


def _row(line: int, raw: dict[str, Any]) -> dict[str, str | None]:
    row = {c: (str(raw.get(c) or "").strip() or None) for c in COLUMNS}
    if not row["code"] or not CODE.match(row["code"]):
        raise _bad(line, N_("Row %(row)d: the code must be lowercase letters, digits and dashes."))
    if row["kind"] not in directory.KINDS:
        raise _bad(line, N_("Row %(row)d: the kind is not one the directory knows."))
    if not row["name"] or len(row["name"]) > 160:
        raise _bad(line, N_("Row %(row)d: the name is missing or too long."))
    if any(len(row[f] or "") > n for f, n in {"county": 64, "municipality": 64, **CONTACT_LIMITS}.items()):
        raise _bad(line, N_("Row %(row)d: a value is too long."))
    if row["phone"] and not PHONE.match(row["phone"]):
        raise _bad(line, N_("Row %(row)d: a phone number may hold only digits, spaces and + ( ) -."))
    if row["email"] and ("@" not in row["email"] or any(ch.isspace() for ch in row["email"])):
        raise _bad(line, N_("Row %(row)d: the email is not an email address."))
    if row["website"] and not row["website"].startswith("https://"):
        raise _bad(line, N_("Row %(row)d: the website must start with https://."))
    return row


def parse_csv(text: str) -> list[dict[str, str | None]]:
    """Checks every row first (the import is all or nothing); raises ReferralError naming the row."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    if not reader.fieldnames or set(COLUMNS) - {f.strip() for f in reader.fieldnames}:
        raise ReferralError(400, N_("The CSV needs the columns: %(columns)s."), {"columns": ", ".join(COLUMNS)})
    rows, seen = [], set()
    for line, raw in enumerate(reader, start=2):
        if line > MAX_ROWS + 1:
            raise ReferralError(400, N_("The CSV has too many rows."))
        row = _row(line, {k.strip(): v for k, v in raw.items() if k})
        if row["code"] in seen:
            raise _bad(line, N_("Row %(row)d: this code is already in an earlier row."))
        seen.add(str(row["code"]))
        rows.append(row)
    return rows


async def import_rows(db: AsyncSession, rows: list[dict[str, str | None]]) -> dict[str, int]:
    """Upserts services by code and sets their contacts; officers and fallback addresses stay."""
    agencies = {a.code: a for a in (await db.execute(select(Agency))).scalars()}
    added = updated = 0
    for row in rows:
        agency = agencies.get(str(row["code"]))
        if agency is None:
            agency = Agency(code=row["code"], name=row["name"], kind=row["kind"], county=row["county"],
                            municipality=row["municipality"], active=True)
            db.add(agency)
            await db.flush()
            added += 1
        else:
            for name in directory.FILE_FIELDS:
                setattr(agency, name, row[name])
            updated += 1
        contact = await db.get(ServiceContact, agency.id)
        if contact is None:
            contact = ServiceContact(agency_id=agency.id)
            db.add(contact)
        for name in CONTACT_FIELDS:
            setattr(contact, name, row[name])
        contact.updated_at = utcnow()
    await db.flush()
    return {"added": added, "updated": updated}


async def contacts_by_agency(db: AsyncSession) -> dict[int, dict[str, str | None]]:
    """Every service's public contacts by agency id (the admins' directory view)."""
    rows = (await db.execute(select(ServiceContact))).scalars().all()
    return {c.agency_id: {f: getattr(c, f) for f in CONTACT_FIELDS} for c in rows}


def check_contacts(values: dict[str, str | None]) -> dict[str, str | None]:
    """One service's contacts as an admin typed them: trimmed, empty as None, checked as an import row is."""
    clean = {f: (str(values.get(f) or "").strip() or None) for f in CONTACT_FIELDS}
    if any(len(clean[f] or "") > n for f, n in CONTACT_LIMITS.items()):
        raise ReferralError(400, N_("A value is too long."))
    if clean["phone"] and not PHONE.match(clean["phone"]):
        raise ReferralError(400, N_("A phone number may hold only digits, spaces and + ( ) -."))
    if clean["email"] and ("@" not in clean["email"] or any(ch.isspace() for ch in clean["email"])):
        raise ReferralError(400, N_("That is not an email address."))
    if clean["website"] and not clean["website"].startswith("https://"):
        raise ReferralError(400, N_("The website must start with https://."))
    return clean


async def set_contacts(db: AsyncSession, agency: Agency, values: dict[str, str | None]) -> list[str]:
    """Sets one service's public contacts (the admin's edit of one row); returns the fields changed."""
    clean = check_contacts(values)
    contact = await db.get(ServiceContact, agency.id)
    if contact is None:
        if not any(clean.values()):
            return []
        contact = ServiceContact(agency_id=agency.id)
        db.add(contact)
    changed = sorted(f for f in CONTACT_FIELDS if getattr(contact, f) != clean[f])
    for name in CONTACT_FIELDS:
        setattr(contact, name, clean[name])
    contact.updated_at = utcnow()
    return changed
