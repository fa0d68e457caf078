"""The chat end to end over real WebSockets, on SQLite + in-process and PostgreSQL + Redis."""

from __future__ import annotations

import asyncio
import re
import sqlite3
import subprocess
import sys
from collections.abc import Callable

import nacl.signing
import pytest

from helpline import crypto
from tests.chat_client import ChildClient, FrameError, StaffClient
from tests.pgbouncer import also_through_pgbouncer
from tests.support import REDIS_URL, ROOT, ServerProcess, Stack, add_user

PRECHAT = {"who": "child", "age_band": "13-15", "gender": "girl", "municipality": "Shkodër", "topic": "online"}


def child_text(i: int) -> str:
    return f"fëmija-sekret-{i}-Më ndihmoni ju lutem"


def staff_text(i: int) -> str:
    return f"keshilltari-sekret-{i}-Jam këtu me ty"


async def open_chat(server: ServerProcess, stack: Stack, password: str, username: str = "ana",
                    child_server: ServerProcess | None = None) -> tuple[ChildClient, StaffClient, str]:
    """A child starts, a counsellor accepts, the key is wrapped and handed over."""
    child = ChildClient((child_server or server).url, stack.org_public_key)
    await child.connect()
    conv = await child.start(PRECHAT)
    staff = StaffClient(server.url, username, password)
    await staff.sign_in()
    await staff.connect()
    queue = await staff.socket.next_event("queue")  # type: ignore[union-attr]
    while conv not in [item["conv"] for item in queue.get("items", [])]:
        queue = await staff.socket.next_event("queue")  # type: ignore[union-attr]
    await staff.accept(conv)
    await staff.wait_for_key(conv)
    return child, staff, conv


async def eventually(check: Callable[[], bool], timeout: float = 10) -> None:
    for _ in range(int(timeout / 0.02)):
        if check():
            return
        await asyncio.sleep(0.02)
    assert check()


