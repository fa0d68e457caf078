"""The append-only, hash-chained audit log.

Each row's hash covers its own id, time, actor, action, subject and detail, and the hash of the
row before it. Changing a row breaks its own hash; removing one breaks the next row's link.
`helpline audit verify` walks the chain and names the first row that does not fit.

Writers are serialised so the chain never forks: on PostgreSQL by a transaction-scoped advisory
lock, on SQLite by the store's single writer (helpline.db.Store).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from helpline.models import AuditEntry, Staff, utcnow

if TYPE_CHECKING:
    from helpline.db import Store

GENESIS = "0" * 64
ADVISORY_LOCK = 0x6A1D17  # any constant shared by every process of this helpline
MAX_DETAIL = 2000


def _moment(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")


def row_hash(prev_hash: str, entry_id: int, at: dt.datetime, actor: str, action: str, subject: str,
             detail: dict[str, Any]) -> str:
    body = json.dumps([prev_hash, entry_id, _moment(at), actor, action, subject, detail],
                      sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


async def record(db: AsyncSession, actor: str, action: str, subject: str,
                 detail: dict[str, Any] | None = None) -> AuditEntry:
    """Appends one row in the caller's transaction; it is kept only if that transaction commits.

    ``detail`` holds identifiers and reasons chosen by staff, never a child's words.
    """
    detail = detail or {}
    if len(json.dumps(detail)) > MAX_DETAIL:
        raise ValueError("audit detail is too large")
    if db.get_bind().dialect.name == "postgresql":
        await db.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK})
    last = (await db.execute(select(AuditEntry.id, AuditEntry.hash)
                             .order_by(AuditEntry.id.desc()).limit(1))).first()
    prev_id, prev_hash = (last[0], last[1]) if last else (0, GENESIS)
    now = utcnow()
    # Microseconds survive both backends; anything finer would not, and the hash would break.
    entry = AuditEntry(id=prev_id + 1, at=now, actor=actor[:64], action=action[:64], subject=subject[:64],
                       detail=detail, prev_hash=prev_hash)
    entry.hash = row_hash(prev_hash, entry.id, now, entry.actor, entry.action, entry.subject, detail)
    db.add(entry)
    await db.flush()
    return entry


async def refused(store: Store, staff: Staff, action: str, *, subject: str = "/ws/staff",
                  reason: str = "role") -> None:
    """Records that ``staff`` was refused ``action``, in a transaction of its own: the work was not done.

    ``subject`` is the HTTP path or the socket; ``reason`` is ``role`` (the permission matrix),
    ``csrf`` or ``object`` (not theirs).
    """
    async with store.write() as db:
        await record(db, staff.participant_id, "denied", subject[:64], {"action": action, "reason": reason})


@dataclass(frozen=True)
class Verdict:
    ok: bool
    rows: int
    bad_id: int | None = None
    reason: str = ""


async def verify(db: AsyncSession, batch: int = 5000) -> Verdict:
    """Walks the whole chain in id order; the first row that does not fit fails it."""
    prev_hash, prev_id, count, after = GENESIS, 0, 0, 0
    while True:
        rows = (await db.execute(select(AuditEntry).where(AuditEntry.id > after)
                                 .order_by(AuditEntry.id).limit(batch))).scalars().all()
        if not rows:
            return Verdict(True, count)
        for row in rows:
            if row.id != prev_id + 1 or row.prev_hash != prev_hash:
                return Verdict(False, count, row.id, f"row {row.id}: the row before it was removed or altered")
            expected = row_hash(row.prev_hash, row.id, row.at, row.actor, row.action, row.subject, row.detail)
            if expected != row.hash:
                return Verdict(False, count, row.id, f"row {row.id}: its content was altered")
            prev_hash, prev_id, count = row.hash, row.id, count + 1
        after = rows[-1].id
        db.expunge_all()


async def history(db: AsyncSession, subject: str, limit: int = 500) -> list[AuditEntry]:
    query = select(AuditEntry).where(AuditEntry.subject == subject).order_by(AuditEntry.id).limit(limit)
    return list((await db.execute(query)).scalars())


async def count(db: AsyncSession, action: str | None = None) -> int:
    query = select(func.count()).select_from(AuditEntry)
    if action is not None:
        query = query.where(AuditEntry.action == action)
    return int((await db.execute(query)).scalar_one())
