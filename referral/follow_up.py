"""Chasing an action date (issue 19): a reminder before it, then escalation step by step after it.

For each open referral's date (``referral_follow``) the steps are, in order:

1. ``remind``        — before the date (HELPLINE_FOLLOW_REMINDER_HOURS, at most half the time given):
                       a notice to the agency's officers;
2. ``agency``        — at the date: a notice to the agency's fallback contact;
3. ``supervisors``   — a step later (HELPLINE_FOLLOW_STEP_HOURS): an alert for the helpline's supervisors;
4. ``state_agency``  — a step after that: a notice to the State Agency (HELPLINE_FOLLOW_STATE_AGENCY;
                       empty stops at the supervisors).

As with the acknowledgement deadline (deadlines.py) the state is in the database: a step is a
``referral_escalations`` row of kind ``p<plan>:<step>`` (unique per referral, so two processes or a
restart never repeat one), written in one transaction with its alert or notice, a referral event and
an audit row. A run takes at most one step per referral, so the steps come one after another even
after a long stop. A reminder whose date has already passed is skipped.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from helpline.db import Store
from helpline.i18n import default_locale, translate
from helpline.models import Agency, Alert, Escalation, Notice, Referral, ReferralEvent, ReferralFollow
from helpline.security import audit
from helpline.settings import Settings
from referral import notices
from referral.follow import OPEN

log = logging.getLogger("helpline.follow_up")
SYSTEM = "system:follow-up"
STEPS = ("remind", "agency", "supervisors", "state_agency")


def kind_of(plan: int, step: str) -> str:
    return f"p{plan}:{step}"


def schedule(follow: ReferralFollow, settings: Settings) -> list[tuple[str, dt.datetime]]:
    """When each step of this date falls due."""
    assert follow.due_at is not None
    due = follow.due_at
    before = min(dt.timedelta(hours=float(settings.follow_reminder_hours)), (due - follow.set_at) / 2)
    step = dt.timedelta(hours=float(settings.follow_step_hours))
    times = [("remind", due - before), ("agency", due), ("supervisors", due + step)]
    if settings.follow_state_agency:
        times.append(("state_agency", due + 2 * step))
    return times


def next_step(follow: ReferralFollow, settings: Settings, done: set[str], at: dt.datetime) -> str | None:
    """The first step not yet taken, if its time has come (a passed reminder is skipped)."""
    assert follow.due_at is not None
    for step, when in schedule(follow, settings):
        if kind_of(follow.plan, step) in done or (step == "remind" and at >= follow.due_at):
            continue
        return step if when <= at else None
    return None


async def _candidates(store: Store, settings: Settings, at: dt.datetime, limit: int = 200
                      ) -> list[tuple[str, int, str]]:
    horizon = at + dt.timedelta(hours=float(settings.follow_reminder_hours))
    async with store.read() as db:
        query = (select(ReferralFollow, Referral.state).join(Referral, Referral.id == ReferralFollow.referral_id)
                 .where(ReferralFollow.due_at.is_not(None), ReferralFollow.due_at <= horizon,
                        Referral.state.in_(OPEN))
                 .order_by(ReferralFollow.due_at).limit(limit))
        rows = (await db.execute(query)).all()
        ids = [row[0].referral_id for row in rows]
        kinds = (await db.execute(select(Escalation.referral_id, Escalation.kind)
                                  .where(Escalation.referral_id.in_(ids)))).all() if ids else []
    done: dict[str, set[str]] = {}
    for referral_id, kind in kinds:
        done.setdefault(referral_id, set()).add(kind)
    due = []
    for follow, _state in rows:
        step = next_step(follow, settings, done.get(follow.referral_id, set()), at)
        if step is not None:
            due.append((follow.referral_id, follow.plan, step))
    return due


def _text(locale: str, settings: Settings, step: str, agency: Agency, due: dt.datetime) -> tuple[str, str]:
    when = notices._when(settings, due)
    link = notices.portal_link(settings)
    privacy = translate(locale, "By design this message says nothing about the child or the case.")
    if step == "remind":
        subject = translate(locale, "An action on a referral is due soon")
        line = translate(locale, "Your agency said it would act on a referral by %(deadline)s.") % {"deadline": when}
    else:
        subject = translate(locale, "An action promised on a referral is overdue")
        line = translate(locale, "%(agency)s said it would act on a referral by %(deadline)s, and has not "
                                 "recorded it yet.") % {"agency": agency.name, "deadline": when}
    return subject, line + "\n" + translate(locale, "Sign in to see it:") + " " + link + "\n\n" + privacy


async def _targets(db: AsyncSession, settings: Settings, step: str, agency: Agency) -> list[tuple[str, str]]:
    if step == "remind":
        found = await notices._officer_addresses(db, agency.id)
        return found or ([(agency.fallback_email, default_locale())] if agency.fallback_email else [])
    if step == "agency":
        return [(agency.fallback_email, default_locale())] if agency.fallback_email else []
    state = (await db.execute(select(Agency).where(Agency.code == str(settings.follow_state_agency))))\
        .scalar_one_or_none()
    if state is None:
        return []
    found = [(state.fallback_email, default_locale())] if state.fallback_email else []
    return found + [t for t in await notices._officer_addresses(db, state.id) if t not in found]


async def _notify(db: AsyncSession, settings: Settings, referral: Referral, step: str, agency: Agency,
                  due: dt.datetime, at: dt.datetime) -> list[int]:
    sent: list[Notice] = []
    for address, locale in await _targets(db, settings, step, agency):
        subject, body = _text(locale, settings, step, agency, due)
        kind = "action_reminder" if step == "remind" else "action_overdue"
        sent.append(notices._queue(db, address, kind, referral, subject, body, at))
    await db.flush()
    if not sent:
        log.warning("referral %s: no address for the %s step of its action date", referral.id, step)
    return [n.id for n in sent]


async def take_step(store: Store, settings: Settings, referral_id: str, plan: int, step: str,
                    at: dt.datetime) -> bool:
    """Takes one step of one date; False when the date changed, the step is no longer due, or another
    run took it first."""
    try:
        async with store.write() as db:
            follow = await db.get(ReferralFollow, referral_id)
            referral = await db.get(Referral, referral_id)
            if follow is None or referral is None or follow.due_at is None or referral.state not in OPEN \
                    or follow.plan != plan:
                return False
            escalation = Escalation(referral_id=referral_id, kind=kind_of(follow.plan, step), created_at=at)
            db.add(escalation)
            await db.flush()  # the unique key: a second run of this step stops here
            agency = await db.get(Agency, referral.agency_id)
            assert agency is not None
            detail: dict[str, Any] = {"step": step, "plan": follow.plan, "due": follow.due_at.isoformat(),
                                      "agency": agency.code}
            if step == "supervisors":
                alert = Alert(kind="escalation", conversation_id=referral.conversation_id, created_at=at)
                db.add(alert)
                await db.flush()
                escalation.alert_id = detail["alert"] = alert.id
            else:
                ids = await _notify(db, settings, referral, step, agency, follow.due_at, at)
                escalation.notice_id = ids[0] if ids else None
                detail["notices"] = ids
            event = "reminder" if step == "remind" else "escalation"
            db.add(ReferralEvent(referral_id=referral_id, kind=event, actor=SYSTEM, detail=detail, created_at=at))
            await audit.record(db, SYSTEM, f"referral.{event}", f"referral:{referral_id}", detail)
    except IntegrityError:
        return False
    log.info("referral %s: action date step %s", referral_id, step)
    return True


async def follow_up_due(store: Store, settings: Settings, at: dt.datetime) -> int:
    """Takes every step due at ``at`` (at most one per referral); returns how many this call took."""
    count = 0
    for referral_id, plan, step in await _candidates(store, settings, at):
        count += await take_step(store, settings, referral_id, plan, step, at)
    return count
