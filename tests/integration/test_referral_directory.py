"""`helpline directory load` upserts by code and is idempotent; installation contacts survive a reload."""

from __future__ import annotations

from tests.integration.referral_support import cli, execute, query
from tests.support import Stack


async def test_load_twice_changes_nothing_and_keeps_contacts(stack: Stack) -> None:
    first = cli(stack, "directory", "load")
    assert "77 added, 0 updated, 0 unchanged" in first.stdout
    cli(stack, "directory", "contact", "cpu-shkoder", "mbrojtja@shkoder.example")
    await execute(stack, "UPDATE agencies SET name = 'old name' WHERE code = 'cpu-kamez'")
    second = cli(stack, "directory", "load")
    assert "0 added, 1 updated, 76 unchanged" in second.stdout
    rows = await query(stack, "SELECT count(*), count(DISTINCT code) FROM agencies WHERE kind = 'cpu'")
    assert rows == [(61, 61)]
    assert await query(stack, "SELECT fallback_email FROM agencies WHERE code = 'cpu-shkoder'") == [
        ("mbrojtja@shkoder.example",)]
    assert await query(stack, "SELECT name, county FROM agencies WHERE code = 'cpu-kamez'") == [
        ("Njësia për Mbrojtjen e Fëmijëve – Bashkia Kamëz", "Tiranë")]
    refused = cli(stack, "directory", "contact", "cpu-atlantis", "a@b.example", check=False)
    assert refused.returncode != 0 and "no agency cpu-atlantis" in refused.stderr
    not_officer = cli(stack, "directory", "officer", "nobody", "cpu-shkoder", check=False)
    assert not_officer.returncode != 0 and "not an officer account" in not_officer.stderr
