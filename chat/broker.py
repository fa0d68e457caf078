"""Brokers: wake the process that holds the other side of a conversation.

One interface, two backends chosen once at start (like httpx transports): the in-process broker
for the embedded default and Redis pub/sub for several processes. A broker carries notices, never
the truth: a lost notice is repaired from the database (docs/architecture.md, Brokers).
"""

from __future__ import annotations

import abc
import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger("helpline.broker")

Handler = Callable[[str, dict[str, Any]], Awaitable[None]]
ResyncHandler = Callable[[], Awaitable[None]]


class Broker(abc.ABC):
    """Publishes JSON-able notices on named channels to every subscribed process."""

    def __init__(self) -> None:
        self._handler: Handler | None = None
        self._on_resync: ResyncHandler | None = None

    def bind(self, handler: Handler, on_resync: ResyncHandler) -> None:
        """Sets where notices go, and what to call after an outage when notices may have been lost."""
        self._handler = handler
        self._on_resync = on_resync

    @property
    def healthy(self) -> bool:
        return True

    async def start(self) -> None:  # noqa: B027 - optional hook
        pass

    async def stop(self) -> None:  # noqa: B027 - optional hook
        pass

    @abc.abstractmethod
    async def publish(self, channel: str, notice: dict[str, Any]) -> None: ...

    @abc.abstractmethod
    async def subscribe(self, channel: str) -> None: ...

    @abc.abstractmethod
    async def unsubscribe(self, channel: str) -> None: ...

    async def _dispatch(self, channel: str, notice: dict[str, Any]) -> None:
        if self._handler is None:
            return
        try:
            await self._handler(channel, notice)
        except Exception:
            log.exception("notice handler failed on %s", channel.split(":", 1)[0])


class InProcessBroker(Broker):
    """The embedded default: notices go straight to this process's own subscribers."""

    def __init__(self) -> None:
        super().__init__()
        self._channels: set[str] = set()

    async def publish(self, channel: str, notice: dict[str, Any]) -> None:
        if channel in self._channels:
            await self._dispatch(channel, notice)

    async def subscribe(self, channel: str) -> None:
        self._channels.add(channel)

    async def unsubscribe(self, channel: str) -> None:
        self._channels.discard(channel)


def make_broker(redis_url: str, prefix: str) -> Broker:
    """Chooses the backend once, from HELPLINE_REDIS_URL."""
    if not redis_url:
        return InProcessBroker()
    from chat.redis_broker import RedisBroker

    return RedisBroker(redis_url, prefix)


async def sleep_backoff(attempt: int) -> None:
    await asyncio.sleep(min(0.1 * 2**attempt, 2.0))
