"""Retention: content of what closed long ago is purged, by `helpline purge` and by the server's job; counts stay."""

from __future__ import annotations

import asyncio
import datetime as dt
import subprocess
import sys
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select, update

from helpline.db import make_engine, make_sessionmaker
from helpline.models import (
    Agency,
    AuditEntry,
    CaseRecord,
    Conversation,
    Message,
    Referral,
    ReferralEvent,
    ReferralKey,
    utcnow,
)
from tests.integration.test_chat_e2e import database_dump, open_chat
from tests.support import ROOT, ServerProcess, Stack, add_user

OLD = dt.timedelta(days=91)
NOTE = "Q0FTRS1OT1RFLUNJUEhFUlRFWFQtb2xk"  # stands for browser ciphertext; only its presence is checked
CONTENT = "UkVGRVJSQUwtQ09OVEVOVC1vbGQ"
EVENT_BODY = "UkVGRVJSQUwtUVVFU1RJT04tb2xk"


async def chat_and_end(server: ServerProcess, stack: Stack, username: str, words: str) -> tuple[str, list[str]]:
    """A real chat: four messages each way, ended by the counsellor; returns the stored ciphertexts."""
    child, staff, conv = await open_chat(server, stack, add_user(stack, username), username)
    for i in range(4):
        await child.say(f"{words} {i}")
        await staff.say(conv, f"{words} answer {i}")
    await staff.end(conv)
    await child.close()
    await staff.close()
    engine = make_engine(stack.database_url)
    async with make_sessionmaker(engine)() as db:
        bodies = list((await db.execute(select(Message.body).where(Message.conversation_id == conv))).scalars())
    await engine.dispose()
    assert len(bodies) == 8
    return conv, bodies


async def counts(stack: Stack) -> dict[str, Any]:
    """What statistics read: conversations and their message counts, case categories, referral states."""
    engine = make_engine(stack.database_url)
    async with make_sessionmaker(engine)() as db:
        out = {
            "conversations": sorted((c.id, c.state, c.last_seq, c.topic, c.age_band) for c in
                                    (await db.execute(select(Conversation))).scalars()),
            "cases": sorted((c.conversation_id, c.primary_category, c.risk, c.outcome) for c in
                            (await db.execute(select(CaseRecord))).scalars()),
            "referrals": sorted((r.id, r.state, r.chi_category, r.urgency) for r in
                                (await db.execute(select(Referral))).scalars()),
            "referral_events": await db.scalar(select(func.count()).select_from(ReferralEvent)),
        }
    await engine.dispose()
    return out


async def add_case_and_referral(stack: Stack, conv: str, *, closed_at: dt.datetime) -> None:
    """A case record with an encrypted note and a closed referral with content, as the console stores them."""
    engine = make_engine(stack.database_url)
    async with make_sessionmaker(engine)() as db, db.begin():
        counsellor = await db.scalar(select(Conversation.counsellor_id).where(Conversation.id == conv))
        agency = Agency(code="cpu-test-" + conv[:6], name="CPU Test", kind="cpu")
        db.add(agency)
        await db.flush()
        db.add(CaseRecord(conversation_id=conv, counsellor_id=counsellor, contact_type="counselling",
                          primary_category="violence.physical", secondary_categories=[], risk="high",
                          outcome="referred", note=NOTE + conv, note_keys={"staff:x": "wrapped"},
                          taxonomy_version="t1"))
        ref = Referral(id="ref" + conv[:20], agency_id=agency.id, urgency="urgent", chi_category="violence.physical",
                       state="closed", outcome="resolved", consent={}, content=CONTENT + conv, created_by=counsellor,
                       conversation_id=conv, created_at=closed_at, closed_at=closed_at, updated_at=closed_at)
        db.add(ref)
        await db.flush()
        db.add(ReferralKey(referral_id=ref.id, reader="staff:x", wrapped_key="k" * 96, wrapper_public_key="p" * 43))
        db.add(ReferralEvent(referral_id=ref.id, kind="question", actor="staff:x", body=EVENT_BODY + conv,
                             detail={}, created_at=closed_at))
    await engine.dispose()


async def age(stack: Stack, conv: str) -> None:
    """Moves a conversation's end (and its referral's closure) back beyond the 90 days."""
    engine = make_engine(stack.database_url)
    async with make_sessionmaker(engine)() as db, db.begin():
        await db.execute(update(Conversation).where(Conversation.id == conv).values(ended_at=utcnow() - OLD))
        await db.execute(update(Referral).where(Referral.conversation_id == conv).values(closed_at=utcnow() - OLD))
    await engine.dispose()


async def test_purge_removes_old_content_and_keeps_counts(
        stack: Stack, start_server: Callable[..., ServerProcess]) -> None:
    server = start_server()
    old_conv, old_bodies = await chat_and_end(server, stack, "ana", "old words")
    await add_case_and_referral(stack, old_conv, closed_at=utcnow())
    # A chat needs its case recorded before the next one (wrap-up): a second counsellor takes it.
    new_conv, new_bodies = await chat_and_end(server, stack, "bora", "recent words")
    await age(stack, old_conv)
    before = await counts(stack)
    dumped = await database_dump(stack)
    for needle in [*old_bodies, NOTE + old_conv, CONTENT + old_conv, EVENT_BODY + old_conv]:
        assert needle.encode() in dumped  # the content is really there before the purge

    purged = subprocess.run([sys.executable, "-m", "helpline.cli", "purge"], cwd=ROOT, env=stack.env,
                            text=True, capture_output=True, check=True)
    assert "8 message(s), 1 case note(s)" in purged.stdout and "1 referral content(s)" in purged.stdout

    assert await counts(stack) == before  # statistics see the same conversations, cases and referrals
    dumped = await database_dump(stack)
    for needle in [*old_bodies, NOTE + old_conv, CONTENT + old_conv, EVENT_BODY + old_conv]:
        assert needle.encode() not in dumped, "purged content is still in the database"
    for needle in new_bodies:
        assert needle.encode() in dumped, "content within the retention period was removed"
    engine = make_engine(stack.database_url)
    async with make_sessionmaker(engine)() as db:
        assert await db.scalar(select(func.count()).select_from(ReferralKey)) == 0
        actions = list((await db.execute(select(AuditEntry.action))).scalars())
    await engine.dispose()
    assert actions.count("retention.purge") == 1
    again = subprocess.run([sys.executable, "-m", "helpline.cli", "purge"], cwd=ROOT, env=stack.env,
                           text=True, capture_output=True, check=True)
    assert "0 message(s)" in again.stdout
    verify = subprocess.run([sys.executable, "-m", "helpline.cli", "audit", "verify"], cwd=ROOT, env=stack.env,
                            text=True, capture_output=True)
    assert verify.returncode == 0, verify.stderr

    # The server's own job: a process started after the second chat aged purges it without a command.
    await age(stack, new_conv)
    start_server(HELPLINE_PURGE_INTERVAL_MINUTES="1")
    for _ in range(200):
        dumped = await database_dump(stack)
        if not any(b.encode() in dumped for b in new_bodies):
            break
        await asyncio.sleep(0.05)
    dumped = await database_dump(stack)
    assert not any(b.encode() in dumped for b in new_bodies), "the scheduled purge did not run"
    assert await counts(stack) == before
