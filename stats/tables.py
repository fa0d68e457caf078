"""The protected tables a report is made of: `TableView` and its `Row`s, and how one is built.

Each builder takes the raw counts of the period and of the one before and returns cells that have
been through stats.privacy (small numbers suppressed, small municipalities merged into their county).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from helpline.i18n import translate
from stats import privacy
from stats.labels import SPECIAL, order_and_labels
from stats.queries import Filters, Slice
from stats.rollups import UNKNOWN, county_of_municipality


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



def _keys(name: str, *counters: Mapping[str, int]) -> dict[str, str]:
    labels = order_and_labels(name)
    seen = [key for counter in counters for key, n in counter.items() if n]
    for key in sorted(set(seen) - set(labels)):
        labels[key] = SPECIAL.get(key, key)
    return labels


def counts_table(table_id: str, title: str, label_set: str, current: Mapping[str, int], previous: Mapping[str, int],
           k: int, locale: str, *, unit: str = "", chart: str = "bar", keep_zero: bool = False,
           total: int | None = None, prev_total: int | None = None) -> TableView:
    """One table of counts by code, in display order, with the previous period beside it."""
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
    if label_set in ("hour", "wait", "duration", "call_duration", "ack_hours", "open_age", "municipality"):
        return msgid
    return translate(locale, msgid)


def municipality_table(current: Mapping[str, int], previous: Mapping[str, int], k: int,
                        locale: str) -> TableView:
    """Municipalities, the small ones of a county merged into one row for that county."""
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


def series_table(table_id: str, title: str, current: Slice, filters: Filters, grain: str, k: int,
                  locale: str) -> TableView:
    """Contacts over the period by day, week or month, in time order (no previous period)."""
    values = _series(current.days, filters, grain)
    table = privacy.protect(values, k)
    rows = tuple(Row(c.key, c.key, c, None) for c in table.cells)
    return TableView(table_id, translate(locale, title), "", rows, table.total, None, "column")



def ordered_cells(table: privacy.Table, edges: tuple[int, ...]) -> list[privacy.Cell]:
    """The cells of a bucketed table in bucket order."""
    cells = table.by_key()
    return [cells[key] for key in sorted(cells, key=int) if key in cells] if edges else list(table.cells)
