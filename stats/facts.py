"""The metadata rows statistics count: one `ConversationFacts` per contact (a chat, or a call, e-mail,
visit, letter or report recorded by hand: docs/adr/0025) and one `ReferralFacts` per referral.

`contact_facts` reads the contacts that came through no chat from ``case_records``; the chats are read
by stats.rollups.conversation_facts. Only metadata columns are selected, by name: never a note.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from helpline.models import CaseRecord


@dataclass(frozen=True)
class ConversationFacts:
    """The metadata of one conversation (and its case record) that statistics may read."""

    created_at: dt.datetime
    accepted_at: dt.datetime | None
    ended_at: dt.datetime | None
    state: str
    urgency: int
    contact_by: str | None
    age_band: str | None
    gender: str | None
    municipality: str | None
    county: str | None
    returning: bool
    feedback: str | None
    blocked_at: dt.datetime | None
    contact_type: str | None
    category: str | None
    secondary: tuple[str, ...]
    risk: str | None
    outcome: str | None
    case_age_band: str | None
    case_gender: str | None
    channel: str = "chat"  # chat, phone, email, visit, letter, report (taxonomy "channels")


@dataclass(frozen=True)
class ReferralFacts:
    created_at: dt.datetime
    sent_at: dt.datetime | None
    ack_deadline_at: dt.datetime | None
    acknowledged_at: dt.datetime | None
    closed_at: dt.datetime | None
    state: str
    urgency: str
    category: str
    outcome: str | None
    agency_kind: str
    agency_county: str | None
    escalated: bool



def _aware(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    assert isinstance(value, dt.datetime)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


async def contact_facts(db: AsyncSession, start: dt.datetime, end: dt.datetime) -> list[ConversationFacts]:
    """The contacts recorded by hand that started in [start, end), as facts like a chat's: answered
    (someone recorded them), never queued, with the record's own who, where, age and gender."""
    cr = CaseRecord
    query = (select(cr.started_at, cr.duration_seconds, cr.channel, cr.contact_by, cr.age_band, cr.gender,
                    cr.municipality, cr.county, cr.contact_type, cr.primary_category, cr.secondary_categories,
                    cr.risk, cr.outcome)
             .where(cr.conversation_id.is_(None), cr.started_at >= start, cr.started_at < end))
    facts = []
    for (started_at, seconds, channel, contact_by, age_band, gender, municipality, county, contact_type,
         category, secondary, risk, outcome) in (await db.execute(query)).all():
        started = _aware(started_at)
        assert started is not None
        ended = started + dt.timedelta(seconds=seconds) if seconds is not None else None
        facts.append(ConversationFacts(
            started, started, ended, "ended", 0, contact_by, None, None, municipality, county, False, None, None,
            contact_type, category, tuple(secondary or ()), risk, outcome, age_band, gender, channel))
    return facts
