"""Follow-up tasks of a case: who does what by when, "My follow-ups", and the job that tells the
owner's console when a task falls due and the supervisors when one is overdue.

A task's text is sealed in the browser under the case key (ADR 0026); the server sees the owner and
the times. The job keeps its state in the task row (`notified_at`, `flagged_at`), claimed with a
conditional update, so any number of processes may run it and each task is announced once.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from typing import TYPE_CHECKING

from sqlalchemy import select, update
from starlette.responses import JSONResponse, Response

from chat.hub import STAFF_CHANNEL
from counsellor_ui import casework_data as data
from helpline import validate
from helpline.i18n import N_
from helpline.models import CaseMember, CaseTask, Staff, utcnow
from helpline.security import access, audit, permissions
from helpline.security.access import Action, Thing
from helpline.staffweb import Refused, StaffCall, staff_route
from helpline.validate import Optional

if TYPE_CHECKING:
    from helpline.app import Services
    from helpline.jobs import Scheduler

log = logging.getLogger("helpline.followups")

CHECK_SECONDS = 10.0  # how often the job looks: a task that falls due reaches the console within this
OVERDUE_AFTER = dt.timedelta(hours=1)  # past its due time by this much and not done: supervisors are told
MAX_TEXT = 4096
WHEN_PATTERN = (
    "^20[0-9]{2}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9](:[0-5][0-9](\\.[0-9]{1,6})?)?(Z|[+-][01][0-9]:[0-5][0-9])$")
LIMIT = 2**31 - 1


WHEN = N_("'%(name)s' must be a date and time like 2026-12-04T17:30:00Z.")
EARLIEST, LATEST = dt.datetime(2000, 1, 1, tzinfo=dt.UTC), dt.datetime(2100, 1, 1, tzinfo=dt.UTC)


def _when(name: str, value: object) -> dt.datetime:
    """An ISO 8601 time with its offset (the browser sends UTC), within this century."""
    at = None
    if isinstance(value, str) and re.fullmatch(WHEN_PATTERN, value):
        try:
            at = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            at = None
    if at is None or at.tzinfo is None or not EARLIEST <= at <= LATEST:
        raise validate.Invalid(WHEN, name=name)
    return at.astimezone(dt.UTC)


validate.described(_when, {"type": "string", "minLength": 17, "maxLength": 32, "pattern": WHEN_PATTERN})

TASK_SPEC: dict[str, validate.Check] = {
    "owner": data.PARTICIPANT, "due_at": _when, "text": Optional(validate.string(MAX_TEXT * 2, 40))}
DONE_SPEC: dict[str, validate.Check] = {"done": validate.boolean}


async def add_task(call: StaffCall) -> Response:
    """A follow-up for a member of the case's team (the owner, a colleague she added, a supervisor)."""
    body = await call.body(TASK_SPEC)
    async with call.services.store.write() as db:
        case = await data.case_for(db, call, call.request.path_params["case"], Action.WRITE)
        owner = await data.colleague(db, call, body["owner"])
        member = await data.member_row(db, case.id, owner.id) is not None
        relation = access.case_file_relation(owner.id, owner.role, owner_id=case.owner_id, member=member)
        if not access.may(owner.role, relation, Thing.CASE_FILE, Action.WRITE):
            raise Refused(400, call.t("A follow-up goes to someone on the case's team."))
        task = CaseTask(case_id=case.id, owner_id=owner.id, due_at=body["due_at"], text=body["text"],
                        created_by=call.staff.id, created_at=utcnow())
        db.add(task)
        case.updated_at = utcnow()
        await db.flush()
        await audit.record(db, call.actor, "casefile.task", f"casefile:{case.id}",
                           {"task": task.id, "owner": owner.participant_id})
        return JSONResponse(data.task_dict(task, owner), status_code=201)


async def mark_done(call: StaffCall) -> Response:
    body = await call.body(DONE_SPEC)
    async with call.services.store.write() as db:
        task = await db.get(CaseTask, call.request.path_params["task"])
        if task is None:
            raise Refused(404, call.t("No such follow-up."))
        await data.case_for(db, call, task.case_id, Action.WRITE)
        task.done_at = utcnow() if body["done"] else None
        owner = await db.get(Staff, task.owner_id)
        await audit.record(db, call.actor, "casefile.task_done", f"casefile:{task.case_id}",
                           {"task": task.id, "done": body["done"]})
        assert owner is not None
        return JSONResponse(data.task_dict(task, owner))


