"""Daily roll-ups: metadata rows in, counts per (day, county, category, dimension, value) out.

`aggregate_conversations` and `aggregate_referrals` are pure: the tests feed them generated
records and compare with a recount. `refresh_days` rebuilds the roll-up rows of some local days
from the base tables (delete, then insert: running it twice gives the same rows), and
`ensure_fresh` calls it for the days that may have changed since the last run.

Only metadata columns are selected, by name: no message, note, referral content or key.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Table, and_, delete, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from helpline import pack
from helpline.db import Store
from helpline.models import (
    Agency,
    CaseRecord,
    ChildIdentity,
    Conversation,
    Escalation,
    Referral,
    StatsDaily,
    StatsState,
    utcnow,
)
from stats.facts import (
    ConversationFacts,
    ReferralFacts,
    _aware,
    contact_facts,
    first_voice_call,
    voice_changed_starts,
    voice_facts,
)

ALL = "*"
UNKNOWN = "?"
NONE = "-"
Key = tuple[str, dt.date, str, str, str, str]  # source, day, county, category, dim, value

# Bucket upper edges: queue wait in seconds, chat duration in minutes, acknowledgement in hours.
WAIT_EDGES = (15, 30, 60, 120, 180, 300, 600, 900, 1800, 3600, 7200, 86400)
DURATION_EDGES = (2, 5, 10, 15, 20, 30, 45, 60, 90, 120, 240, 1440)
ACK_EDGES = (1, 4, 8, 24, 48, 72, 120, 168, 336, 720)
OPEN_AGE_EDGES = (1, 3, 7, 14, 30, 90)  # days since sent, for still-open referrals
BLOCK_WINDOW = dt.timedelta(minutes=2)
BATCH = 5000
NO_WAIT = dt.timedelta(0)
ROLLUP_TABLE = cast(Table, StatsDaily.__table__)  # Core inserts: no ORM bookkeeping per row


def bucket(value: float, edges: Sequence[int]) -> int:
    for edge in edges:
        if value <= edge:
            return edge
    return edges[-1] * 10  # beyond the last edge


def county_of_municipality() -> Mapping[str, str]:
    """Each municipality's county, from the helpline pack."""
    return pack.active().county_of


def local_day(moment: dt.datetime, tz: ZoneInfo) -> dt.date:
    return moment.astimezone(tz).date()


def top_category(code: str | None) -> str:
    """The CHI category a code belongs to: the console records sub-codes (``violence.physical``), the
    dashboard counts and filters by the category (``violence``), sub-codes included (issue 19)."""
    return code.split(".", 1)[0] if code else NONE


def county_for(conv: ConversationFacts) -> str:
    if conv.county:
        return conv.county
    if conv.municipality:
        return county_of_municipality().get(conv.municipality, UNKNOWN)
    return UNKNOWN


def conversation_values(conv: ConversationFacts, tz: ZoneInfo) -> list[tuple[str, str]]:
    """(dimension, value) pairs one contact adds 1 to. The queue, its wait, the chat's length, the
    child's feedback and returning belong to chats; the other channels' lengths are "call_duration";
    every channel counts in the rest."""
    local = conv.created_at.astimezone(tz)
    pairs = [("total", "all"), ("channel", conv.channel), ("hour", str(local.hour)),
             ("weekday", str(local.weekday())), ("contact_by", conv.contact_by or UNKNOWN),
             ("age_band", conv.case_age_band or conv.age_band or UNKNOWN),
             ("gender", conv.case_gender or conv.gender or UNKNOWN),
             ("county", county_for(conv)), ("municipality", conv.municipality or UNKNOWN),
             ("category", top_category(conv.category)), ("risk", conv.risk or NONE), ("outcome", conv.outcome or NONE),
             ("contact_type", conv.contact_type or NONE)]
    pairs.extend(("secondary", code) for code in sorted({top_category(c) for c in conv.secondary}))
    if conv.channel == "chat":
        pairs.extend(_chat_values(conv))
    elif conv.accepted_at is not None and conv.ended_at is not None:
        minutes = (conv.ended_at - conv.accepted_at).total_seconds() / 60
        pairs.append(("call_duration", str(bucket(minutes, DURATION_EDGES))))
    return pairs


