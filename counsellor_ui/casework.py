"""Cases: the contacts about one child or family over time, with an owner, a team and follow-ups.

The case key is made in the owner's browser and wrapped there for the team only: the owner, the
supervisors, and each colleague the owner adds (ADR 0026). A contact linked to the case carries its
note key sealed under the case key. The server stores wrapped keys and ciphertext, never a key,
and checks every read and write against the one access rule; every read and change is audited.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import JSONResponse, Response

from counsellor_ui import casework_data as data
from helpline import validate
from helpline.models import Case, CaseMember, CaseRecord, Role, Staff, utcnow
from helpline.security import access, audit
from helpline.security.access import Action
from helpline.staffweb import Refused, StaffCall, staff_route
from helpline.validate import Optional

WRAPS = validate.mapping(data.PARTICIPANT, data.KEY, 200)
OPEN_SPEC: dict[str, validate.Check] = {
    "record": validate.integer(1, 2**31 - 1), "epk": data.PUBLIC_KEY, "keys": WRAPS,
    "case_note_key": Optional(data.KEY)}
LINK_SPEC: dict[str, validate.Check] = {"record": validate.integer(1, 2**31 - 1), "case_note_key": Optional(data.KEY)}
MEMBER_SPEC: dict[str, validate.Check] = {"staff": data.PARTICIPANT, "epk": data.PUBLIC_KEY, "wrapped_key": data.KEY}
STATUS_SPEC: dict[str, validate.Check] = {"status": validate.choice("open", "closed")}


def _case_id(call: StaffCall) -> int:
    value: int = call.request.path_params["case"]
    return value


async def _add_members(db: AsyncSession, call: StaffCall, case: Case, epk: str, keys: dict[str, str]) -> None:
    for participant, wrapped in keys.items():
        staff = await data.colleague(db, call, participant)
        row = await data.member_row(db, case.id, staff.id)
        if row is None:
            db.add(CaseMember(case_id=case.id, staff_id=staff.id, wrapped_key=wrapped, wrapper_public_key=epk,
                              added_by=call.staff.id, added_at=utcnow()))
        else:  # wrapped again (a new key of theirs): the latest wrap replaces the old one
            row.wrapped_key, row.wrapper_public_key = wrapped, epk


async def open_case(call: StaffCall) -> Response:
    """Opens a case from a contact record: the caller owns it; the key is wrapped for the caller and
    may be for supervisors (never another counsellor: the owner adds colleagues afterwards)."""
    body = await call.body(OPEN_SPEC)
    if call.staff.participant_id not in body["keys"]:
        raise Refused(400, call.t("Wrap the case key for yourself too."))
    async with call.services.store.write() as db:
        record = await data.record_for(db, call, body["record"])
        if record.case_id is not None:
            raise Refused(409, call.t("This contact is already in a case."))
        for participant in body["keys"]:
            staff = await data.colleague(db, call, participant)
            if staff.id != call.staff.id and staff.role != Role.SUPERVISOR:
                raise Refused(400, call.t("A new case is shared with you and the supervisors only; "
                                          "add colleagues once it is open."))
        now = utcnow()
        case = Case(owner_id=call.staff.id, status="open", created_by=call.staff.id, created_at=now, updated_at=now)
        db.add(case)
        await db.flush()
        await _add_members(db, call, case, body["epk"], body["keys"])
        record.case_id, record.case_note_key = case.id, body["case_note_key"]
        await audit.record(db, call.actor, "casefile.open", f"casefile:{case.id}", {"record": record.id})
        return JSONResponse({"case": case.id}, status_code=201)


async def link_contact(call: StaffCall) -> Response:
    """Links a later contact record to the case (a team member who may write the record)."""
    body = await call.body(LINK_SPEC)
    async with call.services.store.write() as db:
        case = await data.case_for(db, call, _case_id(call), Action.WRITE)
        record = await data.record_for(db, call, body["record"])
        if record.case_id is not None and record.case_id != case.id:
            raise Refused(409, call.t("This contact is already in another case."))
        record.case_id, record.case_note_key = case.id, body["case_note_key"]
        case.updated_at = utcnow()
        await audit.record(db, call.actor, "casefile.link", f"casefile:{case.id}", {"record": record.id})
        return JSONResponse({"case": case.id, "record": record.id})


async def add_member(call: StaffCall) -> Response:
    """The owner (or a supervisor) adds a colleague: their browser wrapped the case key for her."""
    body = await call.body(MEMBER_SPEC)
    async with call.services.store.write() as db:
        case = await data.case_for(db, call, _case_id(call), Action.TRANSFER)
        staff = await data.colleague(db, call, body["staff"])
        await _add_members(db, call, case, body["epk"], {body["staff"]: body["wrapped_key"]})
        case.updated_at = utcnow()
        await audit.record(db, call.actor, "casefile.member", f"casefile:{case.id}", {"staff": staff.participant_id})
        return JSONResponse({"team": await data.team(db, case)})


async def set_status(call: StaffCall) -> Response:
    body = await call.body(STATUS_SPEC)
    async with call.services.store.write() as db:
        case = await data.case_for(db, call, _case_id(call), Action.WRITE)
        case.status, case.updated_at = body["status"], utcnow()
        await audit.record(db, call.actor, "casefile.status", f"casefile:{case.id}", {"status": case.status})
        return JSONResponse({"case": case.id, "status": case.status})


async def read_case(call: StaffCall) -> Response:
    """The case view: owner, status, team, the caller's wrapped case key, timeline and follow-ups."""
    async with call.services.store.write() as db:
        case = await data.case_for(db, call, _case_id(call), Action.READ)
        owner = await db.get(Staff, case.owner_id)
        mine = await data.member_row(db, case.id, call.staff.id)
        await audit.record(db, call.actor, "casefile.read", f"casefile:{case.id}")
        return JSONResponse({
            "id": case.id, "status": case.status, "owner": owner.participant_id if owner else None,
            "owner_name": owner.display_name if owner else None, "created_at": case.created_at.isoformat(),
            "updated_at": case.updated_at.isoformat(), "team": await data.team(db, case),
            "key": {"epk": mine.wrapper_public_key, "wrapped": mine.wrapped_key} if mine else None,
            "contacts": await data.timeline(db, case, call.staff.participant_id),
            "tasks": await data.tasks_of(db, case.id)})


