"""Console sign-in with the password, the signed-in member's profile and sign-out; the second
factor is in mfa.py, key enrolment and password change in keys.py (shared helpers in _signin.py).

The password alone opens a session that can do nothing but give the second factor
(``mfa_done`` False): enrol TOTP at the first sign-in, or verify a code afterwards. When the
second factor is given the session is replaced (new cookie, new CSRF token) and only then is
the profile with the encrypted private key returned. Every state-changing call carries the
session's CSRF token in ``X-CSRF-Token``; sign-in, which has no session yet, instead requires
that a present Origin header is our own. Failures count in helpline.security.throttle.
"""

from __future__ import annotations

import asyncio
import secrets

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from counsellor_ui._signin import (
    AUTH,
    auth_value,
    current_session,
    guarded,
    locale_of,
    locked_message,
    next_step,
    profile,
    read_body,
    recovery_left,
    same_origin,
    set_session_cookie,
    throttle_key,
)
from helpline import validate
from helpline.crypto import b64u_decode, b64u_encode, derive_signin
from helpline.i18n import translate
from helpline.models import Staff
from helpline.openapi import needs_session
from helpline.security import audit, sessions, throttle
from helpline.security.passwords import SIGNIN_LEGACY, SIGNIN_LEGACY_KEY, fake_salt, hash_password, verify_password
from helpline.staffweb import error, services_of

CONSOLE_ROLES = frozenset({"counsellor", "supervisor", "admin"})

LOGIN_SALT: dict[str, validate.Check] = {"username": validate.string(64)}
LOGIN: dict[str, validate.Check] = {"username": validate.string(64), "auth": AUTH,
                                    "password": validate.Optional(validate.string(1024))}


@validate.declares(LOGIN_SALT)
@guarded
async def signin_salt(request: Request) -> Response:
    """The account's salt for the browser's derivation (ADR 0021). A name that does not exist gets
    a salt made from it with the server secret, the same at every ask; ``legacy`` is true only
    for an account that has not signed in since the upgrade and must send its password once."""
    services = services_of(request)
    locale = locale_of(request)
    if not same_origin(request):
        return error(403, translate(locale, "This sign-in did not come from the console page."))
    body = await read_body(request, LOGIN_SALT)
    async with services.store.read() as db:
        staff = await sessions.staff_by_username(db, body["username"])
    salt = staff.kdf_salt if staff else fake_salt(services.server_secret, body["username"])
    legacy = staff is not None and staff.signin_version == SIGNIN_LEGACY
    # No iteration count is offered: the page always uses its own (a server that could lower it
    # would weaken the derivation it must not learn from).
    return JSONResponse({"salt": salt, "legacy": legacy}, headers={"cache-control": "no-store"})


def _upgrade_matches(password: str, salt: str, auth: str) -> bool:
    """The legacy account's browser sent the auth value this password derives (checked before it
    becomes the account's verifier, so a faulty page cannot lock its member out)."""
    expected, _unwrap = derive_signin(password, b64u_decode(salt))
    return secrets.compare_digest(b64u_encode(expected), auth)


@validate.declares(LOGIN)
@guarded
async def login(request: Request) -> Response:
    """The derived auth value (never the password) opens a half session; an account from before
    ADR 0021 sends its password once as well, and from then on has a hash of the auth value."""
    services = services_of(request)
    locale = locale_of(request)
    if not same_origin(request):
        return error(403, translate(locale, "This sign-in did not come from the console page."))
    body = await read_body(request, LOGIN)
    auth = auth_value(locale, body["auth"])
    async with services.store.read() as db:
        staff = await sessions.staff_by_username(db, body["username"])
        key = throttle_key(request, body["username"], staff.password_hash if staff else None)
        minutes = await throttle.locked_for(db, key)
    if minutes:
        return error(423, locked_message(locale, minutes))
    legacy = staff is not None and staff.signin_version == SIGNIN_LEGACY
    if legacy and not body["password"]:
        return error(409, translate(locale, "This account must sign in once more with its password itself. "
                                             "Reload the page and sign in again."))
    # The same Argon2id work for every name: an unknown one is checked against a dummy hash and a
    # disabled one against its own, so the time of the answer does not list the staff.
    secret = body["password"] if legacy else auth
    matches = await asyncio.to_thread(verify_password, staff.password_hash if staff else None, secret)
    ok = matches and staff is not None and not staff.disabled
    upgraded = ""
    if ok and legacy:
        assert staff is not None
        if not await asyncio.to_thread(_upgrade_matches, body["password"], staff.kdf_salt, auth):
            return error(400, translate(locale, "This browser derived a different sign-in value; nothing was "
                                                 "changed. Reload the page and try again."))
        upgraded = await asyncio.to_thread(hash_password, auth)
    async with services.store.write() as db:
        if ok and staff is not None and upgraded:
            # From now on the server keeps only a hash of the auth value (ADR 0021).
            fresh = await db.get(Staff, staff.id)
            assert fresh is not None
            fresh.password_hash, fresh.signin_version = upgraded, SIGNIN_LEGACY_KEY
            await audit.record(db, staff.participant_id, "signin.upgraded", staff.participant_id, {})
        if not ok or staff is None:
            locked = await throttle.fail(db, key)
            if staff is not None:
                await audit.record(db, staff.participant_id, "signin.failed", staff.participant_id,
                                   {"factor": "password"})
            problem = (423, locked_message(locale, locked)) if locked else (
                401, translate(locale, "Wrong username or password."))
        else:
            # Every role signs in here (one staff session); what each may do is the matrix's call.
            problem = None
            cookie, csrf = await sessions.create_session(db, staff, mfa_done=False)
    if problem is not None:
        return error(*problem)
    assert staff is not None
    reply = JSONResponse({"next": next_step(staff), "csrf": csrf,
                          "staff": {"name": staff.display_name, "locale": staff.locale}})
    set_session_cookie(services, reply, cookie)
    return reply


@guarded
async def me(request: Request) -> Response:
    async with services_of(request).store.write() as db:
        staff, session = await current_session(request, db, csrf=False)
        if not session.mfa_done:
            return JSONResponse({"next": next_step(staff), "csrf": session.csrf_token})
        return JSONResponse({**profile(staff), "csrf": session.csrf_token,
                             "recovery_left": await recovery_left(db, staff.id)})


@guarded
async def logout(request: Request) -> Response:
    services = services_of(request)
    async with services.store.write() as db:
        staff, _session = await current_session(request, db)
        if request.url.path.endswith("everywhere"):
            await sessions.end_all_sessions(db, staff.id)
            await audit.record(db, staff.participant_id, "signout.everywhere", staff.participant_id, {})
        else:
            await sessions.end_session(db, request.cookies.get(sessions.COOKIE_NAME, ""))
    await services.revoke_staff(staff.participant_id)  # the ended sessions' sockets close
    reply = JSONResponse({"ok": True})
    reply.delete_cookie(sessions.COOKIE_NAME, path="/")
    return reply


def one_time_password() -> str:
    """Shown once to an admin (new account, reset); about 96 bits."""
    return secrets.token_urlsafe(12)


routes = [
    Route("/console/api/login/salt", signin_salt, methods=["POST"]),
    Route("/console/api/login", login, methods=["POST"]),
    # The profile answers only a session (a half one says the next step): 401 without.
    Route("/console/api/me", needs_session(me)),
    # Signing out reads no body (logout-everywhere is the same endpoint).
    Route("/console/api/logout", needs_session(validate.declares({})(logout)), methods=["POST"]),
    Route("/console/api/logout-everywhere", logout, methods=["POST"]),
]
