"""The database schema: `db upgrade`, and the migration step that `setup` and the tests share."""

from __future__ import annotations

import argparse
from pathlib import Path

from helpline.commands._shared import settings_or_exit

ROOT = Path(__file__).resolve().parents[2]  # the repository, where alembic.ini is


def upgrade_database(url: str) -> None:
    """Applies every Alembic migration to the database at ``url`` (making a SQLite file's folder)."""
    from alembic import command
    from alembic.config import Config

    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["database_url"] = url
    if url.startswith("sqlite+aiosqlite:///"):
        Path(url.removeprefix("sqlite+aiosqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(config, "head")


def cmd_db_upgrade(args: argparse.Namespace) -> None:
    upgrade_database(str(settings_or_exit().database_url))
    print("Database is up to date.")
