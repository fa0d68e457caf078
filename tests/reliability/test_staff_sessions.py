"""Staff sessions against the real server on both backends (issue 6, Security): the cookie is
Secure, HttpOnly and SameSite=Strict; a new session id is issued when the second factor is done
(the password-only one stops working); idle and absolute timeouts end a session; "sign out
everywhere" ends every session of the account; wrong TOTP codes lock the account."""

from __future__ import annotations

import datetime as dt

import httpx
from sqlalchemy import select, update

from helpline.db import make_engine, make_sessionmaker
from helpline.models import Staff, StaffSession, Throttle
from helpline.security.sessions import COOKIE_NAME
from tests.chat_client import StaffClient, next_totp_code, signin_body, totp_secret_for
from tests.support import ServerProcess, Stack, add_user


async def password_only(server: ServerProcess, username: str, password: str) -> tuple[str, str, str]:
    """Signs in with the password alone: (cookie, csrf, the raw Set-Cookie header)."""
    async with httpx.AsyncClient(base_url=server.url, headers={"origin": server.url}) as http:
        answer = await http.post("/console/api/login", json=await signin_body(http, username, password))
        assert answer.status_code == 200, answer.text
        return answer.cookies[COOKIE_NAME], answer.json()["csrf"], answer.headers["set-cookie"]


async def me(server: ServerProcess, cookie: str) -> int:
    async with httpx.AsyncClient(base_url=server.url, cookies={COOKIE_NAME: cookie}) as http:
        return (await http.get("/console/api/me")).status_code


async def age_sessions(stack: Stack, username: str, **columns: dt.timedelta) -> None:
    """Moves the account's session timestamps into the past, as if that much time had gone by."""
    engine = make_engine(stack.database_url)
    async with make_sessionmaker(engine)() as db:
        staff_id = (await db.execute(select(Staff.id).where(Staff.username == username))).scalar_one()
        now = dt.datetime.now(dt.UTC)
        await db.execute(update(StaffSession).where(StaffSession.staff_id == staff_id)
                         .values({name: now - ago for name, ago in columns.items()}))
        await db.commit()
    await engine.dispose()


async def test_cookie_flags_rotation_timeouts_and_sign_out_everywhere(
        stack: Stack, start_server: object) -> None:
    server: ServerProcess = start_server()  # type: ignore[operator]  # cookies without Secure: httpx speaks http
    secure: ServerProcess = start_server(HELPLINE_COOKIE_SECURE="true")  # type: ignore[operator]
    password = add_user(stack, "sess")
    first = StaffClient(server.url, "sess", password)
    await first.sign_in()  # enrols TOTP
    full_cookie = first.cookies[COOKIE_NAME]
    assert await me(server, full_cookie) == 200

    # Cookie flags, as production sends them.
    _, _, header = await password_only(secure, "sess", password)
    flags = {part.strip().lower() for part in header.split(";")}
    assert {"secure", "httponly", "samesite=strict", "path=/"} <= flags, header
    cookie, csrf, header = await password_only(server, "sess", password)
    assert "httponly" in header.lower() and "samesite=strict" in header.lower()

    # Rotation: the second factor gives a new session id; the password-only cookie is dead.
    secret = totp_secret_for("sess", password)
    assert secret
    async with httpx.AsyncClient(base_url=server.url, headers={"origin": server.url},
                                 cookies={COOKIE_NAME: cookie}) as http:
        verified = await http.post("/console/api/mfa/verify", headers={"x-csrf-token": csrf},
                                   json={"code": await next_totp_code(secret)})
        assert verified.status_code == 200, verified.text
        rotated = verified.cookies[COOKIE_NAME]
        second_csrf = verified.json()["csrf"]
    assert rotated != cookie
    assert await me(server, cookie) == 401
    assert await me(server, rotated) == 200

    # Idle timeout (30 minutes by default): a session not used for 31 minutes is over.
    idle_cookie, _, _ = await password_only(server, "sess", password)
    assert await me(server, idle_cookie) == 200
    await age_sessions(stack, "sess", last_seen_at=dt.timedelta(minutes=31))
    assert await me(server, idle_cookie) == 401
    assert await me(server, rotated) == 401 and await me(server, full_cookie) == 401

    # Absolute timeout (12 hours): even a session in constant use ends.
    busy_cookie, _, _ = await password_only(server, "sess", password)
    await age_sessions(stack, "sess", created_at=dt.timedelta(hours=12, minutes=1),
                       last_seen_at=dt.timedelta(seconds=5))
    assert await me(server, busy_cookie) == 401

    # Sign out everywhere: one session ends them all.
    a, _, _ = await password_only(server, "sess", password)
    b, _, _ = await password_only(server, "sess", password)
    again = StaffClient(server.url, "sess", password)
    await again.sign_in()
    assert await me(server, a) == 200 and await me(server, b) == 200
    async with httpx.AsyncClient(base_url=server.url, cookies=again.cookies,
                                 headers={"origin": server.url, "x-csrf-token": again.csrf}) as http:
        assert (await http.post("/console/api/logout-everywhere", json={})).status_code in (200, 204)
    for dead in (a, b, again.cookies[COOKIE_NAME]):
        assert await me(server, dead) == 401
    assert second_csrf  # (the rotated session had its own CSRF token)
    assert "Traceback" not in server.log()


async def test_wrong_second_factor_codes_lock_the_account_with_a_keyed_hash(
        stack: Stack, start_server: object) -> None:
    """TOTP guessing counts like password guessing: after a few wrong codes the account is locked
    (423, even for the right code), and the throttle table holds a keyed hash, not the name."""
    server: ServerProcess = start_server()  # type: ignore[operator]
    password = add_user(stack, "guess")
    await StaffClient(server.url, "guess", password).sign_in()  # enrols TOTP
    secret = totp_secret_for("guess", password)
    assert secret
    cookie, csrf, _ = await password_only(server, "guess", password)
    statuses = []
    async with httpx.AsyncClient(base_url=server.url, headers={"origin": server.url, "x-csrf-token": csrf},
                                 cookies={COOKIE_NAME: cookie}) as http:
        for _ in range(6):
            statuses.append((await http.post("/console/api/mfa/verify", json={"code": "000000"})).status_code)
        right = await http.post("/console/api/mfa/verify", json={"code": await next_totp_code(secret)})
    assert statuses[0] == 400 and statuses[-1] == 423, statuses
    assert right.status_code == 423, right.text
    engine = make_engine(stack.database_url)
    async with make_sessionmaker(engine)() as db:
        keys = (await db.execute(select(Throttle.key))).scalars().all()
    await engine.dispose()
    assert keys and all("guess" not in k and len(k) == 64 for k in keys)
