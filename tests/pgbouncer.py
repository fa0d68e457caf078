"""PgBouncer in transaction pooling mode in front of the test PostgreSQL (issue 21, ADR 0031).

One PgBouncer serves the whole test session: started the first time a test asks for the
``pgbouncer`` backend, on a free port, with its configuration in a temporary folder, and stopped
when the session ends (tests/conftest.py). Its ``*`` database entry forwards every database name
to the shared PostgreSQL, so each test's own database is reachable through it with no reload.
A missing binary fails the test with what to install; it never skips.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

BACKENDS_WITH_PGBOUNCER = ["sqlite", "postgres", "pgbouncer"]
# The tests that also run through PgBouncer: the `stack` fixture takes this third value for them.
also_through_pgbouncer = pytest.mark.parametrize("stack", BACKENDS_WITH_PGBOUNCER, indirect=True)


def require_binary(name: str, package: str) -> str:
    """The path of a system binary the test needs; a clear failure (never a skip) without it."""
    found = shutil.which(name) or next((p for p in (f"/usr/sbin/{name}", f"/usr/bin/{name}") if os.access(p, os.X_OK)),
                                       None)
    if found is None:
        pytest.fail(f"{name} is required for this test and is not installed: apt-get install {package} "
                    "(.ci/run installs it)", pytrace=False)
    return found


def as_postgres_user(command: list[str]) -> list[str]:
    """PostgreSQL's tools and PgBouncer refuse to run as root: when the tests run as root (CI does),
    they run as the postgres account instead."""
    if os.geteuid() != 0:
        return command
    return [require_binary("runuser", "util-linux"), "-u", "postgres", "--", *command]


def shared_folder(prefix: str) -> Path:
    """A temporary folder the postgres account can use too (pytest's tmp_path is root's alone)."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    folder.chmod(0o755)
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    return folder


class PgBouncer:
    """A private PgBouncer in transaction pooling mode, in front of host:port."""

    def __init__(self, target_host: str = "127.0.0.1", target_port: int = 5432) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self.folder: Path | None = None
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 10) -> PgBouncer:
        binary = require_binary("pgbouncer", "pgbouncer")
        self.folder = shared_folder("helpline-pgbouncer-")
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        (self.folder / "users.txt").write_text('"postgres" ""\n', encoding="utf-8")
        config = self.folder / "pgbouncer.ini"
        config.write_text("\n".join([
            "[databases]", f"* = host={self.target[0]} port={self.target[1]}",
            "[pgbouncer]", "listen_addr = 127.0.0.1", f"listen_port = {self.port}", "unix_socket_dir =",
            "auth_type = trust", f"auth_file = {self.folder / 'users.txt'}", "pool_mode = transaction",
            "default_pool_size = 20", "max_client_conn = 2000", "server_login_retry = 1", ""]), encoding="utf-8")
        for path in self.folder.iterdir():
            path.chmod(0o644)
        with (self.folder / "pgbouncer.log").open("ab") as log:
            self.process = subprocess.Popen(as_postgres_user([binary, str(config)]),  # noqa: S603 - fixed binary
                                            stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"pgbouncer exited at start:\n{self.log()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"pgbouncer did not listen within {timeout}s:\n{self.log()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)

    def log(self) -> str:
        path = (self.folder or Path("/nonexistent")) / "pgbouncer.log"
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""

    def url(self, database: str) -> str:
        """The Helpline database URL of ``database`` through this PgBouncer."""
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}?pooler=transaction"


_shared: PgBouncer | None = None


def shared_pgbouncer() -> PgBouncer:
    """The session's PgBouncer, started on first use."""
    global _shared  # noqa: PLW0603 - one per test session, stopped by stop_shared_pgbouncer
    if _shared is None or _shared.process is None or _shared.process.poll() is not None:
        _shared = PgBouncer().start()
    return _shared


def stop_shared_pgbouncer() -> None:
    global _shared  # noqa: PLW0603
    if _shared is not None:
        _shared.stop()
        _shared = None
