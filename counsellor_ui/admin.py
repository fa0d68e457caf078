"""Admin pages' APIs: staff accounts, canned replies, opening hours and limits; and the canned
replies counsellors insert. Every change is audited; every route goes through staff_route."""

from __future__ import annotations

import asyncio
import re
import secrets
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import JSONResponse, Response

from helpline import runtime_config, validate
from helpline.crypto import CryptoError, b64u_decode, sign_staff_key, staff_key_role
from helpline.i18n import N_, default_locale, locales
from helpline.models import Agency, CannedReply, RecoveryCode, Role, Staff, Throttle, utcnow
from helpline.security import audit, sessions, throttle
from helpline.security.passwords import SIGNIN_DERIVED, auth_verifier, new_salt
from helpline.staff import CHILD_NAME_MAX, USERNAME, child_name_problem
from helpline.staffweb import Refused, StaffCall, staff_route

SHORTCUT = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
# The bodies each route reads (documented in /openapi.json); a form the server checks is in the schema.
NEW_STAFF: dict[str, validate.Check] = {
    "username": validate.string(64, 2, pattern=USERNAME.pattern, message=N_(
        "A username is 2 to 64 lower-case letters, digits, dots, dashes or underscores.")),
    "name": validate.string(100), "role": validate.choice(*Role),
    "agency": validate.Optional(validate.string(48)), "locale": validate.Optional(validate.language(), None),
    "child_name": validate.Optional(validate.string(CHILD_NAME_MAX)),
}
ROLE: dict[str, validate.Check] = {"role": validate.choice(*Role), "agency": validate.Optional(validate.string(48))}
CHILD_NAME: dict[str, validate.Check] = {"child_name": validate.Optional(validate.string(CHILD_NAME_MAX))}
DISABLED: dict[str, validate.Check] = {"disabled": validate.boolean}
CANNED: dict[str, validate.Check] = {
    "locale": validate.language(),
    "shortcut": validate.string(32, pattern=SHORTCUT.pattern, message=N_(
        "A shortcut is lower-case letters, digits, dashes or underscores, starting with a letter or digit.")),
    "title": validate.string(100), "body": validate.string(2000, multiline=True),
}
# HH:MM-HH:MM (00:00-24:00 is always open); that the two times differ is checked on top.
HOURS = r"^([01]?[0-9]|2[0-4]):[0-5][0-9]-([01]?[0-9]|2[0-4]):[0-5][0-9]$"
SETTINGS: dict[str, validate.Check] = {
    "opening_hours": validate.Optional(validate.string(11, pattern=HOURS, message=N_(
        "Opening hours look like 08:00-22:00 (00:00-24:00 means always open)."))),
    "max_chats": validate.Optional(validate.integer(1, runtime_config.MAX_CHATS_LIMIT)),
}
NOTHING: dict[str, validate.Check] = {}  # the route reads no body
KEY_GONE = N_("Old conversations stay readable only through their other participants (the child, colleagues, "
              "supervisors); the new key cannot open them.")


def _password() -> str:
    return secrets.token_urlsafe(12)


async def _target(call: StaffCall, db: AsyncSession) -> Staff:
    public_id = call.request.path_params["staff_id"]
    staff = (await db.execute(select(Staff).where(Staff.public_id == public_id))).scalar_one_or_none()
    if staff is None:
        raise Refused(404, call.t("There is no such staff member."))
    return staff


def _child_name(call: StaffCall, name: str | None, username: str) -> str | None:
    """The first name children will see, checked (ADR 0019); empty means the neutral word."""
    name = (name or "").strip()
    problem = child_name_problem(name, username) if name else None
    if problem == "form":
        raise Refused(400, call.t("The name shown to children is one short first name: 2 to 20 letters."))
    if problem == "username":
        raise Refused(400, call.t("The name shown to children must not be the username."))
    return name or None


def _not_self(call: StaffCall, staff: Staff) -> None:
    if staff.id == call.staff.id:
        raise Refused(409, call.t("You cannot do this to your own account; ask another admin."))


