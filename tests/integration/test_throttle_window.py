"""The flood guard's counter (helpline/security/throttle.py count_in_window), one upsert per start,
on SQLite and PostgreSQL: it counts to the limit, refuses with the seconds left, rolls back with
the refused transaction, and opens a new window over an expired row."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import update

from helpline.db import make_engine, make_sessionmaker
from helpline.models import Throttle, utcnow
from helpline.security.throttle import count_in_window
from tests.support import Stack

WINDOW = dt.timedelta(hours=1)


async def test_the_window_counts_refuses_and_reopens(stack: Stack) -> None:
    engine = make_engine(stack.database_url)
    sessions = make_sessionmaker(engine)

    async def count(key: str, limit: int = 3, *, keep: bool = True) -> int:
        async with sessions() as db:
            wait = await db.run_sync(lambda s: count_in_window(s, key, limit, WINDOW))
            await (db.commit() if keep else db.rollback())
            return wait

    async def failures(key: str) -> int | None:
        async with sessions() as db:
            row = await db.get(Throttle, key)
            return row.failures if row else None

    try:
        assert [await count("a") for _ in range(3)] == [0, 0, 0]
        assert await failures("a") == 3
        wait = await count("a", keep=False)  # the fourth is refused, and a refusal rolls back
        assert 3500 < wait <= 3600
        assert await failures("a") == 3
        assert await count("b") == 0 and await failures("b") == 1  # keys are counted apart

        async with sessions() as db:  # the window has closed
            await db.execute(update(Throttle).where(Throttle.key == "a")
                             .values(expires_at=utcnow() - dt.timedelta(seconds=1)))
            await db.commit()
        assert await count("a") == 0
        assert await failures("a") == 1
        async with sessions() as db:
            row = await db.get(Throttle, "a")
            assert row is not None and row.expires_at > utcnow() + WINDOW - dt.timedelta(minutes=1)
    finally:
        await engine.dispose()

