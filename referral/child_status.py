"""Where a child's case stands, for the child herself (issue 19, ADR 0034).

Only referrals of the child's own conversations whose consent record says the child agreed to be
told (``tell_child_status: child_consented``) are listed, and of each only the agency's name and the
dates of its steps: sent, confirmed, first action, finished, or passed back. Never the category,
the urgency, the outcome, the support or anything the referral says. The caller has proved it holds
the child's resume identity (its token, checked by hash as the chat's `resume` does).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from helpline.models import Agency, ChildIdentity, Conversation, Referral, ReferralFollow
from referral.service import TELL_CHILD

SHOWN_STATES = ("sent", "acknowledged", "in_progress", "closed", "returned")
MAX_SHOWN = 10


@dataclass(frozen=True)
class Step:
    kind: str  # sent, confirmed, acted, finished, returned
    at: dt.datetime


@dataclass(frozen=True)
class CaseStatus:
    agency: str
    agency_kind: str
    steps: tuple[Step, ...]


def _steps(referral: Referral, acted_at: dt.datetime | None) -> tuple[Step, ...]:
    found: list[tuple[str, dt.datetime | None]] = [("sent", referral.sent_at), ("confirmed", referral.acknowledged_at),
                                                   ("acted", acted_at)]
    if referral.state == "closed":
        found.append(("finished", referral.closed_at))
    if referral.state == "returned":
        found.append(("returned", referral.updated_at))
    return tuple(Step(kind, at) for kind, at in found if at is not None)


async def child_id_of(db: AsyncSession, token_hash: str) -> int | None:
    child = (await db.execute(select(ChildIdentity).where(ChildIdentity.token_hash == token_hash))).scalar_one_or_none()
    return child.id if child is not None else None


async def for_child(db: AsyncSession, child_id: int) -> list[CaseStatus]:
    """The referrals of this child's conversations she agreed to hear about, newest first."""
    rows = (await db.execute(
        select(Referral, Agency, ReferralFollow.acted_at)
        .join(Conversation, Conversation.id == Referral.conversation_id)
        .join(Agency, Agency.id == Referral.agency_id)
        .outerjoin(ReferralFollow, ReferralFollow.referral_id == Referral.id)
        .where(Conversation.child_id == child_id, Referral.state.in_(SHOWN_STATES))
        .order_by(Referral.sent_at.desc()).limit(MAX_SHOWN * 4))).all()
    shown: list[CaseStatus] = []
    for referral, agency, acted_at in rows:
        if (referral.consent or {}).get(TELL_CHILD) != "child_consented":
            continue
        shown.append(CaseStatus(agency.name, agency.kind, _steps(referral, acted_at)))
    return shown[:MAX_SHOWN]