async def _agency_id(call: StaffCall, db: AsyncSession, role: str, code: str | None) -> int | None:
    if role != Role.OFFICER:
        return None
    if not code:
        raise Refused(400, call.t("An officer needs an agency."))
    agency = (await db.execute(select(Agency).where(Agency.code == code, Agency.active.is_(True)))
              ).scalar_one_or_none()
    if agency is None:
        raise Refused(400, call.t("There is no such agency."))
    agency_id: int = agency.id
    return agency_id


# -- staff accounts ---------------------------------------------------------------------------

async def list_staff(call: StaffCall) -> Response:
    secret = call.services.server_secret
    async with call.services.store.read() as db:
        rows = (await db.execute(select(Staff, Agency.code).outerjoin(Agency, Agency.id == Staff.agency_id)
                                 .order_by(Staff.username))).all()
        keys = {throttle.key_for(secret, s.username): s.id for s, _code in rows}
        locks = {keys[t.key]: t for t in (await db.execute(select(Throttle).where(Throttle.key.in_(keys)))).scalars()}
        agencies = (await db.execute(select(Agency.code, Agency.name).where(Agency.active.is_(True))
                                     .order_by(Agency.name))).all()
    now = utcnow()
    out = []
    for staff, agency in rows:
        lock = locks.get(staff.id)
        locked = bool(lock and lock.locked_until and lock.locked_until > now and lock.expires_at > now)
        out.append({
            "id": staff.public_id, "username": staff.username, "name": staff.display_name, "role": staff.role,
            "child_name": staff.name_for_children,
            "agency": agency, "disabled": staff.disabled, "locked": locked,
            "totp": staff.totp_confirmed_at is not None,
            "key": _key_state(staff, call.services.org_public_key),
            "key_reset_at": staff.key_reset_at.isoformat() if staff.key_reset_at else None,
            "self": staff.id == call.staff.id,
        })
    return JSONResponse({"staff": out, "roles": [r.value for r in Role],
                         "agencies": [{"code": c, "name": n} for c, n in agencies]})


async def create_staff(call: StaffCall) -> Response:
    body = await call.body(NEW_STAFF)
    child_name = _child_name(call, body["child_name"], body["username"])
    # The server knows this one-time password (it shows it to the admin), so it makes the verifier
    # the member's browser will match: Argon2id of the derived auth value (ADR 0021).
    password, salt = _password(), new_salt()
    password_hash = await asyncio.to_thread(auth_verifier, password, salt)
    try:
        async with call.services.store.write() as db:
            agency_id = await _agency_id(call, db, body["role"], body["agency"])
            staff = Staff(public_id=secrets.token_hex(8), username=body["username"], display_name=body["name"],
                          child_name=child_name,
                          role=body["role"], password_hash=password_hash, locale=body["locale"] or default_locale(),
                          kdf_salt=salt, signin_version=SIGNIN_DERIVED, failed_logins=0, disabled=False,
                          agency_id=agency_id)
            db.add(staff)
            await db.flush()
            await audit.record(db, call.actor, "staff.created", staff.participant_id,
                               {"role": staff.role, "agency": body["agency"] if agency_id else None})
    except IntegrityError:
        raise Refused(409, call.t("This username is taken.")) from None
    return JSONResponse({"id": staff.public_id, "username": staff.username, "password": password}, status_code=201)


def _key_state(staff: Staff, org_public: bytes) -> str:
    """"signed" only if the org key signed this key for the role the person has now (ADR 0022)."""
    if staff.public_key is None:
        return "none"
    try:
        public = b64u_decode(staff.public_key)
        role = staff_key_role(org_public, staff.participant_id, public, staff.key_signature or "")
    except CryptoError:
        role = None
    return "signed" if role == staff.role else "pending"


async def change_role(call: StaffCall) -> Response:
    body = await call.body(ROLE)
    async with call.services.store.write() as db:
        staff = await _target(call, db)
        _not_self(call, staff)
        staff.agency_id = await _agency_id(call, db, body["role"], body["agency"])
        before, staff.role = staff.role, body["role"]
        if staff.public_key is not None and staff.role != before:
            # The org signature names the role (docs/encryption.md): the old one no longer holds.
            signing = call.services.org_signing_key
            staff.key_signature = (sign_staff_key(signing, staff.participant_id, b64u_decode(staff.public_key),
                                                  role=staff.role) if signing else None)
        await audit.record(db, call.actor, "staff.role", staff.participant_id,
                           {"from": before, "to": staff.role, "agency": body["agency"] if staff.agency_id else None})
    await call.services.revoke_staff(staff.participant_id)  # committed: open sockets check again
    return JSONResponse({"ok": True})


