"""In Chromium: the console page derives from the password and never sends it (ADR 0021); an
account from before sends it once, and the page seals its private key again under the derived
unwrap value."""

from __future__ import annotations

import nacl.public
from playwright.sync_api import Browser, Request
from sqlalchemy import select, update

from helpline import crypto
from helpline.db import make_engine, make_sessionmaker
from helpline.models import Staff
from helpline.security.passwords import SIGNIN_DERIVED, SIGNIN_LEGACY, hash_password, verify_password
from tests.browser.console_signin import sign_in
from tests.support import ServerProcess, Stack, add_user, run_async


async def _row(url: str, username: str, **changes: object) -> Staff:
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as db, db.begin():
            if changes:
                await db.execute(update(Staff).where(Staff.username == username).values(**changes))
            return (await db.execute(select(Staff).where(Staff.username == username))).scalar_one()
    finally:
        await engine.dispose()


def row(stack: Stack, username: str, **changes: object) -> Staff:
    found: Staff = run_async(_row(stack.database_url, username, **changes))
    return found


def carrying(requests: list[Request], secret: str) -> list[str]:
    """The requests whose URL or body carries ``secret``."""
    return [r.url for r in requests if secret in r.url or secret in (r.post_data or "")]


def test_the_page_never_sends_the_password_and_moves_an_old_account_over(
        stack: Stack, server: ServerProcess, browser: Browser) -> None:
    password = add_user(stack, "ana")
    requests: list[Request] = []
    first = browser.new_context()
    page = first.new_page()
    page.on("request", lambda request: requests.append(request))
    sign_in(page, server, "ana", password)  # TOTP enrolment and a new key pair, made in the page
    assert any(r.url.endswith("/console/api/keys?lang=en") for r in requests)
    assert carrying(requests, password) == []
    fresh = row(stack, "ana")
    assert fresh.signin_version == SIGNIN_DERIVED and fresh.public_key and fresh.encrypted_private_key
    unwrap = crypto.derive_signin(password, crypto.b64u_decode(fresh.kdf_salt))[1]
    key = crypto.open_sealed(unwrap, fresh.encrypted_private_key)
    assert crypto.b64u_encode(bytes(nacl.public.PrivateKey(key).public_key)) == fresh.public_key
    first.close()

    # Put the account back as the release before ADR 0021 kept it: a hash of the password itself,
    # the private key sealed under PBKDF2(password, salt).
    legacy = crypto.derive_wrapping_key(password, crypto.b64u_decode(fresh.kdf_salt))
    row(stack, "ana", password_hash=hash_password(password), signin_version=SIGNIN_LEGACY,
        encrypted_private_key=crypto.seal(legacy, key))
    requests.clear()
    second = browser.new_context()
    page = second.new_page()
    page.on("request", lambda request: requests.append(request))
    sign_in(page, server, "ana", password)
    assert carrying(requests, password) == [server.url + "/console/api/login?lang=en"]  # once, to move over
    moved = row(stack, "ana")
    assert moved.signin_version == SIGNIN_DERIVED and moved.public_key == fresh.public_key
    assert moved.encrypted_private_key and crypto.open_sealed(unwrap, moved.encrypted_private_key) == key
    assert not verify_password(moved.password_hash, password)
    second.close()

    requests.clear()
    third = browser.new_context()
    page = third.new_page()
    page.on("request", lambda request: requests.append(request))
    sign_in(page, server, "ana", password)
    assert carrying(requests, password) == []
    third.close()
