"""The supervisors' one list of what is overdue, across agencies (issue 19): what is waiting (an
acknowledgement or a promised action), on whom (the agency, and how far it has been escalated),
since when. Codes and times only; the page decrypts nothing for it. The listing is audited."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from helpline.models import Agency, Escalation, Referral, ReferralFollow, Staff
from helpline.security import audit
from referral.deadlines import ACK_OVERDUE
from referral.follow import OPEN
from referral.model import ReferralState

LIMIT = 500


def _item(referral: Referral, agency: Agency, waiting: str, since: dt.datetime, action: str | None,
          steps: list[dict[str, Any]]) -> dict[str, Any]:
    return {"id": referral.id, "agency": agency.code, "agency_name": agency.name, "agency_kind": agency.kind,
            "county": agency.county, "urgency": referral.urgency, "chi_category": referral.chi_category,
            "state": referral.state, "waiting_for": waiting, "action": action, "since": since.isoformat(),
            "escalated_to": steps[-1]["step"] if steps else None, "steps": steps}


async def _steps(db: AsyncSession, ids: list[str]) -> dict[str, list[Escalation]]:
    found: dict[str, list[Escalation]] = {}
    if ids:
        rows = (await db.execute(select(Escalation).where(Escalation.referral_id.in_(ids))
                                 .order_by(Escalation.created_at, Escalation.id))).scalars()
        for row in rows:
            found.setdefault(row.referral_id, []).append(row)
    return found


async def overdue(db: AsyncSession, staff: Staff, at: dt.datetime) -> list[dict[str, Any]]:
    """Every referral past its acknowledgement deadline or its action date, longest waiting first."""
    unacknowledged = (await db.execute(
        select(Referral, Agency).join(Agency, Agency.id == Referral.agency_id)
        .where(Referral.state == ReferralState.SENT.value, Referral.ack_deadline_at <= at).limit(LIMIT))).all()
    unacted = (await db.execute(
        select(Referral, Agency, ReferralFollow).join(Agency, Agency.id == Referral.agency_id)
        .join(ReferralFollow, ReferralFollow.referral_id == Referral.id)
        .where(Referral.state.in_(OPEN), ReferralFollow.due_at.is_not(None), ReferralFollow.due_at <= at)
        .limit(LIMIT))).all()
    steps = await _steps(db, [r.id for r, _ in unacknowledged] + [r.id for r, _, _ in unacted])
    items = []
    for referral, agency in unacknowledged:
        assert referral.ack_deadline_at is not None
        done = [{"step": "supervisors", "at": e.created_at.isoformat()}
                for e in steps.get(referral.id, []) if e.kind == ACK_OVERDUE]
        items.append(_item(referral, agency, "acknowledgement", referral.ack_deadline_at, None, done))
    for referral, agency, follow in unacted:
        assert follow.due_at is not None
        prefix = f"p{follow.plan}:"
        done = [{"step": e.kind.removeprefix(prefix), "at": e.created_at.isoformat()}
                for e in steps.get(referral.id, []) if e.kind.startswith(prefix) and not e.kind.endswith(":remind")]
        items.append(_item(referral, agency, "action", follow.due_at, follow.action_kind, done))
    items.sort(key=lambda item: (item["since"], item["id"]))
    await audit.record(db, staff.participant_id, "referral.overdue_list", "referrals", {"count": len(items)})
    return items
