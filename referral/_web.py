"""What the referral routes of both audiences share: the write transaction whose refusals are
translated, the checked key list and referral id, and the two routes both the portal and the
console serve (one referral read; keys wrapped for readers who came later)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import JSONResponse, Response

from helpline import validate
from helpline.staffweb import Refused, StaffCall
from referral import deadlines, follow, reading, service
from referral.service import ReferralError, WrappedKey

KEYS = validate.list_of(validate.mapping(validate.choice("reader", "wrapped_key", "wrapper_public_key"),
                                         validate.string(128), 3), service.MAX_READERS)
BODY = validate.string(service.MAX_EVENT_BYTES * 2)
# The bodies the routes read (documented in /openapi.json); routes without one read none.
ACTION: dict[str, validate.Check] = {"kind": validate.choice(*service.ACTION_KINDS), "body": BODY}
TEXT: dict[str, validate.Check] = {"body": BODY}
RETURN: dict[str, validate.Check] = {"reason": validate.choice(*service.RETURN_REASONS),
                                     "body": validate.Optional(BODY)}
CLOSE: dict[str, validate.Check] = {
    "outcome": validate.choice(*service.OUTCOMES), "body": validate.Optional(BODY),
    # Which support the child received (issue 19): several where true, or "none" with the reason.
    "support": validate.Optional(validate.list_of(validate.choice(*follow.SUPPORT_KINDS), len(follow.SUPPORT_KINDS))),
    "none_reason": validate.Optional(validate.choice(*follow.NONE_REASONS)),
}
PLAN: dict[str, validate.Check] = {"kind": validate.choice(*service.ACTION_KINDS), "due": validate.string(32),
                                   "body": validate.Optional(BODY)}
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
async def writing(call: StaffCall) -> AsyncIterator[AsyncSession]:
    """A write transaction whose ReferralError becomes a translated refusal (403s are audited)."""
    try:
        async with call.services.store.write() as db:
            yield db
    except ReferralError as exc:
        raise Refused(exc.status, call.t(exc.message) % exc.params) from None


def keys_of(call: StaffCall, raw: list[dict[str, str]]) -> list[WrappedKey]:
    keys = []
    for item in raw:
        if set(item) != {"reader", "wrapped_key", "wrapper_public_key"}:
            raise Refused(400, call.t("Each key needs reader, wrapped_key and wrapper_public_key."))
        keys.append(WrappedKey(item["reader"], item["wrapped_key"], item["wrapper_public_key"]))
    return keys


def rid_of(call: StaffCall) -> str:
    rid = str(call.request.path_params["rid"])
    if len(rid) > 32:
        raise Refused(404, call.t("There is no such referral."))
    return rid



async def referral_read(call: StaffCall) -> Response:
    """One referral for its reader; `?purpose=print` marks the audited read as a print view."""
    printed = call.request.query_params.get("purpose") == "print"
    async with writing(call) as db:
        item = await reading.read(db, call.staff, rid_of(call), printed=printed)
        item["follow"] = await follow.status(db, item["id"])
    return JSONResponse(item)


async def referral_keys(call: StaffCall) -> Response:
    """Wraps the referral key for readers who enrolled after it was sent (see missing_readers)."""
    data = await call.body(ADD_KEYS)
    async with writing(call) as db:
        await service.add_keys(db, call.staff, rid_of(call), keys_of(call, data["keys"]), deadlines.now())
        return JSONResponse({"added": len(data["keys"])})
