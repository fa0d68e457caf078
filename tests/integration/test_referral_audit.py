"""`helpline audit verify`: exit 0 with the row count when the chain is intact; exit 1 naming the
first row that was altered, or the row that was removed, on SQLite and PostgreSQL."""

from __future__ import annotations

from helpline.db import Store, make_engine, make_sessionmaker
from helpline.security import audit
from tests.integration.referral_support import cli, execute, query
from tests.support import Stack


async def write_rows(stack: Stack, count: int) -> None:
    engine = make_engine(stack.database_url)
    store = Store(make_sessionmaker(engine), serialise_writes=stack.database_url.startswith("sqlite"))
    try:
        for i in range(count):
            async with store.write() as db:
                await audit.record(db, "staff:test", "referral.read", f"referral:r{i}", {"n": i})
    finally:
        await engine.dispose()


async def test_verify_names_the_altered_row_and_the_removed_row(stack: Stack) -> None:
    await write_rows(stack, 8)
    intact = cli(stack, "audit", "verify", check=False)
    assert intact.returncode == 0 and "8 row(s)" in intact.stdout

    # Edit one row: its own hash no longer fits, and the command names it.
    original = (await query(stack, "SELECT actor FROM audit_log WHERE id = 3"))[0][0]
    await execute(stack, "UPDATE audit_log SET actor = 'staff:someone-else' WHERE id = 3")
    altered = cli(stack, "audit", "verify", check=False)
    assert altered.returncode == 1
    assert "row 3" in altered.stderr and "altered" in altered.stderr

    await execute(stack, "UPDATE audit_log SET actor = :a WHERE id = 3", {"a": original})
    assert cli(stack, "audit", "verify", check=False).returncode == 0

    # Delete one row: the next row's link breaks, and the command names the removed row.
    await execute(stack, "DELETE FROM audit_log WHERE id = 5")
    removed = cli(stack, "audit", "verify", check=False)
    assert removed.returncode == 1
    assert "row 5 was removed" in removed.stderr, removed.stderr


async def test_removing_the_last_rows_cannot_hide_behind_an_intact_chain(stack: Stack) -> None:
    """Deleting the newest row leaves a shorter, valid chain: the count is what shows it."""
    await write_rows(stack, 3)
    await execute(stack, "DELETE FROM audit_log WHERE id = 3")
    result = cli(stack, "audit", "verify", check=False)
    assert result.returncode == 0 and "2 row(s)" in result.stdout
