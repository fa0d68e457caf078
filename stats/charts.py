"""Charts drawn on the server as SVG: no script, no chart library in the browser.

Each chart is an image with a title and a description (role="img", aria-labelledby) and sits
beside the table of the same numbers; hidden cells ("< k", "x") have no bar and say so in
the label. Colours come from presentation attributes and the stylesheet, never inline style.
"""

from __future__ import annotations

from markupsafe import Markup, escape

from helpline.i18n import translate
from stats.tables import TableView

BAR_HEIGHT = 22
GAP = 6
LABEL_WIDTH = 230
PLOT_WIDTH = 360
VALUE_WIDTH = 70


def _description(table: TableView, k: int, locale: str) -> str:
    shown = [r for r in table.rows if r.cell.value is not None]
    if not shown:
        return translate(locale, "Every number of this chart is hidden to protect children.")
    top = max(shown, key=lambda r: r.cell.value or 0)
    text = translate(locale, "Largest: %(label)s, %(value)s. Total: %(total)s.") % {
        "label": top.label, "value": top.cell.text(k), "total": table.total.text(k)}
    if len(shown) < len(table.rows):
        text += " " + translate(locale, "Small numbers are hidden and have no bar.")
    return text


def bar_chart(table: TableView, k: int, locale: str) -> Markup:
    """Horizontal bars, one per row."""
    rows = table.rows
    height = max(1, len(rows)) * (BAR_HEIGHT + GAP) + GAP
    width = LABEL_WIDTH + PLOT_WIDTH + VALUE_WIDTH
    biggest = max([r.cell.value or 0 for r in rows] + [1])
    chart_id = f"chart-{table.id}"
    parts = [f'<svg class="chart" role="img" aria-labelledby="{chart_id}-t {chart_id}-d" '
             f'viewBox="0 0 {width} {height}" width="100%" preserveAspectRatio="xMinYMin meet" '
             f'xmlns="http://www.w3.org/2000/svg">',
             f'<title id="{chart_id}-t">{escape(table.title)}</title>',
             f'<desc id="{chart_id}-d">{escape(_description(table, k, locale))}</desc>']
    for i, row in enumerate(rows):
        y = GAP + i * (BAR_HEIGHT + GAP)
        value = row.cell.value or 0
        bar = round(PLOT_WIDTH * value / biggest) if value else 0
        parts.append(f'<text x="{LABEL_WIDTH - 8}" y="{y + 16}" text-anchor="end" class="chart-label" '
                     f'fill="#1b1b1b">{escape(row.label[:34])}</text>')
        if bar:
            parts.append(f'<rect x="{LABEL_WIDTH}" y="{y}" width="{bar}" height="{BAR_HEIGHT}" '
                         f'class="chart-bar" fill="#1d5fa8"/>')
        parts.append(f'<text x="{LABEL_WIDTH + bar + 6}" y="{y + 16}" class="chart-value" '
                     f'fill="#1b1b1b">{escape(row.cell.text(k))}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text part above is escaped  # nosec B704


def column_chart(table: TableView, k: int, locale: str) -> Markup:
    """Columns in time order (a series per day, week or month)."""
    rows = table.rows
    width, height, base = 720, 200, 170
    step = width / max(1, len(rows))
    biggest = max([r.cell.value or 0 for r in rows] + [1])
    chart_id = f"chart-{table.id}"
    parts = [f'<svg class="chart" role="img" aria-labelledby="{chart_id}-t {chart_id}-d" '
             f'viewBox="0 0 {width} {height}" width="100%" preserveAspectRatio="xMinYMin meet" '
             f'xmlns="http://www.w3.org/2000/svg">',
             f'<title id="{chart_id}-t">{escape(table.title)}</title>',
             f'<desc id="{chart_id}-d">{escape(_description(table, k, locale))}</desc>',
             f'<line x1="0" y1="{base}" x2="{width}" y2="{base}" stroke="#1b1b1b" stroke-width="1"/>']
    for i, row in enumerate(rows):
        value = row.cell.value or 0
        bar = round((base - 10) * value / biggest) if value else 0
        x = round(i * step + step * 0.1, 1)
        if bar:
            parts.append(f'<rect x="{x}" y="{base - bar}" width="{round(step * 0.8, 1)}" height="{bar}" '
                         f'class="chart-bar" fill="#1d5fa8"/>')
    if rows:
        parts.append(f'<text x="0" y="{height - 8}" class="chart-label" fill="#1b1b1b">'
                     f'{escape(rows[0].label)}</text>')
        parts.append(f'<text x="{width}" y="{height - 8}" text-anchor="end" class="chart-label" '
                     f'fill="#1b1b1b">{escape(rows[-1].label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text part above is escaped  # nosec B704


def chart(table: TableView, k: int, locale: str) -> Markup:
    return column_chart(table, k, locale) if table.chart == "column" else bar_chart(table, k, locale)
