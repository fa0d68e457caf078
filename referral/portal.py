"""HTTP API of referrals: the officers' portal (/referrals/api/...), the console side
(/console/api/referrals...) and the admins' view of the notice outbox (/admin/api/outbox).

Bodies and content are ciphertext made in the browser; see docs/referrals.md for the formats.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from helpline import taxonomy, validate
from helpline.db import StoreUnavailable
from helpline.i18n import pick_locale, translate
from helpline.models import Agency
from helpline.staffweb import Refused, StaffCall, error, read_json, services_of, staff_route
from referral import deadlines, directory, notices, service
from referral.service import ReferralError, WrappedKey

B64 = validate.string(200)
KEYS = validate.list_of(validate.mapping(validate.choice("reader", "wrapped_key", "wrapper_public_key"),
                                         validate.string(128), 3), service.MAX_READERS)
BODY = validate.string(service.MAX_EVENT_BYTES * 2)
# The bodies the routes read (documented in /openapi.json); routes without one read none.
ACTION: dict[str, validate.Check] = {"kind": validate.choice(*service.ACTION_KINDS), "body": BODY}
TEXT: dict[str, validate.Check] = {"body": BODY}
RETURN: dict[str, validate.Check] = {"reason": validate.choice(*service.RETURN_REASONS),
                                     "body": validate.Optional(BODY)}
CLOSE: dict[str, validate.Check] = {"outcome": validate.choice(*service.OUTCOMES), "body": validate.Optional(BODY)}
CREATE: dict[str, validate.Check] = {
    "agency": validate.string(48), "urgency": validate.choice(*service.URGENCIES),
    "chi_category": validate.string(64),
    "consent": validate.mapping(validate.string(32), validate.string(48), len(service.CONSENT_ITEMS)),
    "content": validate.string(service.MAX_CONTENT_BYTES * 2), "keys": KEYS,
    "conversation": validate.Optional(validate.string(32)),
}
REROUTE: dict[str, validate.Check] = {"agency": validate.string(48), "keys": KEYS}
ADD_KEYS: dict[str, validate.Check] = {"keys": KEYS}
NOTHING: dict[str, validate.Check] = {}


@asynccontextmanager
async def _writing(call: StaffCall) -> AsyncIterator[AsyncSession]:
    """A write transaction whose ReferralError becomes a translated refusal (403s are audited)."""
    try:
        async with call.services.store.write() as db:
            yield db
    except ReferralError as exc:
        raise Refused(exc.status, call.t(exc.message) % exc.params) from None


def _keys(call: StaffCall, raw: list[dict[str, str]]) -> list[WrappedKey]:
    keys = []
    for item in raw:
        if set(item) != {"reader", "wrapped_key", "wrapper_public_key"}:
            raise Refused(400, call.t("Each key needs reader, wrapped_key and wrapper_public_key."))
        keys.append(WrappedKey(item["reader"], item["wrapped_key"], item["wrapper_public_key"]))
    return keys


def _rid(call: StaffCall) -> str:
    rid = str(call.request.path_params["rid"])
    if len(rid) > 32:
        raise Refused(404, call.t("There is no such referral."))
    return rid


# -- officers' portal -------------------------------------------------------------------------------


async def portal_list(call: StaffCall) -> Response:
    async with _writing(call) as db:
        items = await service.list_for(db, call.staff)
    return JSONResponse({"referrals": items})


async def portal_page(request: Request) -> Response:
    """The officers' portal shell (no data in it): sign-in, then the agency's referrals, read and
    acted on in the browser (counsellor_ui/static/console_portal.js)."""
    services = services_of(request)
    locale = pick_locale(request.query_params.get("lang"))
    bundle = services.bundles["portal"]
    config = {"strings": services.js_strings("console", locale), "lang": locale, "ws_path": "/ws/staff",
              "outcomes": list(service.OUTCOMES), "action_kinds": list(service.ACTION_KINDS),
              "return_reasons": list(service.RETURN_REASONS),
              "categories": {sub["code"]: sub["label"] for cat in taxonomy.load().translated(locale)["categories"]
                             for sub in cat["sub"]}}
    return services.render(request, "portal.html", {
        "bundle_src": bundle.src, "bundle_integrity": bundle.integrity, "config": config,
    }, locale=locale, headers={"cache-control": "no-store"})


async def referral_read(call: StaffCall) -> Response:
    """One referral for its reader; `?purpose=print` marks the audited read as a print view."""
    printed = call.request.query_params.get("purpose") == "print"
    async with _writing(call) as db:
        item = await service.read(db, call.staff, _rid(call), printed=printed)
    return JSONResponse(item)


async def portal_acknowledge(call: StaffCall) -> Response:
    async with _writing(call) as db:
        referral = await service.acknowledge(db, call.staff, _rid(call), deadlines.now())
        return JSONResponse({"state": referral.state})


async def portal_action(call: StaffCall) -> Response:
    data = await call.body(ACTION)
    async with _writing(call) as db:
        referral = await service.record_action(db, call.staff, _rid(call), data["kind"], data["body"],
                                               deadlines.now())
        return JSONResponse({"state": referral.state})


async def portal_question(call: StaffCall) -> Response:
    data = await call.body(TEXT)
    async with _writing(call) as db:
        referral = await service.ask(db, call.staff, _rid(call), data["body"], deadlines.now())
        return JSONResponse({"state": referral.state})


async def portal_return(call: StaffCall) -> Response:
    data = await call.body(RETURN)
    async with _writing(call) as db:
        referral = await service.give_back(db, call.staff, _rid(call), data["reason"], data["body"],
                                           deadlines.now())
        return JSONResponse({"state": referral.state})


async def portal_close(call: StaffCall) -> Response:
    data = await call.body(CLOSE)
    async with _writing(call) as db:
        referral = await service.close(db, call.staff, _rid(call), data["outcome"], data["body"], deadlines.now())
        return JSONResponse({"state": referral.state, "outcome": referral.outcome})


# -- console side -----------------------------------------------------------------------------------


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
    async with _writing(call) as db:
        agency = await service.agency_by_code(db, code)
        people = await service.readers(db, agency, call.staff)
        return JSONResponse({"agency": directory.public(agency), "readers": [service.reader_info(s) for s in people]})


async def console_create(call: StaffCall) -> Response:
    data = await call.body(CREATE)
    async with _writing(call) as db:
        referral = await service.create(
            db, call.staff, call.services.settings, agency_code=data["agency"], urgency=data["urgency"],
            chi_category=data["chi_category"], consent=data["consent"], content=data["content"],
            keys=_keys(call, data["keys"]), conversation_id=data["conversation"], now=deadlines.now())
        agency = await db.get(Agency, referral.agency_id)
        return JSONResponse(service.summary(referral, agency), status_code=201)


async def console_list(call: StaffCall) -> Response:
    async with _writing(call) as db:
        items = await service.list_for(db, call.staff)
    return JSONResponse({"referrals": items})


async def console_answer(call: StaffCall) -> Response:
    data = await call.body(TEXT)
    async with _writing(call) as db:
        referral = await service.answer(db, call.staff, _rid(call), data["body"], deadlines.now())
        return JSONResponse({"state": referral.state})


async def console_reroute(call: StaffCall) -> Response:
    data = await call.body(REROUTE)
    async with _writing(call) as db:
        referral = await service.reroute(db, call.staff, call.services.settings, _rid(call), data["agency"],
                                         _keys(call, data["keys"]), deadlines.now())
        agency = await db.get(Agency, referral.agency_id)
        return JSONResponse(service.summary(referral, agency))


async def referral_keys(call: StaffCall) -> Response:
    """Wraps the referral key for readers who enrolled after it was sent (see missing_readers)."""
    data = await call.body(ADD_KEYS)
    async with _writing(call) as db:
        await service.add_keys(db, call.staff, _rid(call), _keys(call, data["keys"]), deadlines.now())
        return JSONResponse({"added": len(data["keys"])})


# -- admins -----------------------------------------------------------------------------------------


async def admin_outbox(call: StaffCall) -> Response:
    """Every notice and its delivery status; with no SMTP server these are the outbox's files."""
    folder = notices.outbox_folder(call.services.settings)
    async with call.services.store.read() as db:
        items: list[dict[str, Any]] = await notices.listing(db)
    files = sorted(p.name for p in folder.glob("*.eml")) if folder.is_dir() else []
    return JSONResponse({"mode": "smtp" if call.services.settings.smtp_host else "outbox", "notices": items,
                         "outbox_files": files})


