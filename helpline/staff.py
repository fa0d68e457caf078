"""Staff account use cases shared by the CLI and the admin pages."""

from __future__ import annotations

import re
import secrets

import nacl.signing
from sqlalchemy import func, select

from helpline.crypto import b64u_decode, sign_staff_key
from helpline.db import make_engine, make_sessionmaker
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
                    locale: str = "sq", child_name: str | None = None) -> None:
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
                         locale=locale, failed_logins=0, disabled=False))
    finally:
        await engine.dispose()


async def count_staff(url: str) -> int:
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as db:
            return int((await db.execute(select(func.count()).select_from(Staff))).scalar_one())
    finally:
        await engine.dispose()


async def sign_pending_keys(url: str, signing_key: nacl.signing.SigningKey) -> list[str]:
    """Signs every enrolled staff key that has no org signature yet (the offline-key workflow)."""
    engine = make_engine(url)
    signed: list[str] = []
    try:
        async with make_sessionmaker(engine)() as db, db.begin():
            query = select(Staff).where(Staff.public_key.is_not(None), Staff.key_signature.is_(None))
            for staff in (await db.execute(query)).scalars():
                public = b64u_decode(str(staff.public_key))
                staff.key_signature = sign_staff_key(signing_key, staff.participant_id, public)
                signed.append(staff.username)
    finally:
        await engine.dispose()
    return signed