async def list_cases(call: StaffCall) -> Response:
    """The cases this staff member may read (metadata only), and their own contacts not yet in a case,
    each with the cases of the same child's earlier contacts (offered for linking)."""
    condition = access.case_file_condition(call.staff.id, call.staff.role, Action.READ)
    contacts = (select(CaseRecord.case_id, func.count(CaseRecord.id)).where(CaseRecord.case_id.is_not(None))
                .group_by(CaseRecord.case_id).subquery())
    query = (select(Case, Staff.display_name, contacts.c[1]).join(Staff, Staff.id == Case.owner_id)
             .outerjoin(contacts, contacts.c.case_id == Case.id).where(condition)
             .order_by(Case.updated_at.desc()).limit(200))
    async with call.services.store.read() as db:
        cases = [{"id": case.id, "status": case.status, "owner_name": name, "mine": case.owner_id == call.staff.id,
                  "contacts": count or 0, "updated_at": case.updated_at.isoformat()}
                 for case, name, count in (await db.execute(query)).all()]
        records = (await db.execute(select(CaseRecord).where(
            CaseRecord.counsellor_id == call.staff.id, CaseRecord.case_id.is_(None))
            .order_by(CaseRecord.created_at.desc()).limit(50))).scalars().all()
        unlinked = [{"record": r.id, "conv": r.conversation_id, "created_at": r.created_at.isoformat(),
                     "contact_type": r.contact_type, "primary_category": r.primary_category, "risk": r.risk,
                     "note": r.note, "note_keys": r.note_keys, "earlier_cases": await data.earlier_cases(db, r)}
                    for r in records]
    return JSONResponse({"cases": cases, "unlinked": unlinked})


routes = [
    staff_route("/console/api/casework", "case.read", list_cases),
    staff_route("/console/api/casework", "case.write", open_case, methods=("POST",), body=OPEN_SPEC),
    staff_route("/console/api/casework/{case:int}", "case.read", read_case),
    staff_route("/console/api/casework/{case:int}", "case.write", set_status, methods=("PUT",), body=STATUS_SPEC),
    staff_route("/console/api/casework/{case:int}/contacts", "case.write", link_contact, methods=("POST",),
                body=LINK_SPEC),
    staff_route("/console/api/casework/{case:int}/members", "case.write", add_member, methods=("POST",),
                body=MEMBER_SPEC),
]
