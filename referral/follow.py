"""Following a referral through after it is acknowledged (issue 19): what the agency will do and by
when, and which support the child received when it closes.

Each open (acknowledged or in-progress) referral has one ``referral_follow`` row: the planned action's
kind and its date. Acknowledging sets the urgency's default date (HELPLINE_ACTION_*_HOURS); the
officer may then say what they will do and by when; recording an action fulfils the plan and the
next date is the default again, counted from then, until the referral is closed. Each new date is a
new ``plan`` number, so referral/follow_up.py reminds and escalates each date once. Runs inside the
caller's write transaction; every change is a referral event and an audit row.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from helpline.i18n import N_
from helpline.models import Referral, ReferralFollow, ReferralSupport, Role, Staff
from helpline.settings import Settings
from referral import service
from referral.model import ReferralState
from referral.service import ReferralError

SUPPORT_KINDS = ("psychological", "social", "legal", "medical", "police_investigation", "court", "placement",
                 "none")
NONE_REASONS = ("not_needed", "family_refused", "child_refused", "child_not_found", "no_service_available",
                "other")
MAX_PLAN_DAYS = 366
OPEN = (ReferralState.ACKNOWLEDGED.value, ReferralState.IN_PROGRESS.value)


def default_due(settings: Settings, urgency: str, now: dt.datetime) -> dt.datetime:
    hours: float = getattr(settings, f"action_{urgency}_hours")
    return now + dt.timedelta(hours=hours)


async def follow_of(db: AsyncSession, referral_id: str) -> ReferralFollow | None:
    return await db.get(ReferralFollow, referral_id)


async def _set(db: AsyncSession, referral: Referral, actor: Staff | str, kind: str | None, due: dt.datetime,
               now: dt.datetime, *, event: str, body: str | None = None) -> ReferralFollow:
    row = await follow_of(db, referral.id)
    name = actor if isinstance(actor, str) else actor.participant_id
    if row is None:
        row = ReferralFollow(referral_id=referral.id, plan=1, action_kind=kind, due_at=due, set_by=name, set_at=now)
        db.add(row)
    else:
        row.plan, row.action_kind, row.due_at, row.set_by, row.set_at = row.plan + 1, kind, due, name, now
    await service.add_event(db, referral, actor, event, now=now, body=body,
                            detail={"plan": row.plan, "due": due.isoformat(), **({"action": kind} if kind else {})})
    return row


async def on_acknowledged(db: AsyncSession, referral: Referral, officer: Staff, settings: Settings,
                          now: dt.datetime) -> ReferralFollow:
    """The default date of the urgency, until the officer says what they will do and by when."""
    return await _set(db, referral, officer, None, default_due(settings, referral.urgency, now), now, event="plan")


async def on_action(db: AsyncSession, referral: Referral, officer: Staff, settings: Settings,
                    now: dt.datetime) -> ReferralFollow:
    """An action taken fulfils the plan; the referral is followed on to the next default date."""
    row = await _set(db, referral, officer, None, default_due(settings, referral.urgency, now), now, event="plan")
    row.acted_at = row.acted_at or now  # the pathway's "action taken" (stats/pathway.py)
    return row


def parse_due(text: str, now: dt.datetime) -> dt.datetime:
    """An ISO date (end of that day, UTC) or date and time; in the future, within a year."""
    try:
        if len(text) == 10:
            due = dt.datetime.fromisoformat(text).replace(hour=23, minute=59, tzinfo=dt.UTC)
        else:
            due = dt.datetime.fromisoformat(text)
            due = due.replace(tzinfo=dt.UTC) if due.tzinfo is None else due.astimezone(dt.UTC)
    except ValueError:
        raise ReferralError(400, N_("The date must be a date such as 2026-05-03.")) from None
    if due <= now or due > now + dt.timedelta(days=MAX_PLAN_DAYS):
        raise ReferralError(400, N_("The date must be in the future, within a year."))
    return due


async def plan(db: AsyncSession, officer: Staff, referral_id: str, kind: str, due_text: str, body: str | None,
               now: dt.datetime) -> ReferralFollow:
    """The officer records the action the agency will take and by when."""
    if kind not in service.ACTION_KINDS:
        raise ReferralError(400, N_("Unknown kind of action."))
    due = parse_due(due_text, now)
    body = service.check_body(body) if body is not None else None
    referral = await service.visible(db, officer, referral_id, lock=True)
    if officer.role != Role.OFFICER.value:
        raise ReferralError(403, N_("Only the agency's officers do this."))
    if referral.state not in OPEN:
        raise ReferralError(409, N_("Acknowledge the referral before you plan an action."))
    return await _set(db, referral, officer, kind, due, now, event="plan", body=body)


def check_support(kinds: list[str], reason: str | None) -> tuple[list[str], str | None]:
    """Kinds of support (several where true), or ``none`` alone with its reason."""
    chosen = list(dict.fromkeys(kinds))
    if not chosen or any(k not in SUPPORT_KINDS for k in chosen):
        raise ReferralError(400, N_("Say which support the child received, or none and why."))
    if "none" in chosen and (len(chosen) > 1 or reason not in NONE_REASONS):
        raise ReferralError(400, N_("'None' goes alone, with the reason why."))
    if "none" not in chosen and reason is not None:
        raise ReferralError(400, N_("A reason is given only when the child received no support."))
    return chosen, reason


async def on_closed(db: AsyncSession, referral: Referral, officer: Staff, support: list[str] | None,
                    reason: str | None, now: dt.datetime) -> None:
    """Closing ends the follow-through and records the support the child received (when given)."""
    row = await follow_of(db, referral.id)
    if row is not None:
        row.due_at = None
    if support is None:
        return
    kinds, why = check_support(support, reason)
    for kind in kinds:
        db.add(ReferralSupport(referral_id=referral.id, kind=kind, reason=why if kind == "none" else None,
                               created_at=now))
    await service.add_event(db, referral, officer, "support", now=now,
                            detail={"support": kinds, **({"reason": why} if why else {})})


async def stop(db: AsyncSession, referral_id: str) -> None:
    """A returned referral is not followed any more (until it is sent and acknowledged again)."""
    row = await follow_of(db, referral_id)
    if row is not None:
        row.due_at = None


async def status(db: AsyncSession, referral_id: str) -> dict[str, Any]:
    """What a reader's page shows: the planned action and its date, and the support recorded."""
    row = await follow_of(db, referral_id)
    support = (await db.execute(select(ReferralSupport).where(ReferralSupport.referral_id == referral_id)
                                .order_by(ReferralSupport.id))).scalars().all()
    return {
        "plan": None if row is None or row.due_at is None else {
            "number": row.plan, "action": row.action_kind, "due_at": row.due_at.isoformat(),
            "set_at": row.set_at.isoformat()},
        "support": [s.kind for s in support],
        "support_reason": next((s.reason for s in support if s.reason), None),
    }
