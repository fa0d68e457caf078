"""Referral use cases: create and send, acknowledge, act, ask and answer, return and re-route, close.

Every function runs inside the caller's write transaction and writes the hash-chained audit log.
The server never sees a referral's words: ``content`` and event bodies are ciphertext under a
referral key the counsellor's browser made and wrapped for each reader. Access:

- an officer sees only referrals sent to their own agency (and never a draft);
- a counsellor sees the referrals they made; a supervisor sees every referral.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from helpline import crypto
from helpline.i18n import N_
from helpline.models import Agency, Referral, ReferralEvent, ReferralKey, Role, Staff
from helpline.security import access, audit
from helpline.security.access import Action, Thing
from helpline.settings import Settings
from referral import notices as notices
from referral import repository
from referral.model import IllegalTransition, ReferralState, check_transition

URGENCIES = ("emergency", "urgent", "routine")
URGENCY_RANK = {name: rank for rank, name in enumerate(URGENCIES)}
OUTCOMES = ("child_protected", "family_supported", "services_provided", "investigation_opened",
            "referred_onward", "no_action_needed", "child_not_found", "other")
RETURN_REASONS = ("not_our_area", "not_our_competence", "duplicate", "not_enough_information")
ACTION_KINDS = ("contact_child", "contact_family", "home_visit", "school_contact", "assessment",
                "police_report", "medical_care", "shelter", "meeting", "other")
# Kinds of detail a referral may carry; the consent record says which were shared and on what basis.
CONSENT_ITEMS = ("identity", "contact", "location", "family", "school", "health", "account_of_events")
CONSENT_BASES = ("child_consented", "shared_without_consent_for_safety", "not_shared")
# Not a detail shared but the child's own agreement (issue 19): may her page show where the case stands?
TELL_CHILD = "tell_child_status"
MAX_CONTENT_BYTES = 64 * 1024
MAX_EVENT_BYTES = 16 * 1024
MAX_READERS = 64
HELPLINE_ROLES = frozenset({Role.COUNSELLOR.value, Role.SUPERVISOR.value})


class ReferralError(Exception):
    """A refusal with an HTTP-like status and a translatable message; nothing was changed."""

    def __init__(self, status: int, message: str, params: dict[str, Any] | None = None) -> None:
        super().__init__(message % (params or {}))
        self.status = status
        self.message = message
        self.params = params or {}


@dataclass(frozen=True)
class WrappedKey:
    reader: str
    wrapped_key: str
    wrapper_public_key: str


def new_id() -> str:
    return secrets.token_hex(10)


def deadline_minutes(settings: Settings, urgency: str) -> int:
    minutes: int = getattr(settings, f"ack_{urgency}_minutes")
    return minutes


def subject_of(referral_id: str) -> str:
    return f"referral:{referral_id}"


def check_body(wire: Any, max_bytes: int = MAX_EVENT_BYTES) -> str:
    try:
        crypto.check_ciphertext_shape(wire, max_bytes)
    except crypto.CryptoError:
        raise ReferralError(400, N_("The text must be encrypted in the browser (a padded secretbox).")) from None
    return str(wire)


def check_consent(consent: dict[str, Any]) -> dict[str, str]:
    clean: dict[str, str] = {}
    for item, basis in consent.items():
        if item == TELL_CHILD and basis in ("child_consented", "not_shared"):
            clean[item] = basis
            continue
        if item not in CONSENT_ITEMS or basis not in CONSENT_BASES:
            raise ReferralError(400, N_("The consent record names an unknown item or basis."))
        clean[item] = basis
    return clean


# -- who may read ---------------------------------------------------------------------------------


def is_helpline(staff: Staff) -> bool:
    return staff.role in HELPLINE_ROLES


async def agency_by_code(db: AsyncSession, code: str) -> Agency:
    agency = await repository.agency_by_code(db, code)
    if agency is None or not agency.active:
        raise ReferralError(400, N_("There is no active agency with the code %(code)s."), {"code": code[:48]})
    return agency


async def readers(db: AsyncSession, agency: Agency, creator: Staff | None, also: frozenset[int] = frozenset()
                  ) -> list[Staff]:
    """Everyone the referral key must be wrapped for: the agency's officers with a signed key,
    every supervisor with a signed key, and the counsellor who writes it."""
    return await repository.readers(db, agency.id, {*([creator.id] if creator else []), *also})


def public_reader(staff: Staff) -> dict[str, Any]:
    """A reader as anyone may see it (the public report page): the opaque id the org key signed
    and the key, nothing that names the person or their role (ADR 0019)."""
    return {"id": staff.participant_id, "public_key": staff.public_key, "signature": staff.key_signature}


def reader_info(staff: Staff) -> dict[str, Any]:
    return {"id": staff.participant_id, "name": staff.display_name, "role": staff.role,
            "public_key": staff.public_key, "signature": staff.key_signature}


async def _load(db: AsyncSession, referral_id: str, *, lock: bool = False) -> Referral:
    referral = await repository.load(db, referral_id, lock=lock)
    if referral is None:
        raise ReferralError(404, N_("There is no such referral."))
    return referral


def relation(staff: Staff, referral: Referral) -> access.Relation:
    return access.referral_relation(staff.id, staff.role, staff.agency_id, created_by=referral.created_by,
                                    agency_id=referral.agency_id, state=referral.state)


def may_see(staff: Staff, referral: Referral) -> bool:
    return access.may(staff.role, relation(staff, referral), Thing.REFERRAL, Action.READ)


async def visible(db: AsyncSession, staff: Staff, referral_id: str, *, lock: bool = False) -> Referral:
    """The referral if this staff member may see it; 403 (audited by the route guard) otherwise."""
    referral = await _load(db, referral_id, lock=lock)
    if not may_see(staff, referral):
        raise ReferralError(403, N_("This referral is not for you."))
    return referral


# -- steps ----------------------------------------------------------------------------------------


async def add_event(db: AsyncSession, referral: Referral, actor: Staff | str, kind: str, *, now: dt.datetime,
                 from_state: str | None = None, to_state: str | None = None, body: str | None = None,
                 detail: dict[str, Any] | None = None) -> ReferralEvent:
    name = actor if isinstance(actor, str) else actor.participant_id
    event = ReferralEvent(referral_id=referral.id, kind=kind, actor=name, from_state=from_state, to_state=to_state,
                          body=body, detail=detail or {}, created_at=now)
    db.add(event)
    audit_detail = {"kind": kind, **({"from": from_state, "to": to_state} if to_state else {}), **(detail or {})}
    await audit.record(db, name, f"referral.{kind}", subject_of(referral.id), audit_detail)
    return event


async def _move(db: AsyncSession, referral: Referral, actor: Staff | str, target: ReferralState, *,
                now: dt.datetime, body: str | None = None, detail: dict[str, Any] | None = None) -> None:
    try:
        check_transition(referral.state, target)
    except IllegalTransition as exc:
        raise ReferralError(409, N_("A referral that is %(current)s cannot become %(target)s."),
                            {"current": exc.current.value, "target": exc.target.value}) from None
    before = referral.state
    referral.state = target.value
    referral.updated_at = now
    await add_event(db, referral, actor, "transition", now=now, from_state=before, to_state=target.value, body=body,
                 detail=detail)


async def store_keys(db: AsyncSession, referral: Referral, creator: Staff | None, agency: Agency,
                      keys: list[WrappedKey], now: dt.datetime, also: set[int] | None = None) -> None:
    """Checks the wrapped keys: only allowed readers, every required reader, wrapped by the sender."""
    allowed = {s.participant_id: s for s in await readers(db, agency, creator, frozenset(also or ()))}
    given = {k.reader: k for k in keys}
    if len(given) != len(keys) or len(keys) > MAX_READERS:
        raise ReferralError(400, N_("Each reader must get exactly one wrapped key."))
    strangers = sorted(set(given) - set(allowed))
    if strangers:
        raise ReferralError(400, N_("%(reader)s may not read this referral."), {"reader": strangers[0][:48]})
    missing = sorted(set(allowed) - set(given))
    if missing:
        raise ReferralError(400, N_("The referral key is not wrapped for %(reader)s."), {"reader": missing[0]})
    # A staff sender wraps with their own key; a public reporter with one key made for this report.
    sender_key = creator.public_key if creator else (keys[0].wrapper_public_key if keys else None)
    for key in keys:
        if key.wrapper_public_key != sender_key or not _is_public_key(key.wrapper_public_key):
            raise ReferralError(400, N_("Keys must be wrapped with your own key."))
        db.add(ReferralKey(referral_id=referral.id, reader=key.reader, wrapped_key=key.wrapped_key,
                           wrapper_public_key=key.wrapper_public_key, created_at=now))


async def send(db: AsyncSession, referral: Referral, actor: Staff | str, agency: Agency, settings: Settings,
                now: dt.datetime) -> None:
    await _move(db, referral, actor, ReferralState.SENT, now=now, detail={"agency": agency.code})
    referral.sent_at = now
    referral.ack_deadline_at = now + dt.timedelta(minutes=deadline_minutes(settings, referral.urgency))
    if referral.source == "report":  # public reports: batched notices (a flood must not mail per report)
        waiting = await repository.reports_waiting(db, agency.id)
        await notices.queue_reports_waiting(db, referral, agency, settings, now, waiting)
        return
    await notices.queue_referral_waiting(db, referral, agency, settings, now)


async def create(db: AsyncSession, staff: Staff, settings: Settings, *, agency_code: str, urgency: str,
                 chi_category: str, consent: dict[str, Any], content: str, keys: list[WrappedKey],
                 conversation_id: str | None, now: dt.datetime, thread_id: str | None = None) -> Referral:
    """Creates a referral as a draft and sends it: the two steps are both in its history. A leg of a
    referral to several agencies names its shared thread (referral.threads)."""
    if staff.public_key is None or staff.key_signature is None:
        raise ReferralError(409, N_("Set up your key before you refer a case."))
    if urgency not in URGENCIES:
        raise ReferralError(400, N_("Urgency must be emergency, urgent or routine."))
    agency = await agency_by_code(db, agency_code)
    case_id: int | None = None
    if conversation_id is not None:
        conversation = await repository.conversation(db, conversation_id)
        if conversation is None:
            raise ReferralError(400, N_("There is no such conversation."))
        tie = access.conversation_relation(staff.id, staff.role, holder_id=conversation.counsellor_id,
                                           granted=await repository.is_granted(db, conversation_id, staff.id))
        if not access.may(staff.role, tie, Thing.CASE, Action.REFER):
            raise ReferralError(403, N_("You may refer only a case you held."))
        case_id = await repository.case_id_of(db, conversation_id)
    referral = Referral(id=new_id(), agency_id=agency.id, urgency=urgency, chi_category=chi_category,
                        state=ReferralState.DRAFT.value, consent=check_consent(consent),
                        content=check_body(content, MAX_CONTENT_BYTES), created_by=staff.id,
                        conversation_id=conversation_id, case_id=case_id, thread_id=thread_id, created_at=now,
                        updated_at=now)
    db.add(referral)
    await db.flush()
    from referral import disclosures  # the two-person rule; it imports this module's errors

    disclosure = await disclosures.use_for_referral(db, staff, conversation_id, referral.consent, referral.id)
    await store_keys(db, referral, staff, agency, keys, now)
    await add_event(db, referral, staff, "created", now=now, to_state=ReferralState.DRAFT.value,
                 detail={"agency": agency.code, "urgency": urgency,
                         **({"disclosure": disclosure.id} if disclosure else {})})
    await send(db, referral, staff, agency, settings, now)
    return referral


async def acknowledge(db: AsyncSession, officer: Staff, referral_id: str, now: dt.datetime) -> Referral:
    referral = await visible(db, officer, referral_id, lock=True)
    _officer_only(officer)
    await _move(db, referral, officer, ReferralState.ACKNOWLEDGED, now=now)
    referral.acknowledged_at = now
    return referral


async def record_action(db: AsyncSession, officer: Staff, referral_id: str, kind: str, body: str,
                        now: dt.datetime) -> Referral:
    """An action the agency took; the first one moves an acknowledged referral to in_progress."""
    if kind not in ACTION_KINDS:
        raise ReferralError(400, N_("Unknown kind of action."))
    body = check_body(body)
    referral = await visible(db, officer, referral_id, lock=True)
    _officer_only(officer)
    if referral.state == ReferralState.ACKNOWLEDGED:
        await _move(db, referral, officer, ReferralState.IN_PROGRESS, now=now)
    elif referral.state != ReferralState.IN_PROGRESS:
        raise ReferralError(409, N_("Acknowledge the referral before you record an action."))
    await add_event(db, referral, officer, "action", now=now, body=body, detail={"action": kind})
    referral.updated_at = now
    return referral


async def ask(db: AsyncSession, officer: Staff, referral_id: str, body: str, now: dt.datetime) -> Referral:
    """The agency asks the helpline a question (an encrypted line in the referral's thread)."""
    body = check_body(body)
    referral = await visible(db, officer, referral_id)
    _officer_only(officer)
    if referral.state in (ReferralState.CLOSED, ReferralState.RETURNED):
        raise ReferralError(409, N_("This referral is %(state)s; questions are closed."), {"state": referral.state})
    await add_event(db, referral, officer, "question", now=now, body=body)
    return referral


async def answer(db: AsyncSession, staff: Staff, referral_id: str, body: str, now: dt.datetime) -> Referral:
    body = check_body(body)
    referral = await visible(db, staff, referral_id)
    if not is_helpline(staff):
        raise ReferralError(403, N_("Only the helpline answers questions."))
    if referral.state == ReferralState.DRAFT:
        raise ReferralError(409, N_("This referral has not been sent."))
    await add_event(db, referral, staff, "answer", now=now, body=body)
    return referral


async def give_back(db: AsyncSession, officer: Staff, referral_id: str, reason: str, body: str | None,
                    now: dt.datetime) -> Referral:
    """The agency says the referral is not theirs: it returns to the helpline for re-routing."""
    if reason not in RETURN_REASONS:
        raise ReferralError(400, N_("Unknown reason for returning a referral."))
    body = check_body(body) if body is not None else None
    referral = await visible(db, officer, referral_id, lock=True)
    _officer_only(officer)
    await _move(db, referral, officer, ReferralState.RETURNED, now=now, body=body, detail={"reason": reason})
    referral.return_reason = reason
    return referral


async def reroute(db: AsyncSession, staff: Staff, settings: Settings, referral_id: str, agency_code: str,
                  keys: list[WrappedKey], now: dt.datetime) -> Referral:
    """A returned referral goes to another agency: back to draft, new readers' keys, sent again."""
    referral = await visible(db, staff, referral_id, lock=True)
    if not access.may(staff.role, relation(staff, referral), Thing.REFERRAL, Action.TRANSFER):
        raise ReferralError(403, N_("Only the helpline re-routes a referral."))
    agency = await agency_by_code(db, agency_code)
    await _move(db, referral, staff, ReferralState.DRAFT, now=now, detail={"agency": agency.code})
    await repository.delete_keys(db, referral.id)
    # Whoever re-routes wraps the keys again; the counsellor who made the referral keeps a key.
    also = {referral.created_by} if referral.created_by else set()
    await store_keys(db, referral, staff, agency, keys, now, also=also)
    referral.agency_id = agency.id
    referral.return_reason = None
    referral.acknowledged_at = None
    await send(db, referral, staff, agency, settings, now)
    return referral


async def close(db: AsyncSession, officer: Staff, referral_id: str, outcome: str, body: str | None,
                now: dt.datetime) -> Referral:
    if outcome not in OUTCOMES:
        raise ReferralError(400, N_("Unknown outcome."))
    body = check_body(body) if body is not None else None
    referral = await visible(db, officer, referral_id, lock=True)
    _officer_only(officer)
    await _move(db, referral, officer, ReferralState.CLOSED, now=now, body=body, detail={"outcome": outcome})
    referral.outcome = outcome
    referral.closed_at = now
    return referral


async def missing_readers(db: AsyncSession, referral: Referral) -> list[Staff]:
    """Readers the referral should have (an officer or supervisor who enrolled later) with no key yet."""
    agency = await repository.agency(db, referral.agency_id)
    if agency is None:
        return []
    creator = await repository.staff(db, referral.created_by)
    have = await repository.readers_with_key(db, referral.id)
    return [s for s in await readers(db, agency, creator) if s.participant_id not in have]


def check_passed_keys(keys: list[WrappedKey], waiting: set[str], staff: Staff, not_a_reader: str) -> None:
    """Keys a holder passes on (a referral's or a thread's): exactly one per reader, each for a reader
    still waiting for one (``not_a_reader`` names who is not), each wrapped with the holder's own key."""
    if not keys or len({k.reader for k in keys}) != len(keys):
        raise ReferralError(400, N_("Each reader must get exactly one wrapped key."))
    for key in keys:
        if key.reader not in waiting:
            raise ReferralError(400, not_a_reader, {"reader": key.reader[:48]})
        if key.wrapper_public_key != staff.public_key:
            raise ReferralError(400, N_("Keys must be wrapped with your own key."))


async def add_keys(db: AsyncSession, staff: Staff, referral_id: str, keys: list[WrappedKey],
                   now: dt.datetime) -> Referral:
    """A reader who holds the referral key wraps it for readers who came later."""
    referral = await visible(db, staff, referral_id, lock=True)
    held = await repository.key_of(db, referral.id, staff.participant_id)
    if held is None:
        raise ReferralError(409, N_("You hold no key for this referral, so you cannot pass it on."))
    waiting = {s.participant_id for s in await missing_readers(db, referral)}
    check_passed_keys(keys, waiting, staff, N_("%(reader)s may not read this referral."))
    for key in keys:
        db.add(ReferralKey(referral_id=referral.id, reader=key.reader, wrapped_key=key.wrapped_key,
                           wrapper_public_key=key.wrapper_public_key, created_at=now))
    await add_event(db, referral, staff, "keys", now=now, detail={"readers": sorted(k.reader for k in keys)})
    return referral


def _is_public_key(text: str) -> bool:
    try:
        return len(crypto.b64u_decode(text)) == 32
    except crypto.CryptoError:
        return False


def _officer_only(staff: Staff) -> None:
    if staff.role != Role.OFFICER.value:
        raise ReferralError(403, N_("Only the agency's officers do this."))
