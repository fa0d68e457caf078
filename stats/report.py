"""The report a manager sees: two slices (the period and the one before) made into protected tables.

`build_report` turns the raw counts of stats.queries into key figures and tables (stats.tables) that
have been through stats.privacy. Everything the page, the API and the CSV export (stats.export) show
comes out of `build_report`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from helpline.i18n import N_, translate
from stats import privacy
from stats.queries import Filters, Slice
from stats.rollups import OPEN_AGE_EDGES, available
from stats.tables import Row, TableView, counts_table, municipality_table, ordered_cells, series_table


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
                "call_duration": N_("minutes, up to"),
                "ack_hours": N_("hours, up to"), "open_age": N_("days since sent, up to")}

CONTACT_TABLES: tuple[tuple[str, str], ...] = (
    ("channel", N_("Contacts by channel")), ("queue", N_("Answered and abandoned")), ("blocked", N_("Blocked")),
    ("hour", N_("Contacts by hour of the day")), ("weekday", N_("Contacts by day of the week")),
    ("returning", N_("First-time and returning")), ("contact_by", N_("Who contacted us")),
    ("category", N_("Main topic (CHI category)")), ("secondary", N_("Other topics (CHI category)")),
    ("contact_type", N_("Kind of contact")), ("age_band", N_("Age")), ("gender", N_("Gender")),
    ("county", N_("County")), ("municipality", N_("Municipality")), ("risk", N_("Risk seen")),
    ("outcome", N_("Outcome")), ("urgency", N_("Urgency in the queue")), ("feedback", N_("Did the chat help?")),
    ("wait", N_("Queue wait")), ("duration", N_("Chat duration")),
    ("call_duration", N_("Length of calls")),  # every channel but the chat, that has its length (voice calls too)
)
REFERRAL_TABLES: tuple[tuple[str, str, str], ...] = (
    ("agency_kind", "agency_kind", N_("Referrals by agency type")),
    ("category", "category", N_("Referrals by category")),
    ("agency_county", "county", N_("Referrals by agency county")),
    ("urgency", "r_urgency", N_("Referrals by urgency")),
    ("ack", "ack", N_("Acknowledgement against the deadline")),
    ("ack_hours", "ack_hours", N_("Time to acknowledgement")),
    ("escalated", "escalated", N_("Escalations")),
    ("state", "state", N_("Open and closed referrals")),
    ("outcome", "r_outcome", N_("Referral outcomes")),
)



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


def build_report(current: Slice, previous: Slice, filters: Filters, k: int, locale: str,
                 debriefs: int | None = None) -> Report:
    """The key figures and tables of a period compared with the one before, every number protected."""
    privacy.check_k(k)
    tables = [*_series_tables(current, filters, k, locale),
              *_contact_tables(current, previous, filters, k, locale),
              *_referral_tables(current, previous, k, locale)]
    figures = _figures(current, previous, filters, tables, k, locale, debriefs)
    return Report(filters, filters.previous(), k, locale, figures, tuple(tables))


def _series_tables(current: Slice, filters: Filters, k: int, locale: str) -> list[TableView]:
    tables: list[TableView] = []
    series_days = (filters.end - filters.start).days + 1
    if series_days <= 120:
        tables.append(series_table("per_day", N_("Contacts per day"), current, filters, "day", k, locale))
    if series_days <= 800:
        tables.append(series_table("per_week", N_("Contacts per week"), current, filters, "week", k, locale))
    tables.append(series_table("per_month", N_("Contacts per month"), current, filters, "month", k, locale))
    return tables


def _contact_tables(current: Slice, previous: Slice, filters: Filters, k: int, locale: str) -> list[TableView]:
    tables: list[TableView] = []
    # Blocks end chats: "not blocked" counts the chats (every chat has a queue value), not the calls.
    total_now = sum(current.dim("c", "queue").values())
    total_before = sum(previous.dim("c", "queue").values())
    for name, title in CONTACT_TABLES:
        if not available(filters.county, filters.category, name):
            continue  # not kept for a county and a category together (see rollups.FINE_DIMS)
        now, before = current.dim("c", name), previous.dim("c", name)
        if name == "blocked":
            now = Counter({"yes": now.get("yes", 0), "no": total_now - now.get("yes", 0)})
            before = Counter({"yes": before.get("yes", 0), "no": total_before - before.get("yes", 0)})
        if name == "municipality":
            tables.append(municipality_table(now, before, k, locale))
            continue
        if name == "secondary":  # a chat may have several: no total
            tables.append(counts_table(name, title, name, now, before, k, locale))
            continue
        unit = BUCKET_UNITS.get(name, "")
        tables.append(counts_table(name, title, name, now, before, k, locale, unit=unit,
                                   keep_zero=name in ("hour", "weekday")))
    return tables


def _referral_tables(current: Slice, previous: Slice, k: int, locale: str) -> list[TableView]:
    tables: list[TableView] = []
    for dim, label_set, title in REFERRAL_TABLES:
        now, before = current.dim("r", dim), previous.dim("r", dim)
        table_id = "r_" + dim
        tables.append(counts_table(table_id, title, label_set, now, before, k, locale,
                                   unit=BUCKET_UNITS.get(label_set, "")))
    open_table = privacy.protect(dict(current.open_age), k)
    tables.append(TableView("r_open_age", translate(locale, "Referrals still open, by age"),
                            translate(locale, BUCKET_UNITS["open_age"]),
                            tuple(Row(c.key, c.key, c, None) for c in ordered_cells(open_table, OPEN_AGE_EDGES)),
                            open_table.total, None))
    return tables


def _figures(current: Slice, previous: Slice, filters: Filters, tables: list[TableView], k: int, locale: str,
             debriefs: int | None) -> tuple[Figure, ...]:
    kept = available(filters.county, filters.category, "wait")
    total_cell = privacy.show("total", sum(current.dim("c", "total").values()), k)
    prev_cell = privacy.show("total", sum(previous.dim("c", "total").values()), k)
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
    return figures
