"""A referral must reach someone who can read it (issue 19): an agency with no officer holding a
signed key would get a referral nobody can open, so the form says so before sending, offers the
agency's fallback (below) or another agency, and the server refuses it as well.

The fallback is the body above the agency: for a municipality's Child Protection Unit, the State
Agency for the Rights and Protection of the Child; for a county police directorate or the
cybercrime sector, the State Police; for any other service, the State Agency.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from helpline import pack
from helpline.i18n import N_
from helpline.models import Agency, Role, Staff
from referral import repository
from referral.service import ReferralError

# The helpline pack's [routing] rule naming each kind's fallback; any other kind falls back to the State Agency.
FALLBACK_BY_KIND = {"cpu": "state_agency", "police": "police_national", "police_cyber": "police_national"}


def fallback_code(agency: Agency) -> str | None:
    code = pack.active().route(FALLBACK_BY_KIND.get(agency.kind, "state_agency"))
    return None if code == agency.code else code


async def officers(db: AsyncSession, agency_id: int) -> int:
    """The agency's enabled officers with an org-signed key: those who can open its referrals."""
    query = select(func.count()).select_from(Staff).where(
        Staff.agency_id == agency_id, Staff.role == Role.OFFICER.value, Staff.disabled.is_(False),
        Staff.key_signature.is_not(None))
    return int((await db.execute(query)).scalar_one())


async def fallback_of(db: AsyncSession, agency: Agency) -> dict[str, Any] | None:
    """The agency's fallback, when it is active and has an officer who can read."""
    code = fallback_code(agency)
    other = await repository.agency_by_code(db, code) if code else None
    if other is None or not other.active or not await officers(db, other.id):
        return None
    return {"code": other.code, "name": other.name}


async def require(db: AsyncSession, agency: Agency) -> None:
    """Refuses a referral to an agency nobody there can read, naming the fallback when there is one."""
    if await officers(db, agency.id):
        return
    fallback = await fallback_of(db, agency)
    if fallback is None:
        raise ReferralError(409, N_("Nobody at %(agency)s can read referrals yet. Choose another agency."),
                            {"agency": agency.name})
    raise ReferralError(409, N_("Nobody at %(agency)s can read referrals yet. Send it to %(fallback)s or "
                                "choose another agency."), {"agency": agency.name, "fallback": fallback["name"]})
