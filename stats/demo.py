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
from sqlalchemy.ext.asyncio import AsyncSession

from helpline import taxonomy
from helpline.db import Store
from helpline.models import CaseRecord, ChildIdentity, Conversation, Escalation, Referral, Staff, utcnow
from stats.demo_contacts import contact_row, secondary_codes
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
    contacts: int = 0  # case records of calls, e-mails, visits, letters and reports (no conversation)


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


@dataclass(frozen=True)
class _Codes:
    """The code lists the rows are drawn from: the taxonomy's and the municipalities (the big ones weigh more)."""

    version: str
    categories: list[str]
    age_bands: tuple[str, ...]
    genders: tuple[str, ...]
    risks: tuple[str, ...]
    outcomes: tuple[str, ...]
    contact_types: tuple[str, ...]
    municipalities: list[str]
    muni_weights: list[float]

    @classmethod
    def load(cls) -> _Codes:
        tax = taxonomy.load()
        municipalities = sorted(county_of_municipality())
        muni_weights = [12.0 if m in ("Tiranë", "Durrës", "Elbasan", "Shkodër", "Vlorë", "Fier") else 1.0
                        for m in municipalities]
        return cls(tax.version, sorted(tax.categories), tax.codes("age_bands"), tax.codes("genders"),
                   tax.codes("risk_levels"), tax.codes("outcomes"), tax.codes("contact_types"),
                   municipalities, muni_weights)


@dataclass(frozen=True)
class _Plan:
    """What every generated row draws on: the seeded random source, the code lists and the period."""

    rng: random.Random
    codes: _Codes
    start: dt.datetime
    days: int
    staff_id: int
    tag: str  # makes this run's ids and child tokens unique


