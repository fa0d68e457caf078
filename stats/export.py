"""The flat forms of a report: the JSON of the API and the rows of the CSV export (two layouts).

Both show the same protected cells as the page; nothing here counts or protects.
"""

from __future__ import annotations

from typing import Any

from helpline.i18n import N_, translate
from stats.report import Report


def report_json(report: Report) -> dict[str, Any]:
    """The report as the API returns it: filters, key figures and every table, as shown text."""
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
    ("r_agency_kind", N_("9. Referrals by agency type")), ("channel", N_("10. Contacts by channel")),
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
