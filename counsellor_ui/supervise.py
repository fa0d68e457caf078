"""The supervisor's view: live chats, the queue with waits, counsellors' load and status, alerts."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from starlette.responses import JSONResponse, Response

from chat import duty
from helpline import validate
from helpline.models import Conversation, ConversationState, Role, Staff, utcnow
from helpline.security import audit
from helpline.staffweb import Refused, StaffCall, staff_route


async def overview(call: StaffCall) -> Response:
    now = utcnow()
    settings = call.services.settings
    async with call.services.store.read() as db:
        staff_rows = (await db.execute(select(Staff).where(
            Staff.role.in_([Role.COUNSELLOR, Role.SUPERVISOR]), Staff.disabled.is_(False))
            .order_by(Staff.display_name))).scalars().all()
        held = {row[0]: row[1] for row in await db.execute(select(Conversation.counsellor_id, func.count()).where(
            Conversation.state == ConversationState.ACTIVE).group_by(Conversation.counsellor_id))}
        live = (await db.execute(select(Conversation).where(Conversation.state.in_(
            [ConversationState.QUEUED, ConversationState.ACTIVE])).order_by(Conversation.created_at))).scalars().all()
        holders = {c.counsellor_id for c in live if c.state == ConversationState.ACTIVE and c.counsellor_id}
        gone = await duty.gone_for_at_least(db, holders, settings.takeover_after_seconds)  # ADR 0027
    names = {s.id: s.display_name for s in staff_rows}
    long_wait = settings.long_wait_minutes * 60
    chats = []
    for conv in live:
        waited = int(((conv.accepted_at or now) - conv.created_at).total_seconds())
        chats.append({"conv": conv.id, "state": conv.state, "urgency": conv.urgency,
                      "counsellor": names.get(conv.counsellor_id) if conv.counsellor_id else None,
                      "waited_seconds": waited, "long_wait": conv.state == ConversationState.QUEUED
                      and waited >= long_wait,
                      "active_seconds": int((now - conv.accepted_at).total_seconds()) if conv.accepted_at else None,
                      "age_band": conv.age_band, "topic": conv.topic, "municipality": conv.municipality,
                      "holder_gone": conv.state == ConversationState.ACTIVE and conv.counsellor_id in gone})
    team = [{"id": s.participant_id, "staff_id": s.id, "name": s.display_name, "role": s.role, "status": s.status,
             "held": held.get(s.id, 0), "max": s.max_chats or settings.max_chats,
             "has_key": s.key_signature is not None}
            for s in staff_rows]
    return JSONResponse({"chats": chats, "team": team, "long_wait_minutes": settings.long_wait_minutes})


MAX_CHATS: dict[str, validate.Check] = {"max_chats": validate.integer(1, 10)}
CLEAR_EMPTY: dict[str, validate.Check] = {"waited_seconds": validate.integer(0, 86_400)}


async def set_max_chats(call: StaffCall) -> Response:
    body = await call.body(MAX_CHATS)
    try:
        staff_id = int(call.request.path_params["staff_id"])
    except ValueError:
        raise Refused(404, call.t("No such staff member.")) from None
    async with call.services.store.write() as db:
        staff = await db.get(Staff, staff_id)
        if staff is None or staff.role not in (Role.COUNSELLOR, Role.SUPERVISOR):
            raise Refused(404, call.t("No such staff member."))
        staff.max_chats = body["max_chats"]
        await audit.record(db, call.actor, "staff.max_chats", staff.participant_id, {"max_chats": body["max_chats"]})
    await call.services.teamwork.to_staff("role:supervisor", {"type": "team_changed"})
    return JSONResponse({"max_chats": body["max_chats"]})


async def clear_empty(call: StaffCall) -> Response:
    """One action for a flood: every waiting chat in which the child wrote nothing, and that has
    waited at least ``waited_seconds``, leaves the queue (abandoned, as HELPLINE_EMPTY_CHAT_MINUTES
    does by itself later). Audited with the count; no chat content is involved."""
    body = await call.body(CLEAR_EMPTY)
    gone = await call.services.chat.abandon_empty(dt.timedelta(seconds=body["waited_seconds"]), "supervisor")
    async with call.services.store.write() as db:
        await audit.record(db, call.actor, "queue.clear_empty", "queue",
                           {"cleared": len(gone), "waited_seconds": body["waited_seconds"]})
    return JSONResponse({"cleared": len(gone)})


routes = [
    staff_route("/console/api/supervise", "supervise.view", overview),
    staff_route("/console/api/supervise/clear-empty", "supervise.act", clear_empty, methods=("POST",),
                body=CLEAR_EMPTY),
    staff_route("/console/api/staff/{staff_id}/max-chats", "supervise.act", set_max_chats, methods=("POST",),
                body=MAX_CHATS),
]
