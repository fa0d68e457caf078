"""Console sign-in: password, then the second factor (TOTP or a recovery code), key enrolment,
password change and sign-out.

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
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from helpline import validate
from helpline.crypto import CryptoError, b64u_decode, b64u_encode, derive_signin, sign_staff_key
from helpline.db import StoreUnavailable
from helpline.i18n import N_, pick_locale, translate
from helpline.models import RecoveryCode, Staff, StaffSession, utcnow
from helpline.openapi import needs_session
from helpline.security import audit, devices, sessions, throttle, totp
from helpline.security.passwords import (
    SIGNIN_DERIVED,
    SIGNIN_LEGACY,
    SIGNIN_LEGACY_KEY,
    fake_salt,
    hash_password,
    verify_password,
)
from helpline.staffweb import Refused, error, read_json, services_of

if TYPE_CHECKING:
    from helpline.app import Services

CONSOLE_ROLES = frozenset({"counsellor", "supervisor", "admin"})
SEALED_KEY_BYTES = 24 + 16 + 32


def _locale(request: Request) -> str:
    return pick_locale(request.query_params.get("lang"))


async def _body(request: Request, spec: dict[str, validate.Check]) -> dict[str, Any]:
    locale = _locale(request)
    data = await read_json(request, locale)
    try:
        return validate.fields(data, spec)
    except ValueError as exc:
        raise Refused(400, validate.refusal(exc, locale)) from None


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    return origin is None or origin == services_of(request).origin_of(request.headers.get("host", ""),
                                                                    request.url.scheme)


def profile(staff: Staff) -> dict[str, Any]:
    """What the console needs once the second factor is given (the key stays sealed)."""
    return {
        "staff": {"id": staff.participant_id, "name": staff.display_name, "role": staff.role,
                  "locale": staff.locale},
        "kdf_salt": staff.kdf_salt,
        "public_key": staff.public_key,
        "key_signature": staff.key_signature,
        "encrypted_private_key": staff.encrypted_private_key,
        "needs_key": staff.public_key is None,
        # "legacy": the key is still sealed under PBKDF2(password, kdf_salt); the page opens it with
        # that once, seals it under the derived unwrap value and sends it to /console/api/keys/reseal.
        "key_sealing": "derived" if staff.signin_version >= SIGNIN_DERIVED else "legacy",
        "key_reset": staff.public_key is None and staff.key_reset_at is not None,
    }


def _next_step(staff: Staff) -> str:
    return "verify" if staff.totp_confirmed_at is not None else "enrol"


def _locked_message(locale: str, minutes: int) -> str:
    return translate(locale, "This account is locked after too many failed attempts. "
                             "Try again in %(minutes)d min or ask an admin.") % {"minutes": minutes}


def _set_cookie(services: Services, reply: Response, cookie: str) -> None:
    reply.set_cookie(sessions.COOKIE_NAME, cookie, httponly=True, samesite="strict",
                     secure=bool(services.settings.cookie_secure), path="/")


def _throttle_key(request: Request, username: str, password_hash: str | None) -> str:
    """Where this attempt's failures count: the browser's own bucket when it carries a device
    cookie valid for this account, else the account's bucket for untrusted browsers."""
    secret = services_of(request).server_secret
    nonce = devices.trusted_nonce(secret, username, password_hash, request.cookies.get(devices.COOKIE_NAME, ""))
    return devices.throttle_key(secret, nonce) if nonce else throttle.key_for(secret, username)


async def _current(request: Request, db: AsyncSession, *, csrf: bool = True) -> tuple[Staff, StaffSession]:
    """The session behind the cookie (and, for changes, the matching CSRF header), or Refused."""
    settings = services_of(request).settings
    locale = _locale(request)
    found = await sessions.authenticate(db, request.cookies.get(sessions.COOKIE_NAME, ""),
                                        idle_minutes=settings.session_idle_minutes,
                                        max_hours=settings.session_max_hours)
    if found is None:
        raise Refused(401, translate(locale, "Sign in first."))
    if csrf and request.headers.get("x-csrf-token") != found[1].csrf_token:
        raise Refused(403, translate(locale, "This request lacks the page's security token. "
                                             "Reload the page and try again."))
    return found


