"""The raw counts behind the statistics: one filtered period read from the daily roll-ups.

`Filters` says which period, county and category; `load_slice` reads that period from ``stats_daily``
(indexed by county, category, source, day) and the still-open referrals into a `Slice`, which
stats.report protects before anything is shown; `debrief_count` reads the supervisors' debriefs.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from helpline.i18n import N_
from helpline.models import Agency, Debrief, Referral, StatsDaily, utcnow
from stats.rollups import ALL, OPEN_AGE_EDGES, UNKNOWN, Key, bucket

OPEN_STATES = ("sent", "acknowledged", "in_progress", "returned")
MAX_DAYS = 3660


@dataclass(frozen=True)
class Filters:
    start: dt.date
    end: dt.date
    county: str = ALL
    category: str = ALL

    def previous(self) -> Filters:
        length = (self.end - self.start).days + 1
        end = self.start - dt.timedelta(days=1)
        return Filters(end - dt.timedelta(days=length - 1), end, self.county, self.category)

    def check(self) -> None:
        if self.end < self.start:
            raise ValueError(N_("The end date is before the start date."))
        if (self.end - self.start).days + 1 > MAX_DAYS:
            raise ValueError(N_("Choose a period of at most ten years."))


@dataclass
class Slice:
    """Raw counts of one filtered period: never shown before `build_report` protects them."""

    dims: dict[tuple[str, str], Counter[str]] = field(default_factory=dict)
    days: Counter[dt.date] = field(default_factory=Counter)
    open_age: Counter[str] = field(default_factory=Counter)

    def dim(self, source: str, name: str) -> Counter[str]:
        return self.dims.get((source, name), Counter())


def slice_from_counts(counts: Mapping[Key, int], filters: Filters) -> Slice:
    """The same slice `load_slice` reads, from roll-up counts in memory (tests, recounts)."""
    out = Slice()
    for (source, day, county, category, dim, value), n in counts.items():
        if county != filters.county or category != filters.category or not filters.start <= day <= filters.end:
            continue
        out.dims.setdefault((source, dim), Counter())[value] += n
        if source == "c" and dim == "total":
            out.days[day] += n
    return out


async def load_slice(db: AsyncSession, filters: Filters, *, with_open: bool = True,
                     now: dt.datetime | None = None) -> Slice:
    s = StatsDaily
    where = (s.county == filters.county, s.category == filters.category, s.day >= filters.start,
             s.day <= filters.end)
    out = Slice()
    rows = await db.execute(select(s.source, s.dim, s.value, func.sum(s.n)).where(*where)
                            .group_by(s.source, s.dim, s.value))
    for source, dim, value, n in rows.all():
        out.dims.setdefault((source, dim), Counter())[value] += int(n)
    days = await db.execute(select(s.day, s.n).where(*where, s.source == "c", s.dim == "total"))
    for day, n in days.all():
        out.days[day] += int(n)
    if with_open:
        out.open_age = await open_referrals(db, filters, now or utcnow())
    return out


async def open_referrals(db: AsyncSession, filters: Filters, now: dt.datetime) -> Counter[str]:
    """Referrals sent and not closed, by days since they were sent (live: they age every day)."""
    r = Referral
    query = (select(r.sent_at).join(Agency, Agency.id == r.agency_id)
             .where(r.state.in_(OPEN_STATES)))
    if filters.county != ALL:
        query = query.where(Agency.county == filters.county) if filters.county != UNKNOWN else \
            query.where(Agency.county.is_(None))
    if filters.category != ALL:
        # The category and its sub-codes (the console records ``violence.physical``; issue 19).
        query = query.where((r.chi_category == filters.category) | r.chi_category.startswith(filters.category + "."))
    counts: Counter[str] = Counter()
    for sent_at in (await db.execute(query)).scalars():
        if sent_at is None:
            continue
        sent = sent_at if sent_at.tzinfo else sent_at.replace(tzinfo=dt.UTC)
        counts[str(bucket((now - sent).total_seconds() / 86400, OPEN_AGE_EDGES))] += 1
    return counts


async def debrief_count(db: AsyncSession, filters: Filters) -> int | None:
    """Supervisors' debriefs after emergencies in the period: a number only, and only for the whole
    country and every category (a debrief belongs to a counsellor, not to a place or a topic)."""
    if filters.county != ALL or filters.category != ALL:
        return None
    query = select(func.count()).select_from(Debrief).where(Debrief.day >= filters.start,
                                                             Debrief.day <= filters.end)
    return int((await db.execute(query)).scalar_one())
