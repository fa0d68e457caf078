"""One referral to several agencies at once (issue 19, ADR 0035), so the child tells her story once.

Each agency gets a *leg*: a referral of its own (`referral.service.create`) with its own key, the
details the counsellor chose to share with that agency, its own acknowledgement, action date,
escalations and outcome, counted per leg by the statistics and the overdue list. The legs share a
*thread*: a key of its own wrapped for every reader of every leg (each agency's officers, the
supervisors, the counsellor) and messages sealed under it in the browser. A leg's details stay
sealed for its own readers only: an officer of one agency holds no key to another agency's leg, and
the server refuses to show it to them (`service.visible`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from helpline.i18n import N_
from helpline.models import Agency, Referral, ReferralThread, ReferralThreadKey, ReferralThreadMessage, Role, Staff
from helpline.security import audit
from helpline.settings import Settings
from referral import readable, repository, service
from referral.model import ReferralState
from referral.service import ReferralError, WrappedKey

MAX_LEGS = 5


@dataclass(frozen=True)
class Leg:
    """What one agency gets: its code, the consent record and the details sealed for its readers."""

    agency: str
    consent: dict[str, Any]
    content: str
    keys: list[WrappedKey]


async def readers(db: AsyncSession, agencies: list[Agency], creator: Staff | None) -> list[Staff]:
    """Everyone the thread key is wrapped for: every reader of every leg, once each."""
    found: dict[int, Staff] = {}
    for agency in agencies:
        for person in await service.readers(db, agency, creator):
            found.setdefault(person.id, person)
    return sorted(found.values(), key=lambda s: s.id)


async def check_agencies(db: AsyncSession, codes: list[str]) -> list[Agency]:
    """The legs' agencies: at least two, at most MAX_LEGS, each active, named once, and readable."""
    if not 2 <= len(codes) <= MAX_LEGS:
        raise ReferralError(400, N_("A referral to several agencies names from 2 to %(most)d agencies."),
                            {"most": MAX_LEGS})
    agencies: list[Agency] = []
    for code in codes:
        agency = await service.agency_by_code(db, code)
        if any(a.id == agency.id for a in agencies):
            raise ReferralError(400, N_("%(agency)s is named twice; each agency gets one part of the referral."),
                                {"agency": agency.name})
        await readable.require(db, agency)
        agencies.append(agency)
    return agencies


def _check_keys(allowed: list[Staff], keys: list[WrappedKey], wrapper: str | None) -> None:
    ids = {s.participant_id for s in allowed}
    given = {k.reader for k in keys}
    if len(given) != len(keys) or len(keys) > service.MAX_READERS:
        raise ReferralError(400, N_("Each reader must get exactly one wrapped key."))
    strangers = sorted(given - ids)
    if strangers:
        raise ReferralError(400, N_("%(reader)s may not read this thread."), {"reader": strangers[0][:48]})
    missing = sorted(ids - given)
    if missing:
        raise ReferralError(400, N_("The thread key is not wrapped for %(reader)s."), {"reader": missing[0]})
    if any(k.wrapper_public_key != wrapper for k in keys):
        raise ReferralError(400, N_("Keys must be wrapped with your own key."))


async def create(db: AsyncSession, staff: Staff, settings: Settings, *, urgency: str, chi_category: str,
                 conversation_id: str | None, legs: list[Leg], thread_keys: list[WrappedKey], now: dt.datetime
                 ) -> tuple[ReferralThread, list[Referral]]:
    """The thread and one sent referral per agency, all in the caller's transaction: a refusal of
    any part (unknown agency, the same agency twice, nobody to read) leaves nothing saved."""
    agencies = await check_agencies(db, [leg.agency for leg in legs])
    _check_keys(await readers(db, agencies, staff), thread_keys, staff.public_key)
    thread = ReferralThread(id=service.new_id(), created_by=staff.id, created_at=now)
    db.add(thread)
    await db.flush()
    for key in thread_keys:
        db.add(ReferralThreadKey(thread_id=thread.id, reader=key.reader, wrapped_key=key.wrapped_key,
                                 wrapper_public_key=key.wrapper_public_key, created_at=now))
    made = [await service.create(db, staff, settings, agency_code=leg.agency, urgency=urgency,
                                 chi_category=chi_category, consent=leg.consent, content=leg.content, keys=leg.keys,
                                 conversation_id=conversation_id, now=now, thread_id=thread.id) for leg in legs]
    await audit.record(db, staff.participant_id, "referral.thread", f"thread:{thread.id}",
                       {"legs": [r.id for r in made], "agencies": [a.code for a in agencies]})
    return thread, made


