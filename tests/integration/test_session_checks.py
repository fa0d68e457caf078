"""The console sockets' shared session checks (chat/session_checks.py) on both databases: sockets
that ask at the same time share one read and each gets its own answer, and a session's use is
written once per interval however many sockets of that session act."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Callable

import pytest
from sqlalchemy import select, update

from chat.session_checks import SessionChecks
from helpline.db import Store, make_engine, make_sessionmaker
from helpline.models import Staff, StaffSession, utcnow
from helpline.security import sessions
from helpline.settings import Settings
from tests.support import Stack

SETTINGS = Settings({"HELPLINE_SESSION_IDLE_MINUTES": 30.0, "HELPLINE_SESSION_MAX_HOURS": 12.0})


@pytest.fixture
async def store(stack: Stack) -> AsyncIterator[Store]:
    engine = make_engine(stack.database_url)
    made = Store(make_sessionmaker(engine), serialise_writes=stack.backend == "sqlite")
    try:
        yield made
    finally:
        await engine.dispose()


@pytest.fixture
async def new_checks(store: Store) -> AsyncIterator[Callable[[], SessionChecks]]:
    """Makes SessionChecks as the app does, and closes each (on PostgreSQL it keeps a connection)."""
    made: list[SessionChecks] = []

    def make() -> SessionChecks:
        made.append(SessionChecks(store, SETTINGS))
        return made[-1]

    try:
        yield make
    finally:
        for checks in made:
            await checks.close()


async def add_session(store: Store, name: str, *, disabled: bool = False, mfa_done: bool = True,
                      seen_minutes_ago: float = 0.0) -> str:
    async with store.write() as db:
        staff = Staff(public_id=name, username=name, display_name=name, role="counsellor", password_hash="x",
                      kdf_salt="s", disabled=disabled)
        db.add(staff)
        await db.flush()
        await sessions.create_session(db, staff, mfa_done=mfa_done)
        session = (await db.execute(select(StaffSession).where(StaffSession.staff_id == staff.id))).scalar_one()
        session.last_seen_at = utcnow() - dt.timedelta(minutes=seen_minutes_ago)
        return session.id


async def last_seen(store: Store, session_id: str) -> dt.datetime:
    async with store.read() as db:
        found = await db.get(StaffSession, session_id)
        assert found is not None
        return found.last_seen_at


async def test_sockets_asking_together_share_one_read_and_get_their_own_answer(
        store: Store, new_checks: Callable[[], SessionChecks]) -> None:
    good = await add_session(store, "good")
    disabled = await add_session(store, "off", disabled=True)
    no_mfa = await add_session(store, "nomfa", mfa_done=False)
    timed_out = await add_session(store, "old", seen_minutes_ago=31)
    checks = new_checks()
    asked = [good, disabled, good, "no-such-session", no_mfa, timed_out] * 10
    found = await asyncio.gather(*(checks.current(session_id) for session_id in asked))
    assert checks.reads == 1
    for session_id, answer in zip(asked, found, strict=True):
        if session_id == good:
            assert answer is not None and answer[0].username == "good" and answer[1].id == good
        else:
            assert answer is None, session_id
    assert await checks.current(good) is not None and checks.reads == 2  # a later frame reads again


async def test_a_session_shared_by_many_sockets_is_written_once_per_interval(
        store: Store, new_checks: Callable[[], SessionChecks]) -> None:
    session_id = await add_session(store, "shared", seen_minutes_ago=2)
    checks = new_checks()
    copies = [found[1] for found in await asyncio.gather(*(checks.current(session_id) for _ in range(3)))
              if found is not None]
    assert len(copies) == 3
    await checks.touch(copies[0])
    written = await last_seen(store, session_id)
    assert utcnow() - written < dt.timedelta(seconds=30)
    stale = utcnow() - dt.timedelta(minutes=2)
    async with store.write() as db:  # as if it had not been written: only this process's note stops the next
        await db.execute(update(StaffSession).where(StaffSession.id == session_id).values(last_seen_at=stale))
    for copy in copies[1:]:
        copy.last_seen_at = stale
        await checks.touch(copy)
    assert abs((await last_seen(store, session_id)) - stale) < dt.timedelta(seconds=1)
    await checks.touch(copies[0])  # fresh in its own copy: nothing to write
    other = new_checks()  # another process has not written it: it does
    copies[1].last_seen_at = stale
    await other.touch(copies[1])
    assert utcnow() - await last_seen(store, session_id) < dt.timedelta(seconds=30)


async def test_a_change_to_the_account_or_session_is_read_at_the_next_frame(
        store: Store, new_checks: Callable[[], SessionChecks]) -> None:
    """The objects of a row read before are kept only while the row is unchanged: a new role, a
    disabled account or an ended session shows at the very next read."""
    session_id = await add_session(store, "kept")
    checks = new_checks()
    first = await checks.current(session_id)
    assert first is not None and first[0].role == "counsellor"
    again = await checks.current(session_id)
    assert again is not None and again[0] is first[0]  # unchanged: the same objects, no ORM load
    async with store.write() as db:
        await db.execute(update(Staff).where(Staff.username == "kept").values(role="supervisor"))
    changed = await checks.current(session_id)
    assert changed is not None and changed[0].role == "supervisor" and changed[0] is not first[0]
    async with store.write() as db:
        await db.execute(update(Staff).where(Staff.username == "kept").values(disabled=True))
    assert await checks.current(session_id) is None
    async with store.write() as db:
        await db.execute(update(Staff).where(Staff.username == "kept").values(disabled=False))
    assert await checks.current(session_id) is not None
    async with store.write() as db:
        await sessions.end_all_sessions(db, changed[0].id)
    assert await checks.current(session_id) is None