def _chat_values(conv: ConversationFacts) -> list[tuple[str, str]]:
    if conv.accepted_at is not None:
        queue = "answered"
    elif conv.state in ("abandoned", "ended"):
        queue = "abandoned"
    else:
        queue = "waiting"
    pairs = [("queue", queue), ("returning", "returning" if conv.returning else "first"),
             ("feedback", conv.feedback or NONE), ("urgency", str(conv.urgency))]
    if (conv.blocked_at is not None and conv.ended_at is not None
            and abs(conv.blocked_at - conv.ended_at) <= BLOCK_WINDOW):
        pairs.append(("blocked", "yes"))
    if conv.accepted_at is not None:
        wait = (conv.accepted_at - conv.created_at).total_seconds()
        pairs.append(("wait", str(bucket(wait, WAIT_EDGES))))
        if conv.ended_at is not None:
            minutes = (conv.ended_at - conv.accepted_at).total_seconds() / 60
            pairs.append(("duration", str(bucket(minutes, DURATION_EDGES))))
    return pairs


def referral_values(ref: ReferralFacts) -> list[tuple[str, str]]:
    pairs = [("total", "all"), ("agency_kind", ref.agency_kind), ("agency_county", ref.agency_county or UNKNOWN),
             ("urgency", ref.urgency), ("state", "closed" if ref.state == "closed" else "open"),
             ("outcome", ref.outcome or NONE), ("escalated", "yes" if ref.escalated else "no"),
             ("category", top_category(ref.category))]
    if ref.acknowledged_at is not None:
        in_time = ref.ack_deadline_at is None or ref.acknowledged_at <= ref.ack_deadline_at
        pairs.append(("ack", "in_time" if in_time else "late"))
        if ref.sent_at is not None:
            hours = (ref.acknowledged_at - ref.sent_at).total_seconds() / 3600
            pairs.append(("ack_hours", str(bucket(hours, ACK_EDGES))))
    else:
        pairs.append(("ack", "none"))
    return pairs


# Dimensions kept for a county and a category together (the finest, sparsest slice); the others
# are kept for the whole country, per county and per category. Keeps the roll-up small.
FINE_DIMS = frozenset({"total", "channel", "queue", "returning", "contact_by", "age_band", "gender", "county",
                       "category", "risk", "outcome", "contact_type", "feedback", "blocked"})
# Municipalities per category alone would nearly be one row per chat: kept per county and overall.
NOT_PER_CATEGORY = frozenset({"municipality"})


def _grains(county: str, category: str) -> tuple[tuple[str, str, frozenset[str] | None], ...]:
    """(county, category, dimensions kept or None for all)."""
    return ((county, category, FINE_DIMS), (ALL, category, None), (county, ALL, None), (ALL, ALL, None))


def available(county: str, category: str, dim: str) -> bool:
    """Whether the roll-ups keep this dimension for this filter combination."""
    if county != ALL and category != ALL:
        return dim in FINE_DIMS
    if category != ALL:
        return dim not in NOT_PER_CATEGORY
    return True


def aggregate_conversations(rows: Iterable[ConversationFacts], tz: ZoneInfo) -> Counter[Key]:
    counts: Counter[Key] = Counter()
    for conv in rows:
        day = local_day(conv.created_at, tz)
        values = conversation_values(conv, tz)
        for county, category, keep in _grains(county_for(conv), top_category(conv.category)):
            for dim, value in values:
                if available(county, category, dim) and (keep is None or dim in keep):
                    counts["c", day, county, category, dim, value] += 1
    return counts


def aggregate_referrals(rows: Iterable[ReferralFacts], tz: ZoneInfo) -> Counter[Key]:
    counts: Counter[Key] = Counter()
    for ref in rows:
        day = local_day(ref.created_at, tz)
        values = referral_values(ref)
        for county, category, _keep in _grains(ref.agency_county or UNKNOWN, top_category(ref.category)):
            for dim, value in values:
                counts["r", day, county, category, dim, value] += 1
    return counts


