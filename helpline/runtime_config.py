"""Settings admins change in the console: ConfigValue rows override the environment's defaults.

Read often (each chat start and accept), written rarely: each process keeps what it read for
CACHE_SECONDS, so a change made in one worker reaches the others within that time. A value
that no longer validates is ignored (the default applies) rather than breaking the chat.
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from helpline import pack
from helpline.db import StoreUnavailable
from helpline.models import ConfigValue, utcnow
from helpline.opening import OpeningHours, format_range

if TYPE_CHECKING:
    from helpline.db import Store
    from helpline.settings import Settings

CACHE_SECONDS = 5.0
OPENING_HOURS = "opening_hours"  # [start minute, end minute] every day, in the helpline's time zone
MAX_CHATS = "max_chats"
MAX_CHATS_LIMIT = 20
EMERGENCY_PROTOCOL = "emergency_protocol"  # {locale: text}; the catalog's default where absent
PROTOCOL_MAX_CHARS = 4000
KEYS = (OPENING_HOURS, MAX_CHATS, EMERGENCY_PROTOCOL)

_cache: dict[str, Any] = {}
_read_at = 0.0


def valid_hours(value: Any) -> tuple[int, int] | None:
    if (isinstance(value, list | tuple) and len(value) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) for v in value)):
        start, end = value
        if 0 <= start < 24 * 60 and 0 < end <= 24 * 60 and start != end:
            return start, end
    return None


def parse_hours(text: str) -> tuple[int, int] | None:
    """``08:00-22:00`` as minutes of the day; ``00:00-24:00`` is always open. None if malformed."""
    match = re.fullmatch(r"(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})", text.strip())
    if not match:
        return None
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if m1 >= 60 or m2 >= 60:
        return None
    return valid_hours([h1 * 60 + m1, h2 * 60 + m2])


def format_hours(hours: tuple[int, int] | list[int]) -> str:
    return format_range(hours)


def valid_max_chats(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_CHATS_LIMIT:
        return value
    return None


def forget() -> None:
    """Drops this process's cached values (after a write here)."""
    global _read_at
    _read_at = 0.0


async def _values(store: Store) -> dict[str, Any]:
    global _cache, _read_at
    if time.monotonic() - _read_at < CACHE_SECONDS:
        return _cache
    try:
        async with store.read() as db:
            rows = (await db.execute(select(ConfigValue).where(ConfigValue.key.in_(KEYS)))).scalars().all()
    except StoreUnavailable:
        return _cache  # the last known values; the database being down is reported elsewhere
    _cache = {row.key: row.value for row in rows}
    _read_at = time.monotonic()
    return _cache


async def opening_hours(store: Store, settings: Settings) -> tuple[int, int] | None:
    """One range for every day when the console or HELPLINE_OPENING_HOURS sets one, else None."""
    hours = valid_hours((await _values(store)).get(OPENING_HOURS))
    if hours is not None:
        return hours
    default: tuple[int, int] | None = settings.opening_hours
    return default


def week(settings: Settings, hours: tuple[int, int] | None = None) -> OpeningHours:
    """The hours that apply: ``hours`` (from opening_hours above) every day, else the pack's week."""
    if hours is not None:
        return OpeningHours.daily(hours)
    if settings.opening_hours is not None:
        return OpeningHours.daily(settings.opening_hours)
    return pack.active().hours


def describe(hours: tuple[int, int] | list[int] | OpeningHours) -> str:
    return hours.describe() if isinstance(hours, OpeningHours) else format_hours(hours)


def _max_chats_or_default(stored: Any, settings: Settings) -> int:
    limit = valid_max_chats(stored)
    if limit is not None:
        return limit
    default: int = settings.max_chats
    return default


async def max_chats(store: Store, settings: Settings) -> int:
    return _max_chats_or_default((await _values(store)).get(MAX_CHATS), settings)


def max_chats_in(db: Session, settings: Settings) -> int:
    """The same limit, read inside the caller's own transaction (accept's one hand-off in
    chat/service.py): exact, and no second trip to the database behind the writer."""
    stored = db.execute(select(ConfigValue.value).where(ConfigValue.key == MAX_CHATS)).scalar_one_or_none()
    return _max_chats_or_default(stored, settings)


async def emergency_protocol(store: Store, locale: str) -> str | None:
    """The admins' emergency protocol in this locale, or None for the default text."""
    texts = (await _values(store)).get(EMERGENCY_PROTOCOL)
    text = texts.get(locale) if isinstance(texts, dict) else None
    return text if isinstance(text, str) and 0 < len(text) <= PROTOCOL_MAX_CHARS else None


async def current(store: Store, settings: Settings) -> dict[str, Any]:
    """What applies now and whether it comes from the console or the environment."""
    values = await _values(store)
    return {
        OPENING_HOURS: describe(week(settings, await opening_hours(store, settings))),
        MAX_CHATS: await max_chats(store, settings),
        "overridden": sorted(k for k in KEYS if k in values),
        "defaults": {OPENING_HOURS: describe(week(settings)), MAX_CHATS: settings.max_chats},
    }


async def stored(db: AsyncSession, key: str) -> Any:
    """The override as stored (inside a write, so a read-modify-write sees the latest)."""
    row = await db.get(ConfigValue, key)
    return row.value if row is not None else None


async def write(db: AsyncSession, key: str, value: Any, staff_id: int) -> None:
    """Sets (or with value None, removes) an override in the caller's transaction, which audits
    it; call forget() after the commit."""
    row = await db.get(ConfigValue, key)
    if value is None:
        if row is not None:
            await db.delete(row)
    elif row is None:
        db.add(ConfigValue(key=key, value=value, updated_by=staff_id, updated_at=utcnow()))
    else:
        row.value, row.updated_by, row.updated_at = value, staff_id, utcnow()
    await db.flush()
