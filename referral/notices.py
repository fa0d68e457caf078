"""Notices: short emails that say only that a referral of some urgency is waiting, with a portal link.

No name, place, category or detail ever goes into a notice. Rows in ``notices`` are the queue:
the worker claims a due row with a guarded UPDATE (so several processes never send one twice),
sends it through SMTP (aiosmtplib) or, with no mail server configured, writes it to the outbox
folder under HELPLINE_DATA_DIR, and records the result. A failure is retried with doubling waits.
"""

from __future__ import annotations

import datetime as dt
import email.message
import email.utils
import logging
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from helpline.db import Store
from helpline.i18n import default_locale, translate
from helpline.models import Agency, Notice, OfficerContact, Referral, Role, Staff
from helpline.settings import Settings

log = logging.getLogger("helpline.notices")
CLAIM_SECONDS = 120
MAX_BACKOFF_SECONDS = 3600
BATCH = 20


def portal_link(settings: Settings) -> str:
    origin = str(settings.public_origin) or f"http://{settings.host}:{settings.port}"
    return origin.rstrip("/") + "/referrals"


def _when(settings: Settings, moment: dt.datetime) -> str:
    return moment.astimezone(settings.timezone).strftime("%Y-%m-%d %H:%M")


def _subject(locale: str, urgency: str) -> str:
    if urgency == "emergency":
        return translate(locale, "An emergency referral is waiting for your agency")
    if urgency == "urgent":
        return translate(locale, "An urgent referral is waiting for your agency")
    return translate(locale, "A routine referral is waiting for your agency")


def waiting_text(locale: str, settings: Settings, urgency: str, deadline: dt.datetime | None) -> tuple[str, str]:
    subject = _subject(locale, urgency)
    body = (translate(locale, "A referral is waiting for your agency in the helpline's referral portal.") + "\n"
            + (translate(locale, "Please acknowledge it by %(deadline)s.") % {"deadline": _when(settings, deadline)}
               + "\n" if deadline else "")
            + "\n" + translate(locale, "Sign in to read it:") + " " + portal_link(settings) + "\n\n"
            + translate(locale, "By design this message says nothing about the child or the case."))
    return subject, body


def overdue_text(locale: str, settings: Settings, urgency: str, agency: Agency,
                 deadline: dt.datetime | None) -> tuple[str, str]:
    subject = translate(locale, "A referral to your agency has not been acknowledged in time")
    body = (translate(locale, "A referral of urgency '%(urgency)s' sent to %(agency)s was not acknowledged "
                              "by its deadline, %(deadline)s.")
            % {"urgency": urgency, "agency": agency.name,
               "deadline": _when(settings, deadline) if deadline else "-"} + "\n"
            + translate(locale, "Please make sure an officer opens it in the portal now:") + " "
            + portal_link(settings) + "\n\n"
            + translate(locale, "By design this message says nothing about the child or the case."))
    return subject, body


async def _officer_addresses(db: AsyncSession, agency_id: int) -> list[tuple[str, str]]:
    query = (select(OfficerContact.email, Staff.locale).join(Staff, Staff.id == OfficerContact.staff_id)
             .where(Staff.agency_id == agency_id, Staff.role == Role.OFFICER.value, Staff.disabled.is_(False))
             .order_by(Staff.id))
    return [(address, locale) for address, locale in (await db.execute(query)).all()]


def _queue(db: AsyncSession, to: str, kind: str, referral: Referral, subject: str, body: str,
           now: dt.datetime) -> Notice:
    notice = Notice(to=to, kind=kind, referral_id=referral.id, subject=subject, body=body, status="pending",
                    attempts=0, next_attempt_at=now, created_at=now)
    db.add(notice)
    return notice


