"""Retention reaches casework: a case closed long ago loses its keys and follow-up texts, old handover
notes go, and an open case or a recent note keeps everything (helpline/retention.py)."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

from sqlalchemy import func, select

from helpline.db import make_engine, make_sessionmaker
from helpline.models import Case, CaseMember, CaseRecord, CaseTask, HandoverNote, Staff, utcnow
from tests.integration.test_chat_e2e import database_dump
from tests.support import ROOT, Stack, add_user

OLD = dt.timedelta(days=91)
WRAPPED = "V1JBUFBFRC1DQVNFLUtFWS0"  # stands for a wrapped case key; only its presence is checked
TASK = "Rk9MTE9XLVVQLVRFWFQt"
SEALED = "Tk9URS1LRVktVU5ERVItQ0FTRS0"
HANDOVER = "SEFORE9WRVItTk9URS0"


async def add_case(stack: Stack, owner: int, tag: str, *, status: str, changed_at: dt.datetime) -> None:
    """A case as the console stores it: a team member with a wrapped key, a follow-up, a linked contact."""
    engine = make_engine(stack.database_url)
    async with make_sessionmaker(engine)() as db, db.begin():
        case = Case(owner_id=owner, status=status, created_by=owner, created_at=changed_at, updated_at=changed_at)
        db.add(case)
        await db.flush()
        db.add(CaseMember(case_id=case.id, staff_id=owner, wrapped_key=WRAPPED + tag, wrapper_public_key="p" * 43,
                          added_by=owner))
        db.add(CaseTask(case_id=case.id, owner_id=owner, due_at=changed_at, text=TASK + tag, created_by=owner))
        db.add(CaseRecord(counsellor_id=owner, contact_type="counselling", primary_category="violence.physical",
                          secondary_categories=[], risk="low", channel="phone", case_id=case.id,
                          case_note_key=SEALED + tag, taxonomy_version="t1", started_at=changed_at))
        db.add(HandoverNote(author_id=owner, note=HANDOVER + tag, note_keys={"staff:x": "w"}, created_at=changed_at))
    await engine.dispose()


async def test_purge_reaches_closed_cases_and_old_handover_notes(stack: Stack) -> None:
    add_user(stack, "dita")
    engine = make_engine(stack.database_url)
    async with make_sessionmaker(engine)() as db:
        owner = int(await db.scalar(select(Staff.id).where(Staff.username == "dita")) or 0)
    await engine.dispose()
    await add_case(stack, owner, "old-closed", status="closed", changed_at=utcnow() - OLD)
    await add_case(stack, owner, "old-open", status="open", changed_at=utcnow() - OLD)
    await add_case(stack, owner, "recent-closed", status="closed", changed_at=utcnow())
    dumped = await database_dump(stack)
    for tag in ("old-closed", "old-open", "recent-closed"):
        for prefix in (WRAPPED, TASK, SEALED, HANDOVER):
            assert (prefix + tag).encode() in dumped  # really there before the purge

    purged = subprocess.run([sys.executable, "-m", "helpline.cli", "purge"], cwd=ROOT, env=stack.env,
                            text=True, capture_output=True, check=True)
    assert "2 case key(s), 1 follow-up text(s), 2 handover note(s)" in purged.stdout, purged.stdout

    dumped = await database_dump(stack)
    for prefix in (WRAPPED, TASK, SEALED):
        assert (prefix + "old-closed").encode() not in dumped, f"{prefix} of a case closed long ago stayed"
        assert (prefix + "old-open").encode() in dumped, "an open case lost content"
        assert (prefix + "recent-closed").encode() in dumped, "a case closed recently lost content"
    assert (HANDOVER + "old-closed").encode() not in dumped and (HANDOVER + "old-open").encode() not in dumped
    assert (HANDOVER + "recent-closed").encode() in dumped
    engine = make_engine(stack.database_url)
    async with make_sessionmaker(engine)() as db:
        assert await db.scalar(select(func.count()).select_from(Case)) == 3  # the cases themselves stay
        assert await db.scalar(select(func.count()).select_from(CaseTask)) == 3  # and their follow-ups' dates
        assert await db.scalar(select(func.count()).select_from(CaseRecord)) == 3
    await engine.dispose()
