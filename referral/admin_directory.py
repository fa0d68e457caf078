"""Admins edit the agency directory in the console (issue 4): each agency's name, fallback contact
and whether it takes referrals, and which officer accounts belong to it (with the address their
notices go to). Every change is audited; the UI is counsellor_ui/static/console_directory.js.

`helpline directory load` adds and updates agencies from the data file by code, so a later load
puts back the file's name of an agency an admin renamed; contacts and officers are never touched
by a load.

Beside them, the admins' view of the notice outbox (/admin/api/outbox): every notice and its
delivery status."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from helpline import validate
from helpline.models import Agency, OfficerContact, Role, Staff, utcnow
from helpline.security import audit
from helpline.staffweb import Refused, StaffCall, staff_route
from referral import directory, notices, services_dir
from referral.service import ReferralError

BASE = "/admin/api/agencies"


def _email(call: StaffCall, value: str | None) -> str | None:
    value = (value or "").strip()
    if not value:
        return None
    if "@" not in value or len(value) > 254 or any(c.isspace() for c in value):
        raise Refused(400, call.t("That is not an email address."))
    return value


async def _agency(call: StaffCall, db: AsyncSession) -> Agency:
    code = str(call.request.path_params["code"])[:48]
    agency = (await db.execute(select(Agency).where(Agency.code == code))).scalar_one_or_none()
    if agency is None:
        raise Refused(404, call.t("There is no such agency."))
    return agency


async def list_agencies(call: StaffCall) -> Response:
    """Every agency (also those that take no referrals), its officers, and the officer accounts."""
    async with call.services.store.read() as db:
        agencies = (await db.execute(select(Agency).order_by(Agency.kind, Agency.county, Agency.name))).scalars().all()
        officers = (await db.execute(select(Staff, OfficerContact.email)
                                     .outerjoin(OfficerContact, OfficerContact.staff_id == Staff.id)
                                     .where(Staff.role == Role.OFFICER.value).order_by(Staff.username))).all()
        contacts = await services_dir.contacts_by_agency(db)  # the public contacts, edited per row (issue 19)
    by_agency: dict[int, list[dict[str, Any]]] = {}
    for staff, email in officers:
        if staff.agency_id is not None:
            by_agency.setdefault(staff.agency_id, []).append(
                {"id": staff.public_id, "username": staff.username, "name": staff.display_name, "email": email,
                 "disabled": staff.disabled, "key": bool(staff.public_key and staff.key_signature)})
    codes = {a.id: a.code for a in agencies}
    return JSONResponse({
        "agencies": [{**directory.public(a), "fallback_email": a.fallback_email, "officers": by_agency.get(a.id, []),
                      "contacts": contacts.get(a.id, dict.fromkeys(services_dir.CONTACT_FIELDS))}
                     for a in agencies],
        "officer_accounts": [{"username": s.username, "name": s.display_name, "agency": codes.get(s.agency_id or -1)}
                             for s, _email in officers],
    })


AGENCY: dict[str, validate.Check] = {
    "name": validate.string(160, 2), "fallback_email": validate.Optional(validate.string(254)),
    "active": validate.boolean,
    # The service's public contacts (issue 19), edited with the row; absent: left as they are.
    "contacts": validate.Optional(validate.mapping(validate.choice(*services_dir.CONTACT_FIELDS),
                                                   validate.Optional(validate.string(254, 0)),
                                                   len(services_dir.CONTACT_FIELDS)))}
OFFICER: dict[str, validate.Check] = {"username": validate.string(64), "email": validate.Optional(validate.string(254))}


async def save_agency(call: StaffCall) -> Response:
    data = await call.body(AGENCY)
    async with call.services.store.write() as db:
        agency = await _agency(call, db)
        email = _email(call, data["fallback_email"])
        if data["contacts"] is not None:  # checked before anything changes
            try:
                services_dir.check_contacts(data["contacts"])
            except ReferralError as exc:
                raise Refused(exc.status, call.t(exc.message)) from None
        changed = {k: v for k, v in (("name", data["name"]), ("fallback_email", email), ("active", data["active"]))
                   if getattr(agency, k) != v}
        for key, value in changed.items():
            setattr(agency, key, value)
        fields = sorted(changed)
        if data["contacts"] is not None:
            fields += [f"contact.{name}" for name in await services_dir.set_contacts(db, agency, data["contacts"])]
        if fields:
            # The audit says what changed, not the addresses themselves.
            await audit.record(db, call.actor, "agency.updated", f"agency:{agency.code}", {"fields": fields})
        return JSONResponse({**directory.public(agency), "fallback_email": agency.fallback_email})


async def add_officer(call: StaffCall) -> Response:
    data = await call.body(OFFICER)
    async with call.services.store.write() as db:
        agency = await _agency(call, db)
        email = _email(call, data["email"])
        staff = (await db.execute(select(Staff).where(Staff.username == data["username"]))).scalar_one_or_none()
        if staff is None or staff.role != Role.OFFICER.value:
            raise Refused(400, call.t("Only an officer account can join an agency; create one in Staff accounts."))
        moved_from = staff.agency_id
        staff.agency_id = agency.id
        contact = await db.get(OfficerContact, staff.id)
        if email and contact is None:
            db.add(OfficerContact(staff_id=staff.id, email=email, updated_at=utcnow()))
        elif email and contact is not None:
            contact.email, contact.updated_at = email, utcnow()
        await audit.record(db, call.actor, "agency.officer_added", staff.participant_id,
                           {"agency": agency.code, "moved": moved_from not in (None, agency.id)})
        return JSONResponse({"username": staff.username, "agency": agency.code}, status_code=201)


async def remove_officer(call: StaffCall) -> Response:
    """The officer leaves the agency: they see none of its referrals from now on."""
    async with call.services.store.write() as db:
        agency = await _agency(call, db)
        staff = (await db.execute(select(Staff).where(Staff.public_id == str(call.request.path_params["staff_id"]),
                                                      Staff.agency_id == agency.id))).scalar_one_or_none()
        if staff is None:
            raise Refused(404, call.t("This officer is not in this agency."))
        staff.agency_id = None
        contact = await db.get(OfficerContact, staff.id)
        if contact is not None:
            await db.delete(contact)
        await audit.record(db, call.actor, "agency.officer_removed", staff.participant_id, {"agency": agency.code})
        return JSONResponse({"username": staff.username, "agency": None})


# -- the notice outbox -----------------------------------------------------------------------------


async def admin_outbox(call: StaffCall) -> Response:
    """Every notice and its delivery status; with no SMTP server these are the outbox's files."""
    folder = notices.outbox_folder(call.services.settings)
    async with call.services.store.read() as db:
        items: list[dict[str, Any]] = await notices.listing(db)
    files = sorted(p.name for p in folder.glob("*.eml")) if folder.is_dir() else []
    return JSONResponse({"mode": "smtp" if call.services.settings.smtp_host else "outbox", "notices": items,
                         "outbox_files": files})


routes: list[BaseRoute] = [
    staff_route(BASE, "admin.agencies", list_agencies),
    staff_route(BASE + "/{code:str}", "admin.agencies", save_agency, methods=("PUT",), body=AGENCY),
    staff_route(BASE + "/{code:str}/officers", "admin.agencies", add_officer, methods=("POST",), body=OFFICER),
    staff_route(BASE + "/{code:str}/officers/{staff_id:str}", "admin.agencies", remove_officer, methods=("DELETE",)),
    staff_route("/admin/api/outbox", "admin.outbox", admin_outbox),
]
