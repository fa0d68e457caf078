"""The metadata rows statistics count: one `ConversationFacts` per contact (a chat, or a call, e-mail,
visit, letter or report recorded by hand: docs/adr/0025) and one `ReferralFacts` per referral.

`contact_facts` reads the contacts that came through no chat from ``case_records``; `voice_facts` the
voice calls of chats from ``voice_calls`` (ADR 0033); the chats are read by
stats.rollups.conversation_facts. Only metadata columns are selected, by name: never a note.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from helpline.models import CaseRecord, Conversation, VoiceCall


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
    channel: str = "chat"  # chat, phone, email, visit, letter, report, voice (taxonomy "channels")


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


# A call ends at most this long after it starts (chat.voice.MAX_CALL_SECONDS is 6 hours): calls that
# started in [start, end) ended before end + CALL_MARGIN.
CALL_MARGIN = dt.timedelta(days=1)


def _call_start(ended_at: Any, seconds: int) -> dt.datetime:
    ended = _aware(ended_at)
    assert ended is not None
    return ended - dt.timedelta(seconds=seconds)


async def voice_facts(db: AsyncSession, start: dt.datetime, end: dt.datetime) -> list[ConversationFacts]:
    """The voice calls of chats that started in [start, end), one contact each on channel "voice": from
    the call's start to its end, answered, with its chat's who, where, age and gender and its case
    record's codes, so that it counts under the same child as the chat."""
    c, cr, v = Conversation, CaseRecord, VoiceCall
    query = (select(v.ended_at, v.seconds, c.contact_by, c.age_band, c.gender, c.municipality, c.county,
                    cr.contact_type, cr.primary_category, cr.secondary_categories, cr.risk, cr.outcome,
                    cr.age_band, cr.gender)
             .join(c, c.id == v.conversation_id)
             .outerjoin(cr, cr.conversation_id == v.conversation_id)
             .where(v.ended_at >= start, v.ended_at < end + CALL_MARGIN))
    facts = []
    for (ended_at, seconds, contact_by, age_band, gender, municipality, county, contact_type, category,
         secondary, risk, outcome, case_age_band, case_gender) in (await db.execute(query)).all():
        started = _call_start(ended_at, int(seconds))
        if not start <= started < end:
            continue
        facts.append(ConversationFacts(
            started, started, _aware(ended_at), "ended", 0, contact_by, age_band, gender, municipality, county,
            False, None, None, contact_type, category, tuple(secondary or ()), risk, outcome, case_age_band,
            case_gender, "voice"))
    return facts


async def voice_changed_starts(db: AsyncSession, since: dt.datetime) -> list[dt.datetime]:
    """When the voice calls started that were recorded, or whose chat's case record changed, since then:
    their days' roll-ups may be stale."""
    v = VoiceCall
    recorded = select(v.ended_at, v.seconds).where(v.ended_at >= since)
    recoded = (select(v.ended_at, v.seconds).join(CaseRecord, CaseRecord.conversation_id == v.conversation_id)
               .where(CaseRecord.updated_at >= since))
    return [_call_start(ended_at, int(seconds)) for query in (recorded, recoded)
            for ended_at, seconds in (await db.execute(query)).all()]


async def first_voice_call(db: AsyncSession) -> dt.datetime | None:
    """When the earliest recorded voice call started (a first roll-up starts there at the latest)."""
    first_end = _aware((await db.execute(select(func.min(VoiceCall.ended_at)))).scalar())
    if first_end is None:
        return None
    early = select(VoiceCall.ended_at, VoiceCall.seconds).where(VoiceCall.ended_at < first_end + CALL_MARGIN)
    return min(_call_start(ended_at, int(seconds)) for ended_at, seconds in (await db.execute(early)).all())
