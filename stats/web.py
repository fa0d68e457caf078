"""/stats: the dashboard page, its JSON API and the CSV download, all behind `stats.view`.

The page is rendered on the server (charts as SVG, each with its table); filters are a plain
GET form, so the page needs no script at all. A visitor who is not signed in is sent to the
console's sign-in. Every number passes through stats.report.build_report, so the page,
the API and the export show the same protected cells.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from helpline import taxonomy
from helpline.i18n import pick_locale, translate
from helpline.models import utcnow
from helpline.staffweb import LANG_HEADER, Refused, StaffCall, authenticate, services_of, staff_route
from stats import charts, pathway, rollups
from stats.export import csv_rows, report_json
from stats.queries import Filters, debrief_count, load_slice
from stats.report import Report, build_report
from stats.rollups import ALL, NONE, UNKNOWN, county_of_municipality

if TYPE_CHECKING:
    from helpline.app import Services

STATIC = Path(__file__).resolve().parent / "static"
DEFAULT_DAYS = 30


def counties() -> list[str]:
    return sorted(set(county_of_municipality().values()))


def parse_date(raw: str | None, default: dt.date, name: str, locale: str) -> dt.date:
    if not raw:
        return default
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise Refused(400, translate(locale, "'%(name)s' must be a date like 2026-01-31.") % {"name": name}) from None


def parse_filters(params: dict[str, str], tz: ZoneInfo, locale: str) -> Filters:
    today = utcnow().astimezone(tz).date()
    end = parse_date(params.get("to"), today, "to", locale)
    start = parse_date(params.get("from"), end - dt.timedelta(days=DEFAULT_DAYS - 1), "from", locale)
    county = params.get("county") or ALL
    category = params.get("category") or ALL
    if county not in (ALL, UNKNOWN, *counties()):
        raise Refused(400, translate(locale, "Unknown county."))
    if category not in (ALL, NONE, *sorted(taxonomy.load().categories)):
        raise Refused(400, translate(locale, "Unknown category."))
    filters = Filters(start, end, county, category)
    try:
        filters.check()
    except ValueError as exc:
        raise Refused(400, translate(locale, str(exc))) from None
    return filters


async def make_report(services: Services, filters: Filters, locale: str) -> Report:
    tz: ZoneInfo = services.settings.timezone
    await rollups.ensure_fresh(services.store, tz)
    async with services.store.read() as db:
        current = await load_slice(db, filters)
        previous = await load_slice(db, filters.previous(), with_open=False)
        debriefs = await debrief_count(db, filters)
        path = await pathway.load(db, filters, tz, sum(current.dim("c", "total").values()))
    report = build_report(current, previous, filters, int(services.settings.stats_k), locale, debriefs)
    return pathway.add_to(report, path, int(services.settings.stats_k), locale)  # issue 19


def _locale(call: StaffCall) -> str:
    return pick_locale(call.request.query_params.get("lang"), call.locale)


async def api_report(call: StaffCall) -> Response:
    locale = _locale(call)
    filters = parse_filters(dict(call.request.query_params), call.services.settings.timezone, locale)
    report = await make_report(call.services, filters, locale)
    return JSONResponse(report_json(report), headers={"cache-control": "no-store"})


def to_csv(rows: list[list[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in rows:
        # A cell starting with = + - @ would be a formula in a spreadsheet.
        writer.writerow(["'" + c if c[:1] in ("=", "+", "-", "@") and not c[1:2].isdigit() else c for c in row])
    return out.getvalue()


async def export_csv(call: StaffCall) -> Response:
    locale = _locale(call)
    filters = parse_filters(dict(call.request.query_params), call.services.settings.timezone, locale)
    layout = call.request.query_params.get("layout", "dashboard")
    if layout not in ("dashboard", "chi"):
        raise Refused(400, translate(locale, "Unknown table layout."))
    report = await make_report(call.services, filters, locale)
    name = f"helpline-stats-{layout}-{filters.start}-{filters.end}.csv"
    return Response("\ufeff" + to_csv(csv_rows(report, layout)), media_type="text/csv; charset=utf-8",
                    headers={"content-disposition": f'attachment; filename="{name}"', "cache-control": "no-store"})


def _options(locale: str) -> dict[str, Any]:
    cats = taxonomy.load().data["categories"]
    return {
        "counties": [(ALL, translate(locale, "All counties"))] + [(c, c) for c in counties()]
        + [(UNKNOWN, translate(locale, "Not known"))],
        "categories": [(ALL, translate(locale, "All categories"))]
        + [(c["code"], translate(locale, c["label"])) for c in cats] + [(NONE, translate(locale, "Not recorded"))],
    }


async def page(call: StaffCall) -> Response:
    locale = _locale(call)
    services = call.services
    params = dict(call.request.query_params)
    error = None
    try:
        filters = parse_filters(params, services.settings.timezone, locale)
    except Refused as exc:
        error = exc.message
        filters = parse_filters({}, services.settings.timezone, locale)
    report = await make_report(services, filters, locale)
    query = {"from": filters.start.isoformat(), "to": filters.end.isoformat(), "county": filters.county,
             "category": filters.category, "lang": locale}
    qs = "&".join(f"{k}={v}" for k, v in query.items())
    return services.render(call.request, "stats/dashboard.html", {
        "report": report, "k": report.k, "chart": lambda t: charts.chart(t, report.k, locale),
        "error": error, "options": _options(locale), "query": query, "qs": qs,
        "staff": call.staff,
    }, locale=locale, status_code=400 if error else 200, headers={"cache-control": "no-store"})


async def _not_allowed(request: Request, asked: str | None) -> Response:
    """A signed-in member whose role sees no statistics gets a page in her language, not JSON."""
    found = await authenticate(request)
    account = found[0].locale if found else None
    locale = pick_locale(asked or request.headers.get(LANG_HEADER), fallback=pick_locale(account))
    return services_of(request).render(request, "stats/not_allowed.html", {}, locale=locale, status_code=403,
                                       headers={"cache-control": "no-store"})


def _page_route() -> Route:
    """The dashboard; a visitor who is not signed in goes to the console's sign-in first."""
    guarded = staff_route("/stats", "stats.view", page)
    inner = guarded.endpoint

    async def endpoint(request: Request) -> Response:
        response: Response = await inner(request)
        asked = request.query_params.get("lang")
        if response.status_code == 401:
            lang = f"&lang={pick_locale(asked)}" if asked else ""
            return RedirectResponse(f"/console?next=/stats{lang}", status_code=303)
        if response.status_code == 403:
            return await _not_allowed(request, asked)
        return response

    endpoint.helpline_action = "stats.view"  # type: ignore[attr-defined]
    endpoint.helpline_signin_page = True  # type: ignore[attr-defined]  # documented (helpline/openapi.py)
    return Route("/stats", endpoint, methods=["GET"])


async def stylesheet(request: Request) -> Response:
    return FileResponse(STATIC / "stats.css", media_type="text/css", headers={"cache-control": "max-age=3600"})


routes = [
    _page_route(),
    staff_route("/stats/api/report", "stats.view", api_report),
    staff_route("/stats/export.csv", "stats.view", export_csv),
    Route("/static/stats.css", stylesheet),
]
