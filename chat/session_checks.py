"""The console sockets' session checks, shared (docs/adr/0018, docs/adr/0036).

Every state-changing staff frame reads its session and staff row again before it acts. Under load
hundreds of sockets ask in the same instant, and each read cost a pooled connection, an ORM
session and a round trip (on SQLite a hand-off to aiosqlite's thread). Here the sockets that
ask while a read is under way wait for the next one, which reads all their sessions at once:
each frame is still checked against the database after it arrived, as before.

Use is written back at most once per `sessions.touch_every` per session in this process. Each
socket keeps its own copy of the session, and many sockets share one session (one person's
consoles, or the load driver's), so once the session was a minute old every socket's next send
wrote it again: hundreds of writes in one burst, a stall of a third of a second in the 60-s
benchmark runs (docs/performance.md).
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Select, String, any_, bindparam, select
from sqlalchemy.dialects.postgresql import ARRAY

from helpline.db import HeldConnection, Store, StoreUnavailable, storage_errors
from helpline.models import Staff, StaffSession, utcnow
from helpline.security import sessions

if TYPE_CHECKING:
    from helpline.settings import Settings

MAX_BATCH = 500
MAX_KNOWN = 10_000
Found = tuple[Staff, StaffSession] | None
_SESSION_ID = len(Staff.__table__.c) + list(StaffSession.__table__.c).index(StaffSession.__table__.c.id)


def _rows_statement(postgres: bool) -> Select[Any]:
    staff, session = Staff.__table__, StaffSession.__table__
    statement = select(*staff.c, *session.c).join_from(staff, session, session.c.staff_id == staff.c.id)
    if postgres:  # one array parameter: the same statement, prepared once, whatever the number of ids
        return statement.where(session.c.id == any_(bindparam("ids", type_=ARRAY(String))))
    return statement.where(session.c.id.in_(bindparam("ids", expanding=True)))


class SessionChecks:
    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self._waiting: dict[str, list[asyncio.Future[Found]]] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._touched: dict[str, float] = {}  # session id -> monotonic time this process last wrote its use
        self.reads = 0  # for tests
        # PostgreSQL: the reads run one at a time on one kept connection, a round trip each (ADR 0041)
        self._held = HeldConnection.for_engine(store.engine)
        self._statement = _rows_statement(store.engine.dialect.name == "postgresql")
        # session id -> (its row as last read, the ORM objects made from that row)
        self._known: dict[str, tuple[tuple[Any, ...], tuple[Staff, StaffSession]]] = {}

    async def current(self, session_id: str) -> Found:
        """`sessions.current`, read together with every other socket's that asks meanwhile."""
        future: asyncio.Future[Found] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(session_id, []).append(future)
        self._wake.set()
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="helpline-session-checks")
        return await future

    async def touch(self, session: StaffSession) -> None:
        """Writes the session's use if it is older than `touch_every` and this process has not
        written it within that time (another socket of the same session may have)."""
        every = sessions.touch_every(self.settings.session_idle_minutes)
        now = utcnow()
        if now - session.last_seen_at <= every:
            return
        clock = time.monotonic()
        if clock - self._touched.get(session.id, -1e18) < every.total_seconds():
            return  # another socket of this session wrote it a moment ago
        if len(self._touched) > 10_000:  # forget the old ones; a forgotten session is only written again
            self._touched = {k: t for k, t in self._touched.items() if clock - t < every.total_seconds()}
        self._touched[session.id] = clock
        try:
            async with self.store.write() as db:
                await sessions.touch(db, session.id)
        except BaseException:
            self._touched.pop(session.id, None)
            raise
        session.last_seen_at = now

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._waiting:
                ids = list(self._waiting)[:MAX_BATCH]
                batch = {session_id: self._waiting.pop(session_id) for session_id in ids}
                await self._read(batch)

    async def close(self) -> None:
        if self._held is not None:
            await self._held.close()

    async def _rows(self, ids: list[str]) -> dict[str, tuple[Any, ...]]:
        """Every column of each session and its staff row, as plain tuples: one statement, no ORM."""
        statement = self._statement

        def read(conn: Connection) -> dict[str, tuple[Any, ...]]:
            rows = conn.execute(statement, {"ids": ids}).all()
            return {row[_SESSION_ID]: tuple(row) for row in rows}

        if self._held is not None:
            with storage_errors("session read", integrity_passes=False):
                return await self._held.run(read)
        async with self.store.read() as db:
            return await db.run_sync(lambda session: read(session.connection()))

    async def _objects(self, ids: list[str]) -> dict[str, tuple[Staff, StaffSession]]:
        """The ORM objects for sessions whose rows changed (or were never read here)."""
        statement = sessions.with_staff(ids)
        if self._held is not None:
            with storage_errors("session read", integrity_passes=False):
                async with self._held.session() as db:
                    return {session.id: (staff, session) for staff, session in await db.execute(statement)}
        async with self.store.read() as db:
            return {session.id: (staff, session) for staff, session in await db.execute(statement)}

    async def _current(self, ids: list[str]) -> dict[str, Found]:
        """`sessions.current_many`, with the objects of a row unchanged since the last read kept."""
        rows = await self._rows(ids)
        known = self._known
        changed = [session_id for session_id, row in rows.items()
                   if session_id not in known or known[session_id][0] != row]
        if changed:
            for session_id, pair in (await self._objects(changed)).items():
                if session_id in rows:
                    known[session_id] = (rows[session_id], pair)
        settings, now = self.settings, utcnow()
        found: dict[str, Found] = {}
        for session_id in ids:
            entry = known.get(session_id) if session_id in rows else None
            if entry is None or entry[0] != rows[session_id]:
                known.pop(session_id, None)
                found[session_id] = None
                continue
            staff, session = entry[1]
            usable = sessions.allows_work(staff, session, now, idle_minutes=settings.session_idle_minutes,
                                          max_hours=settings.session_max_hours)
            found[session_id] = (staff, session) if usable else None
        if len(known) > MAX_KNOWN:  # forget all: the next read of each builds its objects again
            self._known = {}
        return found

    async def _read(self, batch: dict[str, list[asyncio.Future[Found]]]) -> None:
        self.reads += 1
        try:
            found = await self._current(list(batch))
        except StoreUnavailable as exc:
            outcome: dict[str, Found] | Exception = exc
        except Exception as exc:  # noqa: BLE001 - a bug must not leave sockets waiting for ever
            outcome = exc
        else:
            outcome = found
        for session_id, futures in batch.items():
            for future in futures:
                if future.done():
                    continue
                if isinstance(outcome, Exception):
                    future.set_exception(StoreUnavailable(str(outcome)) if isinstance(outcome, StoreUnavailable)
                                         else outcome)
                else:
                    future.set_result(outcome[session_id])
