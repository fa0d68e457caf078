"""The Redis Sentinel form of HELPLINE_REDIS_URL (docs/deploy.md, docs/reliability.md).

    redis+sentinel://[[username]:password@]host:port[,host:port...]/service[/db][?sentinel_password=...]

Each host:port is a Sentinel; ``service`` is the master's name in their ``sentinel monitor`` line.
The password (and user name) in front are those of the Redis master and replicas; Sentinels that
ask for a password of their own get it as ``sentinel_password``. The broker asks the Sentinels
where the master is, and asks again whenever its connection to the master fails.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

SCHEME = "redis+sentinel"


@dataclass(frozen=True)
class SentinelURL:
    sentinels: tuple[tuple[str, int], ...]
    service: str
    db: int = 0
    username: str | None = None
    password: str | None = None
    sentinel_password: str | None = None


def is_sentinel_url(url: str) -> bool:
    return url.startswith(SCHEME + "://")


def _host_port(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"each Sentinel must be host:port, not {text!r}")
    return host.strip("[]"), int(port)


def parse_sentinel_url(url: str) -> SentinelURL:
    """Reads a redis+sentinel:// URL; a ValueError says what is wrong with it."""
    parts = urlsplit(url)
    if parts.scheme != SCHEME:
        raise ValueError(f"must start with {SCHEME}://")
    userinfo, _, hosts = parts.netloc.rpartition("@")
    if not hosts:
        raise ValueError("names no Sentinel: redis+sentinel://host:port,host:port/service")
    sentinels = tuple(_host_port(h) for h in hosts.split(","))
    path = [p for p in parts.path.split("/") if p]
    if not 1 <= len(path) <= 2 or (len(path) == 2 and not path[1].isdigit()):
        raise ValueError("must end in /service or /service/db, e.g. redis+sentinel://h1:26379,h2:26379/helpline")
    username, _, password = userinfo.partition(":") if userinfo else ("", "", "")
    query = parse_qs(parts.query)
    unknown = set(query) - {"sentinel_password"}
    if unknown:
        raise ValueError(f"takes no {', '.join(sorted(unknown))} parameter (only sentinel_password)")
    return SentinelURL(sentinels, unquote(path[0]), int(path[1]) if len(path) == 2 else 0,
                       unquote(username) or None, unquote(password) or None,
                       query.get("sentinel_password", [""])[0] or None)
