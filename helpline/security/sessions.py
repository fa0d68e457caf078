"""Staff sessions: a random cookie token, stored only as its SHA-256, with a CSRF token."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy import Select, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from helpline.crypto import b64u_encode
from helpline.models import Staff, StaffSession, utcnow

COOKIE_NAME = "hl_session"
TOUCH_EVERY = dt.timedelta(minutes=1)


def _digest(cookie_value: str) -> str:
    return hashlib.sha256(cookie_value.encode("ascii", "replace")).hexdigest()


async def create_session(db: AsyncSession, staff: Staff, *, mfa_done: bool = False) -> tuple[str, str]:
    """Starts a session; returns (cookie value, csrf token). A new session at every sign-in."""
    cookie = b64u_encode(secrets.token_bytes(32))
    csrf = b64u_encode(secrets.token_bytes(24))
    db.add(StaffSession(id=_digest(cookie), staff_id=staff.id, csrf_token=csrf, mfa_done=mfa_done))
    await db.flush()
    return cookie, csrf


def touch_every(idle_minutes: float) -> dt.timedelta:
    """How stale ``last_seen_at`` may be before use writes it again: a minute, or less when the
    idle timeout is short (tests use seconds), so activity always refreshes it in time."""
    return min(TOUCH_EVERY, dt.timedelta(minutes=idle_minutes) / 10)


def expires_at(session: StaffSession, *, idle_minutes: float, max_hours: float) -> dt.datetime:
    """When the session ends unless it is used again: idle or absolute timeout, whichever is first."""
    return min(session.last_seen_at + dt.timedelta(minutes=idle_minutes),
               session.created_at + dt.timedelta(hours=max_hours))


async def authenticate(db: AsyncSession, cookie_value: str, *, idle_minutes: float,
                       max_hours: float) -> tuple[Staff, StaffSession] | None:
    """The staff member and session behind a cookie, or None when unknown or expired."""
    if not cookie_value or len(cookie_value) > 100:
        return None
    session = await db.get(StaffSession, _digest(cookie_value))
    if session is None:
        return None
    now = utcnow()
    if now >= expires_at(session, idle_minutes=idle_minutes, max_hours=max_hours):
        await db.delete(session)
        await db.flush()
        return None
    staff = await db.get(Staff, session.staff_id)
    if staff is None or staff.disabled:
        return None
    if now - session.last_seen_at > touch_every(idle_minutes):
        session.last_seen_at = now
        await db.flush()
    return staff, session


def session_id(cookie_value: str) -> str:
    """The stored id of a session: what a socket keeps to check its session again later."""
    return _digest(cookie_value)


async def current(db: AsyncSession, session_id: str, *, idle_minutes: float,
                  max_hours: float) -> tuple[Staff, StaffSession] | None:
    """The staff row and session behind a stored session id, if both still allow work: the
    session exists, has not timed out and passed the second factor, and the account is enabled.
    One read by primary key; nothing is written (see `touch`)."""
    return (await current_many(db, [session_id], idle_minutes=idle_minutes, max_hours=max_hours))[session_id]


async def current_many(db: AsyncSession, session_ids: list[str], *, idle_minutes: float,
                       max_hours: float) -> dict[str, tuple[Staff, StaffSession] | None]:
    """`current` for several session ids in one read (chat/session_checks.py)."""
    rows = await db.execute(with_staff(session_ids))
    found: dict[str, tuple[Staff, StaffSession] | None] = dict.fromkeys(session_ids)
    now = utcnow()
    for staff, session in rows:
        if allows_work(staff, session, now, idle_minutes=idle_minutes, max_hours=max_hours):
            found[session.id] = (staff, session)
    return found


def with_staff(session_ids: list[str]) -> Select[Staff, StaffSession]:
    """The sessions with these ids, each with its staff row (ORM objects)."""
    return select(Staff, StaffSession).join(StaffSession, StaffSession.staff_id == Staff.id).where(
        StaffSession.id.in_(session_ids))


def allows_work(staff: Staff, session: StaffSession, now: dt.datetime, *, idle_minutes: float,
                max_hours: float) -> bool:
    """The rules `current` applies: the account enabled, the second factor passed, not timed out."""
    return (not staff.disabled and session.mfa_done
            and now < expires_at(session, idle_minutes=idle_minutes, max_hours=max_hours))


async def touch(db: AsyncSession, session_id: str) -> None:
    """Marks a session used now (a console socket's state-changing frame is use, as a request is)."""
    await db.execute(update(StaffSession).where(StaffSession.id == session_id).values(last_seen_at=utcnow()))


async def end_session(db: AsyncSession, cookie_value: str) -> None:
    await db.execute(delete(StaffSession).where(StaffSession.id == _digest(cookie_value)))


async def end_all_sessions(db: AsyncSession, staff_id: int) -> None:
    await db.execute(delete(StaffSession).where(StaffSession.staff_id == staff_id))


async def staff_by_username(db: AsyncSession, username: str) -> Staff | None:
    return (await db.execute(select(Staff).where(Staff.username == username))).scalar_one_or_none()
