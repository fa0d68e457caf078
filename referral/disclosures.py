"""The two-person rule for sharing what a child said without their consent (issue 9, ADR 0013).

The server holds no keys, so it cannot stop anyone from reading what they may read; it can stop
a referral from being wrapped for an agency. A referral whose consent record marks an item
``shared_without_consent_for_safety`` is accepted only under an approved disclosure: asked by the
person handling the chat, with a reason, and approved by a *different* person who is a
supervisor, with a reason. An approval covers the items it names, for one referral. Reasons are
codes from short lists, never free text, because they go into the permanent audit log and must
never carry the child's words.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from helpline.i18n import N_
from helpline.models import Conversation, Disclosure, Role, Staff
from helpline.security import access, audit
from helpline.security.access import Action, Thing
from referral import repository
from referral.service import CONSENT_ITEMS, ReferralError

WITHOUT_CONSENT = "shared_without_consent_for_safety"
ASK_REASONS = ("child_life_at_risk", "other_life_at_risk", "serious_harm_now")
APPROVE_REASONS = ("risk_confirmed",)
REFUSE_REASONS = ("risk_not_confirmed", "consent_still_possible", "other_route")
PENDING, APPROVED, REFUSED, USED = "pending", "approved", "refused", "used"


def as_dict(item: Disclosure, names: dict[int, str]) -> dict[str, Any]:
    return {"id": item.id, "conv": item.conversation_id, "items": list(item.items), "state": item.state,
            "asked_by": names.get(item.asked_by, ""), "asked_reason": item.asked_reason,
            "decided_by": names.get(item.decided_by or 0, ""), "decided_reason": item.decided_reason,
            "referral": item.referral_id, "created_at": item.created_at.isoformat(),
            "decided_at": item.decided_at.isoformat() if item.decided_at else None}


async def _may_handle(db: AsyncSession, staff: Staff, conversation_id: str) -> Conversation:
    conversation = await repository.conversation(db, conversation_id)
    if conversation is None:
        raise ReferralError(404, N_("There is no such conversation."))
    relation = access.conversation_relation(staff.id, staff.role, holder_id=conversation.counsellor_id,
                                            granted=await repository.is_granted(db, conversation_id, staff.id))
    if not access.may(staff.role, relation, Thing.CONVERSATION, Action.REFER):
        raise ReferralError(403, N_("Only the person handling this chat can ask."))
    return conversation


async def ask(db: AsyncSession, staff: Staff, conversation_id: str, items: list[str], reason: str,
              now: dt.datetime) -> Disclosure:
    """The person handling the chat asks to share items without the child's consent."""
    if reason not in ASK_REASONS:
        raise ReferralError(400, N_("Choose why a life is at risk."))
    if not items or any(item not in CONSENT_ITEMS for item in items):
        raise ReferralError(400, N_("Choose what would be shared."))
    await _may_handle(db, staff, conversation_id)
    disclosure = Disclosure(conversation_id=conversation_id, items=sorted(set(items)), state=PENDING,
                            asked_by=staff.id, asked_reason=reason, created_at=now)
    db.add(disclosure)
    await db.flush()
    await audit.record(db, staff.participant_id, "disclosure.asked", f"conv:{conversation_id}",
                       {"disclosure": disclosure.id, "items": disclosure.items, "reason": reason})
    return disclosure


async def decide(db: AsyncSession, supervisor: Staff, disclosure_id: int, approve: bool, reason: str,
                 now: dt.datetime) -> Disclosure:
    """A second person, a supervisor, approves or refuses; both names and reasons are audited."""
    if supervisor.role != Role.SUPERVISOR.value:
        raise ReferralError(403, N_("Only a supervisor can decide."))
    if reason not in (APPROVE_REASONS if approve else REFUSE_REASONS):
        raise ReferralError(400, N_("Choose a reason for your decision."))
    disclosure = (await db.execute(select(Disclosure).where(Disclosure.id == disclosure_id)
                                   .with_for_update())).scalar_one_or_none()
    if disclosure is None:
        raise ReferralError(404, N_("There is no such request."))
    if disclosure.asked_by == supervisor.id:
        raise ReferralError(403, N_("A second person must decide: you asked for this yourself."))
    if disclosure.state != PENDING:
        raise ReferralError(409, N_("This request was already decided."))
    disclosure.state = APPROVED if approve else REFUSED
    disclosure.decided_by, disclosure.decided_reason, disclosure.decided_at = supervisor.id, reason, now
    asker = await db.get(Staff, disclosure.asked_by)
    await audit.record(db, supervisor.participant_id, "disclosure.approved" if approve else "disclosure.refused",
                       f"conv:{disclosure.conversation_id}",
                       {"disclosure": disclosure.id, "asked_by": asker.participant_id if asker else None,
                        "asked_reason": disclosure.asked_reason, "reason": reason, "items": disclosure.items})
    return disclosure


async def use_for_referral(db: AsyncSession, staff: Staff, conversation_id: str | None, consent: dict[str, str],
                           referral_id: str) -> Disclosure | None:
    """Called by referral.service.create: items shared without consent need an approval, used once."""
    without = sorted(item for item, basis in consent.items() if basis == WITHOUT_CONSENT)
    if not without:
        return None
    if conversation_id is None:
        raise ReferralError(403, N_("Sharing without the child's consent needs a supervisor's approval."))
    candidates = (await db.execute(select(Disclosure).where(
        Disclosure.conversation_id == conversation_id, Disclosure.state == APPROVED)
        .order_by(Disclosure.id).with_for_update())).scalars().all()
    for disclosure in candidates:
        if set(without) <= set(disclosure.items):
            disclosure.state, disclosure.referral_id = USED, referral_id
            await audit.record(db, staff.participant_id, "disclosure.used", f"referral:{referral_id}",
                               {"disclosure": disclosure.id, "items": without})
            return disclosure
    raise ReferralError(403, N_("Sharing without the child's consent needs a supervisor's approval."))


async def listing(db: AsyncSession, staff: Staff, conversation_id: str | None) -> list[dict[str, Any]]:
    """Supervisors see pending requests (and any chat's); others see the ones they asked."""
    query = select(Disclosure).order_by(Disclosure.id)
    if conversation_id is not None:
        query = query.where(Disclosure.conversation_id == conversation_id)
    elif staff.role == Role.SUPERVISOR.value:
        query = query.where(Disclosure.state == PENDING)
    if staff.role != Role.SUPERVISOR.value:
        query = query.where(Disclosure.asked_by == staff.id)
    rows = (await db.execute(query.limit(200))).scalars().all()
    ids = {r.asked_by for r in rows} | {r.decided_by for r in rows if r.decided_by}
    names = {row[0]: row[1] for row in await db.execute(select(Staff.id, Staff.display_name).where(Staff.id.in_(ids)))}
    return [as_dict(r, names) for r in rows]
