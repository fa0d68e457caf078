"""The services directory over HTTP (issue 19): counsellors search it, admins export and import it
as CSV. The logic is referral/services_dir.py."""

from __future__ import annotations

from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from helpline import validate
from helpline.security import audit
from helpline.staffweb import Refused, StaffCall, staff_route
from referral import services_dir
from referral.service import ReferralError

# A request is at most 64 KiB (helpline/middleware.py): a larger file is imported in parts.
IMPORT: dict[str, validate.Check] = {"csv": validate.string(60_000, multiline=True)}


async def search(call: StaffCall) -> Response:
    """GET /console/api/services?municipality=Shkodër&kind=psychological"""
    municipality = (call.request.query_params.get("municipality") or "").strip()[:64] or None
    kind = call.request.query_params.get("kind") or None
    if kind is not None and kind not in services_dir.SEARCH_KINDS:
        raise Refused(400, call.t("Unknown kind of service."))
    known = call.services.municipalities
    if municipality is not None and services_dir.county_of(known, municipality) is None:
        raise Refused(400, call.t("Unknown municipality."))
    county = services_dir.county_of(known, municipality) if municipality else None
    async with call.services.store.read() as db:
        found = await services_dir.search(db, municipality, county, kind)
    return JSONResponse({"services": found, "kinds": list(services_dir.SEARCH_KINDS)})


async def export(call: StaffCall) -> Response:
    async with call.services.store.read() as db:
        text = await services_dir.export_csv(db)
    return Response(text, media_type="text/csv; charset=utf-8",
                    headers={"content-disposition": 'attachment; filename="services.csv"', "cache-control": "no-store"})


async def import_csv(call: StaffCall) -> Response:
    data = await call.body(IMPORT)
    try:
        rows = services_dir.parse_csv(data["csv"])
        async with call.services.store.write() as db:
            counts = await services_dir.import_rows(db, rows)
            await audit.record(db, call.actor, "services.imported", "directory", counts)
    except ReferralError as exc:
        raise Refused(exc.status, call.t(exc.message) % exc.params) from None
    return JSONResponse(counts)


routes: list[BaseRoute] = [
    staff_route("/console/api/services", "referral.create", search),
    staff_route("/admin/services.csv", "admin.agencies", export),
    staff_route("/admin/api/services/import", "admin.agencies", import_csv, methods=("POST",), body=IMPORT),
]
