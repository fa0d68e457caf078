"""PgBouncer in transaction pooling mode (ADR 0031): the PgBouncer the `[pgbouncer]` tests run through
really pools per transaction (a named prepared statement is gone when the next transaction runs on
another server connection), and `?pooler=transaction` makes the engine safe there."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from helpline.db import make_engine
from tests.support import Stack, destroy_stack, make_stack

QUERY = text("SELECT count(*) FROM messages WHERE seq > :after")


async def cached_statement_after_another_client(url: str) -> None:
    """A statement prepared in one transaction is used again in the next, while another client holds
    the server connection it was prepared on (PgBouncer reuses the last released one first)."""
    engine, other = make_engine(url), make_engine(url)
    try:
        async with engine.connect() as conn:
            await conn.execute(QUERY, {"after": 0})
            await conn.commit()
            async with other.connect() as holder:
                await holder.execute(text("SELECT 1"))  # its transaction stays open: that server is taken
                await conn.execute(QUERY, {"after": 1})
                await conn.commit()
    finally:
        await engine.dispose()
        await other.dispose()


@pytest.fixture
def pgbouncer_stack(tmp_path: Path) -> Iterator[Stack]:
    made = make_stack("pgbouncer", tmp_path)
    yield made
    destroy_stack(made)


async def test_named_statements_break_without_the_parameter_and_not_with_it(pgbouncer_stack: Stack) -> None:
    url = pgbouncer_stack.database_url
    assert url.endswith("?pooler=transaction")
    await cached_statement_after_another_client(url)
    with pytest.raises(DBAPIError, match="prepared statement"):
        await cached_statement_after_another_client(url.removesuffix("?pooler=transaction"))
