"""Test support: real databases, real Redis, real server processes.

Nothing here is a fake of Helpline's own code: every test talks to a server started the way
production starts it (`helpline serve`), on SQLite + the in-process broker or on PostgreSQL +
Redis. A missing service fails the run; it never skips.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get("HELPLINE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("HELPLINE_TEST_REDIS", "redis://127.0.0.1:6379/0")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Stack:
    """One isolated helpline installation: its own database, Redis prefix and key files."""

    backend: str
    data_dir: Path
    database_url: str
    redis_url: str
    redis_prefix: str
    env: dict[str, str]
    org_public_key: bytes = b""
    servers: list[ServerProcess] = field(default_factory=list)
    owns_database: bool = True  # made by make_stack on the shared PostgreSQL: destroy_stack drops it

    @property
    def on_postgres(self) -> bool:
        """PostgreSQL + Redis, straight or through PgBouncer (tests/pgbouncer.py)."""
        return self.backend != "sqlite"

    @property
    def direct_postgres_dsn(self) -> str:
        """asyncpg's DSN of this stack's database on PostgreSQL itself (not through PgBouncer)."""
        return f"postgresql://postgres@127.0.0.1:5432/{self.database_url.rsplit('/', 1)[1].split('?')[0]}"

    @property
    def sqlite_path(self) -> Path | None:
        if self.database_url.startswith("sqlite"):
            return Path(self.database_url.removeprefix("sqlite+aiosqlite:///"))
        return None


class ServerProcess:
    """`helpline serve` in a subprocess, with its log in a file the tests can read."""

    def __init__(self, stack: Stack, port: int | None = None, extra_env: dict[str, str] | None = None,
                 command: list[str] | None = None, env: dict[str, str] | None = None) -> None:
        """``command`` and ``env`` replace `helpline serve --port N` and the stack's environment
        (tests/deploy runs the documented systemd unit's command line)."""
        self.stack = stack
        self.port = port or free_port()
        self.log_path = stack.data_dir / f"server-{self.port}-{secrets.token_hex(2)}.log"
        self.extra_env = extra_env or {}
        self.process: subprocess.Popen[bytes] | None = None
        self.command = command or [sys.executable, "-m", "helpline.cli", "serve", "--port", str(self.port)]
        self.env = env

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 20) -> ServerProcess:
        env = {**(self.env or self.stack.env), **self.extra_env}
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - our own command
                self.command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited at start:\n{self.log()}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.05)
        raise RuntimeError(f"server did not answer within {timeout}s:\n{self.log()}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(sig)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def kill(self) -> None:
        self.stop(signal.SIGKILL)

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""


async def _pg_admin(statement: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN_URL, timeout=5)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


def run_async(coro: Any) -> Any:
    """Runs a coroutine to the end on a fresh loop in its own thread.

    Browser tests hold Playwright's loop in the main thread, where asyncio.run is not allowed.
    """
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def create_pg_database(name: str) -> None:
    try:
        run_async(_pg_admin(f'CREATE DATABASE "{name}"'))
    except OSError as exc:
        raise RuntimeError(f"PostgreSQL is required for the tests and does not answer at {PG_ADMIN_URL}: {exc}. "
                           "Start it: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
                           ) from exc


def drop_pg_database(name: str) -> None:
    run_async(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def check_redis() -> None:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        raise RuntimeError(f"Redis is required for the tests and does not answer at {REDIS_URL}: {exc}") from exc


def clear_redis_prefix(prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=prefix + "*"))
    if keys:
        client.delete(*keys)
    client.close()


def make_stack(backend: str, tmp_path: Path, extra: dict[str, str] | None = None,
               database_url: str | None = None) -> Stack:
    """Builds a migrated installation with keys, on the given backend (or, given ``database_url``, in
    that existing PostgreSQL database, which destroy_stack then leaves to its owner)."""
    from helpline.commands.database import upgrade_database
    from helpline.keys import init_org_key, load_public_key

    data = tmp_path / "var"
    data.mkdir(parents=True, exist_ok=True)
    tag = secrets.token_hex(4)
    owns_database = database_url is None
    if backend == "sqlite":
        database_url, redis_url = f"sqlite+aiosqlite:///{data}/helpline.db", ""
    elif database_url is not None:
        check_redis()
        redis_url = REDIS_URL
    else:
        name = f"helpline_test_{tag}"
        create_pg_database(name)
        check_redis()
        database_url, redis_url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}", REDIS_URL
        if backend == "pgbouncer" or os.environ.get("HELPLINE_TEST_PGBOUNCER") == "1":
            from tests.pgbouncer import shared_pgbouncer

            database_url = shared_pgbouncer().url(name)
    prefix = f"hltest-{tag}:"
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELPLINE_")}
    env.update({
        "HELPLINE_DATABASE_URL": database_url, "HELPLINE_REDIS_URL": redis_url, "HELPLINE_REDIS_PREFIX": prefix,
        "HELPLINE_DATA_DIR": str(data), "HELPLINE_ORG_KEY_FILE": str(data / "org-signing.key"),
        "HELPLINE_ORG_PUBLIC_KEY_FILE": str(data / "org-public.key"),
        "HELPLINE_SECRET_FILE": str(data / "server-secret.key"), "HELPLINE_COOKIE_SECURE": "false",
        "HELPLINE_LOG_LEVEL": "DEBUG", "HELPLINE_QUICK_EXIT_URL": "about:blank",
        **(extra or {}),
    })
    init_org_key(data / "org-signing.key", data / "org-public.key")
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(upgrade_database, database_url).result()
    return Stack(backend, data, database_url, redis_url, prefix, env, load_public_key(data / "org-public.key"),
                 owns_database=owns_database)


