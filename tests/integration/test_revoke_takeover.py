"""A supervisor's takeover (issue 18) is a state-changing frame: access taken away while her console
socket is open stops it, whether the broker's notice arrives or is lost (issue 17's rule)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
import pytest
from sqlalchemy import func, select, update

from helpline.db import make_engine, make_sessionmaker
from helpline.models import AuditEntry, Conversation, Staff
from tests.chat_client import FrameError, SocketClosed, StaffClient
from tests.integration.test_chat_e2e import child_text, open_chat, staff_text
from tests.integration.test_revoke import NOTICE_DEADLINE
from tests.integration.test_teamwork import signed_in
from tests.support import ServerProcess, Stack, add_user, run_async


async def db_value(stack: Stack, query: object) -> object:
    engine = make_engine(stack.database_url)
    try:
        async with make_sessionmaker(engine)() as db:
            return (await db.execute(query)).scalar_one()  # type: ignore[call-overload]
    finally:
        await engine.dispose()


async def set_staff(stack: Stack, username: str, **values: object) -> None:
    """Changes the staff row straight in the database, as if the broker's notice were lost."""
    engine = make_engine(stack.database_url)
    try:
        async with make_sessionmaker(engine)() as db:
            await db.execute(update(Staff).where(Staff.username == username).values(**values))
            await db.commit()
    finally:
        await engine.dispose()


async def gone_counsellor_chat(server: ServerProcess, stack: Stack, ana_pw: str) -> str:
    """A chat whose counsellor closed her browser, old enough to be taken over."""
    child, ana, conv = await open_chat(server, stack, ana_pw)
    await child.say(child_text(1))
    await ana.say(conv, staff_text(1))
    await ana.close()
    await asyncio.sleep(1.2)
    return conv


async def closed_code(sara: StaffClient) -> int | None:
    assert sara.socket is not None and sara.socket.reader is not None
    await asyncio.wait_for(asyncio.shield(sara.socket.reader), NOTICE_DEADLINE)
    return sara.socket.close_code


@pytest.mark.parametrize(("change", "code"), [({"disabled": True}, 4401), ({"role": "manager"}, 4403)],
                         ids=["disabled", "demoted"])
def test_a_takeover_after_access_went_is_refused_even_without_the_notice(
        stack: Stack, start_server: Callable[..., ServerProcess], change: dict[str, object], code: int) -> None:
    server = start_server(HELPLINE_TAKEOVER_AFTER_SECONDS="1")
    ana_pw, sara_pw = add_user(stack, "ana"), add_user(stack, "sara", role="supervisor")

    async def scenario() -> None:
        sara = await signed_in(server, "sara", sara_pw)
        conv = await gone_counsellor_chat(server, stack, ana_pw)
        holder = await db_value(stack, select(Conversation.counsellor_id).where(Conversation.id == conv))
        await set_staff(stack, "sara", **change)
        assert sara.socket is not None
        with pytest.raises((FrameError, ConnectionError)):
            await sara.socket.request({"type": "take_over", "conv": conv, "to": "me"})
        assert await closed_code(sara) == code
        # Nothing moved: the chat is still Ana's, and no takeover is in the audit log.
        assert await db_value(stack, select(Conversation.counsellor_id).where(Conversation.id == conv)) == holder
        taken = await db_value(stack, select(func.count()).select_from(AuditEntry)
                               .where(AuditEntry.action == "chat.take_over"))
        assert taken == 0
        with pytest.raises(SocketClosed) as refused:
            await sara.connect()
        assert refused.value.code == code

    run_async(scenario())


def test_disabling_a_supervisor_closes_her_socket_before_she_can_take_over(
        stack: Stack, start_server: Callable[..., ServerProcess]) -> None:
    """With the notice (an admin in the console), the socket closes by itself; a takeover after it is impossible."""
    server = start_server(HELPLINE_TAKEOVER_AFTER_SECONDS="1")
    ana_pw, sara_pw = add_user(stack, "ana"), add_user(stack, "sara", role="supervisor")
    root_pw = add_user(stack, "root", role="admin")

    async def scenario() -> None:
        sara = await signed_in(server, "sara", sara_pw)
        conv = await gone_counsellor_chat(server, stack, ana_pw)
        holder = await db_value(stack, select(Conversation.counsellor_id).where(Conversation.id == conv))
        root = StaffClient(server.url, "root", root_pw)
        await root.sign_in()
        async with httpx.AsyncClient(base_url=server.url, cookies=root.cookies,
                                     headers={"x-csrf-token": root.csrf}) as admin:
            listed = (await admin.get("/console/api/admin/staff")).json()["staff"]
            sara_id = next(s["id"] for s in listed if s["username"] == "sara")
            answer = await admin.post(f"/console/api/admin/staff/{sara_id}/disabled", json={"disabled": True})
            assert answer.status_code == 200, answer.text
        assert await closed_code(sara) == 4401
        assert sara.socket is not None
        with pytest.raises(Exception):  # noqa: PT011,B017 - the socket is closed: websockets' ConnectionClosed
            await sara.socket.request({"type": "take_over", "conv": conv, "to": "me"})
        assert await db_value(stack, select(Conversation.counsellor_id).where(Conversation.id == conv)) == holder

    run_async(scenario())