async def queue_referral_waiting(db: AsyncSession, referral: Referral, agency: Agency, settings: Settings,
                                 now: dt.datetime) -> list[Notice]:
    """One notice per officer with an address; the agency's fallback contact when none has one."""
    targets = await _officer_addresses(db, agency.id)
    if not targets and agency.fallback_email:
        targets = [(agency.fallback_email, default_locale())]
    if not targets:
        log.warning("agency %s has no officer address and no fallback contact: no notice sent", agency.code)
    queued = []
    for address, locale in targets:
        subject, body = waiting_text(locale, settings, referral.urgency, referral.ack_deadline_at)
        queued.append(_queue(db, address, "referral_waiting", referral, subject, body, now))
    await db.flush()
    return queued


REPORTS_WAITING = "reports_waiting"
REPORT_NOTICE_INTERVAL = dt.timedelta(minutes=15)


def reports_text(locale: str, settings: Settings, waiting: int) -> tuple[str, str]:
    subject = translate(locale, "Reports from the public are waiting for your agency")
    body = (translate(locale, "Reports from the public waiting to be read in the helpline's referral portal: "
                              "%(count)d.") % {"count": waiting} + "\n"
            + translate(locale, "Sign in to read them:") + " " + portal_link(settings) + "\n\n"
            + translate(locale, "By design this message says nothing about the child or the case."))
    return subject, body


async def queue_reports_waiting(db: AsyncSession, referral: Referral, agency: Agency, settings: Settings,
                                now: dt.datetime, waiting: int) -> list[Notice]:
    """Public reports are batched: at most one notice per address per REPORT_NOTICE_INTERVAL, saying
    how many reports wait. While an address's notice is still pending, a new report only updates
    its count; after one went out, the next is due an interval later. So a scripted flood of
    reports mails each officer a few times an hour, not once per report."""
    targets = await _officer_addresses(db, agency.id)
    if not targets and agency.fallback_email:
        targets = [(agency.fallback_email, default_locale())]
    touched = []
    for address, locale in targets:
        subject, body = reports_text(locale, settings, waiting)
        latest = (await db.execute(select(Notice).where(Notice.to == address, Notice.kind == REPORTS_WAITING)
                                   .order_by(Notice.id.desc()).limit(1))).scalar_one_or_none()
        if latest is not None and latest.status == "pending" and latest.attempts == 0:
            latest.subject, latest.body, latest.referral_id = subject, body, referral.id
            touched.append(latest)
            continue
        notice = _queue(db, address, REPORTS_WAITING, referral, subject, body, now)
        if latest is not None:
            notice.next_attempt_at = max(now, (latest.sent_at or latest.created_at) + REPORT_NOTICE_INTERVAL)
        touched.append(notice)
    await db.flush()
    return touched


async def queue_overdue(db: AsyncSession, referral: Referral, agency: Agency, settings: Settings,
                        now: dt.datetime) -> Notice | None:
    if not agency.fallback_email:
        log.warning("agency %s has no fallback contact for an overdue referral", agency.code)
        return None
    if referral.source == "report":  # a flood of reports falls overdue together: one pending notice says it
        pending = (await db.execute(select(Notice).join(Referral, Referral.id == Notice.referral_id).where(
            Notice.to == agency.fallback_email, Notice.kind == "escalation", Notice.status == "pending",
            Referral.source == "report").limit(1))).scalar_one_or_none()
        if pending is not None:
            return pending
    subject, body = overdue_text(default_locale(), settings, referral.urgency, agency, referral.ack_deadline_at)
    notice = _queue(db, agency.fallback_email, "escalation", referral, subject, body, now)
    await db.flush()
    return notice


# -- delivery -------------------------------------------------------------------------------------


class Mailer(Protocol):
    async def send(self, notice: Notice, message: email.message.EmailMessage) -> None: ...


def build_message(settings: Settings, notice: Notice) -> email.message.EmailMessage:
    message = email.message.EmailMessage()
    message["From"] = str(settings.mail_from)
    message["To"] = notice.to
    message["Subject"] = notice.subject
    message["Date"] = email.utils.format_datetime(notice.created_at)
    message["Message-ID"] = email.utils.make_msgid(f"notice-{notice.id}", domain="helpline.invalid")
    message.set_content(notice.body)
    return message


