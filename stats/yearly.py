"""The yearly report for the State Agency (in Albania, for the Rights and Protection of the Child; issue 19):
the dashboard's figures for one calendar year, as a printable page with its server-side SVG charts
(/stats/yearly?year=2026) and as CSV (/stats/yearly.csv?year=2026). Nothing is counted or protected
here: it is stats.web.make_report for 1 January to 31 December, so the cells, the k-suppression and
the pathway table are exactly those of the dashboard for the same period."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from starlette.responses import Response

from helpline import pack
from helpline.i18n import pick_locale, translate
from helpline.models import Agency, utcnow
from helpline.staffweb import Refused, StaffCall, staff_route
from stats import charts, web
from stats.export import csv_rows
from stats.queries import Filters

FIRST_YEAR = 2000


def year_of(call: StaffCall, locale: str) -> int:
    """The year asked for (default: the last full year), between 2000 and this year."""
    this_year = utcnow().astimezone(call.services.settings.timezone).year
    raw = call.request.query_params.get("year")
    if raw is None or raw == "":
        return this_year - 1
    if not raw.isdigit() or not FIRST_YEAR <= int(raw) <= this_year:
        raise Refused(400, translate(locale, "Choose a year from %(first)d to %(last)d.")
                      % {"first": FIRST_YEAR, "last": this_year})
    return int(raw)


async def _report(call: StaffCall) -> tuple[Any, int, str]:
    locale = pick_locale(call.request.query_params.get("lang"), call.locale)
    year = year_of(call, locale)
    report = await web.make_report(call.services, Filters(dt.date(year, 1, 1), dt.date(year, 12, 31)), locale)
    return report, year, locale


async def state_agency_name(call: StaffCall) -> str | None:
    """The directory's name of the agency the helpline pack's ``routing.state_agency`` names, if listed."""
    async with call.services.store.read() as db:
        name = await db.scalar(select(Agency.name).where(Agency.code == pack.active().route("state_agency")))
    return str(name) if name else None


async def page(call: StaffCall) -> Response:
    report, year, locale = await _report(call)
    return call.services.render(call.request, "stats/yearly.html", {
        "report": report, "k": report.k, "year": year, "chart": lambda t: charts.chart(t, report.k, locale),
        "made": utcnow().astimezone(call.services.settings.timezone).date(), "numbers": pack.numbers(),
        "state_agency": await state_agency_name(call),
    }, locale=locale, headers={"cache-control": "no-store"})


async def export(call: StaffCall) -> Response:
    report, year, _locale = await _report(call)
    return Response("\ufeff" + web.to_csv(csv_rows(report)), media_type="text/csv; charset=utf-8",
                    headers={"content-disposition": f'attachment; filename="helpline-yearly-{year}.csv"',
                             "cache-control": "no-store"})


routes = [
    staff_route("/stats/yearly", "stats.view", page),
    staff_route("/stats/yearly.csv", "stats.view", export),
]
