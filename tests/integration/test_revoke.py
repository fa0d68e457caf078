"""Access taken away is gone from open console sockets at once (issue 17).

A counsellor's console socket is open, holding one chat, with a second child waiting. Then her
access goes — an admin disables her, changes her role to manager or resets her account; she signs
out everywhere or changes her password in another browser; her session times out — and the socket
is closed with the code the console turns into "sign in again" (4401, or 4403 for a role change),
well within the deadline below. On PostgreSQL + Redis the admin (or the other browser) is on
another server process than her socket, so only the broker's notice can carry the news; on SQLite
one process with the in-process broker. Afterwards she can neither take the waiting chat nor write
in the one she held, and the socket cannot be opened again with that session.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from chat import repository as repo
from helpline import crypto
from helpline.db import make_engine, make_sessionmaker
from helpline.models import Conversation, ConversationState, Staff
from tests.chat_client import ChildClient, SocketClosed, StaffClient, signin_body
from tests.integration.test_chat_e2e import PRECHAT, eventually
from tests.pgbouncer import also_through_pgbouncer
from tests.support import ServerProcess, Stack, add_user

# The notice travels in well under a second; the deadline is generous for a loaded 2-core machine.
# Nothing else would close the socket within it: without the notice, a socket lived until the
# counsellor closed it, and the session's own timeouts are 30 minutes and 12 hours here.
NOTICE_DEADLINE = 8.0


class Scene:
    """The counsellor's console on one process, the admin and the children on another."""

    def __init__(self, stack: Stack, here: ServerProcess, there: ServerProcess) -> None:
        self.stack, self.here, self.there = stack, here, there
        self.password = add_user(stack, "cora")
        self.cora = StaffClient(there.url, "cora", self.password)
        self.held = self.waiting = ""
        self.child: ChildClient | None = None

    async def open(self) -> None:
        """Cora holds one chat (key received, a message each way) and a second child waits."""
        await self.cora.sign_in()
        await self.cora.connect()
        self.child = ChildClient(self.here.url, self.stack.org_public_key)
        await self.child.connect()
        self.held = await self.child.start(PRECHAT)
        await self.cora.accept(self.held)
        await self.cora.wait_for_key(self.held)
        await eventually(lambda: self.child is not None and self.child.conv_key is not None)
        await self.child.say("a je aty?")
        await self.cora.say(self.held, "po, jam këtu")
        waiting_child = ChildClient(self.here.url, self.stack.org_public_key)
        await waiting_child.connect()
        self.waiting = await waiting_child.start(PRECHAT)

    async def closed_with(self, deadline: float = NOTICE_DEADLINE) -> tuple[int | None, float]:
        """Waits for the server to close Cora's socket: (close code, seconds it took)."""
        assert self.cora.socket is not None and self.cora.socket.reader is not None
        started = time.monotonic()
        await asyncio.wait_for(asyncio.shield(self.cora.socket.reader), deadline)
        return self.cora.socket.close_code, time.monotonic() - started

    async def assert_locked_out(self, code: int) -> None:
        """No accept, no message, and the session opens no socket again; nothing changed."""
        with pytest.raises(Exception):  # noqa: PT011,B017 - the socket is closed: websockets' ConnectionClosed
            await self.cora.accept(self.waiting)
        with pytest.raises(Exception):  # noqa: PT011,B017
            await self.cora.say(self.held, "a mund të shkruaj ende?")
        with pytest.raises(SocketClosed) as refused:
            await self.cora.connect()
        assert refused.value.code == code
        assert await self.state(self.waiting) == ConversationState.QUEUED
        assert self.child is not None
        await asyncio.sleep(0.3)  # a message that slipped through would have arrived by now
        assert [m.text for m in self.child.received.values() if m.sender != "child"] == ["po, jam këtu"]

    async def state(self, conv: str) -> str:
        engine = make_engine(self.stack.database_url)
        try:
            async with make_sessionmaker(engine)() as db:
                return str((await db.execute(select(Conversation.state).where(Conversation.id == conv))).scalar_one())
        finally:
            await engine.dispose()

    async def admin(self) -> httpx.AsyncClient:
        password = add_user(self.stack, "root", role="admin")
        root = StaffClient(self.here.url, "root", password)
        await root.sign_in()
        return httpx.AsyncClient(base_url=self.here.url, cookies=root.cookies, headers={"x-csrf-token": root.csrf})

    async def cora_id(self, admin: httpx.AsyncClient) -> str:
        listed = (await admin.get("/console/api/admin/staff")).json()["staff"]
        return str(next(s["id"] for s in listed if s["username"] == "cora"))


def two_processes(stack: Stack, start_server: Callable[..., ServerProcess],
                  **env: str) -> tuple[ServerProcess, ServerProcess]:
    """Two processes sharing PostgreSQL and Redis; on SQLite, one process (in-process broker)."""
    here = start_server(**env)
    return here, (start_server(**env) if stack.on_postgres else here)