# -- reading the base tables (metadata columns only) --------------------------------------------

def day_bounds(first: dt.date, last: dt.date, tz: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(first, dt.time(), tz).astimezone(dt.UTC)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tz).astimezone(dt.UTC)
    return start, end


async def conversation_facts(db: AsyncSession, start: dt.datetime, end: dt.datetime) -> list[ConversationFacts]:
    c, cr = Conversation, CaseRecord
    query = (select(c.created_at, c.accepted_at, c.ended_at, c.state, c.urgency, c.contact_by, c.age_band,
                    c.gender, c.municipality, c.county, c.returning, c.feedback, ChildIdentity.blocked_at,
                    cr.contact_type, cr.primary_category, cr.secondary_categories, cr.risk, cr.outcome,
                    cr.age_band, cr.gender)
             .join(ChildIdentity, ChildIdentity.id == c.child_id)
             .outerjoin(cr, cr.conversation_id == c.id)
             .where(c.created_at >= start, c.created_at < end))
    facts = []
    for row in (await db.execute(query)).all():
        created = _aware(row[0])
        assert created is not None
        facts.append(ConversationFacts(
            created, _aware(row[1]), _aware(row[2]), row[3], int(row[4] or 0), row[5], row[6], row[7], row[8],
            row[9], bool(row[10]), row[11], _aware(row[12]), row[13], row[14], tuple(row[15] or ()), row[16],
            row[17], row[18], row[19]))
    return facts


def _escalated() -> Any:
    return (select(Escalation.id).where(Escalation.referral_id == Referral.id).correlate(Referral)
            .exists())


async def referral_facts(db: AsyncSession, start: dt.datetime, end: dt.datetime) -> list[ReferralFacts]:
    r = Referral
    query = (select(r.created_at, r.sent_at, r.ack_deadline_at, r.acknowledged_at, r.closed_at, r.state,
                    r.urgency, r.chi_category, r.outcome, Agency.kind, Agency.county, _escalated())
             .join(Agency, Agency.id == r.agency_id)
             .where(r.created_at >= start, r.created_at < end, r.state != "draft"))
    facts = []
    for row in (await db.execute(query)).all():
        created = _aware(row[0])
        assert created is not None
        facts.append(ReferralFacts(created, _aware(row[1]), _aware(row[2]), _aware(row[3]), _aware(row[4]),
                                   row[5], row[6], row[7], row[8], row[9], row[10], bool(row[11])))
    return facts


# -- writing the roll-ups ------------------------------------------------------------------------

def _runs(days: Iterable[dt.date]) -> list[tuple[dt.date, dt.date]]:
    """Consecutive days as (first, last) runs."""
    runs: list[tuple[dt.date, dt.date]] = []
    for day in sorted(set(days)):
        if runs and runs[-1][1] + dt.timedelta(days=1) == day:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


async def refresh_days(store: Store, days: Iterable[dt.date], tz: ZoneInfo, *, chunk_days: int = 14) -> int:
    """Rebuilds the roll-up rows of these local days; returns the number of rows written."""
    written = 0
    for first, last in _runs(days):
        cursor = first
        while cursor <= last:
            stop = min(last, cursor + dt.timedelta(days=chunk_days - 1))
            written += await _refresh_run(store, cursor, stop, tz)
            cursor = stop + dt.timedelta(days=1)
    return written


