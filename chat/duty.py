"""Who is on duty, whose console is gone, and how fast the queue moves (ADR 0027).

A console's presence is one row per staff member: when it was last heard from and when its last
socket closed. Every process reads the same rows, so the children's pages and the supervisors'
takeover see one helpline whatever process holds the sockets. Only repository work lives here; the
estimate itself is the pure chat.model.estimate_wait_seconds.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from chat.model import QueueFlow
from helpline.models import Conversation, ConversationState, Staff, StaffPresence, utcnow
from helpline.security import permissions

SEEN_EVERY_SECONDS = 60.0  # an open console's pings refresh its row at most this often
# A console not heard from for this long is gone even if no close was written (its process died):
# longer than SEEN_EVERY_SECONDS plus the pages' 25 s ping, so a live console is never taken for gone.
STALE_SECONDS = 150.0
DEPARTURES = 20  # the recent departures from the queue the time per place is measured over
DEPARTURE_WINDOW = dt.timedelta(hours=1)  # older departures say nothing about the queue now
CAME_WITHIN = dt.timedelta(days=1)
ON_BREAK = "break"


async def seen(db: AsyncSession, staff_id: int) -> None:
    """The console is here now (a socket opened, or an open one pinged)."""
    now = utcnow()
    values, changes = {"staff_id": staff_id, "seen_at": now, "left_at": None}, {"seen_at": now, "left_at": None}
    if db.get_bind().dialect.name == "postgresql":
        pg = postgresql.insert(StaffPresence).values(**values)
        await db.execute(pg.on_conflict_do_update(index_elements=[StaffPresence.staff_id], set_=changes))
    else:
        lite = sqlite.insert(StaffPresence).values(**values)
        await db.execute(lite.on_conflict_do_update(index_elements=[StaffPresence.staff_id], set_=changes))


async def left(db: AsyncSession, staff_id: int) -> None:
    """A console socket closed: the console is gone from now unless another one pings again."""
    await db.execute(update(StaffPresence).where(StaffPresence.staff_id == staff_id).values(left_at=utcnow()))


def _fresh(now: dt.datetime) -> Any:
    return (StaffPresence.left_at.is_(None)) & (StaffPresence.seen_at > now - dt.timedelta(seconds=STALE_SECONDS))


async def on_duty(db: AsyncSession) -> int:
    """Staff who take chats, with a console open and not on a break."""
    roles = [role.value for role in permissions.roles_for("chat.accept")]
    query = (select(func.count()).select_from(StaffPresence).join(Staff, Staff.id == StaffPresence.staff_id)
             .where(_fresh(utcnow()), Staff.disabled.is_(False), Staff.role.in_(roles), Staff.status != ON_BREAK))
    return int((await db.execute(query)).scalar_one())


async def gone_seconds(db: AsyncSession, staff_id: int) -> float | None:
    """How long this staff member's console has been gone; None while one is open. A staff member
    who never opened a console since presence was kept counts as gone for ever."""
    row = await db.get(StaffPresence, staff_id)
    now = utcnow()
    if row is None:
        return float("inf")
    if row.left_at is not None:
        return (now - row.left_at).total_seconds()
    since = (now - row.seen_at).total_seconds()
    return since if since > STALE_SECONDS else None


async def gone_for_at_least(db: AsyncSession, staff_ids: set[int], seconds: float) -> set[int]:
    """Those of ``staff_ids`` whose console has been gone ``seconds`` or more (a supervisor may
    take over their chats)."""
    gone = set()
    for staff_id in staff_ids:
        away = await gone_seconds(db, staff_id)
        if away is not None and away >= seconds:
            gone.add(staff_id)
    return gone


async def queue_flow(db: AsyncSession) -> QueueFlow:
    """The recent departures from the queue (a counsellor took the child, or the child left it)
    and the counsellors on duty: what chat.model.estimate_wait_seconds needs."""
    now = utcnow()
    since = now - DEPARTURE_WINDOW
    # Through the index on created_at: a child who left the queue in the last hour came within a day.
    recent = Conversation.created_at > now - CAME_WITHIN
    taken = select(Conversation.accepted_at).where(recent, Conversation.accepted_at > since) \
        .order_by(Conversation.accepted_at.desc()).limit(DEPARTURES)
    gave_up = select(Conversation.ended_at).where(
        recent, Conversation.state == ConversationState.ABANDONED, Conversation.accepted_at.is_(None),
        Conversation.ended_at > since).order_by(Conversation.ended_at.desc()).limit(DEPARTURES)
    moments = sorted([*(await db.execute(taken)).scalars(), *(await db.execute(gave_up)).scalars()],
                     reverse=True)[:DEPARTURES]
    per_place = (moments[0] - moments[-1]).total_seconds() / (len(moments) - 1) if len(moments) >= 2 else None
    since_last = (now - moments[0]).total_seconds() if moments else None
    return QueueFlow(per_place, since_last, await on_duty(db))


async def messages_waiting(db: AsyncSession, limit: int = 30) -> list[dict[str, Any]]:
    """The left messages no counsellor has answered yet, oldest first, for the consoles' queue frame."""
    rows = (await db.execute(select(Conversation).where(
        Conversation.state == ConversationState.MESSAGE).order_by(Conversation.created_at).limit(limit))).scalars()
    return [{"conv": c.id, "urgency": c.urgency, "who": c.contact_by, "age_band": c.age_band, "topic": c.topic,
             "queued_at": int(c.created_at.timestamp() * 1000), "message": True} for c in rows]
