"""The officers' portal: the page shell (/referrals) and its API (/referrals/api/...), where an
agency's officers read and act on the referrals sent to it.

Bodies and content are ciphertext made in the browser; see docs/referrals.md for the formats.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from helpline import taxonomy
from helpline.i18n import js_config, month_names, pick_locale
from helpline.staffweb import StaffCall, services_of, staff_route
from referral import deadlines, follow, reading, service
from referral._web import ACTION, ADD_KEYS, CLOSE, NOTHING, RETURN, TEXT, referral_keys, referral_read, rid_of, writing

POST = ("POST",)


async def portal_list(call: StaffCall) -> Response:
    async with writing(call) as db:
        items = await reading.list_for(db, call.staff)
    return JSONResponse({"referrals": items})


async def portal_page(request: Request) -> Response:
    """The officers' portal shell (no data in it): sign-in, then the agency's referrals, read and
    acted on in the browser (counsellor_ui/static/console_portal.js)."""
    services = services_of(request)
    locale = pick_locale(request.query_params.get("lang"))
    bundle = services.bundles["portal"]
    config = {**js_config("console", locale), "ws_path": "/ws/staff",
              "timezone": str(services.settings.timezone), "months": month_names(locale),
              "outcomes": list(service.OUTCOMES), "action_kinds": list(service.ACTION_KINDS),
              "return_reasons": list(service.RETURN_REASONS),
              "support_kinds": list(follow.SUPPORT_KINDS), "none_reasons": list(follow.NONE_REASONS),
              "categories": {sub["code"]: sub["label"] for cat in taxonomy.load().translated(locale)["categories"]
                             for sub in cat["sub"]}}
    return services.render(request, "portal.html", {
        "bundle_src": bundle.src, "bundle_integrity": bundle.integrity, "config": config,
    }, locale=locale, headers={"cache-control": "no-store"})


async def portal_acknowledge(call: StaffCall) -> Response:
    async with writing(call) as db:
        now = deadlines.now()
        referral = await service.acknowledge(db, call.staff, rid_of(call), now)
        await follow.on_acknowledged(db, referral, call.staff, call.services.settings, now)
        return JSONResponse({"state": referral.state})


async def portal_action(call: StaffCall) -> Response:
    data = await call.body(ACTION)
    async with writing(call) as db:
        now = deadlines.now()
        referral = await service.record_action(db, call.staff, rid_of(call), data["kind"], data["body"], now)
        await follow.on_action(db, referral, call.staff, call.services.settings, now)
        return JSONResponse({"state": referral.state})


async def portal_question(call: StaffCall) -> Response:
    data = await call.body(TEXT)
    async with writing(call) as db:
        referral = await service.ask(db, call.staff, rid_of(call), data["body"], deadlines.now())
        return JSONResponse({"state": referral.state})


async def portal_return(call: StaffCall) -> Response:
    data = await call.body(RETURN)
    async with writing(call) as db:
        referral = await service.give_back(db, call.staff, rid_of(call), data["reason"], data["body"],
                                           deadlines.now())
        await follow.stop(db, referral.id)
        return JSONResponse({"state": referral.state})


async def portal_close(call: StaffCall) -> Response:
    data = await call.body(CLOSE)
    async with writing(call) as db:
        now = deadlines.now()
        if data["support"] is not None:  # refused before anything changes
            follow.check_support(data["support"], data["none_reason"])
        referral = await service.close(db, call.staff, rid_of(call), data["outcome"], data["body"], now)
        await follow.on_closed(db, referral, call.staff, data["support"], data["none_reason"], now)
        return JSONResponse({"state": referral.state, "outcome": referral.outcome})


routes: list[BaseRoute] = [
    Route("/referrals", portal_page, methods=["GET", "POST"]),  # a sign-in form sent without its script
    staff_route("/referrals/api/referrals", "referral.portal", portal_list),
    staff_route("/referrals/api/referrals/{rid}", "referral.portal", referral_read),
    staff_route("/referrals/api/referrals/{rid}/acknowledge", "referral.portal", portal_acknowledge, methods=POST,
                body=NOTHING),
    staff_route("/referrals/api/referrals/{rid}/actions", "referral.portal", portal_action, methods=POST,
                body=ACTION),
    staff_route("/referrals/api/referrals/{rid}/questions", "referral.portal", portal_question, methods=POST,
                body=TEXT),
    staff_route("/referrals/api/referrals/{rid}/return", "referral.portal", portal_return, methods=POST,
                body=RETURN),
    staff_route("/referrals/api/referrals/{rid}/close", "referral.portal", portal_close, methods=POST,
                body=CLOSE),
    staff_route("/referrals/api/referrals/{rid}/keys", "referral.portal", referral_keys, methods=POST,
                body=ADD_KEYS),
]
