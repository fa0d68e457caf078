"""The console's second factor: TOTP enrolment and confirmation (which answers the recovery
codes, shown once) and verification of a TOTP or recovery code, which replaces the half session
from the password sign-in (auth.py) by a full one."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from counsellor_ui._signin import (
    check_lock,
    current_session,
    failed_factor,
    guarded,
    locale_of,
    profile,
    read_body,
    recovery_left,
    set_session_cookie,
    throttle_key,
)
from helpline import validate
from helpline.i18n import translate
from helpline.models import RecoveryCode, Staff, utcnow
from helpline.openapi import needs_session
from helpline.security import audit, devices, sessions, throttle, totp
from helpline.staffweb import Refused, services_of

MFA_CONFIRM: dict[str, validate.Check] = {"code": validate.string(16)}
MFA_VERIFY: dict[str, validate.Check] = {"code": validate.string(32)}


@guarded
async def mfa_enrol(request: Request) -> Response:
    """A new TOTP secret (sealed in the database) with its QR code; confirmed by the next call."""
    services = services_of(request)
    locale = locale_of(request)
    async with services.store.write() as db:
        staff, session = await current_session(request, db)
        if staff.totp_confirmed_at is not None:
            raise Refused(409, translate(locale, "This account already has an authenticator app. "
                                                 "Give its code, or a recovery code."))
        secret = totp.new_secret()
        staff.totp_secret = totp.seal_secret(services.server_secret, secret)
        uri = totp.provisioning_uri(secret, staff.username)
    return JSONResponse({"secret": secret, "uri": uri, "qr": totp.qr_data_uri(uri)})


async def _rotate(db: AsyncSession, request: Request, staff: Staff) -> tuple[str, str]:
    """Replaces the half-signed-in session with a full one: a new cookie and CSRF token."""
    await sessions.end_session(db, request.cookies.get(sessions.COOKIE_NAME, ""))
    return await sessions.create_session(db, staff, mfa_done=True)


async def _signed_in(db: AsyncSession, request: Request, staff: Staff, extra: dict[str, Any]) -> Response:
    services = services_of(request)
    await throttle.clear(db, throttle_key(request, staff.username, staff.password_hash))
    cookie, csrf = await _rotate(db, request, staff)
    left = await recovery_left(db, staff.id)
    reply = JSONResponse({**profile(staff), "csrf": csrf, "recovery_left": left, **extra})
    set_session_cookie(services, reply, cookie)
    # This browser has now completed a full sign-in: strangers' failures no longer lock it out.
    reply.set_cookie(devices.COOKIE_NAME, devices.issue(services.server_secret, staff.username, staff.password_hash),
                     max_age=devices.MAX_AGE_DAYS * 86400, httponly=True, samesite="strict",
                     secure=bool(services.settings.cookie_secure), path=devices.COOKIE_PATH)
    return reply


@validate.declares(MFA_CONFIRM)
@guarded
async def mfa_confirm(request: Request) -> Response:
    """The first code from the app confirms enrolment; answers the recovery codes, shown once."""
    services = services_of(request)
    locale = locale_of(request)
    body = await read_body(request, MFA_CONFIRM)
    async with services.store.write() as db:
        staff, _session = await current_session(request, db)
        if staff.totp_confirmed_at is not None:
            raise Refused(409, translate(locale, "This account already has an authenticator app."))
        await check_lock(db, request, staff, locale)
        secret = totp.open_secret(services.server_secret, staff.totp_secret or "")
        if secret is None:
            raise Refused(409, translate(locale, "Start the set-up of the authenticator app first."))
        step = totp.matching_step(secret, body["code"], None)
        if step is None:
            problem = await failed_factor(db, request, staff, locale, translate(
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
    locale = locale_of(request)
    body = await read_body(request, MFA_VERIFY)
    async with services.store.write() as db:
        staff, _session = await current_session(request, db)
        if staff.totp_confirmed_at is None:
            raise Refused(409, translate(locale, "Set up your authenticator app first."))
        await check_lock(db, request, staff, locale)
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
        problem = await failed_factor(db, request, staff, locale, message)
    assert problem is not None
    raise Refused(*problem)


# These answer only a half session (before the second factor) or a full one: 401 without.
routes = [
    Route("/console/api/mfa/enrol", needs_session(validate.declares({})(mfa_enrol)), methods=["POST"]),
    Route("/console/api/mfa/confirm", needs_session(mfa_confirm), methods=["POST"]),
    Route("/console/api/mfa/verify", needs_session(mfa_verify), methods=["POST"]),
]