async def check_reroute(db: AsyncSession, referral_id: str, agency_code: str) -> None:
    """A leg is not re-routed to an agency that already has a leg of the same referral."""
    referral = await repository.load(db, referral_id)
    if referral is None or referral.thread_id is None:
        return
    for leg, agency in await repository.legs(db, referral.thread_id):
        if agency.code == agency_code and leg.id != referral.id:
            raise ReferralError(400, N_("%(agency)s is named twice; each agency gets one part of the referral."),
                                {"agency": agency.name})


async def post(db: AsyncSession, staff: Staff, referral_id: str, body: str, now: dt.datetime
               ) -> ReferralThreadMessage:
    """A message in the shared thread, by an officer of a leg's agency or by the helpline."""
    body = service.check_body(body)
    referral = await service.visible(db, staff, referral_id)
    if referral.thread_id is None:
        raise ReferralError(409, N_("This referral went to one agency only; it has no shared thread."))
    if referral.state in (ReferralState.DRAFT, ReferralState.RETURNED):
        raise ReferralError(409, N_("This referral is %(state)s; questions are closed."), {"state": referral.state})
    officer = staff.role == Role.OFFICER.value
    message = ReferralThreadMessage(thread_id=referral.thread_id, agency_id=referral.agency_id if officer else None,
                                    actor=staff.participant_id, body=body, created_at=now)
    db.add(message)
    await audit.record(db, staff.participant_id, "referral.thread_message", service.subject_of(referral.id),
                       {"thread": referral.thread_id})
    return message


async def missing_readers(db: AsyncSession, thread_id: str) -> list[Staff]:
    """Readers of the legs as they are now (an officer who enrolled later, a leg re-routed) who hold
    no thread key yet."""
    rows = await repository.legs(db, thread_id)
    if not rows:
        return []
    creator = await repository.staff(db, rows[0][0].created_by)
    have = await repository.thread_readers_with_key(db, thread_id)
    return [s for s in await readers(db, [a for _r, a in rows], creator) if s.participant_id not in have]


async def add_keys(db: AsyncSession, staff: Staff, referral_id: str, keys: list[WrappedKey], now: dt.datetime
                   ) -> None:
    """A reader who holds the thread key wraps it for readers who came later."""
    referral = await service.visible(db, staff, referral_id, lock=True)
    if referral.thread_id is None:
        raise ReferralError(409, N_("This referral went to one agency only; it has no shared thread."))
    if await repository.thread_key_of(db, referral.thread_id, staff.participant_id) is None:
        raise ReferralError(409, N_("You hold no key for this referral, so you cannot pass it on."))
    waiting = {s.participant_id for s in await missing_readers(db, referral.thread_id)}
    service.check_passed_keys(keys, waiting, staff, N_("%(reader)s may not read this thread."))
    for key in keys:
        db.add(ReferralThreadKey(thread_id=referral.thread_id, reader=key.reader, wrapped_key=key.wrapped_key,
                                 wrapper_public_key=key.wrapper_public_key, created_at=now))
    await audit.record(db, staff.participant_id, "referral.thread_keys", service.subject_of(referral.id),
                       {"thread": referral.thread_id, "readers": sorted(k.reader for k in keys)})


async def read(db: AsyncSession, staff: Staff, referral: Referral) -> dict[str, Any] | None:
    """The thread part of a leg's read (its reader was checked by the caller): the other agencies
    on the referral (name and state, never their details), this reader's wrapped thread key, the
    messages with the agency that wrote each, and readers still waiting for the thread key."""
    if referral.thread_id is None:
        return None
    rows = await repository.legs(db, referral.thread_id)
    key = await repository.thread_key_of(db, referral.thread_id, staff.participant_id)
    messages = await repository.thread_messages(db, referral.thread_id)
    agency_names = await repository.agency_names(db, {m.agency_id for m in messages if m.agency_id})
    names = await repository.names(db, [m.actor.removeprefix("staff:") for m in messages])
    waiting = await missing_readers(db, referral.thread_id) if key is not None else []
    return {
        "id": referral.thread_id,
        "key": {"wrapped_key": key.wrapped_key, "wrapper_public_key": key.wrapper_public_key} if key else None,
        "legs": [{"agency": agency.code, "agency_name": agency.name, "kind": agency.kind, "state": leg.state,
                  "outcome": leg.outcome, "acknowledged_at": _iso(leg.acknowledged_at), "this": leg.id == referral.id}
                 for leg, agency in rows],
        "messages": [{"id": m.id, "body": m.body, "at": _iso(m.created_at),
                      "actor_name": names.get(m.actor.removeprefix("staff:"), m.actor),
                      "agency": agency_names.get(m.agency_id) if m.agency_id else None} for m in messages],
        "missing_readers": [service.reader_info(s) for s in waiting],
    }


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None