async def database_dump(stack: Stack) -> bytes:
    """Every byte the database holds: the SQLite files, or every row of every table in PostgreSQL."""
    if stack.sqlite_path is not None:
        sqlite3.connect(stack.sqlite_path).execute("PRAGMA wal_checkpoint(FULL)").close()
        return b"".join(p.read_bytes() for p in stack.sqlite_path.parent.glob("helpline.db*"))
    import asyncpg

    conn = await asyncpg.connect(stack.direct_postgres_dsn)
    try:
        tables = [r[0] for r in await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname='public'")]
        rows = [str(r[0]) for t in tables for r in await conn.fetch(f'SELECT t::text FROM "{t}" t')]
        return "\n".join(rows).encode()
    finally:
        await conn.close()


@also_through_pgbouncer
async def test_full_chat_both_sides_decrypt_and_no_plaintext_anywhere(stack: Stack, server: ServerProcess) -> None:
    password = add_user(stack, "ana")
    monitor = None
    if stack.redis_url:
        monitor = subprocess.Popen(["redis-cli", "-u", REDIS_URL, "monitor"], stdout=subprocess.PIPE, text=True)  # noqa: S603,S607
        await asyncio.sleep(0.2)
    child, staff, conv = await open_chat(server, stack, password)
    for i in range(20):
        await child.say(child_text(i))
        await staff.say(conv, staff_text(i))
    await eventually(lambda: len(staff.received.get(conv, {})) == 20 and len(child.received) == 20)
    assert [m.text for m in sorted(staff.received[conv].values(), key=lambda m: m.seq)] == [
        child_text(i) for i in range(20)]
    assert [m.text for m in sorted(child.received.values(), key=lambda m: m.seq)] == [staff_text(i) for i in range(20)]
    assert sorted(set(child.received) | set(staff.received[conv])) == list(range(1, 41))
    ended = await staff.end(conv)
    assert ended["state"] == "ended"
    assert (await child.socket.next_event("ended"))["by"] == "staff"  # type: ignore[union-attr]
    for late in (child.say("after the end"), staff.say(conv, "after the end")):
        with pytest.raises(FrameError) as refused:
            await late
        assert refused.value.code == "bad_state"
    await child.close()
    await staff.close()
    server.stop()

    secrets_said = [child_text(i) for i in range(20)] + [staff_text(i) for i in range(20)]
    needles = [s.encode() for s in secrets_said] + [b"fmija-sekret", b"keshilltari-sekret"]
    dumped = await database_dump(stack)
    assert "Shkodër".encode() in dumped  # the dump is real: the pre-chat metadata is there
    for needle in needles:
        assert needle not in dumped, f"plaintext {needle!r} found in the database"
        assert needle.decode() not in server.log(), "plaintext found in the server log"
    if monitor is not None:
        monitor.terminate()
        out, _ = monitor.communicate(timeout=5)
        assert stack.redis_prefix in out  # the monitor really saw this helpline's traffic
        for text in secrets_said:
            assert "sekret" not in out and text not in out, "plaintext went through Redis"


async def test_no_address_or_user_agent_is_written(stack: Stack, server: ServerProcess) -> None:
    password = add_user(stack, "ana")
    agent = "HelplineTestPhone/7.1 (Android 9; Redmi)"
    child = ChildClient(server.url, stack.org_public_key)
    child_socket_kwargs = {"local_addr": ("127.0.0.2", 0), "user_agent_header": agent}
    await child.connect(**child_socket_kwargs)
    conv = await child.start(PRECHAT)
    staff = StaffClient(server.url, "ana", password)
    await staff.sign_in()
    await staff.connect()
    await staff.accept(conv)
    await staff.wait_for_key(conv)
    await child.say("përshëndetje")
    await staff.say(conv, "tungjatjeta")
    await eventually(lambda: len(child.received) == 1)
    await child.close()
    await staff.close()
    server.stop()
    dumped = await database_dump(stack)
    log = server.log()
    assert "WebSocket /ws/child" in log  # uvicorn did log the connection, without the address
    for needle in ("127.0.0.2", "HelplineTestPhone", "Redmi"):
        assert needle.encode() not in dumped
        assert needle not in log


@also_through_pgbouncer
async def test_reconnects_lose_nothing_and_resent_frames_store_once(
        stack: Stack, start_server: Callable[..., ServerProcess]) -> None:
    password = add_user(stack, "ana")
    child_side = start_server()
    staff_side = start_server() if stack.redis_url else child_side
    child, staff, conv = await open_chat(staff_side, stack, password, child_server=child_side)
    await child.say("first")
    await eventually(lambda: 1 in staff.received.get(conv, {}))

    # The child's phone drops: the counsellor writes meanwhile.
    await child.close()
    for i in range(5):
        await staff.say(conv, f"while you were away {i}")
    child_again = ChildClient(child_side.url, stack.org_public_key, secret=child.secret)
    child_again.last_seq = max(child.received, default=0)
    await child_again.connect()
    ack = await child_again.resume()
    assert ack["conv"] == conv
    await eventually(lambda: len(child_again.received) == 6)
    assert [child_again.received[s].text for s in sorted(child_again.received)] == ["first"] + [
        f"while you were away {i}" for i in range(5)]

    # A frame sent twice (the ack was lost) is stored once.
    seq1 = await child_again.say("only once", frame_id="dup-1")
    seq2 = await child_again.say("only once", frame_id="dup-1")
    assert seq1 == seq2

    # The counsellor's server process is killed and comes back on the same port.
    staff_side.kill()
    if staff_side is not child_side:
        await child_again.say("written while the counsellor's server is down")
    restarted = ServerProcess(stack, staff_side.port).start()
    stack.servers.append(restarted)
    staff_again = StaffClient(restarted.url, "ana", password)
    staff_again.cookies, staff_again.csrf, staff_again.participant = staff.cookies, staff.csrf, staff.participant
    staff_again.private_key = staff.private_key
    hello = await staff_again.connect()
    assert [c["conv"] for c in hello["conversations"]] == [conv]
    await staff_again.sync(conv, 0)
    expected_child = ["first", "only once"] + (
        ["written while the counsellor's server is down"] if staff_side is not child_side else [])
    await eventually(lambda: [m.text for m in sorted(staff_again.received.get(conv, {}).values(), key=lambda m: m.seq)
                              if m.sender == "child"] == expected_child)
    if staff_side is child_side:
        await child_again.close()
        child_again = ChildClient(restarted.url, stack.org_public_key, secret=child.secret)
        await child_again.connect()
        await child_again.resume()
    await staff_again.say(conv, "I am back")
    await eventually(lambda: "I am back" in [m.text for m in child_again.received.values()])
    await child_again.close()
    await staff_again.close()


async def test_a_client_id_is_the_senders_own_so_equal_ids_from_child_and_counsellor_both_arrive(
        stack: Stack, server: ServerProcess) -> None:
    """Issue 17: the counsellor's id equal to one of the child's got the child's seq and was dropped."""
    password = add_user(stack, "ana")
    child, staff, conv = await open_chat(server, stack, password)
    child_seq = await child.say("the child's words", frame_id="same-id")
    staff_seq = await staff.say(conv, "the counsellor's words", frame_id="same-id")
    assert staff_seq != child_seq
    await eventually(lambda: staff_seq in child.received and child_seq in staff.received.get(conv, {}))
    assert child.received[staff_seq].text == "the counsellor's words"
    assert staff.received[conv][child_seq].text == "the child's words"

    # The same sender resending its id stores once and is answered with its own message.
    assert await staff.say(conv, "the counsellor's words", frame_id="same-id") == staff_seq
    assert await child.say("the child's words", frame_id="same-id") == child_seq
    staff.received[conv].clear()
    await staff.sync(conv, 0)
    await eventually(lambda: len(staff.received[conv]) == 2)
    assert sorted((m.sender == "child", m.text) for m in staff.received[conv].values()) == [
        (False, "the counsellor's words"), (True, "the child's words")]
    await child.close()
    await staff.close()


async def test_child_refuses_a_counsellor_key_the_org_key_did_not_sign(stack: Stack, server: ServerProcess) -> None:
    password = add_user(stack, "mallory")
    staff = StaffClient(server.url, "mallory", password)
    await staff.sign_in()
    # A server (or database admin) substitutes a signature made with a key that is not the org key.
    rogue = nacl.signing.SigningKey.generate()
    forged = crypto.sign_staff_key(rogue, staff.participant, bytes(staff.private_key.public_key),  # type: ignore[union-attr]
                                   role="counsellor")
    script = (
        "import asyncio,sys\n"
        "from sqlalchemy import update\n"
        "from helpline.db import make_engine, make_sessionmaker\n"
        "from helpline.models import Staff\n"
        "async def main():\n"
        "    engine = make_engine(sys.argv[1])\n"
        "    async with make_sessionmaker(engine)() as db, db.begin():\n"
        "        await db.execute(update(Staff).where(Staff.username=='mallory').values(key_signature=sys.argv[2]))\n"
        "    await engine.dispose()\n"
        "asyncio.run(main())\n")
    subprocess.run([sys.executable, "-c", script, stack.database_url, forged], check=True, cwd=ROOT)  # noqa: S603
    child = ChildClient(server.url, stack.org_public_key)
    await child.connect()
    conv = await child.start(PRECHAT)
    await staff.connect()
    await staff.accept(conv)
    await eventually(lambda: child.refused == [staff.participant])
    with pytest.raises(asyncio.TimeoutError):
        await staff.wait_for_key(conv, timeout=1.5)
    assert child.wrapped_for == []
    await child.close()
    await staff.close()


async def test_bad_frames_get_clear_errors_and_others_carry_on(stack: Stack, server: ServerProcess) -> None:
    password = add_user(stack, "ana")
    child, staff, conv = await open_chat(server, stack, password)
    intruder = ChildClient(server.url, stack.org_public_key)
    await intruder.connect()
    sock = intruder.socket
    assert sock is not None

    async def answer_to(raw: str) -> dict[str, object]:
        await sock.send_raw(raw)
        while True:
            frame = await asyncio.wait_for(sock.events.get(), 5)
            if frame["type"] == "error":
                return frame

    assert (await answer_to("{not json"))["code"] == "bad_json"
    assert (await answer_to("[1,2]"))["code"] == "bad_json"
    assert (await answer_to('{"type":"nope","id":"x1"}'))["code"] == "unknown_type"
    assert (await answer_to('{"type":"ping"}'))["code"] == "bad_frame"
    assert (await answer_to('{"type":"sync","id":"x2","conv":7,"after":0}'))["code"] == "bad_frame"
    assert (await answer_to('{"type":"send","id":"x3","conv":"' + conv + '","body":"AAAA"}'))["code"] == "not_found"
    huge = '{"type":"ping","id":"x4","pad":"' + "a" * 70_000 + '"}'
    assert (await answer_to(huge))["code"] == "too_large"

    # On the real conversation: garbage ciphertext and impossible sequence numbers.
    own = child.socket
    assert own is not None
    for body, code in (("not base64!!", "bad_ciphertext"), ("QUJD", "bad_ciphertext"),
                       (crypto.b64u_encode(b"\x00" * 100), "bad_ciphertext")):
        with pytest.raises(Exception) as caught:
            await own.request({"type": "send", "conv": conv, "body": body})
        assert getattr(caught.value, "code", None) == code
    with pytest.raises(Exception) as caught:
        await own.request({"type": "sync", "conv": conv, "after": 999})
    assert getattr(caught.value, "code", None) == "bad_sequence"
    with pytest.raises(Exception) as caught:
        await own.request({"type": "start", "token": "short", "public_key": "x", "self_key": "y"})
    assert getattr(caught.value, "code", None) == "bad_frame"

    # Nothing of that was stored, and the conversation carries on.
    await child.say("still here")
    await staff.say(conv, "me too")
    await eventually(lambda: [m.text for m in child.received.values()] == ["me too"])
    assert [m.text for m in staff.received[conv].values()] == ["still here"]
    assert max(staff.received[conv]) == 1 and max(child.received) == 2
    assert re.search(r"Traceback", server.log()) is None
    await intruder.close()
    await child.close()
    await staff.close()


async def test_frame_rate_limit_answers_with_an_error_not_a_dropped_socket(
        stack: Stack, start_server: Callable[..., ServerProcess]) -> None:
    server = start_server(HELPLINE_FRAMES_PER_MINUTE="30")
    child = ChildClient(server.url, stack.org_public_key)
    await child.connect()
    sock = child.socket
    assert sock is not None
    if sock.pinger is not None:  # every frame is counted here: no keepalive ping may take a token meanwhile
        sock.pinger.cancel()
    codes = []
    for _ in range(34):
        try:
            await sock.request({"type": "ping"})
            codes.append("ack")
        except Exception as exc:  # noqa: BLE001 - we look at the code below
            codes.append(getattr(exc, "code", repr(exc)))
    assert codes[:30] == ["ack"] * 30
    assert set(codes[30:]) == {"rate_limited"}
    await asyncio.sleep(2.2)  # the bucket refills one frame every 2 s
    assert (await sock.request({"type": "ping"}))["type"] == "ack"
    await child.close()


@also_through_pgbouncer
async def test_a_wave_of_children_starting_at_once_all_get_into_the_queue(
        stack: Stack, start_server: Callable[..., ServerProcess]) -> None:
    """60 starts in the same instant on a fresh server: more than the PostgreSQL pool holds (20).
    Each start once took a second connection inside its transaction, and such a wave waited on
    itself until the pool gave up (found by benchmarks/load.py)."""
    server = start_server(HELPLINE_NEW_CHATS_PER_MINUTE="100000", HELPLINE_POW_QUEUE_THRESHOLD="1000")
    children = [ChildClient(server.url, stack.org_public_key) for _ in range(60)]
    try:
        await asyncio.gather(*(child.connect() for child in children))
        convs = await asyncio.gather(*(child.start({"who": "child"}) for child in children))
        assert len(set(convs)) == 60
        # A console opening now sees the head of the queue and how many wait (a count, not every id).
        staff = StaffClient(server.url, "ana", add_user(stack, "ana"))
        await staff.sign_in()
        await staff.connect()
        queue = await staff.socket.next_event("queue")  # type: ignore[union-attr]
        assert queue["total"] == 60 and len(queue["items"]) == 30
        assert {item["conv"] for item in queue["items"]} <= set(convs)
        # Later children join the end of the queue. The open console is sent the head once more
        # (its snapshot may be older than the hub's), then only the total: each item says when it
        # was queued, not how long ago, so an unchanged head is not sent again.
        for expected in (61, 62):
            children.append(ChildClient(server.url, stack.org_public_key))
            await children[-1].connect()
            await children[-1].start({"who": "child"})
            later = await staff.socket.next_event("queue")  # type: ignore[union-attr]
            while later["total"] != expected:
                later = await staff.socket.next_event("queue")  # type: ignore[union-attr]
            if expected == 61:  # the head again, unless a refresh since the snapshot sent it already
                assert later.get("items", queue["items"]) == queue["items"]
            else:
                assert later == {"type": "queue", "total": 62}
        await staff.close()
    finally:
        await asyncio.gather(*(child.close() for child in children), return_exceptions=True)
