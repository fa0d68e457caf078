"""Reading referrals: the listing (authorised in its query, helpline.security.access) and one
referral with everything its reader's browser needs to decrypt it; both audited."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from helpline.i18n import N_
from helpline.models import Agency, Referral, Role, Staff
from helpline.security import audit
from referral import repository, threads
from referral.service import (
    HELPLINE_ROLES,
    URGENCY_RANK,
    ReferralError,
    missing_readers,
    reader_info,
    subject_of,
    visible,
)


def summary(referral: Referral, agency: Agency | None) -> dict[str, Any]:
    return {
        "id": referral.id, "state": referral.state, "urgency": referral.urgency,
        "chi_category": referral.chi_category, "outcome": referral.outcome, "return_reason": referral.return_reason,
        "agency": agency.code if agency else None, "agency_name": agency.name if agency else None,
        "consent": referral.consent, "conversation": referral.conversation_id, "source": referral.source,
        "created_at": iso(referral.created_at), "sent_at": iso(referral.sent_at),
        "ack_deadline_at": iso(referral.ack_deadline_at), "acknowledged_at": iso(referral.acknowledged_at),
        "closed_at": iso(referral.closed_at), "updated_at": iso(referral.updated_at),
        "thread_id": referral.thread_id,
    }


def iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


async def list_for(db: AsyncSession, staff: Staff, *, open_only: bool = False, limit: int = 200
                   ) -> list[dict[str, Any]]:
    """Officers: their agency's referrals, most urgent and nearest deadline first. Helpline: their own
    (supervisors: all), newest first. The listing itself is audited."""
    if staff.role == Role.OFFICER.value and staff.agency_id is None:
        return []
    if staff.role not in (Role.OFFICER.value, *HELPLINE_ROLES):
        raise ReferralError(403, N_("Your role may not do this."))
    rows = await repository.listing(db, staff, URGENCY_RANK, open_only=open_only, limit=limit)
    await audit.record(db, staff.participant_id, "referral.list", "referrals", {"count": len(rows)})
    return [summary(referral, agency) for referral, agency in rows]


async def read(db: AsyncSession, staff: Staff, referral_id: str, *, printed: bool = False) -> dict[str, Any]:
    """Everything the reader's browser needs to decrypt the referral and its thread; audited
    (a read for the print view says so in the audit row)."""
    referral = await visible(db, staff, referral_id)
    agency = await repository.agency(db, referral.agency_id)
    key = await repository.key_of(db, referral.id, staff.participant_id)
    events = await repository.events(db, referral.id)
    names = await _names(db, {e.actor for e in events})
    sender = await repository.staff(db, referral.created_by)
    await audit.record(db, staff.participant_id, "referral.read", subject_of(referral.id),
                       {"with_key": key is not None, **({"print": True} if printed else {})})
    history: list[dict[str, Any]] | None = None
    if staff.role == Role.SUPERVISOR.value:
        # Supervisors see the full history on one page: every step and every read, from the audit log.
        rows = await audit.history(db, subject_of(referral.id))
        history = [{"id": r.id, "at": iso(r.at), "actor": r.actor, "actor_name": names.get(r.actor, r.actor),
                    "action": r.action, "detail": r.detail} for r in rows]
        names.update(await _names(db, {r.actor for r in rows} - set(names)))
        for item in history:
            item["actor_name"] = names.get(str(item["actor"]), item["actor"])
    waiting = await missing_readers(db, referral) if key is not None else []
    thread = await threads.read(db, staff, referral)  # a referral to several agencies (ADR 0035)
    return {
        "thread": thread,
        "audit": history,
        "missing_readers": [reader_info(s) for s in waiting],
        **summary(referral, agency),
        "content": referral.content,
        "key": {"wrapped_key": key.wrapped_key, "wrapper_public_key": key.wrapper_public_key} if key else None,
        "sender": reader_info(sender) if sender else None,
        "events": [{"id": e.id, "kind": e.kind, "actor": e.actor, "actor_name": names.get(e.actor, e.actor),
                    "from": e.from_state, "to": e.to_state, "body": e.body, "detail": e.detail,
                    "at": iso(e.created_at)} for e in events],
    }


async def _names(db: AsyncSession, actors: set[str]) -> dict[str, str]:
    ids = [a.removeprefix("staff:") for a in actors if a.startswith("staff:")]
    if not ids:
        return {}
    return {f"staff:{public_id}": name for public_id, name in (await repository.names(db, ids)).items()}
