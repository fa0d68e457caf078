"""`helpline demo-data`'s contacts on the channels other than the chat, and the sub-codes of a record.

Proportions after a national child helpline at launch: the telephone carries most contacts (about
400 calls a day), then the report page, e-mail, visits and letters. Calls are shorter than chats and
more often silent or a prank; adults and professionals call about a child more often than they chat.
Every municipality appears, the small ones rarely. Metadata only: no note.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import TYPE_CHECKING, Any

from helpline import taxonomy
from stats.rollups import county_of_municipality

if TYPE_CHECKING:
    from stats.demo import _Plan

CHANNELS = (("phone", 90.0), ("report", 4.0), ("email", 3.0), ("visit", 2.0), ("letter", 1.0))
CONTACT_BY = (("child", 60.0), ("adult", 28.0), ("professional", 8.0), ("not_answered", 4.0))
# counselling, information, silent, hang_up, prank, abusive, thank_you (the taxonomy's order)
CALL_KINDS = (55.0, 12.0, 12.0, 8.0, 8.0, 2.0, 3.0)
CALL_HOURS = [1, 1, 1, 1, 1, 1, 2, 4, 6, 8, 9, 9, 8, 9, 10, 10, 10, 9, 8, 7, 6, 4, 2, 1]


def secondary_codes(rng: random.Random, primary: str | None) -> list[str]:
    """None to two sub-codes: usually of the main category, sometimes of another."""
    if primary is None:
        return []
    categories = {c["code"]: [s["code"] for s in c["sub"]] for c in taxonomy.load().data["categories"]}
    out: list[str] = []
    for _ in range(rng.choice((0, 1, 1, 2))):
        category = primary if rng.random() < 0.8 else rng.choice(sorted(categories))
        if categories[category]:
            out.append(rng.choice(categories[category]))
    return sorted(set(out))


def contact_row(plan: _Plan, index: int) -> dict[str, Any]:
    """One recorded contact that came through no chat (a ``case_records`` row without a conversation)."""
    rng, codes = plan.rng, plan.codes
    day = plan.start + dt.timedelta(days=rng.randrange(plan.days))
    started = day.replace(hour=rng.choices(range(24), CALL_HOURS)[0], minute=rng.randrange(60),
                          second=rng.randrange(60))
    channel = rng.choices([c for c, _ in CHANNELS], [w for _, w in CHANNELS])[0]
    contact_type = rng.choices(codes.contact_types, CALL_KINDS)[0]
    counselling = contact_type == "counselling"
    primary = rng.choice(codes.categories) if counselling else None
    muni = rng.choices(codes.municipalities, codes.muni_weights)[0] if rng.random() < 0.85 else None
    duration = int(rng.expovariate(1 / 420)) + 20 if channel == "phone" else None
    return {
        "conversation_id": None, "ref": f"d{plan.tag}{index:012d}", "channel": channel,
        "counsellor_id": plan.staff_id, "contact_type": contact_type, "primary_category": primary,
        "secondary_categories": secondary_codes(rng, primary),
        "risk": rng.choices(codes.risks, (62, 20, 11, 5, 2))[0],
        "age_band": rng.choice(codes.age_bands) if rng.random() < 0.8 else None,
        "gender": rng.choice(codes.genders) if rng.random() < 0.85 else None,
        "outcome": rng.choice(codes.outcomes) if counselling else "none", "follow_up": rng.random() < 0.08,
        "contact_by": rng.choices([c for c, _ in CONTACT_BY], [w for _, w in CONTACT_BY])[0],
        "municipality": muni, "county": county_of_municipality()[muni] if muni else None,
        "started_at": started, "duration_seconds": duration,
        "note": None, "note_keys": None, "taxonomy_version": codes.version,
        "created_at": started, "updated_at": started,
    }
