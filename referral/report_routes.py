"""Public reports of illegal content (/report/api/...): no account; the reporter's page encrypts
the report for the helpline's readers and gets a code to check its status (docs/referrals.md)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from helpline import validate
from helpline.db import StoreUnavailable
from helpline.i18n import pick_locale, translate
from helpline.staffweb import Refused, error, read_json, services_of
from referral import deadlines, directory, reports, service
from referral._web import KEYS
from referral.service import ReferralError, WrappedKey

B64 = validate.string(200)
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
            agency, people = await reports.report_readers(db)
        return JSONResponse({"agency": directory.public(agency), "kinds": list(reports.REPORT_KINDS),
                             "readers": [service.public_reader(s) for s in people]})
    return await _public(request, work)


async def report_challenge(request: Request) -> Response:
    """A proof-of-work challenge at the current difficulty; the page solves it before it sends a report."""
    async def work(services: Any, locale: str) -> Response:
        async with services.store.read() as db:
            found = await reports.report_challenge(db, services.settings, services.server_secret, deadlines.now())
        return JSONResponse(found, headers={"cache-control": "no-store"})
    return await _public(request, work)


REPORT: dict[str, validate.Check] = {"kind": validate.choice(*reports.REPORT_KINDS),
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
                await reports.check_report_proof(db, services.settings, services.server_secret, proof, now)
                referral, code = await reports.create_report(db, services.settings, services.server_secret,
                                                             kind=data["kind"], content=data["content"], keys=keys,
                                                             now=now)
        except reports.ReportPowRequired as exc:
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
            status = await reports.report_status(db, services.server_secret, code)
        return JSONResponse(status, headers={"cache-control": "no-store"})
    return await _public(request, work)


POST = ("POST",)


routes: list[BaseRoute] = [
    Route("/report/api/readers", report_readers),
    Route("/report/api/challenge", report_challenge),
    Route("/report/api/reports", report_create, methods=["POST"]),
    Route("/report/api/reports/{code}", report_status),
]
