"""The staff password never leaves the browser (ADR 0021): the server hands out the account's salt
(a fake, stable one for unknown names), stores only an Argon2id of the derived auth value, and an
account from before moves over at its next sign-in, its private key sealed again by the client."""

from __future__ import annotations

from typing import Any

import httpx
import nacl.public
from sqlalchemy import select, update

from helpline import crypto
from helpline.db import make_engine, make_sessionmaker
from helpline.models import AuditEntry, Staff
from helpline.security.passwords import (
    SIGNIN_DERIVED,
    SIGNIN_LEGACY,
    hash_password,
    verify_password,
)
from tests.chat_client import StaffClient, signin_secrets
from tests.support import ServerProcess, Stack, add_user


def browser(server: ServerProcess) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=server.url, headers={"origin": server.url}, timeout=30)


async def staff_row(stack: Stack, username: str, **changes: Any) -> Staff:
    """The staff row (after applying ``changes``, as an older release would have left it)."""
    engine = make_engine(stack.database_url)
    try:
        async with make_sessionmaker(engine)() as db, db.begin():
            if changes:
                await db.execute(update(Staff).where(Staff.username == username).values(**changes))
            return (await db.execute(select(Staff).where(Staff.username == username))).scalar_one()
    finally:
        await engine.dispose()


async def salt_of(http: httpx.AsyncClient, username: str) -> dict[str, Any]:
    answer = await http.post("/console/api/login/salt", json={"username": username})
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    info: dict[str, Any] = answer.json()
    return info


async def test_the_server_keeps_a_hash_of_the_derived_value_and_never_gets_the_password(
        stack: Stack, server: ServerProcess) -> None:
    password = add_user(stack, "ana")  # the CLI derives from the password it is given, as the page will
    ana = StaffClient(server.url, "ana", password)
    await ana.sign_in()
    row = await staff_row(stack, "ana")
    assert row.signin_version == SIGNIN_DERIVED
    auth, unwrap = crypto.derive_signin(password, crypto.b64u_decode(row.kdf_salt))
    assert not verify_password(row.password_hash, password)
    assert verify_password(row.password_hash, crypto.b64u_encode(auth))
    assert ana.private_key is not None and row.encrypted_private_key
    assert crypto.open_sealed(unwrap, row.encrypted_private_key) == bytes(ana.private_key)

    async with browser(server) as http:
        known, again = await salt_of(http, "ana"), await salt_of(http, "ana")
        ghost, ghost_again = await salt_of(http, "ghost"), await salt_of(http, "ghost")
        other = await salt_of(http, "gh0st")
        assert known == again == {"salt": row.kdf_salt, "legacy": False}
        # An unknown name gets a salt of the same shape, the same at every ask: nothing tells it apart.
        assert ghost == ghost_again and set(ghost) == set(known) and ghost["legacy"] is False
        assert len(crypto.b64u_decode(ghost["salt"])) == 16 and ghost["salt"] != other["salt"]

        body, _unwrap = await signin_secrets(http, "ana", password)
        assert set(body) == {"username", "auth"} and password not in str(body)
        # The password itself does not sign in, in either field.
        for wrong in ({"username": "ana", "password": password},
                      {"username": "ana", "auth": password},
                      {"username": "ana", "auth": crypto.b64u_encode(crypto.derive_wrapping_key(
                          password, crypto.b64u_decode(row.kdf_salt)))}):
            refused = await http.post("/console/api/login?lang=en", json=wrong)
            assert refused.status_code in (400, 401), (wrong, refused.text)
        assert (await http.post("/console/api/login", json=body)).status_code == 200
    assert password not in server.log()


async def test_an_account_from_before_moves_over_at_its_next_sign_in(stack: Stack, server: ServerProcess) -> None:
    password = add_user(stack, "old")
    first = StaffClient(server.url, "old", password)
    await first.sign_in()  # TOTP and a key pair, then the row is put back as the old release kept it
    assert first.private_key is not None
    key = bytes(first.private_key)
    salt = (await staff_row(stack, "old")).kdf_salt
    legacy_wrapping = crypto.derive_wrapping_key(password, crypto.b64u_decode(salt))
    await staff_row(stack, "old", password_hash=hash_password(password), signin_version=SIGNIN_LEGACY,
                    encrypted_private_key=crypto.seal(legacy_wrapping, key))

    async with browser(server) as http:
        assert await salt_of(http, "old") == {"salt": salt, "legacy": True}
        body, _unwrap = await signin_secrets(http, "old", password)
        assert body["password"] == password  # the one time it is sent
        without = await http.post("/console/api/login?lang=en", json={k: v for k, v in body.items() if k != "password"})
        assert without.status_code == 409 and "once more" in without.json()["error"]
        mismatched = await http.post("/console/api/login?lang=en",
                                     json={**body, "auth": crypto.b64u_encode(bytes(32))})
        assert mismatched.status_code == 400
        assert (await staff_row(stack, "old")).signin_version == SIGNIN_LEGACY  # nothing changed

    moved = StaffClient(server.url, "old", password, totp_secret=first.totp_secret)
    await moved.sign_in()
    assert moved.private_key is not None and bytes(moved.private_key) == key
    row = await staff_row(stack, "old")
    auth, unwrap = crypto.derive_signin(password, crypto.b64u_decode(salt))
    assert row.signin_version == SIGNIN_DERIVED and row.kdf_salt == salt
    assert verify_password(row.password_hash, crypto.b64u_encode(auth))
    assert not verify_password(row.password_hash, password)
    assert row.encrypted_private_key and crypto.open_sealed(unwrap, row.encrypted_private_key) == key
    assert nacl.public.PrivateKey(key).public_key == nacl.public.PrivateKey(bytes(moved.private_key)).public_key

    async with browser(server) as http:
        assert (await salt_of(http, "old"))["legacy"] is False
        body, _unwrap = await signin_secrets(http, "old", password)
        assert "password" not in body
        # The password alone no longer signs in: it is not what the server checks any more.
        assert (await http.post("/console/api/login", json={**body, "auth": crypto.b64u_encode(bytes(32)),
                                                            "password": password})).status_code == 401
    again = StaffClient(server.url, "old", password, totp_secret=first.totp_secret)
    await again.sign_in()
    assert again.private_key is not None and bytes(again.private_key) == key

    engine = make_engine(stack.database_url)
    try:
        async with make_sessionmaker(engine)() as db:
            actions = list((await db.execute(select(AuditEntry.action))).scalars())
    finally:
        await engine.dispose()
    assert actions.count("signin.upgraded") == 1 and actions.count("key.resealed") == 1
