"""The "more help" safety page shows the Child Protection Unit of the municipality the child picks,
with its public contact (issue 19). A plain GET form: it works without JavaScript, and the choice
is neither stored nor logged (the page is never cached)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request

from helpline.db import StoreUnavailable
from referral import services_dir

if TYPE_CHECKING:
    from helpline.app import Services


async def context(services: Services, request: Request) -> dict[str, Any]:
    names = [m["name"] for m in services.municipalities]
    chosen = request.query_params.get("municipality") or ""
    if chosen not in names:
        return {"municipality_names": names, "chosen": "", "unit": None}
    try:
        async with services.store.read() as db:
            unit = await services_dir.unit_of(db, chosen)
    except StoreUnavailable:
        unit = None
    return {"municipality_names": names, "chosen": chosen, "unit": unit}
