"""Staff HTTP routes: one guard for the console, admin pages, officers' portal and statistics.

`staff_route(path, action, handler)` authenticates the session cookie, requires the second factor,
checks the CSRF header on every state-changing method, asks the permission matrix, and writes
refusals to the audit log. Handlers get a `StaffCall` and never see a request that failed a check.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from helpline import validate
from helpline.db import StoreRejected, StoreUnavailable
from helpline.i18n import N_, pick_locale, translate
from helpline.middleware import MAX_BODY
from helpline.models import Staff, StaffSession
from helpline.security import audit, permissions, sessions

if TYPE_CHECKING:
    from helpline.app import Services

SAFE_METHODS = frozenset({"GET", "HEAD"})


class Refused(Exception):
    """A handler's clear refusal: becomes a JSON error with this status; nothing was changed."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


REJECTED = N_("A value in this request is too large or not valid here; nothing was changed.")


async def store_rejected(request: Request, exc: Exception) -> Response:
    """A value the database refused, outside the staff routes (which answer in the member's language)."""
    return error(400, translate(pick_locale(request.query_params.get("lang")), REJECTED))


def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


@dataclass
class StaffCall:
    request: Request
    services: Services
    staff: Staff
    session: StaffSession
    locale: str

    def t(self, message: str) -> str:
        return translate(self.locale, message)

    @property
    def actor(self) -> str:
        return self.staff.participant_id

    async def body(self, spec: dict[str, validate.Check]) -> dict[str, Any]:
        """The JSON body checked against ``spec``; raises Refused with a clear message."""
        data = await read_json(self.request, self.locale)
        try:
            return validate.fields(data, spec)
        except ValueError as exc:
            raise Refused(400, validate.refusal(exc, self.locale)) from None

    def query_int(self, name: str, default: int, low: int, high: int) -> int:
        raw = self.request.query_params.get(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise Refused(400, self.t("'%(name)s' must be a whole number.") % {"name": name}) from None
        if not low <= value <= high:
            raise Refused(400, self.t("'%(name)s' must be from %(low)d to %(high)d.")
                          % {"name": name, "low": low, "high": high})
        return value


async def read_json(request: Request, locale: str) -> Any:
    if "application/json" not in request.headers.get("content-type", ""):
        raise Refused(415, translate(locale, "Send JSON (Content-Type: application/json)."))
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise Refused(413, translate(locale, "The request is too large."))
    try:
        return json.loads(raw)
    except ValueError:
        raise Refused(400, translate(locale, "The request is not valid JSON.")) from None


Handler = Callable[[StaffCall], Awaitable[Response]]


async def authenticate(request: Request) -> tuple[Staff, StaffSession] | None:
    services = services_of(request)
    settings = services.settings
    async with services.store.write() as db:
        return await sessions.authenticate(db, request.cookies.get(sessions.COOKIE_NAME, ""),
                                           idle_minutes=settings.session_idle_minutes,
                                           max_hours=settings.session_max_hours)


LANG_HEADER = "x-helpline-lang"
MAX_ID = 2**31 - 1  # the largest id a table holds on both backends; bigger numbers name nothing


def staff_route(path: str, action: str, handler: Handler, *, methods: tuple[str, ...] = ("GET",),
                needs_mfa: bool = True, body: dict[str, validate.Check] | None = None) -> Route:
    """A Route whose endpoint runs ``handler`` only for a signed-in member allowed ``action``;
    ``body`` is the spec the handler reads, for the OpenAPI document (helpline/openapi.py)."""

    async def endpoint(request: Request) -> Response:
        services = services_of(request)
        locale = pick_locale(request.query_params.get("lang"))
        found: tuple[Staff, StaffSession] | None = None
        try:
            found = await authenticate(request)
            if found is None:
                return error(401, translate(locale, "Sign in first."))
            staff, session = found
            # The language the staff member chose on the page (console.js sends it), else their account's.
            locale = pick_locale(request.headers.get(LANG_HEADER), fallback=staff.locale)
            if request.method not in SAFE_METHODS and request.headers.get("x-csrf-token") != session.csrf_token:
                await audit.refused(services.store, staff, action, subject=request.url.path, reason="csrf")
                return error(403, translate(locale, "This request lacks the page's security token. "
                                                    "Reload the page and try again."))
            if needs_mfa and not session.mfa_done:
                return error(401, translate(locale, "Give your second sign-in factor first."))
            if not permissions.allowed(staff.role, action):
                await audit.refused(services.store, staff, action, subject=request.url.path)
                return error(403, translate(locale, "Your role may not do this."))
            if any(isinstance(v, int) and not 0 <= v <= MAX_ID for v in request.path_params.values()):
                return error(404, translate(locale, "There is nothing with that number."))
            return await handler(StaffCall(request, services, staff, session, locale))
        except Refused as exc:
            if exc.status == 403 and found is not None:
                # Not theirs (another agency's referral, a chat they do not hold): audited too.
                await audit.refused(services.store, found[0], action, subject=request.url.path, reason="object")
            return error(exc.status, exc.message)
        except StoreUnavailable:
            return error(503, translate(locale, "The database is unavailable; nothing was changed. "
                                                "Try again in a moment."))
        except StoreRejected:
            return error(400, translate(locale, REJECTED))

    endpoint.helpline_action = action  # type: ignore[attr-defined]
    endpoint.helpline_body = body  # type: ignore[attr-defined]
    endpoint.__name__ = getattr(handler, "__name__", "staff_endpoint")
    return Route(path, endpoint, methods=list(methods))


def action_of(route: Route) -> str | None:
    """The permission a route asks for (None for public routes): the matrix test reads it."""
    return getattr(route.endpoint, "helpline_action", None)