async def _refresh_run(store: Store, first: dt.date, last: dt.date, tz: ZoneInfo) -> int:
    start, end = day_bounds(first, last, tz)
    async with store.read() as db:
        counts = aggregate_conversations(await conversation_facts(db, start, end), tz)
        counts.update(aggregate_conversations(await contact_facts(db, start, end), tz))
        counts.update(aggregate_conversations(await voice_facts(db, start, end), tz))
        counts.update(aggregate_referrals(await referral_facts(db, start, end), tz))
    rows = [{"source": k[0], "day": k[1], "county": k[2], "category": k[3], "dim": k[4], "value": k[5][:140],
             "n": n} for k, n in counts.items()]
    async with store.write() as db:
        if db.get_bind().dialect.name == "postgresql":
            # Two workers refreshing the same days one after the other, never interleaved.
            await db.execute(text("SELECT pg_advisory_xact_lock(7007)"))
        await db.execute(delete(StatsDaily).where(StatsDaily.day >= first, StatsDaily.day <= last))
        for i in range(0, len(rows), BATCH):
            await db.execute(insert(ROLLUP_TABLE), rows[i:i + BATCH])
    return len(rows)


async def _changed_days(db: AsyncSession, since: dt.datetime, tz: ZoneInfo) -> set[dt.date]:
    """Local days whose roll-up may be stale: recent days, and days of records changed since."""
    days: set[dt.date] = set()
    case_q = (select(Conversation.created_at).join(CaseRecord, CaseRecord.conversation_id == Conversation.id)
              .where(CaseRecord.updated_at >= since))
    contact_q = select(CaseRecord.started_at).where(CaseRecord.conversation_id.is_(None),
                                                   CaseRecord.updated_at >= since)
    ref_q = select(Referral.created_at).where(Referral.updated_at >= since)
    esc_q = (select(Referral.created_at).join(Escalation, Escalation.referral_id == Referral.id)
             .where(Escalation.created_at >= since))
    for query in (case_q, contact_q, ref_q, esc_q):
        days.update(local_day(_aware(v) or since, tz) for v in (await db.execute(query)).scalars())
    days.update(local_day(started, tz) for started in await voice_changed_starts(db, since))
    return days


async def ensure_fresh(store: Store, tz: ZoneInfo, *, max_age: dt.timedelta = dt.timedelta(seconds=60),
                       now: dt.datetime | None = None) -> bool:
    """Brings the roll-ups up to date if the last run is older than ``max_age``; True if it ran."""
    now = now or utcnow()
    async with store.read() as db:
        state = await db.get(StatsState, "rollup")
        last = _aware(state.at) if state is not None else None
        if last is not None and now - last < max_age:
            return False
        if last is None:
            first_seen = _aware((await db.execute(select(func.min(Conversation.created_at)))).scalar())
            first_ref = _aware((await db.execute(select(func.min(Referral.created_at)))).scalar())
            first_contact = _aware((await db.execute(select(func.min(CaseRecord.started_at)))).scalar())
            first_call = await first_voice_call(db)
            starts = [d for d in (first_seen, first_ref, first_contact, first_call) if d is not None]
            since = min(starts) if starts else now
            days = _all_days(local_day(since, tz), local_day(now, tz))
        else:
            # Chats and referrals change for a day or two after they start; later changes are found
            # through updated_at (case records, referrals) and escalations.
            days = _all_days(local_day(last - dt.timedelta(days=2), tz), local_day(now, tz))
            days |= await _changed_days(db, last - dt.timedelta(minutes=5), tz)
    await refresh_days(store, days, tz)
    async with store.write() as db:
        state = await db.get(StatsState, "rollup")
        if state is None:
            db.add(StatsState(key="rollup", at=now))
        else:
            state.at = now
    return True


def _all_days(first: dt.date, last: dt.date) -> set[dt.date]:
    return {first + dt.timedelta(days=i) for i in range((last - first).days + 1)}


async def rebuild(store: Store, tz: ZoneInfo) -> int:
    """Rebuilds every day from the first record to today (the `helpline stats rollup --all` job)."""
    async with store.write() as db:
        await db.execute(delete(StatsState).where(StatsState.key == "rollup"))
        await db.execute(delete(StatsDaily).where(and_(StatsDaily.id >= 0)))
    await ensure_fresh(store, tz)
    async with store.read() as db:
        return int((await db.execute(select(func.count()).select_from(StatsDaily))).scalar() or 0)
