"""A publish that fails while the broker's subscription stays up (issue 21: behind Sentinel, the
sender's connection to a dead master can time out after the reader has found the promoted one).
The broker must not stay in its degraded mode: once a publish goes through again it is healthy,
and a channel asked for meanwhile is subscribed. A private redis-server; the shared one is not touched.

New connections are refused by setting a password: connections already signed in (the reader's
subscription) carry on, the sender's pooled connection is killed, so its retry is refused.
"""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

import redis

from chat.redis_broker import RedisBroker
from tests.integration.test_chat_e2e import eventually
from tests.reliability.test_faults import start_redis
from tests.support import free_port


async def test_the_broker_is_healthy_again_after_a_publish_failure_with_its_subscription_up() -> None:
    port = free_port()
    process = start_redis(port)
    admin = redis.Redis(port=port, socket_connect_timeout=1)
    prefix = f"hltest-{secrets.token_hex(4)}:"
    broker = RedisBroker(f"redis://127.0.0.1:{port}/0", prefix)
    got: list[dict[str, Any]] = []

    async def collect(channel: str, notice: dict[str, Any]) -> None:
        got.append(notice)

    async def nothing() -> None:
        return None

    broker.bind(collect, nothing)
    try:
        await broker.start()
        await eventually(lambda: broker.healthy)
        await broker.publish("conv:a", {"n": 0})  # the sender's pooled connection exists now
        await asyncio.sleep(0.2)
        admin.config_set("requirepass", "closed")
        admin.client_kill_filter(_type="normal", skipme=True)
        await broker.publish("conv:a", {"n": 1})
        await eventually(lambda: not broker.healthy, 5)
        await broker.subscribe("conv:late")  # only noted while degraded
        await asyncio.sleep(0.3)
        assert not broker.healthy, "the failed publish was forgotten before any publish went through"

        admin = redis.Redis(port=port, password="closed", socket_connect_timeout=1)
        admin.config_set("requirepass", "")
        await broker.publish("conv:a", {"n": 2})
        await eventually(lambda: broker.healthy, 5)
        other = redis.Redis(port=port)
        await eventually(lambda: other.pubsub_numsub(prefix + "conv:late")[0][1] == 1, 5)
        other.publish(prefix + "conv:late", "x" * 16 + '{"n": 3}')  # as from another process
        await eventually(lambda: {"n": 3} in got, 5)
        other.close()
    finally:
        await broker.stop()
        process.terminate()
        process.wait(10)
