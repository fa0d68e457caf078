"""Engine and session factory for SQLite (WAL, one writer) and PostgreSQL (asyncpg)."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager, suppress
from typing import Any, TypeVar

from sqlalchemy import Connection, event, make_url
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

log = logging.getLogger("helpline.db")
T = TypeVar("T")


def sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """Every SQLite connection: WAL, so readers go on beside the one writer; foreign keys on."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA secure_delete=ON")  # purged content is overwritten, not left in free pages
    cursor.close()


POOLER_PARAMETER = "pooler"  # ?pooler=transaction: behind PgBouncer in transaction pooling (ADR 0031)
POOLED_OPTION = "helpline_pooled"  # the engine's execution option: True behind a transaction pooler


def _unnamed_statement() -> str:
    return ""


def make_engine(url: str) -> AsyncEngine:
    """Creates the engine; on SQLite turns on WAL and a busy timeout for readers beside the writer.

    On PostgreSQL behind a transaction pooler (``?pooler=transaction`` in the URL) each transaction
    may run on another server connection, so no named prepared statement may outlive one: asyncpg
    and SQLAlchemy keep no statement cache and prepare every statement unnamed, inside its
    transaction (ADR 0031). A libpq-style list of hosts with ``target_session_attrs=read-write``
    passes through to asyncpg, which connects to whichever host is the primary (docs/reliability.md).
    """
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30})
        event.listen(engine.sync_engine, "connect", sqlite_pragmas)
        return engine
    parsed = make_url(url)
    connect_args: dict[str, Any] = {}
    if parsed.query.get(POOLER_PARAMETER) == "transaction":
        parsed = parsed.difference_update_query([POOLER_PARAMETER])
        connect_args = {"statement_cache_size": 0, "prepared_statement_cache_size": 0,
                        "prepared_statement_name_func": _unnamed_statement}
    return create_async_engine(parsed, pool_size=10, max_overflow=10, pool_pre_ping=True,
                               connect_args=connect_args,
                               execution_options={POOLED_OPTION: bool(connect_args)})


def behind_pooler(engine: AsyncEngine) -> bool:
    """True when every statement must run inside a transaction of its own (ADR 0031): behind
    PgBouncer in transaction pooling, a statement prepared outside one may run on another server
    connection than its execution."""
    return bool(engine.get_execution_options().get(POOLED_OPTION))


class HeldConnection:
    """One PostgreSQL connection kept by one busy task, in autocommit (docs/adr/0041).

    For a task that runs one statement at a time, many times a second: the message writer's
    batches, the console sockets' shared session reads. A pooled unit of work costs four round
    trips (the pool's ping, BEGIN, the statement, COMMIT or ROLLBACK), and on a busy event loop each
    waits its turn; a single statement is atomic on its own, so here it is one. Not behind a
    transaction pooler (`behind_pooler`): there a statement needs its transaction. A connection
    found lost is dropped and the work run once more on a new one: the caller's work must be safe
    to repeat (the writer's is: a batch that was stored fails its unique client ids the second
    time and is answered as duplicates).
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._conn: AsyncConnection | None = None

    @classmethod
    def for_engine(cls, engine: AsyncEngine) -> HeldConnection | None:
        """One for this engine, or None where a task must use pooled transactions: on SQLite (the
        writer has its own thread and connection) and behind a transaction pooler."""
        if engine.dialect.name == "sqlite" or behind_pooler(engine):
            return None
        return cls(engine)

    async def run(self, work: Callable[[Connection], T]) -> T:
        for attempt in (1, 2):
            conn = await self._connection()
            try:
                result = await conn.run_sync(work)
            except DBAPIError as exc:
                if exc.connection_invalidated or conn.invalidated:
                    await self.close()
                    if attempt == 1:
                        continue
                else:
                    await conn.rollback()  # ends SQLAlchemy's own transaction; nothing was begun on the server
                raise
            except Exception:
                await self.close()  # the connection's state is unknown: the next use opens another
                raise
            await conn.commit()  # likewise: autocommit sends no COMMIT
            return result
        raise AssertionError("unreachable")  # pragma: no cover

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """An ORM session over the kept connection, for one read. A lost connection is dropped and the
        next use opens another; the read is not run again (the caller answers "unavailable")."""
        conn = await self._connection()
        try:
            async with AsyncSession(bind=conn, expire_on_commit=False) as db:
                yield db
        except DBAPIError as exc:
            if exc.connection_invalidated or conn.invalidated:
                await self.close()
            raise
        if conn.in_transaction():
            await conn.commit()

    async def _connection(self) -> AsyncConnection:
        if self._conn is None or self._conn.invalidated:
            conn = await self.engine.connect()
            try:
                await conn.execution_options(isolation_level="AUTOCOMMIT")
            except BaseException:
                await conn.close()
                raise
            self._conn = conn
        return self._conn

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with suppress(Exception):
                await conn.close()


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


class StoreUnavailable(RuntimeError):
    """The database could not be reached; nothing was stored."""


class StoreRejected(ValueError):
    """The database refused a value (out of range, too long, invalid for its column); nothing was
    stored. The request is at fault, not the database: HTTP answers 400, not 503."""

    @staticmethod
    def covers(exc: BaseException) -> bool:
        """asyncpg raises no DataError: SQLAlchemy hands its data errors on as plain DBAPIError,
        recognisable by SQLSTATE class 22 ("data exception"). SQLite refuses an integer beyond
        64 bits with OverflowError while binding it."""
        if isinstance(exc, DataError | OverflowError):
            return True
        orig = getattr(exc, "orig", None)
        return isinstance(exc, DBAPIError) and str(getattr(orig, "sqlstate", "") or "").startswith("22")


@contextmanager
def storage_errors(doing: str, *, integrity_passes: bool) -> Iterator[None]:
    """The one translation of database failures: a value the database refused becomes
    StoreRejected, anything else from the driver or the disk StoreUnavailable (logged with what
    was being done, never with data). Writers let IntegrityError through to handle duplicates."""
    try:
        yield
    except IntegrityError:
        if integrity_passes:
            raise
        log.warning("%s failed: IntegrityError", doing)
        raise StoreUnavailable from None
    except (DBAPIError, sqlite3.Error, OSError, OverflowError) as exc:
        if StoreRejected.covers(exc):
            raise StoreRejected(f"the database refused a value: {type(exc).__name__}") from None
        log.warning("%s failed: %s", doing, type(exc).__name__)
        raise StoreUnavailable from None


class Store:
    """Units of work. On SQLite every write in this process takes one lock: SQLite has one writer,
    and waiting here is cheaper and fairer than retrying on its file lock."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], *, serialise_writes: bool) -> None:
        self.sessionmaker = sessionmaker
        self._lock = asyncio.Lock() if serialise_writes else None

    @property
    def engine(self) -> AsyncEngine:
        bind = self.sessionmaker.kw["bind"]
        assert isinstance(bind, AsyncEngine)
        return bind

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        with storage_errors("database read", integrity_passes=False):
            async with self.sessionmaker() as db:
                yield db

    @asynccontextmanager
    async def write_lock(self) -> AsyncIterator[None]:
        """On SQLite, the one writer's turn: `write` takes it, and so does chat/writer.py."""
        if self._lock is None:
            yield
            return
        async with self._lock:
            yield

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """A transaction committed on leaving; IntegrityError passes through for the caller."""
        with storage_errors("database write", integrity_passes=True):
            async with self.write_lock(), self.sessionmaker() as db, db.begin():
                yield db
