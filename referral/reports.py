"""Public reports of illegal content: no account, a code to check the status, a proof of work
priced by pressure (ADR 0020). A report is a referral to the police's cyber unit, made and sent by
the same steps as the helpline's (referral/service.py)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from helpline import pack
from helpline.i18n import N_
from helpline.models import Agency, Referral, Staff
from helpline.security import audit, pow, throttle
from helpline.settings import Settings
from referral import repository
from referral.model import ReferralState
from referral.reading import iso
from referral.service import (
    MAX_CONTENT_BYTES,
    ReferralError,
    WrappedKey,
    add_event,
    agency_by_code,
    check_body,
    new_id,
    readers,
    send,
    store_keys,
    subject_of,
)

REPORT_KINDS = ("sexual_images", "grooming", "threats", "other")
REPORT_ACTOR = "public:report"
REPORTS_PER_MINUTE = 30  # reports a minute from which each more doubling makes the proof of work a bit harder
REPORT_POW = b"report-pow"
STATUS_LOOKUPS = 20  # look-ups of one code per STATUS_WINDOW; the first of each window is audited
STATUS_WINDOW = dt.timedelta(hours=1)
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud and typed on phones


def report_agency() -> str:
    """Who receives the public report page's reports: the helpline pack's cybercrime unit ([routing] cyber)."""
    return pack.active().route("cyber")


def new_report_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(12))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def report_code_hash(server_secret: bytes, code: str) -> str:
    normal = code.strip().upper().replace("-", "").replace(" ", "")
    return hmac.new(server_secret, b"report-code\x00" + normal.encode("ascii", "replace"), hashlib.sha256).hexdigest()


async def report_readers(db: AsyncSession) -> tuple[Agency, list[Staff]]:
    agency = await agency_by_code(db, report_agency())
    return agency, await readers(db, agency, None)


async def create_report(db: AsyncSession, settings: Settings, server_secret: bytes, *, kind: str, content: str,
                        keys: list[WrappedKey], now: dt.datetime) -> tuple[Referral, str]:
    """An anonymous report (no account) becomes a referral to the police cybercrime sector.

    The reporter's browser encrypts it to the readers' keys with a key pair made for this report;
    the reporter gets a code to check its status. Nothing about the reporter is stored.
    """
    if kind not in REPORT_KINDS:
        raise ReferralError(400, N_("Unknown kind of report."))
    # The flood guard needs nothing about the sender: the caller checked a proof of work priced by
    # how many reports arrive (check_report_proof); a report with one is never refused for the rest.
    agency, people = await report_readers(db)
    if not people:
        raise ReferralError(503, N_("Reports cannot be received right now. Please call %(helpline)s."), pack.numbers())
    code = new_report_code()
    referral = Referral(id=new_id(), agency_id=agency.id, urgency="urgent", chi_category=f"illegal_content.{kind}",
                        state=ReferralState.DRAFT.value, consent={}, content=check_body(content, MAX_CONTENT_BYTES),
                        created_by=None, source="report", report_code_hash=report_code_hash(server_secret, code),
                        created_at=now, updated_at=now)
    db.add(referral)
    await db.flush()
    await store_keys(db, referral, None, agency, keys, now)
    await add_event(db, referral, REPORT_ACTOR, "created", now=now, to_state=ReferralState.DRAFT.value,
                 detail={"agency": agency.code, "urgency": referral.urgency, "report": kind})
    await send(db, referral, REPORT_ACTOR, agency, settings, now)
    return referral, code


class ReportPowRequired(ReferralError):
    """A report without a fresh proof of work at the current difficulty; the answer carries a new challenge."""

    def __init__(self, challenge: dict[str, Any], wrong: bool) -> None:
        super().__init__(403, N_("The page must solve a small puzzle before it sends a report. Please send it again.")
                         if not wrong else N_("The puzzle answer is missing, old, used or too easy now. "
                                              "Please send the report again."))
        self.challenge = challenge


async def report_difficulty(db: AsyncSession, settings: Settings, now: dt.datetime) -> int:
    """Bits a report's proof must have now: HELPLINE_POW_BITS always (reports are rare; each costs
    a reporter a fraction of a second), one more each time the reports of the last minute double
    past REPORTS_PER_MINUTE, at most HELPLINE_POW_MAX_BITS. Counted each time: no state to share."""
    base, top = settings.pow_bits, settings.pow_max_bits
    count = await repository.recent_reports(db, now, pow.counting_limit(REPORTS_PER_MINUTE, base, top))
    return pow.difficulty(base, top, max(1.0, count / REPORTS_PER_MINUTE))


async def report_challenge(db: AsyncSession, settings: Settings, server_secret: bytes,
                           now: dt.datetime) -> dict[str, Any]:
    bits = await report_difficulty(db, settings, now)
    return pow.challenge(server_secret, b"", bits, purpose=REPORT_POW)


async def check_report_proof(db: AsyncSession, settings: Settings, server_secret: bytes, proof: Any,
                             now: dt.datetime) -> None:
    """Refuses a report without a fresh proof at the current difficulty, or with one already used
    (each proof is good for one report: its seed is kept as a keyed hash until it has expired)."""
    bits = await report_difficulty(db, settings, now)
    solved = pow.solved_bits(server_secret, b"", proof, purpose=REPORT_POW)
    if not pow.passes(solved, bits):
        raise ReportPowRequired(pow.challenge(server_secret, b"", bits, purpose=REPORT_POW), wrong=proof is not None)
    key = hmac.new(server_secret, b"report-pow-used:" + str(proof["seed"]).encode("ascii"), hashlib.sha256).hexdigest()
    keep = dt.timedelta(seconds=pow.CHALLENGE_SECONDS + 60)
    if await db.run_sync(lambda sync: throttle.count_in_window(sync, key, 1, keep)):
        raise ReportPowRequired(pow.challenge(server_secret, b"", bits, purpose=REPORT_POW), wrong=True)


async def report_status(db: AsyncSession, server_secret: bytes, code: str) -> dict[str, Any]:
    """What a reporter may learn with their code: whether the police acknowledged it, and when.

    Look-ups of one code are counted under a keyed hash that expires (helpline/security/throttle.py):
    STATUS_LOOKUPS an hour, then 429. Only the first look-up of a window writes an audit row, so a
    script asking again and again neither grows the audit log nor learns anything new."""
    code_hash = report_code_hash(server_secret, code)
    key = hmac.new(server_secret, b"report-status:" + code_hash.encode("ascii"), hashlib.sha256).hexdigest()
    counted = await db.run_sync(lambda sync: throttle.count_in_window(sync, key, STATUS_LOOKUPS, STATUS_WINDOW))
    if counted:
        raise ReferralError(429, N_("This code was checked many times. Please try again in an hour."))
    referral = await repository.by_report_code(db, code_hash)
    if referral is None:
        raise ReferralError(404, N_("There is no report with this code. Check the code and try again."))
    seen = hmac.new(server_secret, b"report-status-audited:" + code_hash.encode("ascii"), hashlib.sha256).hexdigest()
    if not await db.run_sync(lambda sync: throttle.count_in_window(sync, seen, 1, STATUS_WINDOW)):
        await audit.record(db, REPORT_ACTOR, "referral.report_status", subject_of(referral.id), {})
    return {"state": referral.state, "received_at": iso(referral.sent_at),
            "acknowledged": referral.acknowledged_at is not None, "acknowledged_at": iso(referral.acknowledged_at),
            "closed": referral.state == ReferralState.CLOSED.value}
