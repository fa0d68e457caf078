"""Failed sign-in attempts: a growing wait, then a capped lock, per keyed hash of the account name.

Rows are keyed by an HMAC (server secret) of the username, so the table holds no name and no
address, and a guessed name that does not exist is slowed down exactly like a real one. A
password and a second-factor failure count together. The first FREE failures cost nothing;
after that each failure locks the name for 1, 2, 4, 8 ... minutes, never more than
MAX_LOCK_MINUTES, so guessing cannot shut a counsellor out of a whole shift; an admin can lift
a lock. Rows expire a day after the last failure; expired rows are ignored and cleaned up.

The table is bounded (ADR 0023): every distinct unknown username or resume token would otherwise
add a row for a day. When a new failure row would take the table past its bound
(HELPLINE_THROTTLE_MAX_ROWS, set at start by `configure`), the least telling rows are dropped
first: those not locked now, fewest failures first, then the soonest to expire. A lock in force
(a name locked for guessing, a blocked device) goes only when nothing else is left, so a flood of
made-up names cannot lift the lock on a real one; it could at worst forget counts below a lock,
which takes the bound times FREE failures to reach.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import math
from typing import Any

from sqlalchemy import bindparam, case, delete, func, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from helpline.models import Base, Throttle, UTCDateTime, utcnow

FREE = 4
MAX_LOCK_MINUTES = 15
KEEP = dt.timedelta(hours=24)
MAX_ROWS = 10_000

_bound = {"max_rows": MAX_ROWS}


def configure(max_rows: int) -> None:
    """The table's bound for this process (HELPLINE_THROTTLE_MAX_ROWS)."""
    _bound["max_rows"] = max_rows


def key_for(server_secret: bytes, username: str) -> str:
    name = username.strip().lower().encode("utf-8", "replace")
    return hmac.new(server_secret, b"signin:" + name, hashlib.sha256).hexdigest()


def lock_minutes(failures: int) -> int:
    """Minutes a name stays locked after its ``failures``-th failure in a row (0: no lock)."""
    if failures <= FREE:
        return 0
    return int(min(MAX_LOCK_MINUTES, 2 ** (failures - FREE - 1)))


async def _row(db: AsyncSession, key: str) -> Throttle | None:
    row = await db.get(Throttle, key)
    if row is not None and row.expires_at <= utcnow():
        await db.delete(row)
        await db.flush()
        return None
    return row


async def locked_for(db: AsyncSession, key: str) -> int:
    """Whole minutes (rounded up) the key is still locked, or 0."""
    row = await _row(db, key)
    if row is None or row.locked_until is None:
        return 0
    left = (row.locked_until - utcnow()).total_seconds()
    return max(1, math.ceil(left / 60)) if left > 0 else 0


def count_in_window(db: Session, key: str, limit: int, window: dt.timedelta) -> int:
    """Counts one event under ``key`` in a window of ``window`` that opens with the first event;
    returns 0, or the seconds until the window closes when ``limit`` were counted in it already.

    One statement (an insert that on conflict counts on, or opens a new window over an expired
    row), so a wave of new chats pays one round trip each. A refusal must roll back, as
    ChatService.start does, so what was refused is not counted."""
    now = utcnow()
    dialect = db.get_bind().dialect.name
    statement = _COUNT_IN_WINDOW.get(dialect)
    if statement is None:
        statement = _COUNT_IN_WINDOW[dialect] = _count_statement(dialect)
    row = db.connection().execute(statement, {"key": key, "now": now, "closes": now + window}).one()
    failures: int = row[0]
    expires_at: dt.datetime = row[1]
    if failures > limit:
        return max(1, math.ceil((expires_at - now).total_seconds()))
    return 0


def _count_statement(dialect: str) -> Any:
    table = Base.metadata.tables["throttles"]
    insert = sqlite_insert if dialect == "sqlite" else postgresql_insert
    closes = bindparam("closes", type_=UTCDateTime())
    expired = table.c.expires_at <= bindparam("now", type_=UTCDateTime())
    return (insert(table).values(key=bindparam("key"), failures=1, locked_until=None, expires_at=closes)
            .on_conflict_do_update(index_elements=[table.c.key], set_={
                "failures": case((expired, 1), else_=table.c.failures + 1),
                "expires_at": case((expired, closes), else_=table.c.expires_at)})
            .returning(table.c.failures, table.c.expires_at))


_COUNT_IN_WINDOW: dict[str, Any] = {}  # one statement per dialect, built at first use


async def locked_row(db: AsyncSession, key: str, expires_at: dt.datetime) -> Throttle:
    """The row for ``key``, locked until the transaction ends; made with no failures if absent.
    Two first failures at once: one inserts, the other waits for that row and counts on it."""
    row = await db.get(Throttle, key, with_for_update=True)
    if row is None:
        try:
            async with db.begin_nested():
                db.add(Throttle(key=key, failures=0, locked_until=None, expires_at=expires_at))
                await db.flush()
        except IntegrityError:
            pass
        row = await db.get(Throttle, key, with_for_update=True, populate_existing=True)
        assert row is not None
    return row


async def fail(db: AsyncSession, key: str) -> int:
    """Counts one failure; returns the minutes of the lock it starts (0 for none)."""
    now = utcnow()
    await db.execute(delete(Throttle).where(Throttle.expires_at <= now))
    if await db.get(Throttle, key) is None:
        await _make_room(db, now)
    row = await locked_row(db, key, now + KEEP)
    row.failures += 1
    row.expires_at = now + KEEP
    minutes = lock_minutes(row.failures)
    row.locked_until = now + dt.timedelta(minutes=minutes) if minutes else None
    await db.flush()
    return minutes


async def _make_room(db: AsyncSession, now: dt.datetime) -> None:
    """Drops the least telling rows so that one more keeps the table within its bound."""
    excess = (await db.scalar(select(func.count()).select_from(Throttle)) or 0) - _bound["max_rows"] + 1
    if excess <= 0:
        return
    locked_now = case((Throttle.locked_until > now, 1), else_=0)
    doomed = (select(Throttle.key).order_by(locked_now, Throttle.failures, Throttle.expires_at, Throttle.key)
              .limit(excess))
    await db.execute(delete(Throttle).where(Throttle.key.in_(doomed.scalar_subquery())),
                     execution_options={"synchronize_session": False})


async def clear(db: AsyncSession, key: str) -> None:
    """After a full sign-in, or when an admin lifts the lock."""
    await db.execute(delete(Throttle).where(Throttle.key == key))
