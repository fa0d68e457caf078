"""The service's files are its user's own: files 0600, folders 0700 (issue 17).

Every `helpline` command and the app factory set the process umask to 077 before anything is
created, so the SQLite database with its WAL and shared-memory files, the mail outbox, the key
files, the server secret and every export are readable by the service's user only. At start the
data folder and the files an older release left readable by others are tightened too.
Backups are made by the operator's own tools: docs/backup.md runs them under `umask 077`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

from helpline.settings import Settings

log = logging.getLogger("helpline")

PRIVATE_UMASK = 0o077
OTHERS = 0o077  # group and other permission bits


def keep_private() -> None:
    """Whatever this process creates from now on is readable and writable by its user only."""
    os.umask(PRIVATE_UMASK)


def _service_paths(settings: Settings) -> Iterator[Path]:
    data = Path(settings.data_dir)
    yield data
    yield from data.rglob("*")
    url = str(settings.database_url)
    if url.startswith("sqlite+aiosqlite:///"):
        database = Path(url.removeprefix("sqlite+aiosqlite:///"))
        yield database.parent
        for suffix in ("", "-wal", "-shm", "-journal"):
            yield database.with_name(database.name + suffix)
    yield from (Path(settings.org_key_file), Path(settings.org_public_key_file), Path(settings.secret_file))


def tighten(settings: Settings) -> None:
    """Creates the data folder (0700) and takes group and other bits off what the service owns."""
    Path(settings.data_dir).mkdir(mode=0o700, parents=True, exist_ok=True)
    for path in _service_paths(settings):
        try:
            mode = path.lstat().st_mode
            if mode & OTHERS and not path.is_symlink():
                path.chmod(mode & 0o7700)
        except FileNotFoundError:
            continue
        except PermissionError:
            log.warning("cannot make %s private to the service's user: change its owner or mode", path)
