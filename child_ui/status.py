"""Where her case stands, told to the child who returns with her resume code (issue 19, ADR 0034).

`POST /api/child/status {"token": ...}` answers with short sentences in the child's language,
already translated here so the chat page carries no extra strings (its first load stays small):
"On 3 May your case was passed to …; on 4 May they confirmed they received it." The token is the
one the chat's `resume` sends; it is checked by hash and failures are slowed down by the same
counter (chat/resume_guard.py), so a conversation id alone never reveals anything. Only referrals
the child agreed to hear about are listed (referral/child_status.py); nothing of the caller is kept.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from babel.dates import format_date
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from chat import resume_guard
from chat.protocol import ProtocolError
from child_ui.web import child_translations
from helpline import crypto, validate
from helpline.db import StoreUnavailable
from helpline.i18n import N_, babel_locale, pick_locale
from helpline.staffweb import Refused, error, read_json, services_of
from referral import child_status

# One sentence per step; %(date)s is a day and month, %(agency)s the agency's own name.
SENTENCES = {
    "sent": N_("On %(date)s, your case was passed to %(agency)s."),
    "confirmed": N_("On %(date)s, they confirmed that they received it."),
    "acted": N_("On %(date)s, they started to help."),
    "finished": N_("On %(date)s, they finished their work on your case."),
    "returned": N_("On %(date)s, they sent it back to us, so that we find the right place for it."),
}
WAITING = N_("We are waiting for them to confirm that they received it.")
# Refusals reuse the chat page's own sentences (the child catalog).
WRONG = N_("This code does not look right. A resume code has 16 letters and numbers.")
UNKNOWN = N_("We could not find a chat with this code. Check it and try again.")
TOO_MANY = N_("Too many tries. Please wait a little and try again.")
FAILED = N_("Something went wrong. Please try again.")
FOREIGN = N_("This request did not come from the helpline's page.")
STATUS: dict[str, validate.Check] = {"token": validate.b64u(32, WRONG)}


def sentences(found: child_status.CaseStatus, locale: str, zone: dt.tzinfo) -> list[str]:
    gettext = child_translations(locale).gettext
    lines = []
    for step in found.steps:
        day = format_date(step.at.astimezone(zone).date(), "d MMMM", locale=babel_locale(locale))
        lines.append(gettext(SENTENCES[step.kind]) % {"date": day, "agency": found.agency})
    if [step.kind for step in found.steps] == ["sent"]:
        lines.append(gettext(WAITING))
    return lines


def _token_of(data: Any, locale: str) -> bytes:
    try:
        token = crypto.b64u_decode(validate.fields(data, STATUS)["token"])
    except (ValueError, crypto.CryptoError):
        raise Refused(400, child_translations(locale).gettext(WRONG)) from None
    return token


@validate.declares(STATUS)
async def case_status(request: Request) -> Response:
    locale = pick_locale(request.query_params.get("lang"))
    tr = child_translations(locale).gettext
    services = services_of(request)
    origin = request.headers.get("origin")
    if origin and origin != services.origin_of(request.headers.get("host", ""), request.url.scheme):
        return error(403, tr(FOREIGN))
    try:
        token_hash = crypto.token_hash(_token_of(await read_json(request, locale), locale))
        guard = resume_guard.key_for(services.server_secret, token_hash)
        await resume_guard.check(services.store, guard)
        async with services.store.read() as db:
            child_id = await child_status.child_id_of(db, token_hash)
            found = await child_status.for_child(db, child_id) if child_id is not None else []
        if child_id is None:
            await resume_guard.failed(services.store, guard)
            return error(404, tr(UNKNOWN))
    except Refused as exc:
        return error(exc.status, exc.message)
    except resume_guard.Locked as exc:
        return JSONResponse({"error": tr(TOO_MANY)},
                            status_code=429, headers={"retry-after": str(exc.retry_after)})
    except (ProtocolError, StoreUnavailable):
        return error(503, tr(FAILED))
    zone = services.settings.timezone
    return JSONResponse({"cases": [{"agency": item.agency, "lines": sentences(item, locale, zone)} for item in found]},
                        headers={"cache-control": "no-store"})


routes: list[BaseRoute] = [Route("/api/child/status", case_status, methods=["POST"])]
