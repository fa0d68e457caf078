"""Staff account use cases shared by the CLI and the admin pages."""

from __future__ import annotations

import dataclasses
import re
import secrets

import nacl.signing
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from helpline.crypto import (
    CryptoError,
    b64u_decode,
    is_legacy_staff_signature,
    key_fingerprint,
    sign_staff_key,
    staff_key_role,
)
from helpline.db import make_engine, make_sessionmaker
from helpline.i18n import default_locale
from helpline.models import Role, Staff

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
# The name a child sees (ADR 0019): one short first name, letters only (a hyphen, apostrophe or
# space may join two parts: "Ana-Maria"), never the username.
CHILD_NAME = re.compile(r"^[^\W\d_]{2,20}(?:[-' ][^\W\d_]{2,20})?$")
CHILD_NAME_MAX = 24


def child_name_problem(name: str, username: str) -> str | None:
    """Why ``name`` cannot be shown to children ("form" or "username"), or None if it can."""
    if len(name) > CHILD_NAME_MAX or not CHILD_NAME.match(name):
        return "form"
    if name.casefold() == username.casefold():
        return "username"
    return None


CHILD_NAME_PROBLEMS = {
    "form": "The name shown to children is one short first name: 2 to 20 letters.",
    "username": "The name shown to children must not be the username.",
}


async def add_staff(url: str, username: str, password: str, role: str, *, display_name: str,
                    locale: str | None = None, child_name: str | None = None) -> None:
    from helpline.security.passwords import SIGNIN_DERIVED, auth_verifier, check_password_policy, new_salt

    if not USERNAME.match(username):
        raise ValueError("A username is 2-64 lower-case letters, digits, dots, dashes or underscores.")
    problem_of_name = child_name_problem(child_name, username) if child_name else None
    if problem_of_name:
        raise ValueError(CHILD_NAME_PROBLEMS[problem_of_name])
    if role not in {r.value for r in Role}:
        raise ValueError(f"Unknown role {role!r}.")
    problem = check_password_policy(password)
    if problem:
        raise ValueError(problem)
    # The CLI is given the password, so it derives what the browser will (ADR 0021) and stores only
    # an Argon2id of the auth value; the password is not kept.
    salt = new_salt()
    verifier = auth_verifier(password, salt)
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as db, db.begin():
            if (await db.execute(select(Staff).where(Staff.username == username))).scalar_one_or_none():
                raise ValueError(f"{username} already exists.")
            db.add(Staff(public_id=secrets.token_hex(8), username=username, display_name=display_name, role=role,
                         child_name=child_name or None,
                         password_hash=verifier, kdf_salt=salt, signin_version=SIGNIN_DERIVED,
                         locale=locale or default_locale(), failed_logins=0, disabled=False))
    finally:
        await engine.dispose()


async def count_staff(url: str) -> int:
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as db:
            return int((await db.execute(select(func.count()).select_from(Staff))).scalar_one())
    finally:
        await engine.dispose()


@dataclasses.dataclass(frozen=True)
class WaitingKey:
    """A staff key the org key has not signed for the holder's current role."""

    staff_id: int
    username: str
    display_name: str
    role: str
    public_key: str
    fingerprint: str
    why: str  # "new": never signed; "v1": signed before roles were in the statement; "role": for another role


def _why_waiting(staff: Staff, org_public: bytes) -> str | None:
    public = b64u_decode(str(staff.public_key))
    signature = staff.key_signature
    if not signature:
        return "new"
    signed_for = staff_key_role(org_public, staff.participant_id, public, signature)
    if signed_for == staff.role:
        return None
    if signed_for is None and is_legacy_staff_signature(org_public, staff.participant_id, public, signature):
        return "v1"
    return "role" if signed_for is not None else "new"


async def _waiting(db: AsyncSession, org_public: bytes) -> list[tuple[Staff, WaitingKey]]:
    query = select(Staff).where(Staff.public_key.is_not(None), Staff.disabled.is_(False)).order_by(Staff.username)
    found = []
    for staff in (await db.execute(query)).scalars():
        try:
            why = _why_waiting(staff, org_public)
            fingerprint = key_fingerprint(b64u_decode(str(staff.public_key)))
        except CryptoError:
            continue  # not a key at all: nothing to sign
        if why is not None:
            found.append((staff, WaitingKey(staff.id, staff.username, staff.display_name, staff.role,
                                            str(staff.public_key), fingerprint, why)))
    return found


async def waiting_keys(url: str, org_public: bytes) -> list[WaitingKey]:
    """Every enabled staff key that has no valid org signature for its holder's current role."""
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as db:
            return [key for _staff, key in await _waiting(db, org_public)]
    finally:
        await engine.dispose()


async def sign_keys(url: str, signing_key: nacl.signing.SigningKey, chosen: list[WaitingKey]) -> list[WaitingKey]:
    """Signs the keys chosen, each for the role it was shown with, and only if the row still holds
    that very key and role (a key or role that changed after it was shown is not signed)."""
    engine = make_engine(url)
    signed: list[WaitingKey] = []
    try:
        async with make_sessionmaker(engine)() as db, db.begin():
            for key in chosen:
                staff = await db.get(Staff, key.staff_id)
                if staff is None or staff.disabled or staff.public_key != key.public_key or staff.role != key.role:
                    continue
                staff.key_signature = sign_staff_key(signing_key, staff.participant_id, b64u_decode(key.public_key),
                                                     role=key.role)
                signed.append(key)
    finally:
        await engine.dispose()
    return signed


async def resign_legacy_keys(db: AsyncSession, signing_key: nacl.signing.SigningKey) -> list[str]:
    """With the org key at hand (the embedded default), signs again, with the current role, every
    key the same org key signed before: with the old statement, or for a role the holder no longer
    has. Keys it never signed stay as they are."""
    org_public = bytes(signing_key.verify_key)
    done = []
    for staff, key in await _waiting(db, org_public):
        if key.why in ("v1", "role"):
            staff.key_signature = sign_staff_key(signing_key, staff.participant_id, b64u_decode(key.public_key),
                                                 role=staff.role)
            done.append(staff.username)
    return done
