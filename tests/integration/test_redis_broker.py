"""The Redis broker against a real Redis: a process's own listeners get a notice at once and once;
another process gets it through Redis, also for a channel subscribed while the broker was still
connecting (as hub.start does; that subscription used to be lost); a burst arrives whole and in
order through the pipelined sender (chat/redis_broker.py)."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

from chat.redis_broker import RedisBroker
from tests.support import REDIS_URL, check_redis, clear_redis_prefix


async def test_own_listeners_at_once_and_once_others_through_redis() -> None:
    check_redis()
    prefix = f"hltest-{secrets.token_hex(4)}:"
    here, there = RedisBroker(REDIS_URL, prefix), RedisBroker(REDIS_URL, prefix)
    got: dict[str, list[dict[str, Any]]] = {"here": [], "there": []}

    def collect(name: str) -> Any:
        async def handler(channel: str, notice: dict[str, Any]) -> None:
            got[name].append(notice)
        return handler

    async def nothing() -> None:
        return None

    here.bind(collect("here"), nothing)
    there.bind(collect("there"), nothing)
    try:
        await here.start()
        await there.start()
        for broker in (here, there):  # at once, before the brokers' own subscriptions are through
            await broker.subscribe("conv:c1")
        await asyncio.sleep(0.3)  # both subscriptions are live
        await here.publish("conv:c1", {"k": "msg", "n": 1})
        assert got["here"] == [{"k": "msg", "n": 1}], "the local listener waited for Redis"
        for _ in range(50):
            if got["there"]:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)  # time for a duplicate to arrive, if there were one
        assert got["here"] == [{"k": "msg", "n": 1}]
        assert got["there"] == [{"k": "msg", "n": 1}]

        # A burst published in one loop turn goes out in pipelines: all of it, once, in order.
        for n in range(2, 302):
            await here.publish("conv:c1", {"k": "msg", "n": n})
        for _ in range(100):
            if len(got["there"]) >= 301:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.2)
        assert [notice["n"] for notice in got["there"]] == list(range(1, 302))
    finally:
        await here.stop()
        await there.stop()
        clear_redis_prefix(prefix)