# -- public reports of illegal content (no account) ----------------------------------------------------


async def _public(request: Request, work: Any) -> Response:
    """Runs a public call: clear refusals, a foreign Origin refused, nothing about the caller kept."""
    locale = pick_locale(request.query_params.get("lang"))
    services = services_of(request)
    origin = request.headers.get("origin")
    if request.method == "POST" and origin and origin != services.origin_of(request.headers.get("host", ""),
                                                                             request.url.scheme):
        return error(403, translate(locale, "This request did not come from the helpline's page."))
    try:
        result: Response = await work(services, locale)
        return result
    except ReferralError as exc:
        return error(exc.status, translate(locale, exc.message) % exc.params)
    except Refused as exc:
        return error(exc.status, exc.message)
    except StoreUnavailable:
        return error(503, translate(locale, "The database is unavailable; nothing was changed. "
                                            "Try again in a moment."))


async def report_readers(request: Request) -> Response:
    """Whom the reporter's page encrypts a report for; it checks each key against the pinned org key."""
    async def work(services: Any, locale: str) -> Response:
        async with services.store.read() as db:
            agency, people = await service.report_readers(db)
        return JSONResponse({"agency": directory.public(agency), "kinds": list(service.REPORT_KINDS),
                             "readers": [service.public_reader(s) for s in people]})
    return await _public(request, work)


