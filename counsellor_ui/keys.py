"""The signed-in member's key pair and password: enrolling the key pair the browser made,
re-sealing a key from before ADR 0021 under the derived unwrap value, and changing the password
(auth value, salt and sealed key together). The server never sees the password or the private key."""

from __future__ import annotations

import asyncio

from sqlalchemy import delete
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from counsellor_ui._signin import (
    AUTH,
    SEALED,
    auth_value,
    failed_factor,
    full_session,
    guarded,
    locale_of,
    profile,
    read_body,
    sealed_key,
)
from helpline import validate
from helpline.crypto import CryptoError, b64u_decode, sign_staff_key
from helpline.i18n import N_, translate
from helpline.models import StaffSession
from helpline.openapi import needs_session
from helpline.security import audit
from helpline.security.passwords import SIGNIN_DERIVED, SIGNIN_LEGACY, SIGNIN_LEGACY_KEY, hash_password, verify_password
from helpline.staffweb import Refused, services_of

RESEAL: dict[str, validate.Check] = {"encrypted_private_key": SEALED}
KEYS: dict[str, validate.Check] = {"public_key": validate.b64u(32, N_("A public key has 32 bytes in base64url.")),
                                   "encrypted_private_key": SEALED}
PASSWORD: dict[str, validate.Check] = {
    "old_auth": AUTH, "new_auth": AUTH,
    "kdf_salt": validate.b64u(16, N_("The key salt must be 16 bytes in base64url.")),
    "encrypted_private_key": validate.Optional(SEALED),
}


@validate.declares(KEYS)
@guarded
async def enrol_key(request: Request) -> Response:
    """Stores the key pair the browser made; signs it when the org key is at hand."""
    services = services_of(request)
    locale = locale_of(request)
    body = await read_body(request, KEYS)
    try:
        public = b64u_decode(body["public_key"])
    except CryptoError:
        public = b""
    if len(public) != 32:
        raise Refused(400, translate(locale, "A public key has 32 bytes in base64url."))
    sealed = sealed_key(locale, body["encrypted_private_key"])
    async with services.store.write() as db:
        staff, _session = await full_session(request, db)
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
    locale = locale_of(request)
    body = await read_body(request, RESEAL)
    sealed = sealed_key(locale, body["encrypted_private_key"])
    async with services.store.write() as db:
        staff, _session = await full_session(request, db)
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
    locale = locale_of(request)
    body = await read_body(request, PASSWORD)
    old_auth, new_auth = auth_value(locale, body["old_auth"]), auth_value(locale, body["new_auth"])
    try:
        salt_ok = len(b64u_decode(body["kdf_salt"])) == 16
    except CryptoError:
        salt_ok = False
    if not salt_ok:
        raise Refused(400, translate(locale, "The key salt must be 16 bytes in base64url."))
    async with services.store.read() as db:
        staff, _session = await full_session(request, db)
    ok = staff.signin_version != SIGNIN_LEGACY and await asyncio.to_thread(
        verify_password, staff.password_hash, old_auth)
    new_hash = await asyncio.to_thread(hash_password, new_auth) if ok else ""
    async with services.store.write() as db:
        staff, session = await full_session(request, db)
        if not ok:
            problem = await failed_factor(db, request, staff, locale,
                                          translate(locale, "Your current password is not right."))
        elif staff.public_key is not None and not body["encrypted_private_key"]:
            problem = (400, translate(locale, "Send your private key sealed under the new password."))
        else:
            problem = None
            if staff.public_key is not None:
                staff.encrypted_private_key = sealed_key(locale, body["encrypted_private_key"])
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


# These answer only a full session (after the second factor): 401 without.
routes = [
    Route("/console/api/keys", needs_session(enrol_key), methods=["POST"]),
    Route("/console/api/keys/reseal", needs_session(reseal_key), methods=["POST"]),
    Route("/console/api/password", needs_session(change_password), methods=["POST"]),
]
