"""Following referrals through (issue 19): the officer's plan (what the agency will do and by when)
and the supervisors' overdue list across agencies. See docs/referrals.md, "Following through"."""

from __future__ import annotations

from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from helpline.staffweb import StaffCall, staff_route
from referral import deadlines, follow, overdue
from referral._web import PLAN, rid_of, writing


async def portal_plan(call: StaffCall) -> Response:
    """The officer records the action the agency will take and by when (a date, or date and time)."""
    data = await call.body(PLAN)
    async with writing(call) as db:
        row = await follow.plan(db, call.staff, rid_of(call), data["kind"], data["due"], data["body"],
                                deadlines.now())
        return JSONResponse({"plan": row.plan, "action": row.action_kind,
                             "due_at": row.due_at.isoformat() if row.due_at else None})


async def console_overdue(call: StaffCall) -> Response:
    """Every referral waiting past a deadline, on which agency, escalated how far, since when."""
    async with writing(call) as db:
        items = await overdue.overdue(db, call.staff, deadlines.now())
    return JSONResponse({"overdue": items})


routes: list[BaseRoute] = [
    staff_route("/referrals/api/referrals/{rid}/plan", "referral.portal", portal_plan, methods=("POST",), body=PLAN),
    staff_route("/console/api/referral-overdue", "supervise.view", console_overdue),
]
