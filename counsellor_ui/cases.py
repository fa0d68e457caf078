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
from helpline import taxonomy, validate
from helpline.crypto import CryptoError, check_ciphertext_shape
from helpline.i18n import N_
from helpline.models import CaseRecord, Conversation, ConversationState, Role, Staff, utcnow
from helpline.security import access, audit
from helpline.security.access import Action, Thing
from helpline.staffweb import Refused, StaffCall, staff_route
from helpline.validate import Optional

MAX_NOTE_BYTES = 16384
KEY = validate.string(96, 96)  # a wrapped 32-byte key: 72 bytes in base64url


def _note_keys(name: str, value: Any) -> dict[str, Any]:
    clean = validate.fields(value, {"epk": validate.string(43, 43),
                                    "keys": validate.mapping(validate.string(48), KEY, 500)})
    if not clean["keys"]:
        raise validate.Invalid(N_("'%(name)s' must wrap the note key for at least one reader."), name=name)
    return clean


validate.described(_note_keys, validate.object_schema(
    {"epk": validate.string(43, 43), "keys": validate.mapping(validate.string(48), KEY, 500)}))
_note_keys.schema["properties"]["keys"]["minProperties"] = 1  # type: ignore[attr-defined]


def _case_spec() -> dict[str, validate.Check]:
    tax = taxonomy.load()
    return {
        "contact_type": validate.choice(*tax.codes("contact_types")),
        "primary_category": Optional(validate.choice(*sorted(tax.categories))),
        "secondary_categories": Optional(validate.list_of(validate.choice(*sorted(tax.subcategories)), 8), []),
        "risk": validate.choice(*tax.codes("risk_levels")),
        "age_band": Optional(validate.choice(*tax.codes("age_bands"))),
        "gender": Optional(validate.choice(*tax.codes("genders"))),
        "outcome": validate.choice(*tax.codes("outcomes")),
        "follow_up": Optional(validate.boolean, False),
        "note": Optional(validate.string(MAX_NOTE_BYTES * 2)),
        "note_keys": Optional(_note_keys),
    }


def case_dict(case: CaseRecord, *, with_note: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "conv": case.conversation_id, "contact_type": case.contact_type,
        "primary_category": case.primary_category, "secondary_categories": case.secondary_categories,
        "risk": case.risk, "age_band": case.age_band, "gender": case.gender, "outcome": case.outcome,
        "follow_up": case.follow_up, "taxonomy_version": case.taxonomy_version,
        "created_at": case.created_at.isoformat(), "updated_at": case.updated_at.isoformat(),
    }
    if with_note:
        out.update(note=case.note, note_keys=case.note_keys)
    return out


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
    return JSONResponse(taxonomy.load().translated(call.locale))


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
    conv_id = call.request.path_params["conv"]
    body = await call.body(_case_spec())
    if body["contact_type"] == "counselling" and body["primary_category"] is None:
        raise Refused(400, call.t("A counselling contact needs a primary category."))
    if (body["note"] is None) != (body["note_keys"] is None):
        raise Refused(400, call.t("A case note must come with its wrapped keys."))
    if body["note"] is not None:
        try:
            check_ciphertext_shape(body["note"], MAX_NOTE_BYTES)
        except CryptoError as exc:
            raise Refused(400, call.t("The case note is not accepted: %(reason)s.") % {"reason": exc}) from None
    async with call.services.store.write() as db:
        conv = await _conversation_for(db, call, conv_id, Action.WRITE)
        if conv.state == ConversationState.QUEUED:
            raise Refused(409, call.t("A case is recorded once the chat has started."))
        case = (await db.execute(select(CaseRecord).where(CaseRecord.conversation_id == conv_id))).scalar_one_or_none()
        if case is None:
            case = CaseRecord(conversation_id=conv_id, counsellor_id=conv.counsellor_id or call.staff.id,
                              created_at=utcnow())
            db.add(case)
        for name, value in body.items():
            setattr(case, name, value)
        if body["note"] is None:
            case.note, case.note_keys = None, None
        case.taxonomy_version = taxonomy.load().version
        case.updated_at = utcnow()
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
    query = query.where(access.conversation_condition(call.staff.id, call.staff.role, Thing.CASE, Action.READ))
    if start:
        query = query.where(Conversation.created_at >= start)
    if end:
        query = query.where(Conversation.created_at < end + dt.timedelta(days=1))
    if category:
        query = query.where(CaseRecord.primary_category == category)
    if risk:
        query = query.where(CaseRecord.risk == risk)
    if status == "recorded":
        query = query.where(CaseRecord.id.is_not(None))
    elif status == "pending":
        query = query.where(CaseRecord.id.is_(None))
    async with call.services.store.read() as db:
        rows = (await db.execute(query.order_by(Conversation.created_at.desc()).limit(limit))).all()
    return JSONResponse({"cases": [
        {"conv": conv.id, "state": conv.state, "created_at": conv.created_at.isoformat(),
         "ended_at": conv.ended_at.isoformat() if conv.ended_at else None,
         "mine": conv.counsellor_id == call.staff.id, "returning": conv.returning,
         **({"recorded": True, **case_dict(case, with_note=False)} if case else {"recorded": False}),
         # The chat's start, whatever the record says (its own created_at is the wrap-up time).
         "started_at": conv.created_at.isoformat()}
        for conv, case in rows]})


async def pending_wrap_up(call: StaffCall) -> Response:
    async with call.services.store.read() as db:
        return JSONResponse({"conv": await repo.pending_wrap_up(db, call.staff.id)})


routes = [
    staff_route("/console/api/taxonomy", "case.write", taxonomy_view),
    staff_route("/console/api/colleagues", "staff.directory", staff_keys),
    staff_route("/console/api/cases", "case.read", list_cases),
    staff_route("/console/api/cases/pending", "case.write", pending_wrap_up),
    staff_route("/console/api/cases/{conv}", "case.read", read_case),
    staff_route("/console/api/cases/{conv}", "case.write", save_case, methods=("PUT",), body=_case_spec()),
]
