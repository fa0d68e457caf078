"""Models and Alembic migrations agree, on SQLite and on PostgreSQL; down and up again works."""

from __future__ import annotations

from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext

from helpline.db import make_engine
from helpline.models import Base
from tests.pgbouncer import also_through_pgbouncer
from tests.support import ROOT, Stack, run_async


async def _differences(url: str) -> list[Any]:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            def compare(sync_conn: Any) -> list[Any]:
                context = MigrationContext.configure(sync_conn, opts={"compare_type": True})
                return list(compare_metadata(context, Base.metadata))

            return await conn.run_sync(compare)
    finally:
        await engine.dispose()


@also_through_pgbouncer
def test_models_and_migrations_agree(stack: Stack) -> None:
    assert run_async(_differences(stack.database_url)) == []


@also_through_pgbouncer
def test_downgrade_to_base_and_upgrade_again(stack: Stack) -> None:
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["database_url"] = stack.database_url
    run_async(_in_thread(command.downgrade, config, "base"))
    run_async(_in_thread(command.upgrade, config, "head"))
    assert run_async(_differences(stack.database_url)) == []


async def _in_thread(func: Any, *args: Any) -> None:
    import asyncio

    # Alembic's env.py runs its own event loop, so it must not run inside this one.
    await asyncio.to_thread(func, *args)
