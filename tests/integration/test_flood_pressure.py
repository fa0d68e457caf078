"""A scripted flood of chats, over real WebSockets on both backends (chat/abuse.py, ADR 0020): the
price of a start rises with pressure, a start with a solved proof is never refused by the
helpline-wide limit, empty chats leave the queue by themselves, and a supervisor clears them in
one action that a counsellor may not take."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from helpline.db import make_engine
from tests.chat_client import ChildClient, FrameError, StaffClient
from tests.integration.test_chat_e2e import PRECHAT
from tests.integration.test_teamwork import audit_rows
from tests.support import ServerProcess, Stack, add_user, run_async


async def rows(stack: Stack, sql: str) -> list[Any]:
    engine = make_engine(stack.database_url)
    try:
        async with engine.connect() as conn:
            return list((await conn.execute(text(sql))).all())
    finally:
        await engine.dispose()


async def fresh_child(server: ServerProcess, stack: Stack, **kwargs: Any) -> ChildClient:
    child = ChildClient(server.url, stack.org_public_key, **kwargs)
    await child.connect()
    return child


async def queue_ids(staff: StaffClient, until: Callable[[set[str]], bool], timeout: float = 30) -> set[str]:
    """The console's queue as it is pushed, until ``until`` holds (or the deadline fails the test)."""
    assert staff.socket is not None
    deadline = time.monotonic() + timeout
    while True:
        frame = await staff.socket.next_event("queue", timeout=max(0.1, deadline - time.monotonic()))
        if "items" in frame:
            seen = {item["conv"] for item in frame["items"]}
            if until(seen):
                return seen


def test_a_scripted_flood_raises_the_price_and_a_solved_start_is_still_queued(
        stack: Stack, start_server: Callable[..., ServerProcess]) -> None:
    # The script in small: several workers, a fresh socket and identity per chat, each
    # solving what it is asked. Before, the helpline-wide limit then refused the next real child.
    server = start_server(HELPLINE_POW_QUEUE_THRESHOLD="4", HELPLINE_POW_BITS="8", HELPLINE_POW_MAX_BITS="11",
                          HELPLINE_NEW_CHATS_PER_MINUTE="4")

    async def scenario() -> None:
        solved: list[int] = []

        async def worker(count: int) -> None:
            for _ in range(count):
                child = await fresh_child(server, stack)
                await child.start(PRECHAT)
                solved.append(child.pow_bits)
                await child.close()

        await asyncio.gather(*(worker(10) for _ in range(4)))
        assert len(solved) == 40
        # Cheap at first, then one bit more each time the queue or the arrivals doubled.
        assert solved.count(0) >= 1 and max(solved) == 11 and len(set(solved) - {0}) >= 3

        # The helpline-wide limit (4 a minute) is ten times over: without work a start is asked
        # for it at the current price, not refused for everyone ...
        script = await fresh_child(server, stack, solve_pow=False)
        with pytest.raises(FrameError) as asked:
            await script.start(PRECHAT)
        assert asked.value.code == "pow_required"
        assert asked.value.frame["challenge"]["bits"] == 11  # type: ignore[index]
        # ... and the next real child, who solves it, is queued.
        child = await fresh_child(server, stack)
        assert await child.start(PRECHAT) and child.pow_bits == 11
        queued = (await rows(stack, "SELECT count(*) FROM conversations WHERE state = 'queued'"))[0][0]
        assert queued == 41
        for client in (script, child):
            await client.close()

    run_async(scenario())


def test_an_empty_waiting_chat_leaves_the_queue_by_itself(
        stack: Stack, start_server: Callable[..., ServerProcess]) -> None:
    server = start_server(HELPLINE_EMPTY_CHAT_MINUTES="0.1")  # 6 s
    ana_pw = add_user(stack, "ana")

    async def scenario() -> None:
        ana = StaffClient(server.url, "ana", ana_pw)
        await ana.sign_in()
        await ana.connect()
        silent = await fresh_child(server, stack)
        silent_conv = await silent.start(PRECHAT)
        writer = await fresh_child(server, stack)
        writer_conv = await writer.start(PRECHAT)
        await writer.say("a child who wrote while waiting stays in the queue")
        await queue_ids(ana, lambda seen: {silent_conv, writer_conv} <= seen)
        # The console's queue loses the empty chat, and keeps the one in which the child wrote.
        await queue_ids(ana, lambda seen: silent_conv not in seen and writer_conv in seen)
        assert silent.socket is not None
        ended = await silent.socket.next_event("ended", timeout=15)
        assert ended["conv"] == silent_conv and ended["by"] == "expired" and ended["state"] == "abandoned"
        states = dict(await rows(stack, "SELECT id, state FROM conversations"))
        assert states == {silent_conv: "abandoned", writer_conv: "queued"}
        for client in (silent, writer, ana):
            await client.close()

    run_async(scenario())


def test_a_supervisor_clears_the_empty_chats_in_one_action_and_a_counsellor_may_not(
        stack: Stack, server: ServerProcess) -> None:
    ana_pw = add_user(stack, "ana")
    sara_pw = add_user(stack, "sara", role="supervisor")

    async def post(staff: StaffClient, body: dict[str, Any]) -> httpx.Response:
        async with httpx.AsyncClient(base_url=server.url, cookies=staff.cookies,
                                     headers={"origin": server.url, "x-csrf-token": staff.csrf}) as http:
            return await http.post("/console/api/supervise/clear-empty", json=body)

    async def scenario() -> None:
        ana, sara = StaffClient(server.url, "ana", ana_pw), StaffClient(server.url, "sara", sara_pw)
        await ana.sign_in()
        await sara.sign_in()
        await ana.connect()
        empty = []
        for _ in range(6):
            child = await fresh_child(server, stack)
            empty.append(await child.start(PRECHAT))
            await child.close()
        writer = await fresh_child(server, stack)
        kept = await writer.start(PRECHAT)
        await writer.say("I am here")
        await queue_ids(ana, lambda seen: {*empty, kept} <= seen)

        refused = await post(ana, {"waited_seconds": 0})
        assert refused.status_code == 403
        assert (await rows(stack, "SELECT count(*) FROM conversations WHERE state = 'queued'"))[0][0] == 7

        cleared = await post(sara, {"waited_seconds": 0})
        assert cleared.status_code == 200 and cleared.json() == {"cleared": 6}
        await queue_ids(ana, lambda seen: seen == {kept})
        states = dict(await rows(stack, "SELECT id, state FROM conversations"))
        assert {states[c] for c in empty} == {"abandoned"} and states[kept] == "queued"
        # A chat that has not waited long enough is left alone (a child who just arrived).
        late = await fresh_child(server, stack)
        late_conv = await late.start(PRECHAT)
        assert (await post(sara, {"waited_seconds": 600})).json() == {"cleared": 0}
        assert dict(await rows(stack, "SELECT id, state FROM conversations"))[late_conv] == "queued"
        for client in (writer, late, ana):
            await client.close()

    run_async(scenario())
    audited = audit_rows(stack)
    assert any(action == "denied" and detail.get("action") == "supervise.act" for action, _, detail in audited)
    clears = [detail for action, _, detail in audited if action == "queue.clear_empty"]
    assert clears == [{"cleared": 6, "waited_seconds": 0}, {"cleared": 0, "waited_seconds": 600}]
