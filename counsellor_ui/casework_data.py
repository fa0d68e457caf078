"""Queries for cases (ADR 0026): who is on a case's team, a case if this member may act on it, the
contact records it groups. Every read of a case goes through `case_for`, which asks the one access
rule (helpline/security/access.py), so a forgotten check cannot open a case.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from chat import repository as repo
from helpline import validate, voice
from helpline.models import Case, CaseMember, CaseRecord, CaseTask, Conversation, Role, Staff
from helpline.security import access
from helpline.security.access import Action, Thing
from helpline.staffweb import Refused, StaffCall

KEY = validate.b64u(72, "'%(name)s' must be a wrapped key (72 bytes in base64url).")
PUBLIC_KEY = validate.b64u(32, "'%(name)s' must be a public key (32 bytes in base64url).")
PARTICIPANT = validate.string(48, 7, pattern="^staff:[A-Za-z0-9_-]{1,42}$")
TEAM_ROLES = (Role.COUNSELLOR, Role.SUPERVISOR)


async def member_row(db: AsyncSession, case_id: int, staff_id: int) -> CaseMember | None:
    return (await db.execute(select(CaseMember).where(CaseMember.case_id == case_id,
                                                      CaseMember.staff_id == staff_id))).scalar_one_or_none()


async def case_for(db: AsyncSession, call: StaffCall, case_id: int, action: Action) -> Case:
    """The case if this staff member may take the action on it; else 404 or 403 (audited)."""
    case = await db.get(Case, case_id)
    if case is None:
        raise Refused(404, call.t("No such case."))
    member = await member_row(db, case_id, call.staff.id) is not None
    relation = access.case_file_relation(call.staff.id, call.staff.role, owner_id=case.owner_id, member=member)
    if not access.may(call.staff.role, relation, Thing.CASE_FILE, action):
        raise Refused(403, call.t("This case is not yours."))
    return case


async def record_for(db: AsyncSession, call: StaffCall, record_id: int) -> CaseRecord:
    """A contact record this staff member may write (its author, a granted colleague, a supervisor).
    Works for a record with no conversation (a call, a visit) too: its author is ``counsellor_id``."""
    record = await db.get(CaseRecord, record_id)
    if record is None:
        raise Refused(404, call.t("No such contact record."))
    conv_id = getattr(record, "conversation_id", None)
    granted = bool(conv_id) and await repo.is_granted(db, str(conv_id), call.staff.id)
    relation = access.conversation_relation(call.staff.id, call.staff.role, holder_id=record.counsellor_id,
                                            granted=granted)
    if not access.may(call.staff.role, relation, Thing.CASE, Action.WRITE):
        raise Refused(403, call.t("This contact record is not yours."))
    return record


async def colleague(db: AsyncSession, call: StaffCall, participant: str) -> Staff:
    """A counsellor or supervisor with an org-signed key, named by participant id."""
    staff = (await db.execute(select(Staff).where(
        Staff.public_id == participant.removeprefix("staff:")))).scalar_one_or_none()
    if staff is None or staff.disabled or staff.role not in TEAM_ROLES:
        raise Refused(404, call.t("No such colleague."))
    if staff.public_key is None or staff.key_signature is None:
        raise Refused(409, call.t("This colleague has no signed key yet."))
    return staff


async def team(db: AsyncSession, case: Case) -> list[dict[str, Any]]:
    rows = (await db.execute(select(Staff, CaseMember).join(CaseMember, CaseMember.staff_id == Staff.id)
                             .where(CaseMember.case_id == case.id).order_by(CaseMember.added_at))).all()
    return [{"id": staff.participant_id, "name": staff.display_name, "role": staff.role,
             "owner": staff.id == case.owner_id} for staff, _ in rows]


async def timeline(db: AsyncSession, case: Case, reader_participant: str) -> list[dict[str, Any]]:
    """The case's contacts, oldest first: metadata for the team; the note with the key wrapped for
    this reader (if any) and the note key sealed under the case key."""
    rows = (await db.execute(select(CaseRecord, Staff).join(Staff, Staff.id == CaseRecord.counsellor_id)
                             .where(CaseRecord.case_id == case.id).order_by(CaseRecord.created_at))).all()
    out = []
    for record, author in rows:
        keys = (record.note_keys or {}).get("keys", {})
        out.append({
            "record": record.id, "conv": getattr(record, "conversation_id", None),
            "channel": getattr(record, "channel", None) or "chat", "author": author.display_name,
            "created_at": record.created_at.isoformat(), "contact_type": record.contact_type,
            "primary_category": record.primary_category, "risk": record.risk, "outcome": record.outcome,
            "municipality": record.municipality,  # the services finder of the case view (issue 19)
            "note": record.note, "case_note_key": record.case_note_key,
            "note_key": ({"epk": record.note_keys["epk"], "wrapped": keys[reader_participant]}
                         if record.note_keys and reader_participant in keys else None)})
    # Voice calls of a chat contact (issue 24, ADR 0033): their length, shown under the contact.
    convs = [str(item["conv"]) for item in out if item["conv"]]
    calls = await voice.calls_of(db, convs)
    for item in out:
        item["voice_calls"] = calls.get(str(item["conv"]), [])
    return out


async def tasks_of(db: AsyncSession, case_id: int) -> list[dict[str, Any]]:
    rows = (await db.execute(select(CaseTask, Staff).join(Staff, Staff.id == CaseTask.owner_id)
                             .where(CaseTask.case_id == case_id).order_by(CaseTask.due_at))).all()
    return [task_dict(task, owner) for task, owner in rows]


def task_dict(task: CaseTask, owner: Staff) -> dict[str, Any]:
    return {"id": task.id, "case": task.case_id, "owner": owner.participant_id, "owner_name": owner.display_name,
            "due_at": task.due_at.isoformat(), "done_at": task.done_at.isoformat() if task.done_at else None,
            "text": task.text, "overdue_flagged": task.flagged_at is not None}


async def earlier_cases(db: AsyncSession, record: CaseRecord) -> list[int]:
    """Cases holding earlier contacts of the same resume identity (a returning child, ADR 0009)."""
    conv_id = getattr(record, "conversation_id", None)
    if not conv_id:
        return []
    conv = await db.get(Conversation, conv_id)
    if conv is None:
        return []
    query = (select(CaseRecord.case_id).join(Conversation, Conversation.id == CaseRecord.conversation_id)
             .where(Conversation.child_id == conv.child_id, CaseRecord.case_id.is_not(None),
                    CaseRecord.id != record.id).distinct())
    return sorted({int(c) for c in (await db.execute(query)).scalars() if c is not None})
