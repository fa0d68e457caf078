"""Case records: how each contact is counted, plus a case note only staff browsers can open.

Everything but the note is metadata for statistics. The note is ciphertext: the browser seals it
under a fresh key and wraps that key for every helpline staff key it could check against the org
key (docs/encryption.md). Every read and write is audited.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import JSONResponse, Response

from chat import repository as repo
from counsellor_ui import contact_form, contacts
from helpline import taxonomy
from helpline.models import CaseRecord, Conversation, ConversationState, Role, Staff, utcnow
from helpline.security import access, audit
from helpline.security.access import Action, Thing
from helpline.staffweb import Refused, StaffCall, staff_route

case_dict = contact_form.record_dict


async def _conversation_for(db: AsyncSession, call: StaffCall, conv_id: str, action: Action) -> Conversation:
    """The conversation if this staff member may take the action on its case record; else 404 or 403."""
    conv = await repo.get_conversation(db, conv_id)
    if conv is None:
        raise Refused(404, call.t("No such conversation."))
    relation = access.conversation_relation(call.staff.id, call.staff.role, holder_id=conv.counsellor_id,
                                            granted=await repo.is_granted(db, conv_id, call.staff.id))
    if not access.may(call.staff.role, relation, Thing.CASE, action):
        raise Refused(403, call.t("This case is not yours."))
    return conv


async def taxonomy_view(call: StaffCall) -> Response:
    """The form's lists in the staff member's language, with the municipalities (names, not translated)."""
    return JSONResponse({**taxonomy.load().translated(call.locale),
                         "municipalities": sorted(contact_form.county_of())})


async def staff_keys(call: StaffCall) -> Response:
    """Colleagues who chat, with their org-signed keys and load: for transfers and case-note readers."""
    async with call.services.store.read() as db:
        rows = (await db.execute(select(Staff).where(
            Staff.role.in_([Role.COUNSELLOR, Role.SUPERVISOR]), Staff.disabled.is_(False),
            Staff.public_key.is_not(None), Staff.key_signature.is_not(None)).order_by(Staff.display_name))).scalars()
        out = []
        for staff in rows:
            out.append({"id": staff.participant_id, "name": staff.display_name, "role": staff.role,
                        "public_key": staff.public_key, "signature": staff.key_signature, "status": staff.status,
                        "held": await repo.count_held(db, staff.id),
                        "max": staff.max_chats or call.services.settings.max_chats})
    return JSONResponse({"staff": out})


async def save_case(call: StaffCall) -> Response:
    """A chat's wrap-up: the same form and rules as any other contact (counsellor_ui.contact_form)."""
    conv_id = call.request.path_params["conv"]
    body = await call.body(contact_form.spec(chat=True))
    contact_form.check(call, body)
    async with call.services.store.write() as db:
        conv = await _conversation_for(db, call, conv_id, Action.WRITE)
        if conv.state == ConversationState.QUEUED:
            raise Refused(409, call.t("A case is recorded once the chat has started."))
        case = (await db.execute(select(CaseRecord).where(CaseRecord.conversation_id == conv_id))).scalar_one_or_none()
        if case is None:
            case = CaseRecord(conversation_id=conv_id, counsellor_id=conv.counsellor_id or call.staff.id,
                              created_at=utcnow())
            db.add(case)
        contact_form.apply(case, {**body, "contact_by": body["contact_by"] or conv.contact_by,
                                  "municipality": body["municipality"] or conv.municipality})
        case.channel = "chat"
        case.started_at = conv.accepted_at or conv.created_at
        end = conv.ended_at or utcnow()
        case.duration_seconds = max(0, int((end - case.started_at).total_seconds()))
        await db.flush()
        await audit.record(db, call.actor, "case.write", f"conv:{conv_id}",
                           {"contact_type": case.contact_type, "risk": case.risk})
        return JSONResponse(case_dict(case, with_note=False))


