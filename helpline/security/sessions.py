"""Staff sessions: a random cookie token, stored only as its SHA-256, with a CSRF token."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy import delete, select
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


async def authenticate(db: AsyncSession, cookie_value: str, *, idle_minutes: int,
                       max_hours: int) -> tuple[Staff, StaffSession] | None:
    """The staff member and session behind a cookie, or None when unknown or expired."""
    if not cookie_value or len(cookie_value) > 100:
        return None
    session = await db.get(StaffSession, _digest(cookie_value))
    if session is None:
        return None
    now = utcnow()
    if (now - session.last_seen_at > dt.timedelta(minutes=idle_minutes)
            or now - session.created_at > dt.timedelta(hours=max_hours)):
        await db.delete(session)
        await db.flush()
        return None
    staff = await db.get(Staff, session.staff_id)
    if staff is None or staff.disabled:
        return None
    if now - session.last_seen_at > TOUCH_EVERY:
        session.last_seen_at = now
        await db.flush()
    return staff, session


async def end_session(db: AsyncSession, cookie_value: str) -> None:
    await db.execute(delete(StaffSession).where(StaffSession.id == _digest(cookie_value)))


async def end_all_sessions(db: AsyncSession, staff_id: int) -> None:
    await db.execute(delete(StaffSession).where(StaffSession.staff_id == staff_id))


async def staff_by_username(db: AsyncSession, username: str) -> Staff | None:
    return (await db.execute(select(Staff).where(Staff.username == username))).scalar_one_or_none()
