"""The statistics a manager sees: read from the daily roll-ups, shaped into protected tables.

`load_slice` reads one filtered period from ``stats_daily`` (indexed by county, category, source,
day) and the still-open referrals; `build_report` turns two slices (the period and the one before)
into tables that have been through stats.privacy. Everything the page, the API and the
CSV export show comes out of `build_report`.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from helpline import taxonomy
from helpline.i18n import N_, translate
from helpline.models import Agency, Debrief, Referral, StatsDaily, utcnow
from stats import privacy
from stats.rollups import (
    ACK_EDGES,
    ALL,
    DURATION_EDGES,
    NONE,
    OPEN_AGE_EDGES,
    UNKNOWN,
    WAIT_EDGES,
    Key,
    available,
    bucket,
    county_of_municipality,
)

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
        query = query.where(r.chi_category == filters.category)
    counts: Counter[str] = Counter()
    for sent_at in (await db.execute(query)).scalars():
        if sent_at is None:
            continue
        sent = sent_at if sent_at.tzinfo else sent_at.replace(tzinfo=dt.UTC)
        counts[str(bucket((now - sent).total_seconds() / 86400, OPEN_AGE_EDGES))] += 1
    return counts


# -- labels -----------------------------------------------------------------------------------

HOURS = {str(h): f"{h:02d}:00" for h in range(24)}
WEEKDAYS = {"0": N_("Monday"), "1": N_("Tuesday"), "2": N_("Wednesday"), "3": N_("Thursday"),
            "4": N_("Friday"), "5": N_("Saturday"), "6": N_("Sunday")}
FIXED: dict[str, dict[str, str]] = {
    "queue": {"answered": N_("Answered"), "abandoned": N_("Left the queue before an answer"),
              "waiting": N_("Still waiting")},
    "blocked": {"yes": N_("Ended with a block"), "no": N_("Not blocked")},
    "returning": {"first": N_("First contact"), "returning": N_("Returning")},
    "contact_by": {"child": N_("A child"), "adult": N_("An adult about a child")},
    "feedback": {"yes": N_("Helped"), "somewhat": N_("Helped a little"), "no": N_("Did not help"),
                 NONE: N_("No answer")},
    "urgency": {"0": N_("Normal"), "1": N_("Urgent"), "2": N_("Emergency")},
    "agency_kind": {"cpu": N_("Child protection unit"), "police": N_("Police"),
                    "police_cyber": N_("Police cyber-crime unit"), "state_agency": N_("State agency"),
                    "helpline": N_("Helpline")},
    "r_urgency": {"emergency": N_("Emergency"), "urgent": N_("Urgent"), "routine": N_("Routine")},
    "ack": {"in_time": N_("Acknowledged in time"), "late": N_("Acknowledged late"),
            "none": N_("Not acknowledged")},
    "escalated": {"yes": N_("Escalated"), "no": N_("Not escalated")},
    "state": {"open": N_("Open"), "closed": N_("Closed")},
    "r_outcome": {"child_protected": N_("Child protected"), "family_supported": N_("Family supported"),
                  "services_provided": N_("Services provided"), "investigation_opened": N_("Investigation opened"),
                  "referred_onward": N_("Referred onward"), "no_action_needed": N_("No action needed"),
                  "child_not_found": N_("Child not found"), "other": N_("Other"), NONE: N_("Not closed yet")},
}
SPECIAL = {UNKNOWN: N_("Not known"), NONE: N_("Not recorded")}
TAXONOMY_LISTS = {"age_band": "age_bands", "gender": "genders", "risk": "risk_levels", "outcome": "outcomes",
                  "contact_type": "contact_types"}


def _taxonomy_labels(name: str) -> dict[str, str]:
    data = taxonomy.load().data
    if name in ("category", "secondary"):
        return {c["code"]: c["label"] for c in data["categories"]}
    if name in TAXONOMY_LISTS:
        return {i["code"]: i["label"] for i in data[TAXONOMY_LISTS[name]]}
    return {}


def order_and_labels(name: str) -> dict[str, str]:
    """Codes in display order with their English labels (msgids)."""
    if name == "hour":
        return dict(HOURS)
    if name == "weekday":
        return dict(WEEKDAYS)
    if name in FIXED:
        return dict(FIXED[name])
    if name in ("wait", "duration", "ack_hours", "open_age"):
        edges = {"wait": WAIT_EDGES, "duration": DURATION_EDGES, "ack_hours": ACK_EDGES,
                 "open_age": OPEN_AGE_EDGES}[name]
        return {str(e): str(e) for e in (*edges, edges[-1] * 10)}
    return _taxonomy_labels(name)


# -- the report -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Row:
    key: str
    label: str
    cell: privacy.Cell
    previous: privacy.Cell | None


@dataclass(frozen=True)
class TableView:
    id: str
    title: str
    unit: str
    rows: tuple[Row, ...]
    total: privacy.Cell
    previous_total: privacy.Cell | None
    chart: str = "bar"  # bar, column (a series in time order)


@dataclass(frozen=True)
class Figure:
    id: str
    label: str
    text: str  # already protected or formatted


@dataclass(frozen=True)
class Report:
    filters: Filters
    previous: Filters
    k: int
    locale: str
    figures: tuple[Figure, ...]
    tables: tuple[TableView, ...]

    def table(self, table_id: str) -> TableView:
        return next(t for t in self.tables if t.id == table_id)

    def find(self, table_id: str) -> TableView | None:
        """The table, or None when the roll-ups do not keep it for these filters."""
        return next((t for t in self.tables if t.id == table_id), None)


BUCKET_UNITS = {"wait": N_("seconds, up to"), "duration": N_("minutes, up to"),
                "ack_hours": N_("hours, up to"), "open_age": N_("days since sent, up to")}

CONTACT_TABLES: tuple[tuple[str, str], ...] = (
    ("queue", N_("Answered and abandoned")), ("blocked", N_("Blocked")),
    ("hour", N_("Contacts by hour of the day")), ("weekday", N_("Contacts by day of the week")),
    ("returning", N_("First-time and returning")), ("contact_by", N_("Who contacted us")),
    ("category", N_("Main topic (CHI category)")), ("secondary", N_("Other topics (CHI category)")),
    ("contact_type", N_("Kind of contact")), ("age_band", N_("Age")), ("gender", N_("Gender")),
    ("county", N_("County")), ("municipality", N_("Municipality")), ("risk", N_("Risk seen")),
    ("outcome", N_("Outcome")), ("urgency", N_("Urgency in the queue")), ("feedback", N_("Did the chat help?")),
    ("wait", N_("Queue wait")), ("duration", N_("Chat duration")),
)
REFERRAL_TABLES: tuple[tuple[str, str, str], ...] = (
    ("agency_kind", "agency_kind", N_("Referrals by agency type")),
    ("agency_county", "county", N_("Referrals by agency county")),
    ("urgency", "r_urgency", N_("Referrals by urgency")),
    ("ack", "ack", N_("Acknowledgement against the deadline")),
    ("ack_hours", "ack_hours", N_("Time to acknowledgement")),
    ("escalated", "escalated", N_("Escalations")),
    ("state", "state", N_("Open and closed referrals")),
    ("outcome", "r_outcome", N_("Referral outcomes")),
)


def _keys(name: str, *counters: Mapping[str, int]) -> dict[str, str]:
    labels = order_and_labels(name)
    seen = [key for counter in counters for key, n in counter.items() if n]
    for key in sorted(set(seen) - set(labels)):
        labels[key] = SPECIAL.get(key, key)
    return labels


def _table(table_id: str, title: str, label_set: str, current: Mapping[str, int], previous: Mapping[str, int],
           k: int, locale: str, *, unit: str = "", chart: str = "bar", keep_zero: bool = False,
           total: int | None = None, prev_total: int | None = None) -> TableView:
    labels = _keys(label_set, current, previous)
    keys = [key for key in labels if keep_zero or current.get(key, 0) or previous.get(key, 0)]
    now = privacy.protect({key: current.get(key, 0) for key in keys}, k, total)
    before = privacy.protect({key: previous.get(key, 0) for key in keys}, k, prev_total)
    now_cells, before_cells = now.by_key(), before.by_key()
    rows = tuple(Row(key, _label(label_set, key, labels[key], locale), now_cells[key], before_cells[key])
                 for key in keys)
    return TableView(table_id, translate(locale, title), translate(locale, unit) if unit else "", rows,
                     now.total, before.total, chart)


def _label(label_set: str, key: str, msgid: str, locale: str) -> str:
    if label_set in ("hour", "wait", "duration", "ack_hours", "open_age") or label_set == "municipality":
        return msgid
    return translate(locale, msgid)


def _municipality_table(current: Mapping[str, int], previous: Mapping[str, int], k: int,
                        locale: str) -> TableView:
    county_of = dict(county_of_municipality())
    merged_now, groups_now = privacy.merge_small_municipalities(current, county_of, k)
    merged_before, groups_before = privacy.merge_small_municipalities(previous, county_of, k)
    keys = sorted(set(merged_now) | set(merged_before),
                  key=lambda key: ((groups_now.get(key) or groups_before.get(key) or ""), key.startswith("county:"),
                                   key))
    group_of = {**groups_before, **groups_now}
    now = privacy.protect_grouped({key: merged_now.get(key, 0) for key in keys}, group_of, k)
    before = privacy.protect_grouped({key: merged_before.get(key, 0) for key in keys}, group_of, k)
    now_cells, before_cells = now.by_key(), before.by_key()

    def label(key: str) -> str:
        if key.startswith("county:"):
            county = key.removeprefix("county:")
            return translate(locale, "Other municipalities of %(county)s") % {
                "county": SPECIAL.get(county, county) if county != UNKNOWN else translate(locale, "Not known")}
        return translate(locale, SPECIAL[key]) if key in SPECIAL else key

    rows = tuple(Row(key, label(key), now_cells[key], before_cells[key]) for key in keys)
    return TableView("municipality", translate(locale, "Municipality"), "", rows, now.total, before.total)


def _series(days: Mapping[dt.date, int], filters: Filters, grain: str) -> dict[str, int]:
    out: dict[str, int] = {}
    day = filters.start
    while day <= filters.end:
        if grain == "day":
            key = day.isoformat()
        elif grain == "week":
            year, week, _ = day.isocalendar()
            key = f"{year}-W{week:02d}"
        else:
            key = f"{day.year}-{day.month:02d}"
        out[key] = out.get(key, 0) + days.get(day, 0)
        day += dt.timedelta(days=1)
    return out


def _series_table(table_id: str, title: str, current: Slice, filters: Filters, grain: str, k: int,
                  locale: str) -> TableView:
    values = _series(current.days, filters, grain)
    table = privacy.protect(values, k)
    rows = tuple(Row(c.key, c.key, c, None) for c in table.cells)
    return TableView(table_id, translate(locale, title), "", rows, table.total, None, "column")


def _percentile_text(hist: Mapping[str, int], fraction: float, k: int, unit: str, locale: str,
                     kept: bool = True) -> str:
    if not kept:
        return translate(locale, "choose a county or a category, not both")
    value = privacy.percentile_bucket({int(key): n for key, n in hist.items()}, fraction, k)
    if value is None:
        return translate(locale, "fewer than %(k)d, not shown") % {"k": k}
    return translate(locale, "up to %(value)d %(unit)s") % {"value": value, "unit": translate(locale, unit)}


FIGURE_UNITS = {"wait": N_("seconds"), "duration": N_("minutes")}


def _share_text(part: privacy.Cell, whole: privacy.Cell, locale: str) -> str:
    value = privacy.share(part, whole)
    if value is None:
        return translate(locale, "not shown (small numbers)")
    return f"{value:.1f} %"


async def debrief_count(db: AsyncSession, filters: Filters) -> int | None:
    """Supervisors' debriefs after emergencies in the period: a number only, and only for the whole
    country and every category (a debrief belongs to a counsellor, not to a place or a topic)."""
    if filters.county != ALL or filters.category != ALL:
        return None
    query = select(func.count()).select_from(Debrief).where(Debrief.day >= filters.start,
                                                             Debrief.day <= filters.end)
    return int((await db.execute(query)).scalar_one())


def build_report(current: Slice, previous: Slice, filters: Filters, k: int, locale: str,
                 debriefs: int | None = None) -> Report:
    privacy.check_k(k)
    tables: list[TableView] = []
    series_days = (filters.end - filters.start).days + 1
    if series_days <= 120:
        tables.append(_series_table("per_day", N_("Contacts per day"), current, filters, "day", k, locale))
    if series_days <= 800:
        tables.append(_series_table("per_week", N_("Contacts per week"), current, filters, "week", k, locale))
    tables.append(_series_table("per_month", N_("Contacts per month"), current, filters, "month", k, locale))
    total_now = sum(current.dim("c", "total").values())
    total_before = sum(previous.dim("c", "total").values())
    for name, title in CONTACT_TABLES:
        if not available(filters.county, filters.category, name):
            continue  # not kept for a county and a category together (see rollups.FINE_DIMS)
        now, before = current.dim("c", name), previous.dim("c", name)
        if name == "blocked":
            now = Counter({"yes": now.get("yes", 0), "no": total_now - now.get("yes", 0)})
            before = Counter({"yes": before.get("yes", 0), "no": total_before - before.get("yes", 0)})
        if name == "municipality":
            tables.append(_municipality_table(now, before, k, locale))
            continue
        if name == "secondary":  # a chat may have several: no total
            tables.append(_table(name, title, name, now, before, k, locale))
            continue
        unit = BUCKET_UNITS.get(name, "")
        tables.append(_table(name, title, name, now, before, k, locale, unit=unit,
                             keep_zero=name in ("hour", "weekday")))
    for dim, label_set, title in REFERRAL_TABLES:
        now, before = current.dim("r", dim), previous.dim("r", dim)
        table_id = "r_" + dim
        tables.append(_table(table_id, title, label_set, now, before, k, locale,
                             unit=BUCKET_UNITS.get(label_set, "")))
    open_table = privacy.protect(dict(current.open_age), k)
    tables.append(TableView("r_open_age", translate(locale, "Referrals still open, by age"),
                            translate(locale, BUCKET_UNITS["open_age"]),
                            tuple(Row(c.key, c.key, c, None) for c in _ordered(open_table, OPEN_AGE_EDGES)),
                            open_table.total, None))

    kept = available(filters.county, filters.category, "wait")
    total_cell = privacy.show("total", total_now, k)
    prev_cell = privacy.show("total", total_before, k)
    said = current.dim("c", "feedback")
    answered_fb = privacy.protect({key: said.get(key, 0) for key in ("yes", "somewhat", "no")}, k)
    ack = next(t for t in tables if t.id == "r_ack")
    ack_cells = {row.key: row.cell for row in ack.rows}
    figures: tuple[Figure, ...] = (
        Figure("contacts", translate(locale, "Contacts"), total_cell.text(k)),
        Figure("contacts_before", translate(locale, "Contacts in the previous period"), prev_cell.text(k)),
        Figure("wait_median", translate(locale, "Queue wait, median"),
               _percentile_text(current.dim("c", "wait"), 0.5, k, FIGURE_UNITS["wait"], locale, kept)),
        Figure("wait_p90", translate(locale, "Queue wait, 90th percentile"),
               _percentile_text(current.dim("c", "wait"), 0.9, k, FIGURE_UNITS["wait"], locale, kept)),
        Figure("duration_median", translate(locale, "Chat duration, median"),
               _percentile_text(current.dim("c", "duration"), 0.5, k, FIGURE_UNITS["duration"], locale, kept)),
        Figure("helped", translate(locale, "Said the chat helped"),
               _share_text(answered_fb.by_key()["yes"], answered_fb.total, locale)),
        Figure("ack_in_time", translate(locale, "Referrals acknowledged in time"),
               _share_text(ack_cells.get("in_time", privacy.show("in_time", 0, k)), ack.total, locale)),
    )
    if debriefs is not None:
        figures += (Figure("debriefs", translate(locale, "Debriefs after emergencies"),
                           privacy.show("debriefs", debriefs, k).text(k)),)
    return Report(filters, filters.previous(), k, locale, figures, tuple(tables))


def _ordered(table: privacy.Table, edges: tuple[int, ...]) -> list[privacy.Cell]:
    cells = table.by_key()
    return [cells[key] for key in sorted(cells, key=int) if key in cells] if edges else list(table.cells)


# -- flat forms: the API and the CSV export --------------------------------------------------

def report_json(report: Report) -> dict[str, Any]:
    k = report.k
    return {
        "k": k,
        "from": report.filters.start.isoformat(), "to": report.filters.end.isoformat(),
        "previous": {"from": report.previous.start.isoformat(), "to": report.previous.end.isoformat()},
        "county": report.filters.county, "category": report.filters.category,
        "figures": [{"id": f.id, "label": f.label, "value": f.text} for f in report.figures],
        "tables": [{"id": t.id, "title": t.title, "unit": t.unit, "total": t.total.text(k),
                    "previous_total": t.previous_total.text(k) if t.previous_total else None,
                    "rows": [{"key": r.key, "label": r.label, "value": r.cell.text(k),
                              "previous": r.previous.text(k) if r.previous else None} for r in t.rows]}
                   for t in report.tables],
    }


CHI_SECTIONS: tuple[tuple[str, str], ...] = (
    ("contact_type", N_("1. Contacts by kind")), ("category", N_("2. Counselling contacts by main category")),
    ("secondary", N_("3. Other categories mentioned")), ("age_band", N_("4. Contacts by age")),
    ("gender", N_("5. Contacts by gender")), ("contact_by", N_("6. Who made contact")),
    ("outcome", N_("7. Outcome of the contact")), ("county", N_("8. Contacts by county")),
    ("r_agency_kind", N_("9. Referrals by agency type")),
)


def csv_rows(report: Report, layout: str = "dashboard") -> list[list[str]]:
    """The same protected cells as the page, as CSV rows (header first)."""
    k, t = report.k, report.locale
    header = [translate(t, "table"), translate(t, "code"), translate(t, "label"),
              translate(t, "%(from)s to %(to)s") % {"from": report.filters.start, "to": report.filters.end},
              translate(t, "%(from)s to %(to)s") % {"from": report.previous.start, "to": report.previous.end}]
    rows = [header]
    if layout == "chi":
        for table_id, title in CHI_SECTIONS:
            table = report.find(table_id)
            if table is None:  # not kept for a county and a category together (rollups.FINE_DIMS)
                continue
            for row in table.rows:
                rows.append([translate(t, title), row.key, row.label, row.cell.text(k),
                             row.previous.text(k) if row.previous else ""])
            if table_id != "secondary":
                rows.append([translate(t, title), "total", translate(t, "Total"), table.total.text(k),
                             table.previous_total.text(k) if table.previous_total else ""])
        return rows
    for figure in report.figures:
        rows.append([translate(t, "Key figures"), figure.id, figure.label, figure.text, ""])
    for table in report.tables:
        for row in table.rows:
            rows.append([table.title, row.key, row.label, row.cell.text(k),
                         row.previous.text(k) if row.previous else ""])
        if table.id != "secondary":
            rows.append([table.title, "total", translate(t, "Total"), table.total.text(k),
                         table.previous_total.text(k) if table.previous_total else ""])
    return rows