def destroy_stack(stack: Stack) -> None:
    for server in stack.servers:
        server.stop()
    if stack.on_postgres:
        if stack.owns_database:
            drop_pg_database(stack.database_url.rsplit("/", 1)[1].split("?")[0])
        clear_redis_prefix(stack.redis_prefix)


def add_user(stack: Stack, username: str, role: str = "counsellor", password: str | None = None,
             child_name: str | None = None) -> str:
    """Creates a staff account through the real CLI (password on stdin); returns the password."""
    password = password or "pw-" + secrets.token_urlsafe(12)
    extra = ["--child-name", child_name] if child_name else []
    subprocess.run(  # noqa: S603 - our own command
        [sys.executable, "-m", "helpline.cli", "user", "add", username, "--role", role, "--name", username.title(),
         *extra],
        input=password + "\n", text=True, cwd=ROOT, env=stack.env, check=True, capture_output=True)
    return password


def totp_code(secret: str) -> str:
    """The authenticator app's code for a time step not used yet in this test process."""
    from tests.chat_client import next_totp_code

    code: str = run_async(next_totp_code(secret))
    return code


def login_body(http: httpx.Client, username: str, password: str) -> dict[str, str]:
    """The body of POST /console/api/login as the console page makes it (salt, then derivation)."""
    from tests.chat_client import signin_from_salt

    salt = http.post("/console/api/login/salt", json={"username": username})
    salt.raise_for_status()
    return signin_from_salt(username, password, salt.json())[0]


def enrol_totp(server_url: str, username: str, password: str) -> str:
    """Signs in with the password and enrols TOTP through the real HTTP API; returns the secret.

    Later StaffClient(username, password) sign-ins find the secret without being told.
    """
    from tests.chat_client import remember_totp

    with httpx.Client(base_url=server_url, headers={"origin": server_url}) as http:
        login = http.post("/console/api/login", json=login_body(http, username, password))
        login.raise_for_status()
        csrf = login.json()["csrf"]
        enrolled = http.post("/console/api/mfa/enrol", headers={"x-csrf-token": csrf}, json={})
        enrolled.raise_for_status()
        secret: str = enrolled.json()["secret"]
        http.post("/console/api/mfa/confirm", headers={"x-csrf-token": csrf},
                  json={"code": totp_code(secret)}).raise_for_status()
    remember_totp(username, password, secret)
    return secret