async def my_followups(call: StaffCall) -> Response:
    """Open follow-ups of the signed-in member, soonest first, each with the case key wrapped for them
    (to open its text) and whether it is due or overdue. Supervisors also get every flagged one."""
    now = utcnow()
    query = (select(CaseTask, Staff, CaseMember).join(Staff, Staff.id == CaseTask.owner_id)
             .outerjoin(CaseMember, (CaseMember.case_id == CaseTask.case_id) & (CaseMember.staff_id == call.staff.id))
             .where(CaseTask.done_at.is_(None)).order_by(CaseTask.due_at))
    async with call.services.store.read() as db:
        mine = list((await db.execute(query.where(CaseTask.owner_id == call.staff.id).limit(200))).tuples())
        flagged = []
        if permissions.allowed(call.staff.role, "case.read_all"):
            flagged = list((await db.execute(query.where(CaseTask.flagged_at.is_not(None)).limit(200))).tuples())

    def row(task: CaseTask, owner: Staff, member: CaseMember | None) -> dict[str, object]:
        return {**data.task_dict(task, owner), "due": task.due_at <= now,
                "overdue": task.due_at <= now - OVERDUE_AFTER,
                "key": {"epk": member.wrapper_public_key, "wrapped": member.wrapped_key} if member else None}
    return JSONResponse({"mine": [row(*r) for r in mine], "overdue": [row(*r) for r in flagged]})


# -- the job -----------------------------------------------------------------------------------------


async def _claim(services: Services, column: str, before: dt.datetime, at: dt.datetime) -> list[tuple[CaseTask, Staff]]:
    """Marks the open tasks due before ``before`` not yet announced in ``column``; returns those this
    run claimed (another process's claim wins the conditional update)."""
    field = getattr(CaseTask, column)
    claimed: list[tuple[CaseTask, Staff]] = []
    async with services.store.write() as db:
        rows = (await db.execute(select(CaseTask, Staff).join(Staff, Staff.id == CaseTask.owner_id).where(
            CaseTask.done_at.is_(None), field.is_(None), CaseTask.due_at <= before).limit(500))).all()
        for task, owner in rows:
            done = await db.execute(update(CaseTask).where(CaseTask.id == task.id, field.is_(None))
                                    .values({column: at}).execution_options(synchronize_session=False))
            if getattr(done, "rowcount", 0) == 1:
                claimed.append((task, owner))
                await audit.record(db, "system", f"casefile.{column.removesuffix('_at')}", f"casefile:{task.case_id}",
                                   {"task": task.id})
    return claimed


async def run_once(services: Services) -> tuple[int, int]:
    """Tells each owner of a task that fell due, and the supervisors of each task now overdue."""
    at = utcnow()
    due = await _claim(services, "notified_at", at, at)
    for task, owner in due:
        await services.broker.publish(STAFF_CHANNEL, {"k": "staff", "to": owner.participant_id, "frame": {
            "type": "task_due", "task": task.id, "case": task.case_id, "due_at": task.due_at.isoformat()}})
    overdue = await _claim(services, "flagged_at", at - OVERDUE_AFTER, at)
    for task, owner in overdue:
        await services.broker.publish(STAFF_CHANNEL, {"k": "staff", "to": "role:supervisor", "frame": {
            "type": "task_overdue", "task": task.id, "case": task.case_id, "owner_name": owner.display_name,
            "due_at": task.due_at.isoformat()}})
    if due or overdue:
        log.info("follow-ups: %d fell due, %d overdue", len(due), len(overdue))
    return len(due), len(overdue)


def add_job(jobs: Scheduler, services: Services) -> None:
    jobs.add("follow-ups", CHECK_SECONDS, lambda: run_once(services))


routes = [
    staff_route("/console/api/followups", "case.read", my_followups),
    staff_route("/console/api/casework/{case:int}/tasks", "case.write", add_task, methods=("POST",), body=TASK_SPEC),
    staff_route("/console/api/followups/{task:int}", "case.write", mark_done, methods=("PUT",), body=DONE_SPEC),
]
