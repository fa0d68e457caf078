"""Console sign-in: password, key enrolment, who am I, sign-out.

Every state-changing call carries the session's CSRF token in ``X-CSRF-Token``; sign-in, which
has no session yet, instead requires that a present Origin header is our own.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from helpline.crypto import CryptoError, b64u_decode, sign_staff_key
from helpline.i18n import pick_locale, translate
from helpline.models import Staff, StaffSession, utcnow
from helpline.security import sessions
from helpline.security.passwords import verify_password

if TYPE_CHECKING:
    from helpline.app import Services

CONSOLE_ROLES = frozenset({"counsellor", "supervisor", "admin"})
LOCK_AFTER = 10
LOCK_MINUTES = 15
MAX_BODY = 8192


def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def _json_body(request: Request, fields: dict[str, int]) -> dict[str, str] | JSONResponse:
    """Reads a JSON object whose named fields are strings of at most the given lengths."""
    if "application/json" not in request.headers.get("content-type", ""):
        return _error(415, "Send JSON (Content-Type: application/json).")
    raw = await request.body()
    if len(raw) > MAX_BODY:
        return _error(413, "The request is too large.")
    try:
        data = json.loads(raw)
    except ValueError:
        return _error(400, "The request is not valid JSON.")
    if not isinstance(data, dict):
        return _error(400, "The request must be a JSON object.")
    clean: dict[str, str] = {}
    for name, limit in fields.items():
        value = data.get(name)
        if not isinstance(value, str) or not 0 < len(value) <= limit:
            return _error(400, f"'{name}' must be a string of 1 to {limit} characters.")
        clean[name] = value
    return clean


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    return origin is None or origin == _services(request).origin_of(request.headers.get("host", ""),
                                                                    request.url.scheme)


def _profile(staff: Staff) -> dict[str, Any]:
    return {
        "staff": {"id": staff.participant_id, "name": staff.display_name, "role": staff.role,
                  "locale": staff.locale},
        "kdf_salt": staff.kdf_salt,
        "public_key": staff.public_key,
        "key_signature": staff.key_signature,
        "encrypted_private_key": staff.encrypted_private_key,
        "needs_key": staff.public_key is None,
    }


async def _current(request: Request, db: AsyncSession, *, csrf: bool) -> tuple[Staff, StaffSession] | None:
    settings = _services(request).settings
    found = await sessions.authenticate(db, request.cookies.get(sessions.COOKIE_NAME, ""),
                                        idle_minutes=settings.session_idle_minutes,
                                        max_hours=settings.session_max_hours)
    if found is None:
        return None
    if csrf and request.headers.get("x-csrf-token") != found[1].csrf_token:
        return None
    return found


async def login(request: Request) -> Response:
    services = _services(request)
    locale = pick_locale(request.query_params.get("lang"))
    if not _same_origin(request):
        return _error(403, translate(locale, "This sign-in did not come from the console page."))
    body = await _json_body(request, {"username": 64, "password": 1024})
    if isinstance(body, JSONResponse):
        return body
    async with services.sessionmaker() as db, db.begin():
        staff = await sessions.staff_by_username(db, body["username"])
        now = utcnow()
        if staff is not None and staff.locked_until is not None and staff.locked_until > now:
            minutes = max(1, int((staff.locked_until - now).total_seconds() // 60) + 1)
            return _error(423, translate(locale, "This account is locked after too many failed sign-ins. "
                                               "Try again in %(minutes)d minutes or ask an admin.")
                          % {"minutes": minutes})
        if staff is None or staff.disabled or not verify_password(staff.password_hash, body["password"]):
            if staff is not None:
                staff.failed_logins += 1
                if staff.failed_logins >= LOCK_AFTER:
                    staff.locked_until = now + dt.timedelta(minutes=LOCK_MINUTES)
                    staff.failed_logins = 0
            return _error(401, translate(locale, "Wrong username or password."))
        if staff.role not in CONSOLE_ROLES:
            return _error(403, translate(locale, "Your role does not use the console."))
        staff.failed_logins, staff.locked_until = 0, None
        cookie, csrf = await sessions.create_session(db, staff, mfa_done=True)
        reply = JSONResponse({**_profile(staff), "csrf": csrf})
    reply.set_cookie(sessions.COOKIE_NAME, cookie, httponly=True, samesite="strict",
                     secure=bool(services.settings.cookie_secure), path="/")
    return reply


async def me(request: Request) -> Response:
    services = _services(request)
    async with services.sessionmaker() as db, db.begin():
        found = await _current(request, db, csrf=False)
        if found is None:
            return _error(401, "Sign in first.")
        return JSONResponse({**_profile(found[0]), "csrf": found[1].csrf_token})


async def enrol_key(request: Request) -> Response:
    """Stores the key pair the browser made; signs it when the org key is at hand."""
    services = _services(request)
    body = await _json_body(request, {"public_key": 64, "encrypted_private_key": 255})
    if isinstance(body, JSONResponse):
        return body
    try:
        public = b64u_decode(body["public_key"])
        sealed = b64u_decode(body["encrypted_private_key"])
    except CryptoError:
        return _error(400, "Keys must be base64url.")
    if len(public) != 32 or len(sealed) != 24 + 16 + 32:
        return _error(400, "A public key has 32 bytes and a sealed private key 72.")
    async with services.sessionmaker() as db, db.begin():
        found = await _current(request, db, csrf=True)
        if found is None:
            return _error(403, "Sign in first (and send the CSRF token).")
        staff = found[0]
        if staff.public_key is not None:
            return _error(409, "This account already has a key.")
        staff.public_key, staff.encrypted_private_key = body["public_key"], body["encrypted_private_key"]
        signing = services.org_signing_key
        staff.key_signature = sign_staff_key(signing, staff.participant_id, public) if signing else None
        return JSONResponse({"key_signature": staff.key_signature, "pending": staff.key_signature is None})


async def logout(request: Request) -> Response:
    services = _services(request)
    async with services.sessionmaker() as db, db.begin():
        found = await _current(request, db, csrf=True)
        if found is None:
            return _error(403, "Sign in first (and send the CSRF token).")
        if request.url.path.endswith("everywhere"):
            await sessions.end_all_sessions(db, found[0].id)
        else:
            await sessions.end_session(db, request.cookies.get(sessions.COOKIE_NAME, ""))
    reply = JSONResponse({"ok": True})
    reply.delete_cookie(sessions.COOKIE_NAME, path="/")
    return reply


routes = [
    Route("/console/api/login", login, methods=["POST"]),
    Route("/console/api/me", me),
    Route("/console/api/keys", enrol_key, methods=["POST"]),
    Route("/console/api/logout", logout, methods=["POST"]),
    Route("/console/api/logout-everywhere", logout, methods=["POST"]),
]
