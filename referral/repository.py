"""Referral queries (SQLAlchemy 2 async): the service asks here and runs no query itself.

Who may see a referral is `helpline.security.access`; the listing takes its SQL condition, so
authorisation stays in the query.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import case, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from helpline.models import (
    Agency,
    CaseRecord,
    Conversation,
    ConversationAccess,
    Referral,
    ReferralEvent,
    ReferralKey,
    ReferralThreadKey,
    ReferralThreadMessage,
    Role,
    Staff,
)
from helpline.security import access
from helpline.security.access import Action
from referral.model import ReferralState


async def conversation(db: AsyncSession, conversation_id: str) -> Conversation | None:
    return await db.get(Conversation, conversation_id)


async def is_granted(db: AsyncSession, conversation_id: str, staff_id: int) -> bool:
    """The staff member was granted the conversation (a joined supervisor; an earlier chat shared)."""
    query = select(ConversationAccess.id).where(ConversationAccess.conversation_id == conversation_id,
                                                ConversationAccess.staff_id == staff_id)
    return (await db.execute(query)).first() is not None


async def case_id_of(db: AsyncSession, conversation_id: str) -> int | None:
    query = select(CaseRecord.id).where(CaseRecord.conversation_id == conversation_id)
    return (await db.execute(query)).scalar_one_or_none()


async def agency(db: AsyncSession, agency_id: int) -> Agency | None:
    return await db.get(Agency, agency_id)


async def agency_by_code(db: AsyncSession, code: str) -> Agency | None:
    return (await db.execute(select(Agency).where(Agency.code == code))).scalar_one_or_none()


async def staff(db: AsyncSession, staff_id: int | None) -> Staff | None:
    return await db.get(Staff, staff_id) if staff_id else None


async def readers(db: AsyncSession, agency_id: int, people: set[int]) -> list[Staff]:
    """Enabled staff with a signed key who read the agency's referrals: its officers, every
    supervisor, and the named people (the counsellor who writes it)."""
    query = select(Staff).where(Staff.disabled.is_(False), Staff.key_signature.is_not(None),
                                ((Staff.role == Role.OFFICER.value) & (Staff.agency_id == agency_id))
                                | (Staff.role == Role.SUPERVISOR.value)
                                | Staff.id.in_(people))
    return list((await db.execute(query.order_by(Staff.id))).scalars())


async def load(db: AsyncSession, referral_id: str, *, lock: bool = False) -> Referral | None:
    """The referral; `lock` takes its row lock on PostgreSQL (SQLite has one writer anyway)."""
    query = select(Referral).where(Referral.id == referral_id)
    if lock and db.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return (await db.execute(query)).scalar_one_or_none()


async def by_report_code(db: AsyncSession, code_hash: str) -> Referral | None:
    return (await db.execute(select(Referral).where(Referral.report_code_hash == code_hash))).scalar_one_or_none()


async def reports_waiting(db: AsyncSession, agency_id: int) -> int:
    """Public reports sent to the agency and not yet acknowledged."""
    query = select(func.count()).select_from(Referral).where(
        Referral.agency_id == agency_id, Referral.source == "report", Referral.state == ReferralState.SENT.value)
    return int((await db.execute(query)).scalar_one())


async def recent_reports(db: AsyncSession, now: dt.datetime, at_most: int) -> int:
    """Public reports of the last minute, counted up to `at_most` (the count only needs to reach it)."""
    recent = select(Referral.id).where(Referral.source == "report", Referral.created_at > now - dt.timedelta(minutes=1))
    limited = recent.limit(at_most).subquery()
    return int((await db.execute(select(func.count()).select_from(limited))).scalar_one())


async def key_of(db: AsyncSession, referral_id: str, reader: str) -> ReferralKey | None:
    query = select(ReferralKey).where(ReferralKey.referral_id == referral_id, ReferralKey.reader == reader)
    return (await db.execute(query)).scalar_one_or_none()


async def readers_with_key(db: AsyncSession, referral_id: str) -> set[str]:
    query = select(ReferralKey.reader).where(ReferralKey.referral_id == referral_id)
    return set((await db.execute(query)).scalars())


async def delete_keys(db: AsyncSession, referral_id: str) -> None:
    await db.execute(delete(ReferralKey).where(ReferralKey.referral_id == referral_id))


async def events(db: AsyncSession, referral_id: str) -> Sequence[ReferralEvent]:
    query = select(ReferralEvent).where(ReferralEvent.referral_id == referral_id).order_by(ReferralEvent.id)
    return (await db.execute(query)).scalars().all()


async def names(db: AsyncSession, public_ids: list[str]) -> dict[str, str]:
    """Display names by staff public id."""
    rows = (await db.execute(select(Staff.public_id, Staff.display_name).where(Staff.public_id.in_(public_ids)))).all()
    return {public_id: name for public_id, name in rows}


async def listing(db: AsyncSession, staff: Staff, urgency_rank: dict[str, int], *, open_only: bool, limit: int
                  ) -> Sequence[Any]:
    """(referral, agency) rows this staff member may read. Officers: most urgent and nearest deadline
    first; the helpline: newest first."""
    query = select(Referral, Agency).join(Agency, Agency.id == Referral.agency_id).where(
        access.referral_condition(staff.id, staff.role, staff.agency_id, Action.READ))
    if staff.role == Role.OFFICER.value:
        rank = case(*((Referral.urgency == name, r) for name, r in urgency_rank.items()), else_=9)
        query = query.order_by(case((Referral.state == ReferralState.CLOSED.value, 1), else_=0), rank,
                               Referral.ack_deadline_at, Referral.id)
    else:
        query = query.order_by(Referral.created_at.desc(), Referral.id)
    if open_only:
        query = query.where(Referral.state != ReferralState.CLOSED.value)
    return (await db.execute(query.limit(limit))).all()


# -- a referral to several agencies: its legs and their shared thread (ADR 0035) --------------------


async def legs(db: AsyncSession, thread_id: str) -> Sequence[Any]:
    """(referral, agency) rows of the thread's legs, in the order they were made."""
    query = select(Referral, Agency).join(Agency, Agency.id == Referral.agency_id).where(
        Referral.thread_id == thread_id).order_by(Referral.created_at, Referral.id)
    return (await db.execute(query)).all()


async def thread_key_of(db: AsyncSession, thread_id: str, reader: str) -> ReferralThreadKey | None:
    query = select(ReferralThreadKey).where(ReferralThreadKey.thread_id == thread_id,
                                            ReferralThreadKey.reader == reader)
    return (await db.execute(query)).scalar_one_or_none()


async def thread_readers_with_key(db: AsyncSession, thread_id: str) -> set[str]:
    query = select(ReferralThreadKey.reader).where(ReferralThreadKey.thread_id == thread_id)
    return set((await db.execute(query)).scalars())


async def thread_messages(db: AsyncSession, thread_id: str, limit: int = 500) -> Sequence[ReferralThreadMessage]:
    query = select(ReferralThreadMessage).where(ReferralThreadMessage.thread_id == thread_id).order_by(
        ReferralThreadMessage.id).limit(limit)
    return (await db.execute(query)).scalars().all()


async def agency_names(db: AsyncSession, agency_ids: set[int]) -> dict[int, str]:
    if not agency_ids:
        return {}
    rows = (await db.execute(select(Agency.id, Agency.name).where(Agency.id.in_(agency_ids)))).all()
    return {agency_id: name for agency_id, name in rows}
