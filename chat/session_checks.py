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
from typing import TYPE_CHECKING

from helpline.db import Store, StoreUnavailable
from helpline.models import Staff, StaffSession, utcnow
from helpline.security import sessions

if TYPE_CHECKING:
    from helpline.settings import Settings

MAX_BATCH = 500
Found = tuple[Staff, StaffSession] | None


class SessionChecks:
    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self._waiting: dict[str, list[asyncio.Future[Found]]] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._touched: dict[str, float] = {}  # session id -> monotonic time this process last wrote its use
        self.reads = 0  # for tests

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

    async def _read(self, batch: dict[str, list[asyncio.Future[Found]]]) -> None:
        self.reads += 1
        settings = self.settings
        try:
            async with self.store.read() as db:
                found = await sessions.current_many(db, list(batch), idle_minutes=settings.session_idle_minutes,
                                                    max_hours=settings.session_max_hours)
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
