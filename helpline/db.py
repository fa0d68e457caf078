"""Engine and session factory for SQLite (WAL, one writer) and PostgreSQL (asyncpg)."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from sqlalchemy import event, make_url
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

log = logging.getLogger("helpline.db")


def sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """Every SQLite connection: WAL, so readers go on beside the one writer; foreign keys on."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA secure_delete=ON")  # purged content is overwritten, not left in free pages
    cursor.close()


POOLER_PARAMETER = "pooler"  # ?pooler=transaction: behind PgBouncer in transaction pooling (ADR 0031)


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
                               connect_args=connect_args)


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
