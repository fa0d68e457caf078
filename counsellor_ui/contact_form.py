"""The one set of rules for recording a contact: a chat's wrap-up and a call, e-mail, visit, letter
or report recorded from the console are the same form (docs/adr/0025-one-contact-one-form.md).

`spec` says which fields a body may carry; `check` applies the rules a schema cannot say (a
counselling contact needs its category; a note comes with its wrapped keys and has the shape of
ciphertext); `apply` writes a checked body onto a `CaseRecord`; `record_dict` is what the console
reads back. Both endpoints (counsellor_ui.cases for chats, counsellor_ui.contacts for the rest) use
these and nothing else.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from helpline import taxonomy, validate
from helpline.crypto import CryptoError, check_ciphertext_shape
from helpline.i18n import N_
from helpline.models import CaseRecord, utcnow
from helpline.staffweb import Refused, StaffCall
from helpline.validate import Optional
from stats.rollups import county_of_municipality

county_of = county_of_municipality  # each municipality's county (the helpline pack's municipalities.json)
MAX_NOTE_BYTES = 16384
MAX_DURATION = 24 * 3600
KEY = validate.string(96, 96)  # a wrapped 32-byte key: 72 bytes in base64url
# A moment as the console sends it: ISO 8601 with seconds and the offset (Date.toISOString()).
MOMENT = validate.string(32, 20, pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$",
                         message=N_("'%(name)s' must be a moment like 2026-12-04T16:45:00Z."))
# The browser's id of a contact that no chat carries: 16 random bytes in base64url.
REF = validate.b64u(16, N_("'%(name)s' must be 16 random bytes in base64url."))


def _note_keys(name: str, value: Any) -> dict[str, Any]:
    clean = validate.fields(value, {"epk": validate.string(43, 43),
                                    "keys": validate.mapping(validate.string(48), KEY, 500)})
    if not clean["keys"]:
        raise validate.Invalid(N_("'%(name)s' must wrap the note key for at least one reader."), name=name)
    return clean


validate.described(_note_keys, validate.object_schema(
    {"epk": validate.string(43, 43), "keys": validate.mapping(validate.string(48), KEY, 500)}))
_note_keys.schema["properties"]["keys"]["minProperties"] = 1  # type: ignore[attr-defined]


def spec(*, chat: bool) -> dict[str, validate.Check]:
    """The fields of the form: a chat's wrap-up, or (``chat=False``) a contact on another channel,
    which also says its channel, when it started and how long it lasted."""
    tax = taxonomy.load()
    fields: dict[str, validate.Check] = {
        "contact_type": validate.choice(*tax.codes("contact_types")),
        "primary_category": Optional(validate.choice(*sorted(tax.categories))),
        "secondary_categories": Optional(validate.list_of(validate.choice(*sorted(tax.subcategories)), 8), []),
        "risk": validate.choice(*tax.codes("risk_levels")),
        "age_band": Optional(validate.choice(*tax.codes("age_bands"))),
        "gender": Optional(validate.choice(*tax.codes("genders"))),
        "outcome": validate.choice(*tax.codes("outcomes")),
        "follow_up": Optional(validate.boolean, False),
        "contact_by": Optional(validate.choice(*tax.codes("contact_by"))),
        "municipality": Optional(validate.choice(*sorted(county_of()))),
        "note": Optional(validate.string(MAX_NOTE_BYTES * 2)),
        "note_keys": Optional(_note_keys),
    }
    if not chat:
        # Chats and their voice calls (ADR 0033) are recorded from the chat, never by hand.
        fields["channel"] = validate.choice(*(c for c in tax.codes("channels") if c not in ("chat", "voice")))
        fields["started_at"] = MOMENT
        fields["duration_seconds"] = Optional(validate.integer(0, MAX_DURATION))
    return fields


def moment(call: StaffCall, name: str, raw: str) -> dt.datetime:
    """A checked MOMENT as an aware datetime; a calendar impossibility or the future is refused."""
    try:
        value = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise Refused(400, call.t("'%(name)s' must be a moment like 2026-12-04T16:45:00Z.") % {"name": name}) from None
    if value > utcnow() + dt.timedelta(minutes=5):
        raise Refused(400, call.t("A contact cannot start in the future."))
    if value < utcnow() - dt.timedelta(days=366):
        raise Refused(400, call.t("A contact is recorded within a year of it."))
    return value.astimezone(dt.UTC)


def check(call: StaffCall, body: dict[str, Any]) -> None:
    """The rules across fields, the same for every channel; raises Refused with a clear sentence."""
    if body["contact_type"] == "counselling" and body["primary_category"] is None:
        raise Refused(400, call.t("A counselling contact needs a primary category."))
    if (body["note"] is None) != (body["note_keys"] is None):
        raise Refused(400, call.t("A case note must come with its wrapped keys."))
    if body["note"] is not None:
        try:
            check_ciphertext_shape(body["note"], MAX_NOTE_BYTES)
        except CryptoError as exc:
            raise Refused(400, call.t("The case note is not accepted: %(reason)s.") % {"reason": exc}) from None


def apply(record: CaseRecord, body: dict[str, Any]) -> None:
    """Writes a checked body onto the record: the county follows the municipality; the taxonomy
    version is the one the form used."""
    for name, value in body.items():
        setattr(record, name, value)
    if body["note"] is None:
        record.note, record.note_keys = None, None
    record.county = county_of().get(record.municipality) if record.municipality else None
    record.taxonomy_version = taxonomy.load().version
    record.updated_at = utcnow()


def record_dict(record: CaseRecord, *, with_note: bool) -> dict[str, Any]:
    """What the console reads of a contact's record; the note and its keys only ``with_note``."""
    out: dict[str, Any] = {
        "id": record.id, "conv": record.conversation_id, "ref": record.ref, "channel": record.channel,
        "contact_type": record.contact_type, "primary_category": record.primary_category,
        "secondary_categories": record.secondary_categories, "risk": record.risk, "age_band": record.age_band,
        "gender": record.gender, "outcome": record.outcome, "follow_up": record.follow_up,
        "contact_by": record.contact_by, "municipality": record.municipality, "county": record.county,
        "started_at": record.started_at.isoformat() if record.started_at else None,
        "duration_seconds": record.duration_seconds, "taxonomy_version": record.taxonomy_version,
        "created_at": record.created_at.isoformat(), "updated_at": record.updated_at.isoformat(),
    }
    if with_note:
        out.update(note=record.note, note_keys=record.note_keys)
    return out
