"""A Redis client for HELPLINE_REDIS_URL: one server (redis://, rediss://, unix://) or the master of a
Sentinel set (redis+sentinel://, helpline/sentinel_url.py).

With Sentinel, the client's connection pool asks the Sentinels for the master's address on every
new connection; a connection to a master that died or became a replica fails, the broker retries
(chat/redis_broker.py), and the new connection reaches whichever server the Sentinels promoted.
"""

from __future__ import annotations

from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.sentinel import Sentinel, SentinelConnectionPool

from helpline.sentinel_url import is_sentinel_url, parse_sentinel_url

TIMEOUTS: dict[str, Any] = {"socket_connect_timeout": 2, "socket_timeout": 5}


def connect_redis(url: str) -> aioredis.Redis:
    """The client; no connection is made until the first command."""
    if not is_sentinel_url(url):
        return aioredis.Redis.from_url(url, health_check_interval=10, **TIMEOUTS)
    found = parse_sentinel_url(url)
    sentinel_kwargs = {**TIMEOUTS, "password": found.sentinel_password}
    sentinels = Sentinel(list(found.sentinels), sentinel_kwargs=sentinel_kwargs, **TIMEOUTS)  # type: ignore[no-untyped-call]
    client: aioredis.Redis = sentinels.master_for(found.service, db=found.db, username=found.username,
                                                  password=found.password, health_check_interval=10, **TIMEOUTS)
    return client


async def close_sentinels(client: aioredis.Redis) -> None:
    """Closes the connections to the Sentinels themselves (the master's are the client's own)."""
    pool = client.connection_pool
    if isinstance(pool, SentinelConnectionPool):
        for sentinel in pool.sentinel_manager.sentinels:
            await sentinel.aclose()
