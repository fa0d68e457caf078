"""Shift handover notes: what the next shift must know, sealed in the author's browser for every
helpline staff key the org key signed (the staff on the next shift are among them), as the report
page seals for officers. The next shift reads them and marks them read; audited.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from starlette.responses import JSONResponse, Response

from counsellor_ui import casework_data as data
from helpline import validate
from helpline.crypto import CryptoError, check_ciphertext_shape
from helpline.models import HandoverNote, Staff, utcnow
from helpline.security import audit
from helpline.staffweb import Refused, StaffCall, staff_route

MAX_NOTE_BYTES = 8192
KEEP = dt.timedelta(days=2)  # notes older than this are no longer shown as a shift's handover
_KEYS_SPEC: dict[str, validate.Check] = {
    "epk": data.PUBLIC_KEY, "keys": validate.mapping(data.PARTICIPANT, data.KEY, 500)}


def _note_keys(name: str, value: object) -> dict[str, object]:
    return validate.fields(value, _KEYS_SPEC)


validate.described(_note_keys, validate.object_schema(_KEYS_SPEC))
NOTE_SPEC: dict[str, validate.Check] = {"note": validate.string(MAX_NOTE_BYTES * 2, 40), "note_keys": _note_keys}
READ_SPEC: dict[str, validate.Check] = {}


async def leave_note(call: StaffCall) -> Response:
    body = await call.body(NOTE_SPEC)
    if not body["note_keys"]["keys"]:
        raise Refused(400, call.t("Seal the note for at least one colleague."))
    try:
        check_ciphertext_shape(body["note"], MAX_NOTE_BYTES)
    except CryptoError as exc:
        raise Refused(400, call.t("The note is not accepted: %(reason)s.") % {"reason": exc}) from None
    async with call.services.store.write() as db:
        note = HandoverNote(author_id=call.staff.id, note=body["note"], note_keys=body["note_keys"],
                            created_at=utcnow())
        db.add(note)
        await db.flush()
        await audit.record(db, call.actor, "handover.write", f"handover:{note.id}")
        return JSONResponse({"id": note.id}, status_code=201)


async def notes(call: StaffCall) -> Response:
    """Recent notes by others: each with the key wrapped for this reader (or none) and who read it."""
    since = utcnow() - KEEP
    reader = Staff.__table__.alias("reader")
    query = (select(HandoverNote, Staff.display_name, reader.c.display_name)
             .join(Staff, Staff.id == HandoverNote.author_id).outerjoin(reader, reader.c.id == HandoverNote.read_by)
             .where(HandoverNote.created_at >= since, HandoverNote.author_id != call.staff.id)
             .order_by(HandoverNote.created_at.desc()).limit(50))
    me = call.staff.participant_id
    async with call.services.store.read() as db:
        rows = (await db.execute(query)).all()
    return JSONResponse({"notes": [
        {"id": note.id, "author": author, "created_at": note.created_at.isoformat(), "note": note.note,
         "key": ({"epk": note.note_keys["epk"], "wrapped": note.note_keys["keys"][me]}
                 if me in note.note_keys.get("keys", {}) else None),
         "read_at": note.read_at.isoformat() if note.read_at else None, "read_by": read_by}
        for note, author, read_by in rows]})


async def mark_read(call: StaffCall) -> Response:
    await call.body(READ_SPEC)
    async with call.services.store.write() as db:
        note = await db.get(HandoverNote, call.request.path_params["note"])
        if note is None or note.author_id == call.staff.id:
            raise Refused(404, call.t("No such handover note."))
        if note.read_at is None:
            note.read_at, note.read_by = utcnow(), call.staff.id
            await audit.record(db, call.actor, "handover.read", f"handover:{note.id}")
        return JSONResponse({"id": note.id, "read_at": note.read_at.isoformat()})


routes = [
    staff_route("/console/api/handover", "case.read", notes),
    staff_route("/console/api/handover", "case.write", leave_note, methods=("POST",), body=NOTE_SPEC),
    staff_route("/console/api/handover/{note:int}/read", "case.write", mark_read, methods=("POST",), body=READ_SPEC),
]
