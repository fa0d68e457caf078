"""A referral to several agencies (issue 19, ADR 0035): the console sends its legs in one request;
the shared thread is written to from the console and from the portal, and its key is passed on to
readers who came later. Bodies are ciphertext made in the browser (docs/referrals.md)."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from helpline import validate
from helpline.models import Agency
from helpline.staffweb import StaffCall, staff_route
from referral import categories, deadlines, reading, threads
from referral._web import ADD_KEYS, CREATE, KEYS, TEXT, keys_of, rid_of, writing

POST = ("POST",)
# One agency's part: the same fields as a referral to one agency (referral._web.CREATE).
LEG: dict[str, validate.Check] = {name: CREATE[name] for name in ("agency", "consent", "content", "keys")}


def _leg(name: str, value: Any) -> dict[str, Any]:
    return validate.fields(value, LEG)


GROUP: dict[str, validate.Check] = {
    "urgency": CREATE["urgency"], "chi_category": CREATE["chi_category"], "conversation": CREATE["conversation"],
    "thread_keys": KEYS,
    "legs": validate.list_of(validate.described(_leg, validate.object_schema(LEG)), threads.MAX_LEGS),
}


async def console_create_group(call: StaffCall) -> Response:
    """One referral to several agencies: a sent referral per agency and their shared thread."""
    data = await call.body(GROUP)
    legs = [threads.Leg(leg["agency"], leg["consent"], leg["content"], keys_of(call, leg["keys"]))
            for leg in data["legs"]]
    async with writing(call) as db:
        categories.check(data["chi_category"])
        thread, made = await threads.create(
            db, call.staff, call.services.settings, urgency=data["urgency"], chi_category=data["chi_category"],
            conversation_id=data["conversation"], legs=legs, thread_keys=keys_of(call, data["thread_keys"]),
            now=deadlines.now())
        return JSONResponse({"thread": thread.id, "referrals": [
            reading.summary(r, await db.get(Agency, r.agency_id)) for r in made]}, status_code=201)


async def thread_post(call: StaffCall) -> Response:
    """A message in the shared thread (sealed in the browser under the thread key)."""
    data = await call.body(TEXT)
    async with writing(call) as db:
        message = await threads.post(db, call.staff, rid_of(call), data["body"], deadlines.now())
        await db.flush()
        return JSONResponse({"id": message.id}, status_code=201)


async def thread_keys(call: StaffCall) -> Response:
    """Wraps the thread key for readers who came after the referral was sent."""
    data = await call.body(ADD_KEYS)
    async with writing(call) as db:
        await threads.add_keys(db, call.staff, rid_of(call), keys_of(call, data["keys"]), deadlines.now())
        return JSONResponse({"added": len(data["keys"])})


routes: list[BaseRoute] = [
    staff_route("/console/api/referral-groups", "referral.create", console_create_group, methods=POST, body=GROUP),
    staff_route("/console/api/referrals/{rid}/thread", "referral.track", thread_post, methods=POST, body=TEXT),
    staff_route("/console/api/referrals/{rid}/thread-keys", "referral.track", thread_keys, methods=POST,
                body=ADD_KEYS),
    staff_route("/referrals/api/referrals/{rid}/thread", "referral.portal", thread_post, methods=POST, body=TEXT),
    staff_route("/referrals/api/referrals/{rid}/thread-keys", "referral.portal", thread_keys, methods=POST,
                body=ADD_KEYS),
]
