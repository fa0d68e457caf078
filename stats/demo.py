"""`helpline demo-data`: many plausible conversations, case records and referrals, fast.

For the statistics benchmark and for trying the dashboard; never for a production database.
Rows go in with bulk INSERTs (executemany in batches); every value is metadata, and the columns
that would hold ciphertext get a fixed placeholder that decrypts to nothing.
"""

from __future__ import annotations

import datetime as dt
import random
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, insert, select, update

from helpline import taxonomy
from helpline.db import Store
from helpline.models import CaseRecord, ChildIdentity, Conversation, Escalation, Referral, Staff, utcnow
from stats.rollups import county_of_municipality

BATCH = 10_000
PLACEHOLDER = "demo-no-content"
HOUR_WEIGHTS = [1, 1, 1, 1, 1, 1, 1, 2, 3, 4, 5, 6, 6, 6, 7, 8, 9, 10, 10, 9, 8, 6, 4, 2]


@dataclass(frozen=True)
class DemoResult:
    conversations: int
    case_records: int
    referrals: int
    escalations: int


def _table(model: Any) -> Table:
    return cast(Table, model.__table__)  # Core executemany: no ORM bookkeeping per row


def _pick(rng: random.Random, items: Sequence[str], weights: Sequence[float] | None = None) -> str:
    return rng.choices(items, weights)[0] if weights else rng.choice(items)


async def _demo_staff(store: Store) -> int:
    async with store.write() as db:
        found = (await db.execute(select(Staff.id).where(Staff.username == "demo-data"))).scalar()
        if found is not None:
            return int(found)
        staff = Staff(public_id=secrets.token_hex(8), username="demo-data", display_name="Demo data",
                      role="counsellor", password_hash="!",  # noqa: S106 - matches no password  # nosec B106
                      kdf_salt=secrets.token_hex(8), disabled=True)
        db.add(staff)
        await db.flush()
        return int(staff.id)