async def read_case(call: StaffCall) -> Response:
    conv_id = call.request.path_params["conv"]
    async with call.services.store.write() as db:
        conv = await _conversation_for(db, call, conv_id, Action.READ)
        case = (await db.execute(select(CaseRecord).where(CaseRecord.conversation_id == conv_id))).scalar_one_or_none()
        await audit.record(db, call.actor, "case.read", f"conv:{conv_id}")
        return JSONResponse({"conv": conv.id, "state": conv.state, "prechat": _prechat(conv),
                             "case": case_dict(case, with_note=True) if case else None})


def _prechat(conv: Conversation) -> dict[str, Any]:
    return {"age_band": conv.age_band, "gender": conv.gender, "municipality": conv.municipality,
            "topic": conv.topic, "who": conv.contact_by, "returning": conv.returning}


def _date(call: StaffCall, name: str) -> dt.datetime | None:
    raw = call.request.query_params.get(name)
    if not raw:
        return None
    try:
        day = dt.date.fromisoformat(raw)
    except ValueError:
        raise Refused(400, call.t("'%(name)s' must be a date like 2026-11-25.") % {"name": name}) from None
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


async def list_cases(call: StaffCall) -> Response:
    """Metadata only: date, categories, risk, status. Search by date range, category, risk, status."""
    params = call.request.query_params
    tax = taxonomy.load()
    start, end = _date(call, "from"), _date(call, "to")
    category, risk, status = params.get("category"), params.get("risk"), params.get("status", "all")
    if category and category not in tax.categories:
        raise Refused(400, call.t("Unknown category."))
    if risk and risk not in tax.codes("risk_levels"):
        raise Refused(400, call.t("Unknown risk level."))
    if status not in ("all", "recorded", "pending"):
        raise Refused(400, call.t("'status' must be all, recorded or pending."))
    limit = call.query_int("limit", 100, 1, 500)
    query = (
        select(Conversation, CaseRecord).outerjoin(CaseRecord, CaseRecord.conversation_id == Conversation.id)
        .where(Conversation.state.in_([ConversationState.ACTIVE, ConversationState.ENDED])))
    query = contacts.listing_filters(
        query.where(access.conversation_condition(call.staff.id, call.staff.role, Thing.CASE, Action.READ)),
        Conversation.created_at, start=start, end=end, category=category, risk=risk)
    if status == "recorded":
        query = query.where(CaseRecord.id.is_not(None))
    elif status == "pending":
        query = query.where(CaseRecord.id.is_(None))
    async with call.services.store.read() as db:
        rows = (await db.execute(query.order_by(Conversation.created_at.desc()).limit(limit))).all()
        others = [] if status == "pending" else await contacts.listed_contacts(
            db, call, start=start, end=end, category=category, risk=risk, limit=limit)
    chats = [
        {**({"recorded": True, **case_dict(case, with_note=False)} if case else {"recorded": False}),
         "conv": conv.id, "state": conv.state, "created_at": conv.created_at.isoformat(),
         "ended_at": conv.ended_at.isoformat() if conv.ended_at else None,
         "mine": conv.counsellor_id == call.staff.id, "returning": conv.returning,
         # The chat's start, whatever the record says (its own created_at is the wrap-up time).
         "started_at": conv.created_at.isoformat()}
        for conv, case in rows]
    # Every contact, newest first: chats and the calls, e-mails and visits recorded beside them.
    merged = sorted(chats + others, key=lambda row: row["created_at"], reverse=True)[:limit]
    return JSONResponse({"cases": merged})


async def pending_wrap_up(call: StaffCall) -> Response:
    async with call.services.store.read() as db:
        return JSONResponse({"conv": await repo.pending_wrap_up(db, call.staff.id)})


routes = [
    staff_route("/console/api/taxonomy", "case.write", taxonomy_view),
    staff_route("/console/api/colleagues", "staff.directory", staff_keys),
    staff_route("/console/api/cases", "case.read", list_cases),
    staff_route("/console/api/cases/pending", "case.write", pending_wrap_up),
    staff_route("/console/api/cases/{conv}", "case.read", read_case),
    staff_route("/console/api/cases/{conv}", "case.write", save_case, methods=("PUT",),
                body=contact_form.spec(chat=True)),
]
