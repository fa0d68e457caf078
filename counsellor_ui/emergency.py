"""When a life is in danger: the emergency protocol, the two-person rule and the debrief (issue 9).

The alert itself is the chat frame ``ask_supervisor`` with kind ``emergency`` (chat/teamwork.py):
it reaches every supervisor's console and tells the child what is happening. These routes give
the counsellor the helpline's protocol, let them ask to share without the child's consent, let a
second person (a supervisor) decide, and let a supervisor record the debrief as a number only.
docs/emergencies.md, ADR 0013.
"""

from __future__ import annotations

from sqlalchemy import select
from starlette.responses import JSONResponse, Response

from helpline import pack, runtime_config, validate
from helpline.i18n import N_
from helpline.models import Debrief, Role, Staff, utcnow
from helpline.security import audit
from helpline.staffweb import Refused, StaffCall, staff_route
from referral import disclosures
from referral.service import CONSENT_ITEMS, ReferralError

WELLBEING = ("fine", "shaken", "needs_support")
DEFAULT_PROTOCOL = N_(
    "1. Stay in the chat. Tell the child you are getting help and that you are staying with them.\n"
    "2. Ask where the child is now and whether they are safe this minute.\n"
    "3. A supervisor has been alerted and will join you.\n"
    "4. If a life is in danger now, prepare an emergency referral to the police (%(police)s) or the Child "
    "Protection Officer. Ask the child what they agree to share.\n"
    "5. If the child does not agree and a life is at risk, ask a supervisor to approve sharing without "
    "consent. Share only what is needed.\n"
    "6. Record the case before the end of your shift.")


def _refusal(call: StaffCall, exc: ReferralError) -> Refused:
    return Refused(exc.status, call.t(exc.message) % exc.params)


async def protocol(call: StaffCall) -> Response:
    text = await runtime_config.emergency_protocol(call.services.store, call.locale)
    return JSONResponse({
        "protocol": text or call.t(DEFAULT_PROTOCOL) % pack.numbers(),
        "custom": text is not None,
        "items": list(CONSENT_ITEMS),
        "ask_reasons": list(disclosures.ASK_REASONS),
        "approve_reasons": list(disclosures.APPROVE_REASONS),
        "refuse_reasons": list(disclosures.REFUSE_REASONS),
    })


PROTOCOL: dict[str, validate.Check] = {
    "locale": validate.language(),
    "text": validate.string(runtime_config.PROTOCOL_MAX_CHARS, 0, multiline=True)}
ASK: dict[str, validate.Check] = {
    "items": validate.list_of(validate.choice(*CONSENT_ITEMS), len(CONSENT_ITEMS)),
    "reason": validate.choice(*disclosures.ASK_REASONS)}
DECIDE: dict[str, validate.Check] = {
    "approve": validate.boolean,
    "reason": validate.choice(*disclosures.APPROVE_REASONS, *disclosures.REFUSE_REASONS)}
DEBRIEF: dict[str, validate.Check] = {"counsellor": validate.string(64), "wellbeing": validate.choice(*WELLBEING)}


async def save_protocol(call: StaffCall) -> Response:
    """Admins write the protocol per locale; an empty text brings back the default."""
    body = await call.body(PROTOCOL)
    async with call.services.store.write() as db:
        current = await runtime_config.stored(db, runtime_config.EMERGENCY_PROTOCOL)
        texts = dict(current) if isinstance(current, dict) else {}
        if body["text"].strip():
            texts[body["locale"]] = body["text"].strip()
        else:
            texts.pop(body["locale"], None)
        await runtime_config.write(db, runtime_config.EMERGENCY_PROTOCOL, texts or None, call.staff.id)
        await audit.record(db, call.actor, "settings.emergency_protocol", "settings", {"locale": body["locale"]})
    runtime_config.forget()
    return JSONResponse({"locale": body["locale"], "custom": bool(body["text"].strip())})


async def _names(call: StaffCall, *ids: int | None) -> dict[int, str]:
    async with call.services.store.read() as db:
        rows = await db.execute(select(Staff.id, Staff.display_name).where(Staff.id.in_([i for i in ids if i])))
        return {row[0]: row[1] for row in rows}


async def ask(call: StaffCall) -> Response:
    conv = str(call.request.path_params["conv"])[:32]
    body = await call.body(ASK)
    try:
        async with call.services.store.write() as db:
            item = await disclosures.ask(db, call.staff, conv, body["items"], body["reason"], utcnow())
    except ReferralError as exc:
        raise _refusal(call, exc) from None
    out = disclosures.as_dict(item, {call.staff.id: call.staff.display_name})
    await call.services.teamwork.to_staff("role:supervisor", {"type": "disclosure", **out})
    return JSONResponse(out, status_code=201)


async def decide(call: StaffCall) -> Response:
    body = await call.body(DECIDE)
    try:
        async with call.services.store.write() as db:
            item = await disclosures.decide(db, call.staff, int(call.request.path_params["did"]), body["approve"],
                                            body["reason"], utcnow())
            asker = await db.get(Staff, item.asked_by)
    except ReferralError as exc:
        raise _refusal(call, exc) from None
    out = disclosures.as_dict(item, await _names(call, item.asked_by, item.decided_by))
    assert asker is not None
    frame = {"type": "disclosure_decided", **out}
    await call.services.teamwork.to_staff("role:supervisor", frame)
    if asker.role != Role.SUPERVISOR.value:  # a supervisor who asked already has it through the role
        await call.services.teamwork.to_staff(asker.participant_id, frame)
    return JSONResponse(out)


async def listing(call: StaffCall) -> Response:
    conv = call.request.query_params.get("conv")
    async with call.services.store.read() as db:
        items = await disclosures.listing(db, call.staff, conv[:32] if conv else None)
    return JSONResponse({"disclosures": items})


async def debrief(call: StaffCall) -> Response:
    """After an emergency, a supervisor checks on the counsellor: only the answer's kind is kept."""
    body = await call.body(DEBRIEF)
    public_id = body["counsellor"].removeprefix("staff:")
    async with call.services.store.write() as db:
        counsellor = (await db.execute(select(Staff).where(Staff.public_id == public_id))).scalar_one_or_none()
        if counsellor is None or counsellor.role not in (Role.COUNSELLOR.value, Role.SUPERVISOR.value):
            raise Refused(404, call.t("There is no such counsellor."))
        if counsellor.id == call.staff.id:
            raise Refused(400, call.t("A debrief is with another person."))
        now = utcnow()
        db.add(Debrief(counsellor_id=counsellor.id, supervisor_id=call.staff.id, wellbeing=body["wellbeing"],
                       day=now.astimezone(call.services.settings.timezone).date(), created_at=now))
        await audit.record(db, call.actor, "debrief.recorded", counsellor.participant_id, {})
    return JSONResponse({"recorded": True}, status_code=201)


routes = [
    staff_route("/console/api/emergency/protocol", "chat.ask_supervisor", protocol),
    staff_route("/console/api/admin/emergency-protocol", "admin.settings", save_protocol, methods=("POST",),
                body=PROTOCOL),
    staff_route("/console/api/conversations/{conv}/disclosures", "disclosure.ask", ask, methods=("POST",), body=ASK),
    staff_route("/console/api/disclosures", "disclosure.ask", listing),
    staff_route("/console/api/disclosures/{did:int}/decision", "disclosure.decide", decide, methods=("POST",),
                body=DECIDE),
    staff_route("/console/api/debriefs", "supervise.act", debrief, methods=("POST",), body=DEBRIEF),
]