async def generate(store: Store, conversations: int, referrals: int, *, agencies: Sequence[tuple[int, str | None]],
                   days: int = 365, seed: int = 7, end: dt.datetime | None = None) -> DemoResult:
    """``agencies`` are the directory's (id, county) pairs, from the caller: statistics read tables and
    never run the referral workflow, so filling an empty directory is the caller's business (the CLI)."""
    rng = random.Random(seed)  # noqa: S311 - demo data, not a secret  # nosec B311
    tax = taxonomy.load()
    categories = sorted(tax.categories)
    age_bands, genders = tax.codes("age_bands"), tax.codes("genders")
    risks, outcomes, contact_types = tax.codes("risk_levels"), tax.codes("outcomes"), tax.codes("contact_types")
    municipalities = sorted(county_of_municipality())
    muni_weights = [12.0 if m in ("Tiranë", "Durrës", "Elbasan", "Shkodër", "Vlorë", "Fier") else 1.0
                    for m in municipalities]
    end = end or utcnow().replace(minute=0, second=0, microsecond=0)
    start = end - dt.timedelta(days=days)
    staff_id = await _demo_staff(store)
    tag = secrets.token_hex(3)

    children = max(1, conversations // 3)
    child_rows = [{"token_hash": f"demo{tag}{i:010d}".ljust(64, "0")[:64], "public_key": PLACEHOLDER,
                   "created_at": start} for i in range(children)]
    async with store.write() as db:
        for i in range(0, len(child_rows), BATCH):
            await db.execute(insert(_table(ChildIdentity)), child_rows[i:i + BATCH])
        first_child = int((await db.execute(select(ChildIdentity.id).where(
            ChildIdentity.token_hash == child_rows[0]["token_hash"]))).scalar_one())

    conv_rows: list[dict[str, Any]] = []
    case_rows: list[dict[str, Any]] = []
    blocked: list[tuple[int, dt.datetime]] = []
    for i in range(conversations):
        day = start + dt.timedelta(days=rng.randrange(days))
        created = day.replace(hour=rng.choices(range(24), HOUR_WEIGHTS)[0], minute=rng.randrange(60),
                              second=rng.randrange(60))
        conv_id = f"d{tag}{i:012d}"
        roll = rng.random()
        state = "abandoned" if roll < 0.12 else "ended"
        accepted = None if state == "abandoned" else created + dt.timedelta(seconds=int(rng.expovariate(1 / 90)))
        ended = (accepted or created) + dt.timedelta(seconds=int(rng.expovariate(1 / 1200)) + 30)
        muni = rng.choices(municipalities, muni_weights)[0] if rng.random() < 0.8 else None
        child = first_child + rng.randrange(children)
        conv_rows.append({
            "id": conv_id, "child_id": child, "state": state, "urgency": rng.choices((0, 1, 2), (90, 8, 2))[0],
            "contact_by": "adult" if rng.random() < 0.08 else "child",
            "age_band": _pick(rng, age_bands) if rng.random() < 0.7 else None,
            "gender": _pick(rng, genders) if rng.random() < 0.8 else None,
            "municipality": muni,
            "county": county_of_municipality()[muni] if muni and rng.random() < 0.7 else None,
            "topic": _pick(rng, categories) if rng.random() < 0.5 else None,
            "returning_child": rng.random() < 0.3, "counsellor_id": staff_id if accepted else None,
            "created_at": created, "accepted_at": accepted, "ended_at": ended,
            "ended_by": "child" if rng.random() < 0.6 else "staff",
            "feedback": rng.choices(("yes", "somewhat", "no", None), (40, 15, 5, 40))[0],
        })
        if accepted is not None and rng.random() < 0.01:
            blocked.append((child, ended))
        if accepted is not None and rng.random() < 0.9:
            contact_type = rng.choices(contact_types, (70, 10, 6, 5, 5, 2, 2))[0]
            counselling = contact_type == "counselling"
            case_rows.append({
                "conversation_id": conv_id, "counsellor_id": staff_id, "contact_type": contact_type,
                "primary_category": _pick(rng, categories) if counselling else None,
                "secondary_categories": rng.sample(categories, rng.choice((0, 0, 1, 2))) if counselling else [],
                "risk": rng.choices(risks, (60, 20, 12, 6, 2))[0],
                "age_band": _pick(rng, age_bands), "gender": _pick(rng, genders),
                "outcome": _pick(rng, outcomes) if counselling else "none", "follow_up": rng.random() < 0.1,
                "note": None, "note_keys": None, "taxonomy_version": tax.version,
                "created_at": ended, "updated_at": ended,
            })
    async with store.write() as db:
        for i in range(0, len(conv_rows), BATCH):
            await db.execute(insert(_table(Conversation)), conv_rows[i:i + BATCH])
        for i in range(0, len(case_rows), BATCH):
            await db.execute(insert(_table(CaseRecord)), case_rows[i:i + BATCH])
        for child, at in blocked:
            await db.execute(update(ChildIdentity).where(ChildIdentity.id == child)
                             .values(blocked_at=at, block_reason="abusive"))

    deadlines = {"emergency": dt.timedelta(hours=1), "urgent": dt.timedelta(days=1), "routine": dt.timedelta(days=3)}
    ref_outcomes = ("child_protected", "family_supported", "services_provided", "investigation_opened",
                    "referred_onward", "no_action_needed", "child_not_found", "other")
    ref_rows: list[dict[str, Any]] = []
    esc_rows: list[dict[str, Any]] = []
    now = utcnow()
    for i in range(referrals):
        created = start + dt.timedelta(seconds=rng.randrange(days * 86400))
        urgency = rng.choices(("emergency", "urgent", "routine"), (10, 30, 60))[0]
        sent = created + dt.timedelta(minutes=rng.randrange(1, 30))
        deadline = sent + deadlines[urgency]
        ack_after = dt.timedelta(seconds=int(rng.expovariate(1 / deadlines[urgency].total_seconds() * 1.4)))
        acknowledged = sent + ack_after if sent + ack_after < now and rng.random() < 0.95 else None
        closed = (acknowledged + dt.timedelta(days=rng.randrange(1, 40))
                  if acknowledged and rng.random() < 0.8 else None)
        closed = closed if closed and closed < now else None
        state = "closed" if closed else ("acknowledged" if acknowledged else "sent")
        ref_id = f"r{tag}{i:012d}"
        agency_id, _county = agencies[rng.randrange(len(agencies))]
        ref_rows.append({
            "id": ref_id, "agency_id": agency_id, "urgency": urgency, "chi_category": _pick(rng, categories),
            "state": state, "outcome": _pick(rng, ref_outcomes) if closed else None, "consent": {},
            "content": PLACEHOLDER, "created_by": staff_id, "created_at": created, "sent_at": sent,
            "ack_deadline_at": deadline, "acknowledged_at": acknowledged, "closed_at": closed,
            "updated_at": closed or acknowledged or sent,
        })
        if (acknowledged is None and deadline < now) or (acknowledged is not None and acknowledged > deadline):
            esc_rows.append({"referral_id": ref_id, "kind": "ack_overdue", "created_at": deadline})
    async with store.write() as db:
        for i in range(0, len(ref_rows), BATCH):
            await db.execute(insert(_table(Referral)), ref_rows[i:i + BATCH])
        for i in range(0, len(esc_rows), BATCH):
            await db.execute(insert(_table(Escalation)), esc_rows[i:i + BATCH])
    return DemoResult(len(conv_rows), len(case_rows), len(ref_rows), len(esc_rows))
