"""Contacts that did not come through the chat: a call to the helpline, an e-mail, a visit, a letter, a report.

The console records one with the same form and rules as a chat's wrap-up (counsellor_ui.contact_form)
into the same table, ``case_records`` (docs/adr/0025-one-contact-one-form.md). The browser names the
contact with a random ``ref`` before saving, so the note it seals is bound to that id and a second
press of "Save" updates the same record instead of counting the call twice. No phone number or name
is asked for or stored. Every read and write is audited.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, TypeVarTuple

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import JSONResponse, Response

from counsellor_ui import contact_form
from helpline.models import CaseRecord, utcnow
from helpline.security import access, audit
from helpline.security.access import Action, Thing
from helpline.staffweb import Refused, StaffCall, staff_route


def _ref(call: StaffCall) -> str:
    ref = call.request.path_params["ref"]
    try:
        return str(contact_form.REF("ref", ref))
    except ValueError:
        raise Refused(404, call.t("No such contact.")) from None


async def _contact_for(db: AsyncSession, call: StaffCall, ref: str, action: Action) -> CaseRecord | None:
    """The contact's record if this staff member may take the action on it; None if there is none
    yet; 403 if it is someone else's."""
    record = (await db.execute(select(CaseRecord).where(CaseRecord.ref == ref))).scalar_one_or_none()
    if record is None:
        return None
    relation = access.contact_relation(call.staff.id, call.staff.role, recorded_by=record.counsellor_id)
    if not access.may(call.staff.role, relation, Thing.CASE, action):
        raise Refused(403, call.t("This case is not yours."))
    return record


async def save_contact(call: StaffCall) -> Response:
    """Records (or corrects) a contact on a channel other than the chat."""
    ref = _ref(call)
    body = await call.body(contact_form.spec(chat=False))
    contact_form.check(call, body)
    body["started_at"] = contact_form.moment(call, "started_at", body["started_at"])
    async with call.services.store.write() as db:
        record = await _contact_for(db, call, ref, Action.WRITE)
        created = record is None
        if record is None:
            record = CaseRecord(ref=ref, counsellor_id=call.staff.id, created_at=utcnow())
            db.add(record)
        contact_form.apply(record, body)
        await db.flush()
        await audit.record(db, call.actor, "contact.write", f"contact:{record.id}",
                           {"channel": record.channel, "contact_type": record.contact_type, "risk": record.risk})
        return JSONResponse(contact_form.record_dict(record, with_note=False), status_code=201 if created else 200)


async def read_contact(call: StaffCall) -> Response:
    ref = _ref(call)
    async with call.services.store.write() as db:
        record = await _contact_for(db, call, ref, Action.READ)
        if record is None:
            raise Refused(404, call.t("No such contact."))
        await audit.record(db, call.actor, "contact.read", f"contact:{record.id}")
        return JSONResponse({"contact": contact_form.record_dict(record, with_note=True)})


Row = TypeVarTuple("Row")


def listing_filters(query: Select[*Row], moment: Any, *, start: dt.datetime | None, end: dt.datetime | None,
                    category: str | None, risk: str | None) -> Select[*Row]:
    """The case list's filters, one rule for chats (by their start) and other contacts (by theirs):
    from `start`, through the whole day of `end`, a main category, a risk level."""
    if start:
        query = query.where(moment >= start)
    if end:
        query = query.where(moment < end + dt.timedelta(days=1))
    if category:
        query = query.where(CaseRecord.primary_category == category)
    if risk:
        query = query.where(CaseRecord.risk == risk)
    return query


async def listed_contacts(db: AsyncSession, call: StaffCall, *, start: dt.datetime | None, end: dt.datetime | None,
                          category: str | None, risk: str | None, limit: int) -> list[dict[str, Any]]:
    """The case list's rows for contacts no chat carries (metadata only), newest first."""
    query = listing_filters(select(CaseRecord).where(
        CaseRecord.conversation_id.is_(None), access.contact_condition(call.staff.id, call.staff.role, Action.READ)),
        CaseRecord.started_at, start=start, end=end, category=category, risk=risk)
    rows = (await db.execute(query.order_by(CaseRecord.started_at.desc()).limit(limit))).scalars()
    return [{**contact_form.record_dict(r, with_note=False), "state": "recorded",
             "created_at": (r.started_at or r.created_at).isoformat(), "ended_at": None,
             "mine": r.counsellor_id == call.staff.id, "returning": False, "recorded": True} for r in rows]


routes = [
    staff_route("/console/api/contacts/{ref}", "case.read", read_contact),
    staff_route("/console/api/contacts/{ref}", "case.write", save_contact, methods=("PUT",),
                body=contact_form.spec(chat=False)),
]