async def _rotate(db: AsyncSession, request: Request, staff: Staff) -> tuple[str, str]:
    """Replaces the half-signed-in session with a full one: a new cookie and CSRF token."""
    await sessions.end_session(db, request.cookies.get(sessions.COOKIE_NAME, ""))
    return await sessions.create_session(db, staff, mfa_done=True)


def guarded(handler: Any) -> Any:
    """Turns Refused and an unreachable database into clear JSON errors."""

    async def endpoint(request: Request) -> Response:
        try:
            response: Response = await handler(request)
            return response
        except Refused as exc:
            return error(exc.status, exc.message)
        except StoreUnavailable:
            return error(503, translate(_locale(request), "The database is unavailable; nothing was changed. "
                                                           "Try again in a moment."))

    endpoint.__name__ = handler.__name__
    return endpoint


def _auth_value(locale: str, value: str) -> str:
    try:
        ok = len(b64u_decode(value)) == 32
    except CryptoError:
        ok = False
    if not ok:
        raise Refused(400, translate(locale, "The sign-in value must be 32 bytes in base64url."))
    return value


# -- password ---------------------------------------------------------------------------------

AUTH = validate.b64u(32, N_("The sign-in value must be 32 bytes in base64url."))
SEALED = validate.b64u(SEALED_KEY_BYTES, N_("A sealed private key has 72 bytes in base64url."))
LOGIN_SALT: dict[str, validate.Check] = {"username": validate.string(64)}
LOGIN: dict[str, validate.Check] = {"username": validate.string(64), "auth": AUTH,
                                    "password": validate.Optional(validate.string(1024))}
MFA_CONFIRM: dict[str, validate.Check] = {"code": validate.string(16)}
MFA_VERIFY: dict[str, validate.Check] = {"code": validate.string(32)}
RESEAL: dict[str, validate.Check] = {"encrypted_private_key": SEALED}
KEYS: dict[str, validate.Check] = {"public_key": validate.b64u(32, N_("A public key has 32 bytes in base64url.")),
                                   "encrypted_private_key": SEALED}
PASSWORD: dict[str, validate.Check] = {
    "old_auth": AUTH, "new_auth": AUTH,
    "kdf_salt": validate.b64u(16, N_("The key salt must be 16 bytes in base64url.")),
    "encrypted_private_key": validate.Optional(SEALED),
}


@validate.declares(LOGIN_SALT)
@guarded
async def signin_salt(request: Request) -> Response:
    """The account's salt for the browser's derivation (ADR 0021). A name that does not exist gets
    a salt made from it with the server secret, the same at every ask; ``legacy`` is true only
    for an account that has not signed in since the upgrade and must send its password once."""
    services = services_of(request)
    locale = _locale(request)
    if not _same_origin(request):
        return error(403, translate(locale, "This sign-in did not come from the console page."))
    body = await _body(request, LOGIN_SALT)
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
    locale = _locale(request)
    if not _same_origin(request):
        return error(403, translate(locale, "This sign-in did not come from the console page."))
    body = await _body(request, LOGIN)
    auth = _auth_value(locale, body["auth"])
    async with services.store.read() as db:
        staff = await sessions.staff_by_username(db, body["username"])
        key = _throttle_key(request, body["username"], staff.password_hash if staff else None)
        minutes = await throttle.locked_for(db, key)
    if minutes:
        return error(423, _locked_message(locale, minutes))
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
            problem = (423, _locked_message(locale, locked)) if locked else (
                401, translate(locale, "Wrong username or password."))
        else:
            # Every role signs in here (one staff session); what each may do is the matrix's call.
            problem = None
            cookie, csrf = await sessions.create_session(db, staff, mfa_done=False)
    if problem is not None:
        return error(*problem)
    assert staff is not None
    reply = JSONResponse({"next": _next_step(staff), "csrf": csrf,
                          "staff": {"name": staff.display_name, "locale": staff.locale}})
    _set_cookie(services, reply, cookie)
    return reply


# -- second factor ----------------------------------------------------------------------------