async def by_admin(stack: Stack, start_server: Callable[..., ServerProcess], path: str,
                   body: dict[str, Any], code: int) -> None:
    scene = Scene(stack, *two_processes(stack, start_server))
    await scene.open()
    async with await scene.admin() as admin:
        answer = await admin.post(f"/console/api/admin/staff/{await scene.cora_id(admin)}/{path}", json=body)
        assert answer.status_code == 200, answer.text
    closed, took = await scene.closed_with()
    assert closed == code, closed
    assert took < NOTICE_DEADLINE
    await scene.assert_locked_out(code)


@also_through_pgbouncer
async def test_disabling_closes_the_open_console_socket_in_every_process(
        stack: Stack, start_server: Callable[..., ServerProcess]) -> None:
    await by_admin(stack, start_server, "disabled", {"disabled": True}, 4401)


async def test_a_role_change_to_manager_closes_the_open_console_socket(
        stack: Stack, start_server: Callable[..., ServerProcess]) -> None:
    await by_admin(stack, start_server, "role", {"role": "manager"}, 4403)


async def test_a_key_reset_closes_the_open_console_socket(
        stack: Stack, start_server: Callable[..., ServerProcess]) -> None:
    await by_admin(stack, start_server, "reset", {}, 4401)


async def test_sign_out_everywhere_closes_the_open_console_socket(
        stack: Stack, start_server: Callable[..., ServerProcess]) -> None:
    scene = Scene(stack, *two_processes(stack, start_server))
    await scene.open()
    elsewhere = StaffClient(scene.here.url, "cora", scene.password)
    await elsewhere.sign_in()  # another browser, on the other process
    async with httpx.AsyncClient(base_url=scene.here.url, cookies=elsewhere.cookies,
                                 headers={"origin": scene.here.url, "x-csrf-token": elsewhere.csrf}) as http:
        assert (await http.post("/console/api/logout-everywhere", json={})).status_code == 200
    closed, _took = await scene.closed_with()
    assert closed == 4401
    await scene.assert_locked_out(4401)


async def test_a_password_change_elsewhere_closes_the_other_sessions_sockets(
        stack: Stack, start_server: Callable[..., ServerProcess]) -> None:
    scene = Scene(stack, *two_processes(stack, start_server))
    await scene.open()
    elsewhere = StaffClient(scene.here.url, "cora", scene.password)
    profile = await elsewhere.sign_in()
    await elsewhere.connect()  # the session that changes the password keeps its socket
    assert elsewhere.private_key is not None
    new_password, salt = "new-" + secrets.token_urlsafe(12), secrets.token_bytes(16)
    # What the page sends (ADR 0021): the derived auth values, never the passwords.
    old_auth = crypto.derive_signin(scene.password, crypto.b64u_decode(profile["kdf_salt"]))[0]
    new_auth, new_unwrap = crypto.derive_signin(new_password, salt)
    sealed = crypto.seal(new_unwrap, bytes(elsewhere.private_key))
    async with httpx.AsyncClient(base_url=scene.here.url, cookies=elsewhere.cookies,
                                 headers={"origin": scene.here.url, "x-csrf-token": elsewhere.csrf}) as http:
        changed = await http.post("/console/api/password", json={
            "old_auth": crypto.b64u_encode(old_auth), "new_auth": crypto.b64u_encode(new_auth),
            "kdf_salt": crypto.b64u_encode(salt), "encrypted_private_key": sealed})
        assert changed.status_code == 200, changed.text
    closed, _took = await scene.closed_with()
    assert closed == 4401
    await scene.assert_locked_out(4401)
    assert elsewhere.socket is not None and elsewhere.socket.close_code is None
    await elsewhere.command({"type": "status", "status": "available"})  # still at work


async def test_the_idle_timeout_closes_the_socket_and_activity_on_it_keeps_it_open(
        stack: Stack, start_server: Callable[..., ServerProcess]) -> None:
    """Idle timeout 6 s: frames that change something count as use (pings do not); once they
    stop, the session times out and the hub closes the socket at its deadline."""
    idle = 6.0
    scene = Scene(stack, *two_processes(stack, start_server, HELPLINE_SESSION_IDLE_MINUTES=str(idle / 60)))
    await scene.open()
    busy_until = time.monotonic() + idle * 1.5
    while time.monotonic() < busy_until:
        await scene.cora.command({"type": "status", "status": "available"})
        await asyncio.sleep(0.5)
    assert scene.cora.socket is not None and scene.cora.socket.close_code is None  # longer than idle: open
    closed, took = await scene.closed_with(deadline=idle + NOTICE_DEADLINE)
    assert closed == 4401
    assert took > idle / 2, took  # the timeout closed it, not something at once
    await scene.assert_locked_out(4401)