class OutboxMailer:
    """The embedded default: each notice becomes a .eml file in the outbox folder, listed for admins."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    async def send(self, notice: Notice, message: email.message.EmailMessage) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self.folder / f"{notice.id:08d}-{notice.kind}.eml"
        partial = target.with_suffix(".part")
        partial.write_bytes(bytes(message))
        partial.replace(target)


class SmtpMailer:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def send(self, notice: Notice, message: email.message.EmailMessage) -> None:
        import aiosmtplib

        settings = self.settings
        await aiosmtplib.send(
            message, hostname=str(settings.smtp_host), port=int(settings.smtp_port),
            username=str(settings.smtp_username) or None, password=str(settings.smtp_password) or None,
            use_tls=settings.smtp_tls == "tls", start_tls=True if settings.smtp_tls == "starttls" else False,
            timeout=20)


def outbox_folder(settings: Settings) -> Path:
    return Path(settings.data_dir) / "outbox"


def make_mailer(settings: Settings) -> Mailer:
    return SmtpMailer(settings) if settings.smtp_host else OutboxMailer(outbox_folder(settings))


def backoff(settings: Settings, attempts: int) -> dt.timedelta:
    seconds = int(settings.notice_retry_seconds) * 2 ** max(0, attempts - 1)
    return dt.timedelta(seconds=min(seconds, MAX_BACKOFF_SECONDS))


def _due(now: dt.datetime) -> Any:
    return or_(and_(Notice.status == "pending", Notice.next_attempt_at <= now),
               and_(Notice.status == "sending", Notice.claimed_until < now))


async def claim(store: Store, notice_id: int, now: dt.datetime) -> Notice | None:
    """Takes one due notice for this process; None if another process took it first."""
    async with store.write() as db:
        result = await db.execute(
            update(Notice).where(Notice.id == notice_id, _due(now))
            .values(status="sending", claimed_until=now + dt.timedelta(seconds=CLAIM_SECONDS),
                    attempts=Notice.attempts + 1)
            .execution_options(synchronize_session=False))
        if getattr(result, "rowcount", 0) != 1:
            return None
        return await db.get(Notice, notice_id)


async def deliver_due(store: Store, mailer: Mailer, settings: Settings, now: dt.datetime) -> int:
    """Sends every notice due at ``now``; returns how many went out."""
    async with store.read() as db:
        ids = list((await db.execute(select(Notice.id).where(_due(now)).order_by(Notice.id).limit(BATCH))).scalars())
    sent = 0
    for notice_id in ids:
        notice = await claim(store, notice_id, now)
        if notice is None:
            continue
        error: str | None = None
        try:
            await mailer.send(notice, build_message(settings, notice))
        except Exception as exc:  # noqa: BLE001 - any failure to send is retried, never lost
            error = f"{type(exc).__name__}: {exc}"[:200]
        async with store.write() as db:
            row = await db.get(Notice, notice_id)
            if row is None:
                continue
            row.claimed_until = None
            if error is None:
                row.status, row.sent_at, row.last_error = "sent", now, None
                sent += 1
            else:
                row.last_error = error
                if row.attempts >= int(settings.notice_max_attempts):
                    row.status = "failed"
                    log.error("notice %d failed for good after %d attempts: %s", row.id, row.attempts, error)
                else:
                    row.status = "pending"
                    row.next_attempt_at = now + backoff(settings, row.attempts)
                    log.warning("notice %d not sent (attempt %d), retrying: %s", row.id, row.attempts, error)
    return sent


def public(notice: Notice) -> dict[str, Any]:
    return {"id": notice.id, "to": notice.to, "kind": notice.kind, "subject": notice.subject, "body": notice.body,
            "status": notice.status, "attempts": notice.attempts, "last_error": notice.last_error,
            "next_attempt_at": notice.next_attempt_at.isoformat(), "created_at": notice.created_at.isoformat(),
            "sent_at": notice.sent_at.isoformat() if notice.sent_at else None}


async def listing(db: AsyncSession, limit: int = 200) -> list[dict[str, Any]]:
    rows = (await db.execute(select(Notice).order_by(Notice.id.desc()).limit(limit))).scalars()
    return [public(n) for n in rows]