async def generate(store: Store, conversations: int, referrals: int, *, agencies: Sequence[tuple[int, str | None]],
                   days: int = 365, seed: int = 7, end: dt.datetime | None = None, contacts: int = 0) -> DemoResult:
    """``agencies`` are the directory's (id, county) pairs, from the caller: statistics read tables and
    never run the referral workflow, so filling an empty directory is the caller's business (the CLI).
    ``contacts`` are the contacts on the other channels (calls the most: stats.demo_contacts)."""
    rng = random.Random(seed)  # noqa: S311 - demo data, not a secret  # nosec B311
    codes = _Codes.load()
    end = end or utcnow().replace(minute=0, second=0, microsecond=0)
    start = end - dt.timedelta(days=days)
    staff_id = await _demo_staff(store)
    plan = _Plan(rng, codes, start, days, staff_id, secrets.token_hex(3))
    children = max(1, conversations // 3)
    first_child = await _insert_children(store, plan, children)
    conv_rows, case_rows, blocked = _conversation_rows(plan, conversations, first_child, children)
    async with store.write() as db:
        await _insert(db, Conversation, conv_rows)
        await _insert(db, CaseRecord, case_rows)
        for child, at in blocked:
            await db.execute(update(ChildIdentity).where(ChildIdentity.id == child)
                             .values(blocked_at=at, block_reason="abusive"))
    ref_rows, esc_rows = _referral_rows(plan, referrals, agencies, utcnow())
    async with store.write() as db:
        await _insert(db, Referral, ref_rows)
        await _insert(db, Escalation, esc_rows)
    for first in range(0, contacts, BATCH * 5):  # one transaction per 50,000: a million fits in memory piecewise
        rows = [contact_row(plan, i) for i in range(first, min(contacts, first + BATCH * 5))]
        async with store.write() as db:
            await _insert(db, CaseRecord, rows)
    return DemoResult(len(conv_rows), len(case_rows), len(ref_rows), len(esc_rows), contacts)


async def _insert(db: AsyncSession, model: Any, rows: list[dict[str, Any]]) -> None:
    for i in range(0, len(rows), BATCH):
        await db.execute(insert(_table(model)), rows[i:i + BATCH])


async def _insert_children(store: Store, plan: _Plan, children: int) -> int:
    """Inserts the demo children (a third as many as conversations) and returns the first one's id."""
    child_rows = [{"token_hash": f"demo{plan.tag}{i:010d}".ljust(64, "0")[:64], "public_key": PLACEHOLDER,
                   "created_at": plan.start} for i in range(children)]
    async with store.write() as db:
        await _insert(db, ChildIdentity, child_rows)
        return int((await db.execute(select(ChildIdentity.id).where(
            ChildIdentity.token_hash == child_rows[0]["token_hash"]))).scalar_one())


def _conversation_rows(plan: _Plan, conversations: int, first_child: int, children: int
                       ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[tuple[int, dt.datetime]]]:
    """Conversations, the case records of most answered ones, and the children blocked (child, when)."""
    rng = plan.rng
    conv_rows: list[dict[str, Any]] = []
    case_rows: list[dict[str, Any]] = []
    blocked: list[tuple[int, dt.datetime]] = []
    for i in range(conversations):
        conv = _conversation_row(plan, f"d{plan.tag}{i:012d}", first_child, children)
        conv_rows.append(conv)
        accepted, ended = conv["accepted_at"], conv["ended_at"]
        if accepted is not None and rng.random() < 0.01:
            blocked.append((conv["child_id"], ended))
        if accepted is not None and rng.random() < 0.9:
            case_rows.append(_case_row(plan, conv["id"], ended))
    return conv_rows, case_rows, blocked


def _conversation_row(plan: _Plan, conv_id: str, first_child: int, children: int) -> dict[str, Any]:
    # The draws from rng keep their order: the same seed gives the same data.
    rng, codes = plan.rng, plan.codes
    day = plan.start + dt.timedelta(days=rng.randrange(plan.days))
    created = day.replace(hour=rng.choices(range(24), HOUR_WEIGHTS)[0], minute=rng.randrange(60),
                          second=rng.randrange(60))
    roll = rng.random()
    state = "abandoned" if roll < 0.12 else "ended"
    accepted = None if state == "abandoned" else created + dt.timedelta(seconds=int(rng.expovariate(1 / 90)))
    ended = (accepted or created) + dt.timedelta(seconds=int(rng.expovariate(1 / 1200)) + 30)
    muni = rng.choices(codes.municipalities, codes.muni_weights)[0] if rng.random() < 0.8 else None
    child = first_child + rng.randrange(children)
    return {
        "id": conv_id, "child_id": child, "state": state, "urgency": rng.choices((0, 1, 2), (90, 8, 2))[0],
        "contact_by": "adult" if rng.random() < 0.08 else "child",
        "age_band": _pick(rng, codes.age_bands) if rng.random() < 0.7 else None,
        "gender": _pick(rng, codes.genders) if rng.random() < 0.8 else None,
        "municipality": muni,
        "county": county_of_municipality()[muni] if muni and rng.random() < 0.7 else None,
        "topic": _pick(rng, codes.categories) if rng.random() < 0.5 else None,
        "returning_child": rng.random() < 0.3, "counsellor_id": plan.staff_id if accepted else None,
        "created_at": created, "accepted_at": accepted, "ended_at": ended,
        "ended_by": "child" if rng.random() < 0.6 else "staff",
        "feedback": rng.choices(("yes", "somewhat", "no", None), (40, 15, 5, 40))[0],
    }


def _case_row(plan: _Plan, conv_id: str, ended: dt.datetime) -> dict[str, Any]:
    rng, codes = plan.rng, plan.codes
    contact_type = rng.choices(codes.contact_types, (70, 10, 6, 5, 5, 2, 2))[0]
    counselling = contact_type == "counselling"
    primary = _pick(rng, codes.categories) if counselling else None
    return {
        "conversation_id": conv_id, "counsellor_id": plan.staff_id, "contact_type": contact_type,
        "primary_category": primary,
        "secondary_categories": secondary_codes(rng, primary) if counselling else [],
        "risk": rng.choices(codes.risks, (60, 20, 12, 6, 2))[0],
        "age_band": _pick(rng, codes.age_bands), "gender": _pick(rng, codes.genders),
        "outcome": _pick(rng, codes.outcomes) if counselling else "none", "follow_up": rng.random() < 0.1,
        "note": None, "note_keys": None, "taxonomy_version": codes.version,
        "created_at": ended, "updated_at": ended,
    }


DEADLINES = {"emergency": dt.timedelta(hours=1), "urgent": dt.timedelta(days=1), "routine": dt.timedelta(days=3)}
REFERRAL_OUTCOMES = ("child_protected", "family_supported", "services_provided", "investigation_opened",
                     "referred_onward", "no_action_needed", "child_not_found", "other")


def _referral_rows(plan: _Plan, referrals: int, agencies: Sequence[tuple[int, str | None]], now: dt.datetime
                   ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Referrals, and an ``ack_overdue`` escalation for each acknowledged late or not by its deadline."""
    ref_rows: list[dict[str, Any]] = []
    esc_rows: list[dict[str, Any]] = []
    for i in range(referrals):
        ref = _referral_row(plan, f"r{plan.tag}{i:012d}", agencies, now)
        ref_rows.append(ref)
        deadline, acknowledged = ref["ack_deadline_at"], ref["acknowledged_at"]
        if (acknowledged is None and deadline < now) or (acknowledged is not None and acknowledged > deadline):
            esc_rows.append({"referral_id": ref["id"], "kind": "ack_overdue", "created_at": deadline})
    return ref_rows, esc_rows


def _referral_row(plan: _Plan, ref_id: str, agencies: Sequence[tuple[int, str | None]],
                  now: dt.datetime) -> dict[str, Any]:
    # The draws from rng keep their order: the same seed gives the same data.
    rng = plan.rng
    created = plan.start + dt.timedelta(seconds=rng.randrange(plan.days * 86400))
    urgency = rng.choices(("emergency", "urgent", "routine"), (10, 30, 60))[0]
    sent = created + dt.timedelta(minutes=rng.randrange(1, 30))
    deadline = sent + DEADLINES[urgency]
    ack_after = dt.timedelta(seconds=int(rng.expovariate(1 / DEADLINES[urgency].total_seconds() * 1.4)))
    acknowledged = sent + ack_after if sent + ack_after < now and rng.random() < 0.95 else None
    closed = (acknowledged + dt.timedelta(days=rng.randrange(1, 40))
              if acknowledged and rng.random() < 0.8 else None)
    closed = closed if closed and closed < now else None
    state = "closed" if closed else ("acknowledged" if acknowledged else "sent")
    agency_id, _county = agencies[rng.randrange(len(agencies))]
    return {
        "id": ref_id, "agency_id": agency_id, "urgency": urgency, "chi_category": _pick(rng, plan.codes.categories),
        "state": state, "outcome": _pick(rng, REFERRAL_OUTCOMES) if closed else None, "consent": {},
        "content": PLACEHOLDER, "created_by": plan.staff_id, "created_at": created, "sent_at": sent,
        "ack_deadline_at": deadline, "acknowledged_at": acknowledged, "closed_at": closed,
        "updated_at": closed or acknowledged or sent,
    }