@guarded
async def mfa_enrol(request: Request) -> Response:
    """A new TOTP secret (sealed in the database) with its QR code; confirmed by the next call."""
    services = services_of(request)
    locale = _locale(request)
    async with services.store.write() as db:
        staff, session = await _current(request, db)
        if staff.totp_confirmed_at is not None:
            raise Refused(409, translate(locale, "This account already has an authenticator app. "
                                                 "Give its code, or a recovery code."))
        secret = totp.new_secret()
        staff.totp_secret = totp.seal_secret(services.server_secret, secret)
        uri = totp.provisioning_uri(secret, staff.username)
    return JSONResponse({"secret": secret, "uri": uri, "qr": totp.qr_data_uri(uri)})


async def _failed_factor(db: AsyncSession, request: Request, staff: Staff, locale: str,
                         message: str) -> tuple[int, str]:
    locked = await throttle.fail(db, _throttle_key(request, staff.username, staff.password_hash))
    await audit.record(db, staff.participant_id, "signin.failed", staff.participant_id, {"factor": "second"})
    return (423, _locked_message(locale, locked)) if locked else (400, message)


async def _check_lock(db: AsyncSession, request: Request, staff: Staff, locale: str) -> None:
    minutes = await throttle.locked_for(db, _throttle_key(request, staff.username, staff.password_hash))
    if minutes:
        raise Refused(423, _locked_message(locale, minutes))


async def _signed_in(db: AsyncSession, request: Request, staff: Staff, extra: dict[str, Any]) -> Response:
    services = services_of(request)
    await throttle.clear(db, _throttle_key(request, staff.username, staff.password_hash))
    cookie, csrf = await _rotate(db, request, staff)
    left = await _recovery_left(db, staff.id)
    reply = JSONResponse({**profile(staff), "csrf": csrf, "recovery_left": left, **extra})
    _set_cookie(services, reply, cookie)
    # This browser has now completed a full sign-in: strangers' failures no longer lock it out.
    reply.set_cookie(devices.COOKIE_NAME, devices.issue(services.server_secret, staff.username, staff.password_hash),
                     max_age=devices.MAX_AGE_DAYS * 86400, httponly=True, samesite="strict",
                     secure=bool(services.settings.cookie_secure), path=devices.COOKIE_PATH)
    return reply


async def _recovery_left(db: AsyncSession, staff_id: int) -> int:
    rows = await db.execute(select(RecoveryCode.id).where(RecoveryCode.staff_id == staff_id,
                                                          RecoveryCode.used_at.is_(None)))
    return len(rows.all())


@validate.declares(MFA_CONFIRM)
@guarded
async def mfa_confirm(request: Request) -> Response:
    """The first code from the app confirms enrolment; answers the recovery codes, shown once."""
    services = services_of(request)
    locale = _locale(request)
    body = await _body(request, MFA_CONFIRM)
    async with services.store.write() as db:
        staff, _session = await _current(request, db)
        if staff.totp_confirmed_at is not None:
            raise Refused(409, translate(locale, "This account already has an authenticator app."))
        await _check_lock(db, request, staff, locale)
        secret = totp.open_secret(services.server_secret, staff.totp_secret or "")
        if secret is None:
            raise Refused(409, translate(locale, "Start the set-up of the authenticator app first."))
        step = totp.matching_step(secret, body["code"], None)
        if step is None:
            problem = await _failed_factor(db, request, staff, locale, translate(
                locale, "Wrong code. Check that your phone's clock is right and try the newest code."))
        else:
            problem = None
            staff.totp_confirmed_at, staff.totp_last_step = utcnow(), step
            await db.execute(delete(RecoveryCode).where(RecoveryCode.staff_id == staff.id))
            codes = totp.new_recovery_codes()
            for code in codes:
                db.add(RecoveryCode(staff_id=staff.id,
                                    code_hash=totp.recovery_hash(services.server_secret, staff.id, code)))
            await db.flush()
            await audit.record(db, staff.participant_id, "mfa.enrolled", staff.participant_id, {})
            return await _signed_in(db, request, staff, {"recovery_codes": codes})
    assert problem is not None
    raise Refused(*problem)


