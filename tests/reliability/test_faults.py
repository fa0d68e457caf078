"""Faults with real processes: SIGTERM drains, Redis goes away and comes back, the database goes away and comes back.

The shared PostgreSQL and Redis are never touched: Redis faults use a private redis-server on a
free port, and "the database is unavailable" is a TCP proxy in front of PostgreSQL that the test
cuts and restores. SIGKILL mid-chat is tests/integration/test_chat_e2e.py::
test_reconnects_lose_nothing_and_resent_frames_store_once.
"""

from __future__ import annotations

import asyncio
import shutil
import signal
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from helpline.db import Store, StoreUnavailable, make_engine, make_sessionmaker
from helpline.models import Message
from tests.chat_client import ChildClient, FrameError, Socket, StaffClient
from tests.integration.test_chat_e2e import PRECHAT, eventually, open_chat
from tests.reliability.tcp_proxy import TcpProxy
from tests.support import ServerProcess, Stack, add_user, destroy_stack, free_port, make_stack

pytestmark = pytest.mark.slow


def events_of(sock: Socket | None) -> list[dict[str, Any]]:
    """Every event frame the socket has queued so far (acks and errors are answers, not events)."""
    assert sock is not None
    found = []
    while not sock.events.empty():
        found.append(sock.events.get_nowait())
    return found


def texts(staff: StaffClient, conv: str, sender: str = "child") -> list[str]:
    return [m.text for m in sorted(staff.received.get(conv, {}).values(), key=lambda m: m.seq) if m.sender == sender]


async def stored_client_ids(stack: Stack, conv: str) -> list[str]:
    engine = make_engine(stack.database_url)
    async with make_sessionmaker(engine)() as db:
        rows = (await db.execute(select(Message.seq, Message.client_id).where(Message.conversation_id == conv)
                                 .order_by(Message.seq))).all()
    await engine.dispose()
    assert [seq for seq, _ in rows] == list(range(1, len(rows) + 1)), "sequence numbers have a gap"
    return [cid for _, cid in rows]


async def signed_in_again(server: ServerProcess, old: StaffClient) -> StaffClient:
    again = StaffClient(server.url, old.username, old.password)
    again.cookies, again.csrf, again.participant, again.private_key = old.cookies, old.csrf, old.participant, \
        old.private_key
    await again.connect()
    return again


# -- graceful shutdown ------------------------------------------------------------------------------

async def test_sigterm_tells_clients_to_reconnect_and_loses_no_acknowledged_message(
        stack: Stack, start_server: Callable[..., ServerProcess]) -> None:
    server = start_server()
    password = add_user(stack, "ana")
    child, staff, conv = await open_chat(server, stack, password)
    events_of(child.socket), events_of(staff.socket)
    acked: list[str] = []

    async def chatter() -> None:
        for i in range(400):
            try:
                await child.say(f"m{i}", frame_id=f"m{i}")
            except Exception:  # noqa: BLE001 - an error or the socket closing under the send ends the chatter
                return
            acked.append(f"m{i}")
            await asyncio.sleep(0.005)

    talking = asyncio.create_task(chatter())
    await eventually(lambda: len(acked) >= 20)
    assert server.process is not None
    server.process.send_signal(signal.SIGTERM)
    await asyncio.wait_for(talking, 30)
    assert await asyncio.to_thread(server.process.wait, 30) == 0 or server.process.returncode is not None
    assert any(e.get("type") == "reconnect" for e in events_of(child.socket)), "the child was not told to reconnect"
    assert any(e.get("type") == "reconnect" for e in events_of(staff.socket)), "the counsellor was not told"

    # Another process answers; every acknowledged message is there, once, in order.
    other = start_server()
    stored = await stored_client_ids(stack, conv)
    assert set(acked) <= set(stored) and len(stored) == len(set(stored))
    staff_again = await signed_in_again(other, staff)
    await staff_again.sync(conv, 0)
    await eventually(lambda: set(acked) <= set(texts(staff_again, conv)))
    await child.close()
    await staff.close()
    await staff_again.close()
    assert "Traceback" not in server.log()


# -- Redis ----------------------------------------------------------------------------------------

