"""Private PostgreSQL clusters made with Debian's own binaries (/usr/lib/postgresql/*/bin), for the
primary-change test (issue 21): a primary, a streaming replica made with pg_basebackup, promotion.

Each cluster lives in a temporary folder and listens on a free port on 127.0.0.1 (and a socket in
that folder); the shared PostgreSQL on 5432 is not touched. A missing binary fails the test with
what to install; it never skips.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import time
from pathlib import Path

import pytest

from tests.pgbouncer import as_postgres_user
from tests.support import free_port


def postgres_bin_dir() -> Path:
    """The newest installed PostgreSQL's binaries."""
    found = [p for p in Path("/usr/lib/postgresql").glob("*/bin") if (p / "initdb").exists()]
    found.sort(key=lambda p: [int(n) for n in re.findall(r"\d+", p.parent.name)] or [0])
    if not found or not all((found[-1] / tool).exists() for tool in ("pg_ctl", "pg_basebackup", "postgres")):
        pytest.fail("PostgreSQL's server binaries (initdb, pg_ctl, pg_basebackup) are required for this test and "
                    "are not in /usr/lib/postgresql/*/bin: apt-get install postgresql", pytrace=False)
    return found[-1]


class Cluster:
    """One PostgreSQL cluster: its data folder, its port, and pg_ctl around it."""

    def __init__(self, folder: Path, name: str) -> None:
        self.bin = postgres_bin_dir()
        self.folder = folder
        self.data = folder / name
        self.log = folder / f"{name}.log"
        self.port = free_port()

    def tool(self, name: str, *args: str, timeout: float = 60) -> str:
        done = subprocess.run(as_postgres_user([str(self.bin / name), *args]),  # noqa: S603 - Debian's binaries
                              capture_output=True, text=True, timeout=timeout, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{name} {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}\n{self.log_text()}")
        return done.stdout

    def settings(self, **values: str | int) -> None:
        """Appended to postgresql.conf: a later line wins over what initdb or the primary wrote."""
        with (self.data / "postgresql.conf").open("a", encoding="utf-8") as conf:
            for key, value in values.items():
                conf.write(f"{key} = {value!r}\n" if isinstance(value, str) else f"{key} = {value}\n")

    def init_primary(self) -> Cluster:
        self.tool("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                  "--locale=C", "--no-sync")
        self.settings(wal_level="replica", max_wal_senders=5, fsync="off", shared_buffers="32MB",
                      max_connections=100)
        return self

    def clone_as_replica(self, primary: Cluster) -> Cluster:
        """A streaming replica of ``primary``: pg_basebackup -R writes primary_conninfo and standby.signal."""
        self.tool("pg_basebackup", "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres", "-D",
                  str(self.data), "-R", "-X", "stream", "-c", "fast", "--no-sync")
        return self

    def start(self) -> Cluster:
        self.settings(port=self.port, listen_addresses="127.0.0.1", unix_socket_directories=str(self.folder))
        self.tool("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "30", "start")
        return self

    def stop(self, mode: str = "fast") -> None:
        if (self.data / "postmaster.pid").exists():
            self.tool("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "30", "stop")

    def promote(self) -> None:
        self.tool("pg_ctl", "-D", str(self.data), "-w", "-t", "30", "promote")

    def dsn(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""


async def wait_for_sync_standby(primary: Cluster, timeout: float = 20) -> None:
    """Makes the replica synchronous (a commit waits until the replica has flushed it) and waits until
    it is: then a commit the primary acknowledged is on the replica too."""
    import asyncpg

    conn = await asyncpg.connect(primary.dsn(), timeout=5)
    try:
        await conn.execute("ALTER SYSTEM SET synchronous_standby_names = '*'")
        await conn.execute("SELECT pg_reload_conf()")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if await conn.fetchval("SELECT count(*) FROM pg_stat_replication WHERE sync_state = 'sync'"):
                return
            await asyncio.sleep(0.1)
        raise AssertionError(f"the replica did not become a synchronous standby:\n{primary.log_text()}")
    finally:
        await conn.close()

