"""Acknowledgement deadlines: an overdue referral escalates exactly once.

The state is in the database, not in memory, so a restart loses nothing and repeats nothing:
a referral is due when it is still ``sent`` past ``ack_deadline_at`` and has no ``ack_overdue``
row in ``referral_escalations``. Each escalation is one transaction that inserts that row (unique
per referral and kind: a second process, or a second run, fails on it and backs off), an Alert
of kind ``escalation`` for the supervisors on duty, a notice to the agency's fallback contact, a
referral event and an audit row.

The clock is ``now()``: real time, shifted for tests by the number of seconds in the file that
HELPLINE_TEST_CLOCK_FILE names (a test setting; production never sets it).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from pathlib import Path

from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError

from helpline.db import Store
from helpline.models import Agency, Alert, Escalation, Referral, ReferralEvent, utcnow
from helpline.security import audit
from helpline.settings import Settings
from referral import notices
from referral.model import ReferralState

log = logging.getLogger("helpline.deadlines")
CLOCK_ENV = "HELPLINE_TEST_CLOCK_FILE"
ACK_OVERDUE = "ack_overdue"
SYSTEM = "system:deadlines"


def now() -> dt.datetime:
    """The time the referral workflow runs on (see the module docstring)."""
    real = utcnow()
    clock_file = os.environ.get(CLOCK_ENV)
    if not clock_file:
        return real
    try:
        offset = float(Path(clock_file).read_text(encoding="utf-8").strip() or 0)
    except (OSError, ValueError):
        return real
    return real + dt.timedelta(seconds=offset)


async def overdue_ids(store: Store, at: dt.datetime, limit: int = 100) -> list[str]:
    async with store.read() as db:
        done = exists().where(Escalation.referral_id == Referral.id, Escalation.kind == ACK_OVERDUE)
        query = (select(Referral.id).where(Referral.state == ReferralState.SENT.value,
                                           Referral.ack_deadline_at <= at, ~done)
                 .order_by(Referral.ack_deadline_at).limit(limit))
        return list((await db.execute(query)).scalars())


async def escalate_one(store: Store, settings: Settings, referral_id: str, at: dt.datetime) -> bool:
    """Escalates one referral; False when it is no longer due or another run already did it."""
    try:
        async with store.write() as db:
            referral = await db.get(Referral, referral_id)
            if referral is None or referral.state != ReferralState.SENT.value or referral.ack_deadline_at is None \
                    or referral.ack_deadline_at > at:
                return False
            escalation = Escalation(referral_id=referral.id, kind=ACK_OVERDUE, created_at=at)
            db.add(escalation)
            await db.flush()  # the unique key: a second escalation of this referral stops here
            alert = Alert(kind="escalation", conversation_id=referral.conversation_id, created_at=at)
            db.add(alert)
            agency = await db.get(Agency, referral.agency_id)
            notice = await notices.queue_overdue(db, referral, agency, settings, at) if agency else None
            await db.flush()
            escalation.alert_id = alert.id
            escalation.notice_id = notice.id if notice else None
            detail = {"alert": alert.id, "notice": notice.id if notice else None,
                      "deadline": referral.ack_deadline_at.isoformat()}
            db.add(ReferralEvent(referral_id=referral.id, kind="escalation", actor=SYSTEM, detail=detail,
                                 created_at=at))
            await audit.record(db, SYSTEM, "referral.escalation", f"referral:{referral.id}", detail)
    except IntegrityError:
        return False
    log.info("referral %s escalated: not acknowledged by its deadline", referral_id)
    return True


async def escalate_due(store: Store, settings: Settings, at: dt.datetime) -> int:
    """Escalates every referral overdue at ``at``; returns how many this call escalated."""
    count = 0
    for referral_id in await overdue_ids(store, at):
        count += await escalate_one(store, settings, referral_id, at)
    return count