@validate.declares(MFA_VERIFY)
@guarded
async def mfa_verify(request: Request) -> Response:
    """A TOTP code (each time step once) or an unused recovery code finishes the sign-in."""
    services = services_of(request)
    locale = _locale(request)
    body = await _body(request, MFA_VERIFY)
    async with services.store.write() as db:
        staff, _session = await _current(request, db)
        if staff.totp_confirmed_at is None:
            raise Refused(409, translate(locale, "Set up your authenticator app first."))
        await _check_lock(db, request, staff, locale)
        code = body["code"]
        method = "totp"
        if totp.looks_like_recovery(code):
            method = "recovery"
            digest = totp.recovery_hash(services.server_secret, staff.id, code)
            row = (await db.execute(select(RecoveryCode).where(
                RecoveryCode.staff_id == staff.id, RecoveryCode.code_hash == digest))).scalar_one_or_none()
            if row is not None and row.used_at is None:
                row.used_at = utcnow()
                await db.flush()
                ok = True
                message = ""
            else:
                ok = False
                message = (translate(locale, "This recovery code was already used.") if row is not None
                           else translate(locale, "Wrong recovery code."))
        else:
            secret = totp.open_secret(services.server_secret, staff.totp_secret or "") or ""
            step = totp.matching_step(secret, code, staff.totp_last_step) if secret else None
            ok = step is not None
            if step is not None:
                staff.totp_last_step = step
                message = ""
            elif secret and totp.was_reused(secret, code, staff.totp_last_step):
                message = translate(locale, "This code was already used. Wait for the next code in your app.")
            else:
                message = translate(locale, "Wrong code. Check that your phone's clock is right "
                                            "and try the newest code.")
        if ok:
            await audit.record(db, staff.participant_id, "signin", staff.participant_id, {"factor": method})
            return await _signed_in(db, request, staff, {})
        problem = await _failed_factor(db, request, staff, locale, message)
    assert problem is not None
    raise Refused(*problem)


# -- the signed-in member ---------------------------------------------------------------------

@guarded
async def me(request: Request) -> Response:
    async with services_of(request).store.write() as db:
        staff, session = await _current(request, db, csrf=False)
        if not session.mfa_done:
            return JSONResponse({"next": _next_step(staff), "csrf": session.csrf_token})
        return JSONResponse({**profile(staff), "csrf": session.csrf_token,
                             "recovery_left": await _recovery_left(db, staff.id)})


async def _full_session(request: Request, db: AsyncSession) -> tuple[Staff, StaffSession]:
    staff, session = await _current(request, db)
    if not session.mfa_done:
        raise Refused(401, translate(_locale(request), "Give your second sign-in factor first."))
    return staff, session


def _sealed_key(locale: str, value: str) -> str:
    try:
        raw = b64u_decode(value)
    except CryptoError:
        raw = b""
    if len(raw) != SEALED_KEY_BYTES:
        raise Refused(400, translate(locale, "A sealed private key has 72 bytes in base64url."))
    return value


@validate.declares(KEYS)
@guarded
async def enrol_key(request: Request) -> Response:
    """Stores the key pair the browser made; signs it when the org key is at hand."""
    services = services_of(request)
    locale = _locale(request)
    body = await _body(request, KEYS)
    try:
        public = b64u_decode(body["public_key"])
    except CryptoError:
        public = b""
    if len(public) != 32:
        raise Refused(400, translate(locale, "A public key has 32 bytes in base64url."))
    sealed = _sealed_key(locale, body["encrypted_private_key"])
    async with services.store.write() as db:
        staff, _session = await _full_session(request, db)
        if staff.public_key is not None:
            raise Refused(409, translate(locale, "This account already has a key."))
        staff.public_key, staff.encrypted_private_key = body["public_key"], sealed
        if staff.signin_version >= SIGNIN_LEGACY_KEY:  # the page sealed it under the derived unwrap value
            staff.signin_version = SIGNIN_DERIVED
        signing = services.org_signing_key
        staff.key_signature = (sign_staff_key(signing, staff.participant_id, public, role=staff.role)
                               if signing else None)
        await audit.record(db, staff.participant_id, "key.enrolled", staff.participant_id,
                           {"signed": staff.key_signature is not None})
        return JSONResponse({"key_signature": staff.key_signature, "pending": staff.key_signature is None})


