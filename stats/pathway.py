"""The referral pathway (issue 19): contacts → referred → acknowledged → action taken → support
received, with the median time to each step, under the same suppression as every other number.

Counts of contacts come from the roll-ups (the slice the report already read); the referral steps are
read live from metadata only — timestamps, the first action's time (``referral_follow.acted_at``) and
the kinds of support (``referral_support``) — for the referrals made by the helpline in the period,
with the report's county (the agency's) and category (sub-codes included). Medians are given as the
bucket that holds them, or "< k" with fewer than k referrals behind them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from helpline.i18n import N_, translate
from helpline.models import Agency, Conversation, Referral, ReferralFollow, ReferralSupport
from stats import privacy
from stats.queries import Filters
from stats.report import Figure, Report
from stats.rollups import ACK_EDGES, ALL, UNKNOWN, bucket, day_bounds
from stats.tables import Row, TableView

STEPS: tuple[tuple[str, str, str], ...] = (
    ("contacts", N_("Contacts"), ""),
    ("referred", N_("Referred"), N_("Contact to referral, median")),
    ("acknowledged", N_("Acknowledged"), N_("Referral to acknowledgement, median")),
    ("acted", N_("Action taken"), N_("Acknowledgement to first action, median")),
    ("supported", N_("Support received"), N_("First action to support recorded, median")),
)


@dataclass
class Pathway:
    counts: Counter[str] = field(default_factory=Counter)
    hours: dict[str, Counter[int]] = field(default_factory=dict)  # step → histogram of hours (bucket edges)

    def add_time(self, step: str, start: dt.datetime | None, end: dt.datetime | None) -> None:
        if start is not None and end is not None:
            hours = max(0.0, (end - start).total_seconds() / 3600)
            self.hours.setdefault(step, Counter())[bucket(hours, ACK_EDGES)] += 1


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    return value.replace(tzinfo=dt.UTC) if value is not None and value.tzinfo is None else value


async def load(db: AsyncSession, filters: Filters, tz: ZoneInfo, contacts: int) -> Pathway:
    """The pathway of the referrals the helpline made in the period (metadata only)."""
    start, end = day_bounds(filters.start, filters.end, tz)
    r = Referral
    supported = select(ReferralSupport.id).where(ReferralSupport.referral_id == r.id,
                                                 ReferralSupport.kind != "none").exists()
    query = (select(Conversation.created_at, r.sent_at, r.acknowledged_at, ReferralFollow.acted_at, r.closed_at,
                    supported)
             .join(Agency, Agency.id == r.agency_id)
             .outerjoin(Conversation, Conversation.id == r.conversation_id)
             .outerjoin(ReferralFollow, ReferralFollow.referral_id == r.id)
             .where(r.source == "helpline", r.sent_at.is_not(None), r.created_at >= start, r.created_at < end))
    if filters.county != ALL:
        query = query.where(Agency.county == filters.county) if filters.county != UNKNOWN else \
            query.where(Agency.county.is_(None))
    if filters.category != ALL:
        query = query.where((r.chi_category == filters.category) | r.chi_category.startswith(filters.category + "."))
    path = Pathway()
    path.counts["contacts"] = contacts
    for row in (await db.execute(query)).all():
        contact_at, sent, acknowledged, acted, closed = (_aware(v) for v in row[:5])
        path.counts["referred"] += 1
        path.add_time("referred", contact_at, sent)
        if acknowledged is not None:
            path.counts["acknowledged"] += 1
            path.add_time("acknowledged", sent, acknowledged)
        if acted is not None:
            path.counts["acted"] += 1
            path.add_time("acted", acknowledged, acted)
        if row[5]:
            path.counts["supported"] += 1
            path.add_time("supported", acted or acknowledged, closed)
    return path


def median_text(histogram: Counter[int] | None, k: int, locale: str) -> str:
    edge = privacy.percentile_bucket(dict(histogram or {}), 0.5, k)
    if edge is None:
        return f"< {k}" if histogram else "–"
    return translate(locale, "up to %(hours)d hours") % {"hours": edge}


def add_to(report: Report, path: Pathway, k: int, locale: str) -> Report:
    """The report with the pathway table and its medians (as key figures) added."""
    rows = tuple(Row(step, translate(locale, label), privacy.show(step, path.counts[step], k), None)
                 for step, label, _median in STEPS)
    table = TableView("r_pathway", translate(locale, "Referral pathway"), "", rows,
                      privacy.show("total", path.counts["contacts"], k), None)
    figures = tuple(Figure(f"pathway_{step}_median", translate(locale, median), median_text(path.hours.get(step), k,
                                                                                            locale))
                    for step, _label, median in STEPS if median)
    return dataclasses.replace(report, tables=(*report.tables, table), figures=(*report.figures, *figures))
