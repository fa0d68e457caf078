"""The console's side of referrals (/console/api/referral-*, /console/api/referrals...): the
helpline's staff choose an agency, refer a case, follow their referrals, answer and re-route.

Bodies and content are ciphertext made in the browser; see docs/referrals.md for the formats.
"""

from __future__ import annotations

from sqlalchemy import select
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from helpline.models import Agency
from helpline.staffweb import StaffCall, staff_route
from referral import categories, deadlines, directory, readable, reading, service, threads
from referral._web import ADD_KEYS, CREATE, REROUTE, TEXT, keys_of, referral_keys, referral_read, rid_of, writing

POST = ("POST",)


async def console_agencies(call: StaffCall) -> Response:
    """The directory, with the agency the form should propose for this municipality and concern."""
    params = call.request.query_params
    municipality, concern = params.get("municipality"), params.get("concern")
    async with call.services.store.read() as db:
        agencies = (await db.execute(select(Agency).where(Agency.active.is_(True))
                                     .order_by(Agency.kind, Agency.county, Agency.name))).scalars().all()
    county = next((a.county for a in agencies if a.municipality == municipality), None)
    suggested = directory.suggest_code(municipality, county, concern)
    return JSONResponse({"agencies": [directory.public(a) for a in agencies],
                         "suggested": suggested if any(a.code == suggested for a in agencies) else None,
                         "urgencies": list(service.URGENCIES), "consent_items": list(service.CONSENT_ITEMS),
                         "consent_bases": list(service.CONSENT_BASES)})


async def console_readers(call: StaffCall) -> Response:
    """Whom the browser must wrap the referral key for (their keys are checked against the org key)."""
    code = call.request.query_params.get("agency", "")
    async with writing(call) as db:
        agency = await service.agency_by_code(db, code)
        people = await service.readers(db, agency, call.staff)
        # Whether anyone at the agency can read it, and its fallback if nobody can (issue 19).
        count = await readable.officers(db, agency.id)
        return JSONResponse({"agency": directory.public(agency), "readers": [service.reader_info(s) for s in people],
                             "officers": count, "fallback": None if count else await readable.fallback_of(db, agency)})


async def console_create(call: StaffCall) -> Response:
    data = await call.body(CREATE)
    async with writing(call) as db:
        categories.check(data["chi_category"])
        await readable.require(db, await service.agency_by_code(db, data["agency"]))
        referral = await service.create(
            db, call.staff, call.services.settings, agency_code=data["agency"], urgency=data["urgency"],
            chi_category=data["chi_category"], consent=data["consent"], content=data["content"],
            keys=keys_of(call, data["keys"]), conversation_id=data["conversation"], now=deadlines.now())
        agency = await db.get(Agency, referral.agency_id)
        return JSONResponse(reading.summary(referral, agency), status_code=201)


async def console_list(call: StaffCall) -> Response:
    async with writing(call) as db:
        items = await reading.list_for(db, call.staff)
    return JSONResponse({"referrals": items})


async def console_answer(call: StaffCall) -> Response:
    data = await call.body(TEXT)
    async with writing(call) as db:
        referral = await service.answer(db, call.staff, rid_of(call), data["body"], deadlines.now())
        return JSONResponse({"state": referral.state})


async def console_reroute(call: StaffCall) -> Response:
    data = await call.body(REROUTE)
    async with writing(call) as db:
        await readable.require(db, await service.agency_by_code(db, data["agency"]))
        await threads.check_reroute(db, rid_of(call), data["agency"])
        referral = await service.reroute(db, call.staff, call.services.settings, rid_of(call), data["agency"],
                                         keys_of(call, data["keys"]), deadlines.now())
        agency = await db.get(Agency, referral.agency_id)
        return JSONResponse(reading.summary(referral, agency))


routes: list[BaseRoute] = [
    staff_route("/console/api/referral-agencies", "referral.create", console_agencies),
    staff_route("/console/api/referral-readers", "referral.create", console_readers),
    staff_route("/console/api/referrals", "referral.create", console_create, methods=POST,
                body=CREATE),
    staff_route("/console/api/referrals", "referral.track", console_list),
    staff_route("/console/api/referrals/{rid}", "referral.track", referral_read),
    staff_route("/console/api/referrals/{rid}/answers", "referral.track", console_answer, methods=POST,
                body=TEXT),
    staff_route("/console/api/referrals/{rid}/reroute", "referral.create", console_reroute, methods=POST,
                body=REROUTE),
    staff_route("/console/api/referrals/{rid}/keys", "referral.track", referral_keys, methods=POST,
                body=ADD_KEYS),
]