async def set_child_name(call: StaffCall) -> Response:
    """Sets (or, empty, clears) the first name children see for an account made before it was asked."""
    body = await call.body(CHILD_NAME)
    async with call.services.store.write() as db:
        staff = await _target(call, db)
        staff.child_name = _child_name(call, body["child_name"], staff.username)
        await audit.record(db, call.actor, "staff.child_name", staff.participant_id, {})
    return JSONResponse({"ok": True})


async def set_disabled(call: StaffCall) -> Response:
    body = await call.body(DISABLED)
    async with call.services.store.write() as db:
        staff = await _target(call, db)
        _not_self(call, staff)
        staff.disabled = body["disabled"]
        if staff.disabled:
            await sessions.end_all_sessions(db, staff.id)
        await audit.record(db, call.actor, "staff.disabled" if staff.disabled else "staff.enabled",
                           staff.participant_id, {})
    await call.services.revoke_staff(staff.participant_id)
    return JSONResponse({"ok": True})


async def lift_lock(call: StaffCall) -> Response:
    async with call.services.store.write() as db:
        staff = await _target(call, db)
        await throttle.clear(db, throttle.key_for(call.services.server_secret, staff.username))
        staff.failed_logins, staff.locked_until = 0, None
        await audit.record(db, call.actor, "staff.unlocked", staff.participant_id, {})
    return JSONResponse({"ok": True})


async def reset_staff(call: StaffCall) -> Response:
    """A one-time password, no key pair and no second factor: the member starts again, and their
    old conversations stay readable only through the other participants."""
    password, salt = _password(), new_salt()
    password_hash = await asyncio.to_thread(auth_verifier, password, salt)
    async with call.services.store.write() as db:
        staff = await _target(call, db)
        _not_self(call, staff)
        staff.password_hash, staff.kdf_salt, staff.signin_version = password_hash, salt, SIGNIN_DERIVED
        staff.public_key = staff.key_signature = staff.encrypted_private_key = None
        staff.totp_secret = staff.totp_confirmed_at = staff.totp_last_step = None
        staff.key_reset_at = utcnow()
        staff.failed_logins, staff.locked_until = 0, None
        await db.execute(delete(RecoveryCode).where(RecoveryCode.staff_id == staff.id))
        await sessions.end_all_sessions(db, staff.id)
        await throttle.clear(db, throttle.key_for(call.services.server_secret, staff.username))
        await audit.record(db, call.actor, "staff.reset", staff.participant_id, {})
    await call.services.revoke_staff(staff.participant_id)
    return JSONResponse({"username": staff.username, "password": password, "notice": call.t(KEY_GONE)})


# -- canned replies ---------------------------------------------------------------------------

def _canned(row: CannedReply) -> dict[str, Any]:
    return {"id": row.id, "locale": row.locale, "shortcut": row.shortcut, "title": row.title, "body": row.body}


async def _all_canned(call: StaffCall) -> list[dict[str, Any]]:
    async with call.services.store.read() as db:
        rows = (await db.execute(select(CannedReply).order_by(CannedReply.locale, CannedReply.shortcut))).scalars()
        return [_canned(r) for r in rows]


async def canned_for_chat(call: StaffCall) -> Response:
    return JSONResponse({"replies": await _all_canned(call)})


async def list_canned(call: StaffCall) -> Response:
    return JSONResponse({"replies": await _all_canned(call), "locales": list(locales())})


async def _canned_body(call: StaffCall) -> dict[str, Any]:
    return await call.body(CANNED)