async def test_the_absolute_timeout_closes_a_busy_socket(
        stack: Stack, start_server: Callable[..., ServerProcess]) -> None:
    """Absolute timeout 20 s after sign-in, however busy the socket is."""
    scene = Scene(stack, *two_processes(stack, start_server, HELPLINE_SESSION_MAX_HOURS=str(20 / 3600)))
    signed_in = time.monotonic()
    await scene.open()
    assert scene.cora.socket is not None

    async def keep_busy() -> None:
        while scene.cora.socket is not None and scene.cora.socket.close_code is None:
            try:
                await scene.cora.command({"type": "status", "status": "available"})
            except Exception:  # noqa: BLE001 - the socket closed under the frame
                return
            await asyncio.sleep(0.5)

    busy = asyncio.create_task(keep_busy())
    closed, _took = await scene.closed_with(deadline=20 + NOTICE_DEADLINE)
    await busy
    assert closed == 4401
    assert time.monotonic() - signed_in > 18
    await scene.assert_locked_out(4401)


async def test_a_state_changing_frame_checks_the_account_again_even_without_the_notice(
        stack: Stack, start_server: Callable[..., ServerProcess]) -> None:
    """The account is disabled straight in the database, as if the notice were lost: the next
    `accept` reads the staff row, takes nothing and closes the socket."""
    scene = Scene(stack, *two_processes(stack, start_server))
    await scene.open()
    engine = make_engine(stack.database_url)
    try:
        async with make_sessionmaker(engine)() as db:
            await db.execute(update(Staff).where(Staff.username == "cora").values(disabled=True))
            await db.commit()
    finally:
        await engine.dispose()
    with pytest.raises(ConnectionError):
        await scene.cora.accept(scene.waiting)
    closed, _took = await scene.closed_with()
    assert closed == 4401
    await scene.assert_locked_out(4401)


async def test_the_accept_statement_refuses_a_disabled_account_or_a_role_that_takes_no_chats(
        stack: Stack, server: ServerProcess) -> None:
    """The condition is in the SQL of the claim itself, so no check made before it can be raced."""
    for name, role in (("dora", "counsellor"), ("mona", "manager"), ("ada", "admin"), ("cora", "counsellor")):
        add_user(stack, name, role=role)
    child = ChildClient(server.url, stack.org_public_key)
    await child.connect()
    conv = await child.start(PRECHAT)
    engine = make_engine(stack.database_url)
    try:
        async with make_sessionmaker(engine)() as db:
            await db.execute(update(Staff).where(Staff.username == "dora").values(disabled=True))
            await db.commit()
            ids = {name: id_ for name, id_ in (await db.execute(select(Staff.username, Staff.id))).all()}
        for name in ("dora", "mona", "ada"):
            async with make_sessionmaker(engine)() as db:
                assert await repo.claim(db, conv, ids[name]) is False, name
                assert (await db.execute(repo.may_take_chats_query(ids[name]))).scalar_one() is False
                await db.commit()
        async with make_sessionmaker(engine)() as db:
            state = (await db.execute(select(Conversation.state).where(Conversation.id == conv))).scalar_one()
            assert state == ConversationState.QUEUED
            assert await repo.claim(db, conv, ids["cora"]) is True
            await db.commit()
    finally:
        await engine.dispose()


async def test_a_refused_staff_socket_is_closed_with_4401_not_answered_403(
        stack: Stack, server: ServerProcess) -> None:
    """No cookie, a foreign Origin, a password-only session: accepted, then closed with 4401 (the
    console's "sign in again"); a manager's full session (no console): 4403."""
    url = server.url.replace("http", "ws", 1) + "/ws/staff"
    from websockets.asyncio.client import connect

    async def close_code(headers: dict[str, str]) -> int | None:
        async with connect(url, additional_headers=headers, compression=None) as ws:
            await asyncio.wait_for(ws.wait_closed(), 10)
            return ws.close_code

    assert await close_code({"origin": server.url}) == 4401
    password = add_user(stack, "cora")
    cora = StaffClient(server.url, "cora", password)
    await cora.sign_in()
    cookie = "; ".join(f"{k}={v}" for k, v in cora.cookies.items())
    assert await close_code({"origin": "https://elsewhere.example", "cookie": cookie}) == 4401
    async with httpx.AsyncClient(base_url=server.url, headers={"origin": server.url}) as http:
        half = await http.post("/console/api/login", json=await signin_body(http, "cora", password))
        half_cookie = f"hl_session={half.cookies['hl_session']}"
    assert await close_code({"origin": server.url, "cookie": half_cookie}) == 4401
    manager = StaffClient(server.url, "mona", add_user(stack, "mona", role="manager"))
    await manager.sign_in()
    assert await close_code({"origin": server.url,
                             "cookie": "; ".join(f"{k}={v}" for k, v in manager.cookies.items())}) == 4403