def start_redis(port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(  # noqa: S603
        [shutil.which("redis-server") or "redis-server", "--port", str(port), "--save", "", "--appendonly", "no",
         "--bind", "127.0.0.1"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import redis

    for _ in range(100):
        try:
            redis.Redis(port=port, socket_connect_timeout=0.2).ping()
            return process
        except redis.RedisError:
            import time

            time.sleep(0.05)
    raise RuntimeError("private redis-server did not start")


@pytest.fixture
def private_redis() -> Iterator[dict[str, Any]]:
    port = free_port()
    state: dict[str, Any] = {"port": port, "process": start_redis(port)}
    try:
        yield state
    finally:
        state["process"].terminate()
        state["process"].wait(10)


async def test_redis_stopped_and_restarted_during_chats(tmp_path: Path, private_redis: dict[str, Any]) -> None:
    stack = make_stack("postgres", tmp_path, {"HELPLINE_REDIS_URL": f"redis://127.0.0.1:{private_redis['port']}/0"})
    try:
        child_side, staff_side = ServerProcess(stack).start(), ServerProcess(stack).start()
        stack.servers += [child_side, staff_side]
        password = add_user(stack, "ana")
        child, staff, conv = await open_chat(staff_side, stack, password, child_server=child_side)
        await child.say("before")
        await eventually(lambda: texts(staff, conv) == ["before"])

        private_redis["process"].terminate()
        private_redis["process"].wait(10)
        # Messages sent meanwhile are stored and acknowledged, and reach the other process by its polling.
        for i in range(3):
            await child.say(f"during {i}")
            await staff.say(conv, f"reply {i}")
        await eventually(lambda: texts(staff, conv) == ["before"] + [f"during {i}" for i in range(3)], 15)
        replies = [f"reply {i}" for i in range(3)]
        # (catching up from the database, the child's side also gets back its own messages: not counted)
        await eventually(lambda: sorted(m.text for m in child.received.values() if m.sender != "child") == replies,
                         15)
        # A child who starts while Redis is down joins the queue.
        waiting = ChildClient(child_side.url, stack.org_public_key)
        await waiting.connect()
        queued = await waiting.start(PRECHAT)

        private_redis["process"] = start_redis(private_redis["port"])
        await asyncio.sleep(3)  # the readers reconnect with back-off
        await child.say("after")
        await eventually(lambda: texts(staff, conv)[-1:] == ["after"], 10)
        queue = await staff.socket.next_event("queue", 20)  # type: ignore[union-attr]
        while queued not in [item["conv"] for item in queue.get("items", [])]:
            queue = await staff.socket.next_event("queue", 20)  # type: ignore[union-attr]
        assert [item["conv"] for item in queue["items"]] == [queued]
        taken = await staff.accept(queued)
        assert taken["conv"] == queued
        stored = await stored_client_ids(stack, conv)
        assert len(stored) == 8 == len(set(stored))
        for client in (child, waiting):
            await client.close()
        await staff.close()
        for server in stack.servers:
            assert "Traceback" not in server.log()
    finally:
        destroy_stack(stack)


# -- the database ---------------------------------------------------------------------------------

async def test_database_unavailable_then_back(tmp_path: Path) -> None:
    stack = make_stack("postgres", tmp_path)
    proxy = TcpProxy(free_port(), "127.0.0.1", 5432)
    await proxy.start()
    try:
        password = add_user(stack, "ana")  # straight to the database: the proxy runs on this test's loop
        via_proxy = stack.database_url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
        stack.env["HELPLINE_DATABASE_URL"] = via_proxy
        server = await asyncio.to_thread(ServerProcess(stack).start)  # its health check must not block the proxy
        stack.servers.append(server)
        child, staff, conv = await open_chat(server, stack, password)
        await child.say("one", frame_id="one")

        await proxy.cut()
        for attempt in (child.say("lost", frame_id="lost"), staff.say(conv, "lost too")):
            with pytest.raises(FrameError) as refused:
                await attempt
            assert refused.value.code == "unavailable"
            assert "try again" in refused.value.frame["message"].lower()
        async with httpx.AsyncClient(base_url=server.url, cookies=staff.cookies) as http:
            answer = await http.get("/console/api/canned")
        message = answer.json()["error"].lower()  # in the staff member's language (Albanian by default)
        assert answer.status_code == 503 and ("try again" in message or "provoni përsëri" in message)

        await proxy.restore()
        # No restart: the next try works (the pool checks connections before use).
        for _ in range(50):
            try:
                await child.say("two", frame_id="two")
                break
            except FrameError as exc:
                assert exc.code == "unavailable"
                await asyncio.sleep(0.2)
        await staff.say(conv, "back")
        await eventually(lambda: texts(staff, conv) == ["one", "two"])
        await eventually(lambda: [m.text for m in child.received.values()] == ["back"])
        stack.env["HELPLINE_DATABASE_URL"] = stack.database_url
        stored = await stored_client_ids(stack, conv)
        assert "lost" not in stored and stored[:1] == ["one"] and "two" in stored and len(stored) == 3
        await child.close()
        await staff.close()
        assert "Traceback" not in server.log()
    finally:
        await proxy.stop()
        stack.env["HELPLINE_DATABASE_URL"] = stack.database_url
        destroy_stack(stack)


async def test_sqlite_file_unavailable_then_back(tmp_path: Path) -> None:
    """SQLite: the data folder disappears (a lost mount) and comes back; the Store says so and recovers."""
    stack = make_stack("sqlite", tmp_path)
    assert stack.sqlite_path is not None
    engine = make_engine(stack.database_url)
    store = Store(make_sessionmaker(engine), serialise_writes=True)
    try:
        async with store.read() as db:
            assert (await db.execute(select(Message.id))).first() is None
        await engine.dispose()
        moved = stack.data_dir.with_name("var-away")
        stack.data_dir.rename(moved)
        with pytest.raises(StoreUnavailable):
            async with store.write() as db:
                await db.execute(select(Message.id))
        moved.rename(stack.data_dir)
        async with store.write() as db:
            await db.execute(select(Message.id))
    finally:
        await engine.dispose()
        destroy_stack(stack)