async def save_canned(call: StaffCall) -> Response:
    body = await _canned_body(call)
    reply_id = call.request.path_params.get("reply_id")
    try:
        async with call.services.store.write() as db:
            if reply_id is None:
                row = CannedReply(**body, updated_at=utcnow())
                db.add(row)
            else:
                found = await db.get(CannedReply, int(reply_id))
                if found is None:
                    raise Refused(404, call.t("There is no such canned reply."))
                row = found
                row.locale, row.shortcut, row.title, row.body = body["locale"], body["shortcut"], body["title"], \
                    body["body"]
                row.updated_at = utcnow()
            await db.flush()
            await audit.record(db, call.actor, "canned.saved", f"canned:{row.id}",
                               {"locale": row.locale, "shortcut": row.shortcut})
    except IntegrityError:
        raise Refused(409, call.t("This shortcut is already used in this language.")) from None
    return JSONResponse(_canned(row), status_code=201 if reply_id is None else 200)


async def delete_canned(call: StaffCall) -> Response:
    async with call.services.store.write() as db:
        row = await db.get(CannedReply, int(call.request.path_params["reply_id"]))
        if row is None:
            raise Refused(404, call.t("There is no such canned reply."))
        await db.delete(row)
        await audit.record(db, call.actor, "canned.deleted", f"canned:{row.id}", {"shortcut": row.shortcut})
    return JSONResponse({"ok": True})


# -- opening hours and limits -----------------------------------------------------------------

async def _settings_view(call: StaffCall) -> dict[str, Any]:
    current = await runtime_config.current(call.services.store, call.services.settings)
    return {
        "opening_hours": current["opening_hours"],
        "max_chats": current["max_chats"],
        "overridden": current["overridden"],
        "defaults": {"opening_hours": current["defaults"]["opening_hours"],
                     "max_chats": current["defaults"]["max_chats"]},
        "timezone": str(call.services.settings.timezone),
    }


async def get_settings(call: StaffCall) -> Response:
    return JSONResponse(await _settings_view(call))


async def save_settings(call: StaffCall) -> Response:
    body = await call.body(SETTINGS)
    hours = None
    if body["opening_hours"]:
        hours = runtime_config.parse_hours(body["opening_hours"])
        if hours is None:
            raise Refused(400, call.t("Opening hours look like 08:00-22:00 (00:00-24:00 means always open)."))
    async with call.services.store.write() as db:
        await runtime_config.write(db, runtime_config.OPENING_HOURS, list(hours) if hours else None, call.staff.id)
        await runtime_config.write(db, runtime_config.MAX_CHATS, body["max_chats"], call.staff.id)
        await audit.record(db, call.actor, "settings.saved", "settings",
                           {"opening_hours": body["opening_hours"], "max_chats": body["max_chats"]})
    runtime_config.forget()
    return JSONResponse(await _settings_view(call))


STAFF = "/console/api/admin/staff"
routes = [
    staff_route("/console/api/canned", "canned.use", canned_for_chat),
    staff_route(STAFF, "admin.staff", list_staff),
    staff_route(STAFF, "admin.staff", create_staff, methods=("POST",), body=NEW_STAFF),
    staff_route(STAFF + "/{staff_id:str}/role", "admin.staff", change_role, methods=("POST",), body=ROLE),
    staff_route(STAFF + "/{staff_id:str}/disabled", "admin.staff", set_disabled, methods=("POST",), body=DISABLED),
    staff_route(STAFF + "/{staff_id:str}/child-name", "admin.staff", set_child_name, methods=("POST",),
                body=CHILD_NAME),
    staff_route(STAFF + "/{staff_id:str}/unlock", "admin.staff", lift_lock, methods=("POST",), body=NOTHING),
    staff_route(STAFF + "/{staff_id:str}/reset", "admin.staff", reset_staff, methods=("POST",), body=NOTHING),
    staff_route("/console/api/admin/canned", "admin.canned", list_canned),
    staff_route("/console/api/admin/canned", "admin.canned", save_canned, methods=("POST",), body=CANNED),
    staff_route("/console/api/admin/canned/{reply_id:int}", "admin.canned", save_canned, methods=("PUT",),
                body=CANNED),
    staff_route("/console/api/admin/canned/{reply_id:int}", "admin.canned", delete_canned, methods=("DELETE",)),
    staff_route("/console/api/admin/settings", "admin.settings", get_settings),
    staff_route("/console/api/admin/settings", "admin.settings", save_settings, methods=("POST",), body=SETTINGS),
]