async def report_challenge(request: Request) -> Response:
    """A proof-of-work challenge at the current difficulty; the page solves it before it sends a report."""
    async def work(services: Any, locale: str) -> Response:
        async with services.store.read() as db:
            found = await service.report_challenge(db, services.settings, services.server_secret, deadlines.now())
        return JSONResponse(found, headers={"cache-control": "no-store"})
    return await _public(request, work)


REPORT: dict[str, validate.Check] = {"kind": validate.choice(*service.REPORT_KINDS),
                                     "content": validate.string(service.MAX_CONTENT_BYTES * 2), "keys": KEYS}


@validate.declares(REPORT)
async def report_create(request: Request) -> Response:
    async def work(services: Any, locale: str) -> Response:
        data = await read_json(request, locale)
        proof = data.pop("pow", None) if isinstance(data, dict) else None
        try:
            data = validate.fields(data, REPORT)
        except ValueError as exc:
            raise Refused(400, validate.refusal(exc, locale)) from None
        keys = []
        for item in data["keys"]:
            if set(item) != {"reader", "wrapped_key", "wrapper_public_key"}:
                raise Refused(400, translate(locale, "Each key needs reader, wrapped_key and wrapper_public_key."))
            keys.append(WrappedKey(item["reader"], item["wrapped_key"], item["wrapper_public_key"]))
        try:
            async with services.store.write() as db:
                now = deadlines.now()
                await service.check_report_proof(db, services.settings, services.server_secret, proof, now)
                referral, code = await service.create_report(db, services.settings, services.server_secret,
                                                             kind=data["kind"], content=data["content"], keys=keys,
                                                             now=now)
        except service.ReportPowRequired as exc:
            return JSONResponse({"error": translate(locale, exc.message), "code": "pow_required",
                                 "challenge": exc.challenge}, status_code=exc.status,
                                headers={"cache-control": "no-store"})
        return JSONResponse({"code": code, "state": referral.state}, status_code=201,
                            headers={"cache-control": "no-store"})
    return await _public(request, work)


async def report_status(request: Request) -> Response:
    async def work(services: Any, locale: str) -> Response:
        code = str(request.path_params["code"])[:20]
        async with services.store.write() as db:
            status = await service.report_status(db, services.server_secret, code)
        return JSONResponse(status, headers={"cache-control": "no-store"})
    return await _public(request, work)


POST = ("POST",)
routes: list[BaseRoute] = [
    Route("/referrals", portal_page, methods=["GET", "POST"]),  # a sign-in form sent without its script
    staff_route("/referrals/api/referrals", "referral.portal", portal_list),
    staff_route("/referrals/api/referrals/{rid}", "referral.portal", referral_read),
    staff_route("/referrals/api/referrals/{rid}/acknowledge", "referral.portal", portal_acknowledge, methods=POST,
                body=NOTHING),
    staff_route("/referrals/api/referrals/{rid}/actions", "referral.portal", portal_action, methods=POST, body=ACTION),
    staff_route("/referrals/api/referrals/{rid}/questions", "referral.portal", portal_question, methods=POST,
                body=TEXT),
    staff_route("/referrals/api/referrals/{rid}/return", "referral.portal", portal_return, methods=POST, body=RETURN),
    staff_route("/referrals/api/referrals/{rid}/close", "referral.portal", portal_close, methods=POST, body=CLOSE),
    staff_route("/console/api/referral-agencies", "referral.create", console_agencies),
    staff_route("/console/api/referral-readers", "referral.create", console_readers),
    staff_route("/console/api/referrals", "referral.create", console_create, methods=POST, body=CREATE),
    staff_route("/console/api/referrals", "referral.track", console_list),
    staff_route("/console/api/referrals/{rid}", "referral.track", referral_read),
    staff_route("/console/api/referrals/{rid}/answers", "referral.track", console_answer, methods=POST, body=TEXT),
    staff_route("/console/api/referrals/{rid}/reroute", "referral.create", console_reroute, methods=POST, body=REROUTE),
    staff_route("/referrals/api/referrals/{rid}/keys", "referral.portal", referral_keys, methods=POST, body=ADD_KEYS),
    staff_route("/console/api/referrals/{rid}/keys", "referral.track", referral_keys, methods=POST, body=ADD_KEYS),
    staff_route("/admin/api/outbox", "admin.outbox", admin_outbox),
    Route("/report/api/readers", report_readers),
    Route("/report/api/challenge", report_challenge),
    Route("/report/api/reports", report_create, methods=["POST"]),
    Route("/report/api/reports/{code}", report_status),
]