@validate.declares(RESEAL)
@guarded
async def reseal_key(request: Request) -> Response:
    """The first sign-in after ADR 0021: the page opened the private key with the legacy wrapping
    key and sends it sealed under the derived unwrap value; the account is then fully derived."""
    services = services_of(request)
    locale = _locale(request)
    body = await _body(request, RESEAL)
    sealed = _sealed_key(locale, body["encrypted_private_key"])
    async with services.store.write() as db:
        staff, _session = await _full_session(request, db)
        if staff.public_key is None or staff.signin_version != SIGNIN_LEGACY_KEY:
            raise Refused(409, translate(locale, "There is no key waiting to be sealed again."))
        staff.encrypted_private_key, staff.signin_version = sealed, SIGNIN_DERIVED
        await audit.record(db, staff.participant_id, "key.resealed", staff.participant_id, {})
        return JSONResponse({**profile(staff), "csrf": _session.csrf_token})


@validate.declares(PASSWORD)
@guarded
async def change_password(request: Request) -> Response:
    """The auth values derived from the old and the new password (with the new salt), and the
    private key the browser re-sealed under the new unwrap value, change together in one
    transaction, or nothing changes. The server never sees either password (ADR 0021), so the
    page enforces the length rule."""
    services = services_of(request)
    locale = _locale(request)
    body = await _body(request, PASSWORD)
    old_auth, new_auth = _auth_value(locale, body["old_auth"]), _auth_value(locale, body["new_auth"])
    try:
        salt_ok = len(b64u_decode(body["kdf_salt"])) == 16
    except CryptoError:
        salt_ok = False
    if not salt_ok:
        raise Refused(400, translate(locale, "The key salt must be 16 bytes in base64url."))
    async with services.store.read() as db:
        staff, _session = await _full_session(request, db)
    ok = staff.signin_version != SIGNIN_LEGACY and await asyncio.to_thread(
        verify_password, staff.password_hash, old_auth)
    new_hash = await asyncio.to_thread(hash_password, new_auth) if ok else ""
    async with services.store.write() as db:
        staff, session = await _full_session(request, db)
        if not ok:
            problem = await _failed_factor(db, request, staff, locale,
                                           translate(locale, "Your current password is not right."))
        elif staff.public_key is not None and not body["encrypted_private_key"]:
            problem = (400, translate(locale, "Send your private key sealed under the new password."))
        else:
            problem = None
            if staff.public_key is not None:
                staff.encrypted_private_key = _sealed_key(locale, body["encrypted_private_key"])
            staff.password_hash, staff.kdf_salt = new_hash, body["kdf_salt"]
            staff.signin_version = SIGNIN_DERIVED
            # Other sessions end: whoever knew the old password is signed out everywhere else.
            await db.execute(delete(StaffSession).where(StaffSession.staff_id == staff.id,
                                                        StaffSession.id != session.id))
            await audit.record(db, staff.participant_id, "password.changed", staff.participant_id, {})
            answer = JSONResponse({**profile(staff), "csrf": session.csrf_token})
    if problem is None:
        await services.revoke_staff(staff.participant_id)  # committed: the other sessions' sockets close
        return answer
    raise Refused(*problem)


@guarded
async def logout(request: Request) -> Response:
    services = services_of(request)
    async with services.store.write() as db:
        staff, _session = await _current(request, db)
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
    # These answer only a session (the MFA ones a half one, before the second factor): 401 without.
    Route("/console/api/mfa/enrol", needs_session(validate.declares({})(mfa_enrol)), methods=["POST"]),
    Route("/console/api/mfa/confirm", needs_session(mfa_confirm), methods=["POST"]),
    Route("/console/api/mfa/verify", needs_session(mfa_verify), methods=["POST"]),
    Route("/console/api/me", needs_session(me)),
    Route("/console/api/keys", needs_session(enrol_key), methods=["POST"]),
    Route("/console/api/keys/reseal", needs_session(reseal_key), methods=["POST"]),
    Route("/console/api/password", needs_session(change_password), methods=["POST"]),
    # Signing out reads no body (logout-everywhere is the same endpoint).
    Route("/console/api/logout", needs_session(validate.declares({})(logout)), methods=["POST"]),
    Route("/console/api/logout-everywhere", logout, methods=["POST"]),
]
