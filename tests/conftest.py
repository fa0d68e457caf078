"""Fixtures shared by every test: each backend gets its own database and Redis prefix."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.pgbouncer import stop_shared_pgbouncer
from tests.support import ServerProcess, Stack, destroy_stack, make_stack

BACKENDS = ["sqlite", "postgres"]  # a few tests add "pgbouncer" (tests/pgbouncer.py, ADR 0031)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    stop_shared_pgbouncer()


@pytest.fixture(params=BACKENDS)
def stack(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Stack]:
    """A migrated installation on SQLite + in-process broker, then on PostgreSQL + Redis (and, for the
    tests marked `also_through_pgbouncer`, on PostgreSQL through PgBouncer + Redis)."""
    built = make_stack(request.param, tmp_path)
    try:
        yield built
    finally:
        destroy_stack(built)


@pytest.fixture
def start_server(stack: Stack) -> Callable[..., ServerProcess]:
    """Starts `helpline serve` processes on the stack; all are stopped after the test."""

    def start(port: int | None = None, **extra_env: str) -> ServerProcess:
        server = ServerProcess(stack, port, extra_env).start()
        stack.servers.append(server)
        return server

    return start


@pytest.fixture
def server(start_server: Callable[..., ServerProcess]) -> ServerProcess:
    return start_server()
