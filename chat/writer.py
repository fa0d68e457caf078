"""The message writer: one per process, many sends per transaction (docs/adr/0015-message-writer.md).

Every `send` hands its message here and waits. One task takes everything that has queued up
since its last commit, writes it in a single transaction and then answers each sender. Under a
trickle a batch is one message and nothing waits longer than before; under a wave the batches
grow and the cost of a commit, and on SQLite of crossing to the database thread, is shared.

On SQLite the batch runs in one call on the writer's own thread with its own sqlite3 connection
and the two statements compiled once from chat/repository.py, under the Store's write lock: one
hand-off per batch instead of one per statement, and no SQLAlchemy work per message.
On PostgreSQL it is one statement whatever the batch's size (chat/pg_batch.py, ADR 0036), on a
connection the writer keeps in autocommit: one round trip per batch (helpline.db.HeldConnection,
ADR 0041); behind a transaction pooler, in a transaction of its own on a pooled connection.
A duplicate in a batch rolls the batch back and writes its messages one by one, so only the
duplicate is answered as one.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

from chat import pg_batch
from chat import repository as repo
from helpline import metrics
from helpline.db import (
    HeldConnection,
    Store,
    StoreRejected,
    StoreUnavailable,
    sqlite_pragmas,
    storage_errors,
)
from helpline.models import utcnow

log = logging.getLogger("helpline.chat.writer")
T = TypeVar("T")

MAX_BATCH = 500
DUPLICATE = "duplicate"  # this sender stored this client id before: the caller answers with that message
REFUSED = "refused"  # the sender may not write in this conversation now: the caller says why


@dataclass(slots=True)
class Pending:
    conv_id: str
    sender: str
    client_id: str
    body: str
    child_id: int | None
    staff_id: int | None
    future: asyncio.Future[repo.StoredMessage | str]


class _Conflict(Exception):
    """A unique constraint refused a row of the batch: a message was resent."""


def write_batch(batch: list[Pending], take: Callable[[Pending], int | None],
                insert: Callable[[list[dict[str, Any]]], None]) -> list[repo.StoredMessage | str]:
    """Takes a sequence number for each message and inserts them all; runs inside a transaction.

    Ordered by conversation (stable, so each conversation keeps its arrival order): two processes
    lock conversation rows in the same order and cannot deadlock.
    """
    now = utcnow()
    at_ms = int(now.timestamp() * 1000)
    results: dict[int, repo.StoredMessage | str] = {}
    rows: list[dict[str, Any]] = []
    for index in sorted(range(len(batch)), key=lambda i: batch[i].conv_id):
        item = batch[index]
        seq = take(item)
        if seq is None:
            results[index] = REFUSED
            continue
        rows.append(repo.message_row(item.conv_id, seq, item.client_id, item.sender, item.body, now))
        results[index] = repo.StoredMessage(item.conv_id, seq, item.sender, item.client_id, item.body, at_ms)
    insert(rows)
    return [results[i] for i in range(len(batch))]


class MessageWriter:
    """Owns the batching; `write` is what ChatService.send awaits."""

    def __init__(self, engine: AsyncEngine, store: Store, *, max_batch: int = MAX_BATCH) -> None:
        self.engine = engine
        self.store = store
        self.max_batch = max_batch
        self._pending: list[Pending] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self.batches = 0  # transactions written, for tests and the load driver
        self._sqlite = engine.dialect.name == "sqlite"
        self._sql = repo.sqlite_message_sql() if self._sqlite else None
        self._connection: sqlite3.Connection | None = None  # SQLite: opened by the writer's thread
        self._orm: Engine | None = None  # SQLite: an engine over that one connection, for `transact`
        self._thread: ThreadPoolExecutor | None = None
        self._held = HeldConnection.for_engine(engine)

    async def write(self, conv_id: str, sender: str, client_id: str, body: str, *,
                    child_id: int | None, staff_id: int | None) -> repo.StoredMessage | str:
        """Stored message, DUPLICATE or REFUSED; raises StoreUnavailable if nothing was stored."""
        if self._stopping:
            raise StoreUnavailable("the server is stopping")
        future: asyncio.Future[repo.StoredMessage | str] = asyncio.get_running_loop().create_future()
        self._pending.append(Pending(conv_id, sender, client_id, body, child_id, staff_id, future))
        self._wake.set()
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="helpline-message-writer")
        return await future

    async def transact(self, work: Callable[[Session], T]) -> T:
        """Runs ``work(session)`` in one transaction of its own, with a synchronous ORM session.

        For the writes every new chat makes besides its messages (a counsellor's accept, the
        child's key wrap): on
        SQLite on the writer's thread, over its connection, under the write lock, so the lock is
        held for one hand-off and not across a loop turn per statement; on PostgreSQL through an
        async session's greenlet. What ``work`` raises (a ProtocolError) rolls back and passes on.
        """
        with storage_errors("database write", integrity_passes=True):
            if self._sqlite:
                async with self.store.write_lock():
                    loop = asyncio.get_running_loop()
                    return await loop.run_in_executor(self._writer_thread(), self._sqlite_work, work)
            async with self.store.sessionmaker() as db, db.begin():
                return await db.run_sync(work)

    def _writer_thread(self) -> ThreadPoolExecutor:
        if self._thread is None:
            self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="helpline-writer")
        return self._thread

    def _writer_connection(self) -> sqlite3.Connection:
        """On the writer's thread: its own connection, opened at first use."""
        if self._connection is None:
            self._connection = _sqlite_connection(self.engine)
        return self._connection

    def _sqlite_work(self, work: Callable[[Session], T]) -> T:
        """On the writer's thread: an ORM session over the writer's own connection, in a
        transaction begun on that connection (BEGIN IMMEDIATE: it is autocommit otherwise)."""
        raw = self._writer_connection()
        if self._orm is None:
            self._orm = create_engine("sqlite+pysqlite://", creator=lambda: raw, poolclass=StaticPool)
        raw.execute("BEGIN IMMEDIATE")  # straight on the connection: through the session it cost a statement's work
        try:
            with Session(self._orm, expire_on_commit=False) as session:
                result = work(session)
                session.commit()
            if raw.in_transaction:  # work that ran no statement: the session had nothing to commit
                raw.execute("COMMIT")
        except BaseException:
            if raw.in_transaction:
                raw.execute("ROLLBACK")
            raise
        return result

    async def stop(self) -> None:
        """Finishes what was handed in, then releases the thread and its connection."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if self._thread is not None:
            await asyncio.get_running_loop().run_in_executor(self._thread, self._close_connection)
            self._thread.shutdown(wait=True)
            self._thread = None
        if self._held is not None:
            await self._held.close()

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                batch, self._pending = self._pending[:self.max_batch], self._pending[self.max_batch:]
                await self._settle(batch)
            if self._stopping:
                return

    async def _settle(self, batch: list[Pending]) -> None:
        try:
            try:
                outcomes = await self._transaction(batch)
            except (_Conflict, StoreRejected) as exc:
                if len(batch) > 1:  # somewhere one bad message: write each alone, so only it is answered so
                    for item in batch:
                        await self._settle([item])
                    return
                if isinstance(exc, StoreRejected):
                    raise
                outcomes = [DUPLICATE]
        except (StoreUnavailable, StoreRejected) as exc:
            for item in batch:
                if not item.future.done():
                    item.future.set_exception(type(exc)(str(exc)))
            return
        except Exception:  # a bug must not leave senders waiting for ever, nor stop the writer
            log.exception("message batch failed")
            for item in batch:
                if not item.future.done():
                    item.future.set_exception(StoreUnavailable("the batch failed"))
            return
        for item, outcome in zip(batch, outcomes, strict=True):
            if not item.future.done():
                item.future.set_result(outcome)

    async def _transaction(self, batch: list[Pending]) -> list[repo.StoredMessage | str]:
        self.batches += 1
        metrics.writer_batch.observe(len(batch))
        try:
            with storage_errors("message batch", integrity_passes=True):
                if self._sqlite:
                    async with self.store.write_lock():
                        loop = asyncio.get_running_loop()
                        try:
                            return await loop.run_in_executor(self._writer_thread(), self._sqlite_batch, batch)
                        except sqlite3.IntegrityError:
                            raise _Conflict from None
                if self._held is not None:
                    return await self._held.run(lambda conn: _orm_free_batch(conn, batch))
                async with self.engine.begin() as conn:
                    return await conn.run_sync(_orm_free_batch, batch)
        except IntegrityError:
            raise _Conflict from None

    def _sqlite_batch(self, batch: list[Pending]) -> list[repo.StoredMessage | str]:
        """On the writer's thread: the batch in one transaction on a plain sqlite3 connection."""
        conn, sql = self._writer_connection(), self._sql
        assert sql is not None

        def take(item: Pending) -> int | None:
            statement = sql.child_seq if item.staff_id is None else sql.staff_seq
            who = item.child_id if item.staff_id is None else item.staff_id
            row = conn.execute(statement, {**sql.constants, "conv": item.conv_id, "who": who}).fetchone()
            return None if row is None else int(row[0])

        def insert(rows: list[dict[str, Any]]) -> None:
            for row in rows:
                row["created_at"] = sql.store_time(row["created_at"])
            conn.executemany(sql.insert, rows)

        conn.execute("BEGIN IMMEDIATE")
        try:
            outcomes = write_batch(batch, take, insert)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        return outcomes

    def _close_connection(self) -> None:
        if self._orm is not None:
            self._orm.dispose()
            self._orm = None
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def _orm_free_batch(conn: Connection, batch: list[Pending]) -> list[repo.StoredMessage | str]:
    """PostgreSQL: the batch in one statement (chat/pg_batch.py)."""
    return [REFUSED if stored is None else stored for stored in pg_batch.write(conn, batch)]


def _sqlite_connection(engine: AsyncEngine) -> sqlite3.Connection:
    """The writer's own connection to the same file, opened and used only on the writer's thread."""
    database = engine.url.database
    assert database
    conn = sqlite3.connect(database, timeout=30, isolation_level=None, check_same_thread=False)
    sqlite_pragmas(conn, None)
    return conn
