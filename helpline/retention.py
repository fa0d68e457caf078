"""Retention: content goes HELPLINE_RETENTION_DAYS after a conversation or referral closes; counts stay.

What is removed (all of it ciphertext already; removing it also removes what a stolen key could
ever open):

- conversations ended or abandoned before the cut-off: every message, the wrapped conversation
  keys, transfer notes, and the case record's encrypted note with its wrapped note keys;
- referrals closed before the cut-off: the encrypted content (left empty), the encrypted bodies
  of their events (questions, answers, actions) and the wrapped referral keys;
- cases closed before the cut-off: the case key wrapped for each of its team (the team rows go),
  the follow-up texts, and each linked contact's note key sealed under the case key;
- shift handover notes written before the cut-off.

What stays, for statistics and the audit trail: the conversation rows (times, pre-chat answers,
`last_seq` = how many messages there were, feedback), case records without their note
(categories, risk, outcome), referral rows without their content (agency, urgency, category,
states, times), case rows and their follow-ups' dates without any text, referral events without
bodies (who moved what when), and the audit chain, which gets one `retention.purge` row per run
that removed anything.

`helpline purge` runs it once; every server process runs it at start and then every
HELPLINE_PURGE_INTERVAL_MINUTES, as a job of the app's scheduler (helpline/jobs.py). Runs are
idempotent, so any number of processes may run side by side.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select, text, update
from sqlalchemy.engine import CursorResult

from helpline.db import Store
from helpline.models import (
    Case,
    CaseMember,
    CaseRecord,
    CaseTask,
    Conversation,
    ConversationKey,
    ConversationState,
    HandoverNote,
    Message,
    Referral,
    ReferralEvent,
    ReferralKey,
    Transfer,
    utcnow,
)
from helpline.security import audit

if TYPE_CHECKING:
    from helpline.app import Services
    from helpline.jobs import Scheduler
    from helpline.settings import Settings

log = logging.getLogger("helpline.retention")

CLOSED_CONVERSATIONS = (ConversationState.ENDED, ConversationState.ABANDONED)


@dataclass(frozen=True)
class Purged:
    messages: int = 0
    conversation_keys: int = 0
    transfer_notes: int = 0
    case_notes: int = 0
    referral_contents: int = 0
    referral_event_bodies: int = 0
    referral_keys: int = 0
    case_keys: int = 0
    case_task_texts: int = 0
    handover_notes: int = 0

    @property
    def total(self) -> int:
        return sum(asdict(self).values())


def _count(result: Any) -> int:
    return int(result.rowcount or 0) if isinstance(result, CursorResult) else 0


def cutoff(settings: Settings, now: dt.datetime | None = None) -> dt.datetime:
    return (now or utcnow()) - dt.timedelta(days=int(settings.retention_days))


async def purge(store: Store, settings: Settings, now: dt.datetime | None = None) -> Purged:
    """Removes the content of everything closed before the cut-off, in one transaction."""
    before = cutoff(settings, now)
    old_convs = select(Conversation.id).where(Conversation.state.in_(CLOSED_CONVERSATIONS),
                                              Conversation.ended_at.is_not(None), Conversation.ended_at <= before)
    old_refs = select(Referral.id).where(Referral.closed_at.is_not(None), Referral.closed_at <= before)
    # A closed case's last change is its closing (reopening or any edit moves updated_at on).
    old_cases = select(Case.id).where(Case.status == "closed", Case.updated_at <= before)
    async with store.write() as db:
        done = Purged(
            messages=_count(await db.execute(delete(Message).where(Message.conversation_id.in_(old_convs)))),
            conversation_keys=_count(await db.execute(
                delete(ConversationKey).where(ConversationKey.conversation_id.in_(old_convs)))),
            transfer_notes=_count(await db.execute(
                update(Transfer).where(Transfer.conversation_id.in_(old_convs), Transfer.note.is_not(None))
                .values(note=None))),
            case_notes=_count(await db.execute(
                update(CaseRecord).where(CaseRecord.conversation_id.in_(old_convs), CaseRecord.note.is_not(None))
                .values(note=None, note_keys=None))) + _count(await db.execute(
                # A call, e-mail or visit (no conversation) keeps its note as long as a chat would (ADR 0025).
                update(CaseRecord).where(CaseRecord.conversation_id.is_(None), CaseRecord.started_at <= before,
                                         CaseRecord.note.is_not(None)).values(note=None, note_keys=None))),
            referral_contents=_count(await db.execute(
                update(Referral).where(Referral.id.in_(old_refs), Referral.content != "").values(content=""))),
            referral_event_bodies=_count(await db.execute(
                update(ReferralEvent).where(ReferralEvent.referral_id.in_(old_refs), ReferralEvent.body.is_not(None))
                .values(body=None))),
            referral_keys=_count(await db.execute(delete(ReferralKey).where(ReferralKey.referral_id.in_(old_refs)))),
            case_keys=_count(await db.execute(delete(CaseMember).where(CaseMember.case_id.in_(old_cases)))) + _count(
                await db.execute(update(CaseRecord).where(CaseRecord.case_id.in_(old_cases),
                                                          CaseRecord.case_note_key.is_not(None))
                                 .values(case_note_key=None))),
            case_task_texts=_count(await db.execute(
                update(CaseTask).where(CaseTask.case_id.in_(old_cases), CaseTask.text.is_not(None)).values(text=None))),
            handover_notes=_count(await db.execute(delete(HandoverNote).where(HandoverNote.created_at <= before))),
        )
        if done.total:
            await audit.record(db, "system", "retention.purge", "content",
                               {"before": before.isoformat(timespec="seconds"), **asdict(done)})
    if done.total:
        if settings.uses_sqlite:
            # secure_delete (helpline/db.py) zeroes the freed cells; this moves the zeroed pages into the
            # database file and empties the WAL, where the old pages would otherwise linger.
            async with store.sessionmaker() as db:
                await db.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        log.info("retention: purged %s", asdict(done))
    return done


def add_job(jobs: Scheduler, services: Services) -> None:
    """Hands the purge to the scheduler: at start, then every HELPLINE_PURGE_INTERVAL_MINUTES."""
    jobs.add("retention", 60.0 * int(services.settings.purge_interval_minutes),
             lambda: purge(services.store, services.settings))
