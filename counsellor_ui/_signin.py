"""What the console's sign-in modules share (auth.py, mfa.py, keys.py): reading and checking a
request's body, the session behind the cookie, the profile answered once the second factor is given,
where failed attempts count (helpline.security.throttle) and the wrapper that turns a refusal into
a JSON error."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from helpline import validate
from helpline.crypto import CryptoError, b64u_decode
from helpline.db import StoreUnavailable
from helpline.i18n import N_, pick_locale, translate
from helpline.models import RecoveryCode, Staff, StaffSession
from helpline.security import audit, devices, sessions, throttle
from helpline.security.passwords import SIGNIN_DERIVED
from helpline.staffweb import Refused, error, read_json, services_of

if TYPE_CHECKING:
    from helpline.app import Services

SEALED_KEY_BYTES = 24 + 16 + 32
AUTH = validate.b64u(32, N_("The sign-in value must be 32 bytes in base64url."))
SEALED = validate.b64u(SEALED_KEY_BYTES, N_("A sealed private key has 72 bytes in base64url."))


def locale_of(request: Request) -> str:
    """The page's language (``?lang=``), for the answers' messages."""
    return pick_locale(request.query_params.get("lang"))


async def read_body(request: Request, spec: dict[str, validate.Check]) -> dict[str, Any]:
    """The JSON body checked against its declared spec, or Refused (400)."""
    locale = locale_of(request)
    data = await read_json(request, locale)
    try:
        return validate.fields(data, spec)
    except ValueError as exc:
        raise Refused(400, validate.refusal(exc, locale)) from None


def same_origin(request: Request) -> bool:
    """Sign-in has no session to carry a CSRF token: a present Origin header must be our own."""
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


def next_step(staff: Staff) -> str:
    """What a half session must do next: enrol an authenticator app or give its code."""
    return "verify" if staff.totp_confirmed_at is not None else "enrol"


def locked_message(locale: str, minutes: int) -> str:
    """Says for how long the account stays locked."""
    return translate(locale, "This account is locked after too many failed attempts. "
                             "Try again in %(minutes)d min or ask an admin.") % {"minutes": minutes}


def set_session_cookie(services: Services, reply: Response, cookie: str) -> None:
    """Sets the session cookie on a reply."""
    reply.set_cookie(sessions.COOKIE_NAME, cookie, httponly=True, samesite="strict",
                     secure=bool(services.settings.cookie_secure), path="/")


def throttle_key(request: Request, username: str, password_hash: str | None) -> str:
    """Where this attempt's failures count: the browser's own bucket when it carries a device
    cookie valid for this account, else the account's bucket for untrusted browsers."""
    secret = services_of(request).server_secret
    nonce = devices.trusted_nonce(secret, username, password_hash, request.cookies.get(devices.COOKIE_NAME, ""))
    return devices.throttle_key(secret, nonce) if nonce else throttle.key_for(secret, username)


async def current_session(request: Request, db: AsyncSession, *, csrf: bool = True) -> tuple[Staff, StaffSession]:
    """The session behind the cookie (and, for changes, the matching CSRF header), or Refused."""
    settings = services_of(request).settings
    locale = locale_of(request)
    found = await sessions.authenticate(db, request.cookies.get(sessions.COOKIE_NAME, ""),
                                        idle_minutes=settings.session_idle_minutes,
                                        max_hours=settings.session_max_hours)
    if found is None:
        raise Refused(401, translate(locale, "Sign in first."))
    if csrf and request.headers.get("x-csrf-token") != found[1].csrf_token:
        raise Refused(403, translate(locale, "This request lacks the page's security token. "
                                             "Reload the page and try again."))
    return found


async def full_session(request: Request, db: AsyncSession) -> tuple[Staff, StaffSession]:
    """The session behind the cookie, refused unless the second factor was given."""
    staff, session = await current_session(request, db)
    if not session.mfa_done:
        raise Refused(401, translate(locale_of(request), "Give your second sign-in factor first."))
    return staff, session


def guarded(handler: Any) -> Any:
    """Turns Refused and an unreachable database into clear JSON errors."""

    async def endpoint(request: Request) -> Response:
        try:
            response: Response = await handler(request)
            return response
        except Refused as exc:
            return error(exc.status, exc.message)
        except StoreUnavailable:
            return error(503, translate(locale_of(request), "The database is unavailable; nothing was changed. "
                                                           "Try again in a moment."))

    endpoint.__name__ = handler.__name__
    return endpoint


def auth_value(locale: str, value: str) -> str:
    """The derived sign-in value (32 bytes in base64url), or Refused (400)."""
    try:
        ok = len(b64u_decode(value)) == 32
    except CryptoError:
        ok = False
    if not ok:
        raise Refused(400, translate(locale, "The sign-in value must be 32 bytes in base64url."))
    return value


def sealed_key(locale: str, value: str) -> str:
    """A sealed private key (72 bytes in base64url), or Refused (400)."""
    try:
        raw = b64u_decode(value)
    except CryptoError:
        raw = b""
    if len(raw) != SEALED_KEY_BYTES:
        raise Refused(400, translate(locale, "A sealed private key has 72 bytes in base64url."))
    return value


async def failed_factor(db: AsyncSession, request: Request, staff: Staff, locale: str,
                        message: str) -> tuple[int, str]:
    """Counts a failed second factor (or password check) and answers the refusal to raise."""
    locked = await throttle.fail(db, throttle_key(request, staff.username, staff.password_hash))
    await audit.record(db, staff.participant_id, "signin.failed", staff.participant_id, {"factor": "second"})
    return (423, locked_message(locale, locked)) if locked else (400, message)


async def check_lock(db: AsyncSession, request: Request, staff: Staff, locale: str) -> None:
    """Refuses (423) while the attempt's throttle bucket is locked."""
    minutes = await throttle.locked_for(db, throttle_key(request, staff.username, staff.password_hash))
    if minutes:
        raise Refused(423, locked_message(locale, minutes))


async def recovery_left(db: AsyncSession, staff_id: int) -> int:
    """How many of the member's recovery codes are still unused."""
    rows = await db.execute(select(RecoveryCode.id).where(RecoveryCode.staff_id == staff_id,
                                                          RecoveryCode.used_at.is_(None)))
    return len(rows.all())
