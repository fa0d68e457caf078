"""Redis pub/sub broker: fan-out between worker processes and hosts.

Publishing never blocks delivery of what is already stored: if Redis is down the notice is
dropped with a warning, and the process keeps every local listener up to date by polling the
database until Redis answers again (see `chat.hub.Hub.resync`).

A notice for a channel this process listens to is handed to its own listeners at once, and goes
to Redis for the other processes, prefixed with this process's random origin; the copy that comes
back from Redis is skipped before it is parsed. So Redis is on the path only between processes.
Notices go to Redis in order, from one task, each round trip a pipeline of everything published
since the last one (docs/performance.md). Behind Redis Sentinel (a redis+sentinel:// URL) every new
connection asks the Sentinels where the master is, so after a failover the reader's reconnection
finds the promoted replica (chat/redis_connect.py).
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from chat.broker import Broker, sleep_backoff
from chat.redis_connect import close_sentinels, connect_redis

log = logging.getLogger("helpline.broker")

ORIGIN_CHARS = 16


class RedisBroker(Broker):
    def __init__(self, url: str, prefix: str) -> None:
        super().__init__()
        self._url = url
        self._prefix = prefix
        self._client: aioredis.Redis | None = None
        self._channels: set[str] = set()
        self._pubsub: Any = None
        self._reader: asyncio.Task[None] | None = None
        self._healthy = False
        self._listening = False  # the reader's subscription is up and being read
        self._changed = asyncio.Event()
        self._origin = secrets.token_hex(ORIGIN_CHARS // 2)  # each data starts with the publisher's
        self._outbox: list[tuple[str, str]] = []  # (channel, data) published, not yet sent to Redis
        self._sender: asyncio.Task[None] | None = None

    @property
    def healthy(self) -> bool:
        return self._healthy

    @property
    def client(self) -> aioredis.Redis:
        assert self._client is not None, "broker not started"
        return self._client

    async def start(self) -> None:
        self._client = connect_redis(self._url)
        try:
            await self._client.ping()
        except RedisError as exc:
            raise RuntimeError(f"Redis at HELPLINE_REDIS_URL does not answer: {exc}") from exc
        self._reader = asyncio.create_task(self._read_forever(), name="redis-broker-reader")

    async def stop(self) -> None:
        if self._sender is not None:  # what was published goes out before the client closes
            await asyncio.gather(self._sender, return_exceptions=True)
        if self._reader is not None:
            self._reader.cancel()
            try:
                await self._reader
            except (asyncio.CancelledError, Exception):  # noqa: S110 - shutting down
                pass
        if self._client is not None:
            await self._client.aclose()
            await close_sentinels(self._client)

    async def publish(self, channel: str, notice: dict[str, Any]) -> None:
        if channel in self._channels:
            await self._dispatch(channel, notice)
        self._outbox.append((self._prefix + channel, self._origin + json.dumps(notice, separators=(",", ":"))))
        if self._sender is None or self._sender.done():
            self._sender = asyncio.create_task(self._send_outbox(), name="redis-broker-sender")

    async def _send_outbox(self) -> None:
        """Sends what was published since the last round trip as one pipeline: under load a loop
        turn publishes many notices, and each PUBLISH alone cost a connection and a round trip."""
        while self._outbox:
            batch, self._outbox = self._outbox, []
            # Twice: after Redis restarts, the first command on a pooled connection fails because that
            # connection died with the old server; redis-py drops it, and the second try gets a new one.
            for attempt in (1, 2):
                try:
                    async with self.client.pipeline(transaction=False) as pipe:
                        for channel, data in batch:
                            pipe.publish(channel, data)
                        await pipe.execute()
                    if not self._healthy and self._listening:
                        await self._listening_again()
                    break
                except (RedisError, OSError) as exc:
                    if attempt == 2:
                        self._healthy = False
                        log.warning("Redis publish failed (%s); listeners will catch up from the database",
                                    type(exc).__name__)

    async def _listening_again(self) -> None:
        """A publish failed while the subscription stayed up (behind Sentinel: its connection to the
        dead master timed out after the reader had found the promoted one). Once a publish goes
        through again, subscribe what was asked meanwhile and stop polling the database."""
        try:
            await self._subscribe_late_arrivals()
        except (RedisError, OSError):
            return
        self._healthy = True

    async def subscribe(self, channel: str) -> None:
        self._channels.add(channel)
        if self._pubsub is not None and self._healthy:
            try:
                await self._pubsub.subscribe(self._prefix + channel)
            except (RedisError, OSError):
                self._healthy = False

    async def unsubscribe(self, channel: str) -> None:
        self._channels.discard(channel)
        if self._pubsub is not None and self._healthy:
            try:
                await self._pubsub.unsubscribe(self._prefix + channel)
            except (RedisError, OSError):
                self._healthy = False

    async def _read_forever(self) -> None:
        attempt = 0
        while True:
            try:
                self._pubsub = self.client.pubsub(ignore_subscribe_messages=True)
                # A pattern-free keepalive channel so the connection exists before any chat.
                await self._pubsub.subscribe(self._prefix + "_alive",
                                             *[self._prefix + c for c in self._channels])
                was_down = not self._healthy
                self._healthy = True
                await self._subscribe_late_arrivals()
                attempt = 0
                if was_down and self._on_resync is not None:
                    await self._on_resync()
                self._listening = True
                await self._pump()
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                if self._healthy:
                    log.warning("Redis connection lost (%s); retrying", type(exc).__name__)
                self._healthy = False
            finally:
                self._listening = False
                if self._pubsub is not None:
                    try:
                        await self._pubsub.aclose()
                    except (RedisError, OSError):  # noqa: S110 - the connection is already gone
                        pass
                    self._pubsub = None
            await sleep_backoff(attempt)
            attempt += 1

    async def _subscribe_late_arrivals(self) -> None:
        """Channels asked for while the subscription above was on its way (hub.start subscribes
        right after start) were only noted: subscribe them now, or their notices would be lost."""
        have = {c.decode() if isinstance(c, bytes) else c for c in self._pubsub.channels}
        late = [self._prefix + c for c in self._channels if self._prefix + c not in have]
        if late:
            await self._pubsub.subscribe(*late)

    async def _pump(self) -> None:
        cut = len(self._prefix)
        while True:
            item = await self._pubsub.get_message(timeout=5.0)
            if item is None or item.get("type") != "message":
                continue
            channel = item["channel"].decode() if isinstance(item["channel"], bytes) else item["channel"]
            data = item["data"].decode() if isinstance(item["data"], bytes) else str(item["data"])
            if data.startswith(self._origin):
                continue  # ours: our own listeners had it when it was published
            try:
                notice = json.loads(data[ORIGIN_CHARS:])
            except (ValueError, TypeError):
                continue
            await self._dispatch(channel[cut:], notice)
