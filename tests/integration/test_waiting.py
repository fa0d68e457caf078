"""Nobody left waiting for nobody (issue 18, ADR 0027), over real WebSockets with PyNaCl clients,
on SQLite + in-process broker and PostgreSQL + Redis: "in danger now" while waiting, a message
left when nobody is on duty and answered later, and a supervisor taking over a chat whose
counsellor's console is gone."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from helpline import crypto
from tests.chat_client import ChildClient, FrameError, StaffClient
from tests.integration.test_chat_e2e import PRECHAT, child_text, open_chat, staff_text
from tests.integration.test_teamwork import signed_in
from tests.support import ServerProcess, Stack, add_user, run_async


async def position_of(child: ChildClient, check: Callable[[dict[str, Any]], bool] = lambda f: True,
                      timeout: float = 10) -> dict[str, Any]:
    """The first `position` frame the child's page gets that passes ``check``."""
    assert child.socket is not None
    deadline = time.monotonic() + timeout
    while True:
        frame = await child.socket.next_event("position", max(0.05, deadline - time.monotonic()))
        if check(frame):
            return frame


async def leave_message(child: ChildClient, stack: Stack, text: str) -> list[str]:
    """What the child's page does: writes, then wraps the key for every team key the pinned org key signed."""
    assert child.socket is not None and child.conv_key is not None and child.conv is not None
    await child.say(text)
    readers = (await child.socket.request({"type": "readers", "conv": child.conv}))["readers"]
    keys = []
    for reader in readers:
        public = crypto.b64u_decode(reader["public_key"])
        assert crypto.verify_staff_key(stack.org_public_key, reader["id"], public, reader["signature"],
                                       roles=crypto.CHAT_ROLES)
        keys.append({"for": reader["id"], "key": crypto.wrap_key(child.conv_key, public, child.private_key)})
    ack = await child.socket.request({"type": "leave_message", "conv": child.conv, "keys": keys})
    assert ack["state"] == "message"
    return [reader["id"] for reader in readers]


def test_in_danger_now_while_waiting_moves_the_child_ahead_and_alerts_supervisors(
        stack: Stack, server: ServerProcess) -> None:
    sara_pw = add_user(stack, "sara", role="supervisor")

    async def scenario() -> None:
        sara = await signed_in(server, "sara", sara_pw)
        first, second = ChildClient(server.url, stack.org_public_key), ChildClient(server.url, stack.org_public_key)
        for child in (first, second):
            await child.connect()
            await child.start(PRECHAT)
        told = await position_of(second, lambda f: f["position"] == 2)
        assert told["on_duty"] is True and told["wait_seconds"] > 0
        assert second.socket is not None and second.conv is not None
        with pytest.raises(FrameError) as refused:  # only the child's own chat
            await second.socket.request({"type": "danger", "conv": first.conv})
        assert refused.value.code == "not_found"

        began = time.monotonic()
        ack = await second.socket.request({"type": "danger", "conv": second.conv})
        assert ack["urgency"] == 2
        alert = await sara.socket.next_event("alert", timeout=1)  # type: ignore[union-attr]
        assert time.monotonic() - began < 1.0
        assert alert["kind"] == "emergency" and alert["conv"] == second.conv and alert["urgency"] == 2
        assert alert["waiting"] is True and alert["from"] is None
        await position_of(second, lambda f: f["position"] == 1, timeout=5)
        await position_of(first, lambda f: f["position"] == 2, timeout=5)
        queue = await sara.socket.next_event("queue")  # type: ignore[union-attr]
        while not queue.get("items") or queue["items"][0]["conv"] != second.conv:
            queue = await sara.socket.next_event("queue")  # type: ignore[union-attr]
        assert queue["items"][0]["urgency"] == 2

        # Said again: no second alert.
        await second.socket.request({"type": "danger", "conv": second.conv})
        assert sara.socket is not None
        try:
            again = await sara.socket.next_event("alert", timeout=0.5)
        except TimeoutError:
            again = None
        assert again is None

        # Whoever takes the chat handles the alert, for every supervisor.
        await sara.accept(second.conv)
        handled = await sara.socket.next_event("alert_handled")
        assert handled["alert"] == alert["alert"]
        await sara.wait_for_key(second.conv)
        if second.share_task is not None:
            await second.share_task
        for client in (first, second, sara):
            await client.close()

    run_async(scenario())


def test_a_message_left_when_nobody_is_on_duty_is_answered_and_read_with_the_resume_code(
        stack: Stack, server: ServerProcess) -> None:
    ana_pw = add_user(stack, "ana")

    async def scenario() -> None:
        ana = StaffClient(server.url, "ana", ana_pw)
        await ana.sign_in()  # her key is enrolled and signed; her console is not open
        child = ChildClient(server.url, stack.org_public_key)
        await child.connect()
        conv = await child.start(PRECHAT)
        told = await position_of(child)
        assert told["on_duty"] is False and told["wait_seconds"] is None and told["offer_message"] is True
        assert child.socket is not None
        with pytest.raises(FrameError) as refused:  # nothing written yet: nothing to leave
            await child.socket.request({"type": "leave_message", "conv": conv, "keys": [
                {"for": ana.participant, "key": crypto.wrap_key(child.conv_key or b"", child.public_key,
                                                                child.private_key)}]})
        assert refused.value.code == "bad_state"
        readers = await leave_message(child, stack, child_text(1))
        assert readers == [ana.participant]
        await child.close()

        await ana.connect()
        queue = await ana.socket.next_event("queue")  # type: ignore[union-attr]
        assert [m["conv"] for m in queue["messages"]] == [conv] and queue["items"] == []
        ack = await ana.accept(conv)
        assert ack["key"] and ack["last_seq"] == 1
        ana._take_key(conv, ack["key"], ack["wrapper_public_key"])  # as the console does with the ack
        await ana.sync(conv)
        await asyncio.sleep(0.3)
        assert ana.received[conv][1].text == child_text(1)
        await ana.say(conv, staff_text(1))

        # Later, on another phone: the resume code alone brings the answer.
        again = ChildClient(server.url, stack.org_public_key, secret=child.secret)
        await again.connect()
        resumed = await again.resume()
        assert resumed["state"] == "active" and resumed["counsellor"]["has_key"] is True
        for _ in range(100):
            if 2 in again.received:
                break
            await asyncio.sleep(0.05)
        assert again.received[1].text == child_text(1) and again.received[2].text == staff_text(1)
        for client in (again, ana):
            await client.close()

    run_async(scenario())


def test_a_supervisor_takes_over_a_chat_whose_counsellor_closed_her_browser(
        stack: Stack, start_server: Callable[..., ServerProcess]) -> None:
    server = start_server(HELPLINE_TAKEOVER_AFTER_SECONDS="2")
    ana_pw, sara_pw = add_user(stack, "ana"), add_user(stack, "sara", role="supervisor")
    bora_pw = add_user(stack, "bora")

    async def scenario() -> None:
        child, ana, conv = await open_chat(server, stack, ana_pw)
        sara = await signed_in(server, "sara", sara_pw)
        bora = await signed_in(server, "bora", bora_pw)
        for i in range(1, 4):
            await child.say(child_text(i))
            await ana.say(conv, staff_text(i))
        assert sara.socket is not None and bora.socket is not None
        with pytest.raises(FrameError) as refused:  # her console is open: nobody takes the chat from her
            await sara.socket.request({"type": "take_over", "conv": conv, "to": "me"})
        assert refused.value.code == "bad_state"
        await ana.close()  # she closed her browser
        with pytest.raises(FrameError) as refused:  # a counsellor may not take over
            await bora.socket.request({"type": "take_over", "conv": conv, "to": "me"})
        assert refused.value.code == "forbidden"
        with pytest.raises(FrameError) as refused:  # not yet gone long enough
            await sara.socket.request({"type": "take_over", "conv": conv, "to": "me"})
        assert refused.value.code == "bad_state"
        await asyncio.sleep(2.2)
        ack = await sara.socket.request({"type": "take_over", "conv": conv, "to": "me"})
        assert ack["to"] == "colleague"
        taken = await sara.socket.next_event("assigned_to_you")
        assert taken["conv"] == conv and taken["last_seq"] == 6
        await sara.wait_for_key(conv)  # the child's page wrapped the key for her
        await sara.sync(conv, 0)
        for _ in range(100):
            if len(sara.received.get(conv, {})) == 6:
                break
            await asyncio.sleep(0.05)
        history = sara.received[conv]
        assert [history[s].text for s in range(1, 7)] == [
            text for i in range(1, 4) for text in (child_text(i), staff_text(i))]
        await sara.say(conv, staff_text(9))
        for _ in range(100):
            if 7 in child.received:
                break
            await asyncio.sleep(0.05)
        assert child.received[7].text == staff_text(9)
        # The child's history is whole too, read again from the resume code on another phone.
        again = ChildClient(server.url, stack.org_public_key, secret=child.secret)
        await again.connect()
        await again.resume()
        for _ in range(100):
            if len(again.received) == 7:
                break
            await asyncio.sleep(0.05)
        assert [again.received[s].text for s in range(1, 8)] == [
            *(text for i in range(1, 4) for text in (child_text(i), staff_text(i))), staff_text(9)]
        for client in (child, again, sara, bora):
            await client.close()

    run_async(scenario())


def closed_now() -> str:
    """Opening hours that do not include the present hour in Tirana."""
    hour = (dt.datetime.now(ZoneInfo("Europe/Tirane")).hour + 2) % 24
    return f"{hour:02d}:00-{hour + 1:02d}:00"


def test_out_of_hours_a_child_can_start_a_chat_only_to_leave_a_message(
        stack: Stack, start_server: Callable[..., ServerProcess]) -> None:
    server = start_server(HELPLINE_OPENING_HOURS=closed_now())
    ana_pw = add_user(stack, "ana")

    async def scenario() -> None:
        ana = StaffClient(server.url, "ana", ana_pw)
        await ana.sign_in()
        child = ChildClient(server.url, stack.org_public_key)
        await child.connect()
        with pytest.raises(FrameError) as refused:
            await child.start(PRECHAT)
        assert refused.value.code == "closed"
        assert child.socket is not None
        child.conv_key = crypto.new_conversation_key()
        ack = await child.socket.request({
            "type": "start", "token": crypto.b64u_encode(child.token), "message": True,
            "public_key": crypto.b64u_encode(child.public_key), "prechat": PRECHAT,
            "self_key": crypto.wrap_key(child.conv_key, child.public_key, child.private_key)})
        child.conv = ack["conv"]
        told = await position_of(child)
        assert told["offer_message"] is True and told["on_duty"] is False
        assert await leave_message(child, stack, child_text(1)) == [ana.participant]
        for client in (child, ana):
            await client.close()

    run_async(scenario())


def test_a_supervisor_returns_a_gone_counsellors_chat_to_the_queue_and_the_next_one_reads_it_all(
        stack: Stack, start_server: Callable[..., ServerProcess]) -> None:
    server = start_server(HELPLINE_TAKEOVER_AFTER_SECONDS="1")
    ana_pw, sara_pw = add_user(stack, "ana"), add_user(stack, "sara", role="supervisor")
    bora_pw = add_user(stack, "bora")

    async def scenario() -> None:
        child, ana, conv = await open_chat(server, stack, ana_pw)
        sara = await signed_in(server, "sara", sara_pw)
        await child.say(child_text(1))
        await ana.say(conv, staff_text(1))
        await ana.close()
        await asyncio.sleep(1.2)
        assert sara.socket is not None and child.socket is not None
        ack = await sara.socket.request({"type": "take_over", "conv": conv, "to": "queue"})
        assert ack["to"] == "queue"
        moved = await child.socket.next_event("transferred")
        assert moved == {"type": "transferred", "conv": conv, "to": "queue"}
        bora = await signed_in(server, "bora", bora_pw)
        await bora.accept(conv)
        await bora.wait_for_key(conv)  # the child's page wrapped the key for the next counsellor
        await bora.sync(conv, 0)
        for _ in range(100):
            if len(bora.received.get(conv, {})) == 2:
                break
            await asyncio.sleep(0.05)
        assert [bora.received[conv][s].text for s in (1, 2)] == [child_text(1), staff_text(1)]
        if child.share_task is not None:
            await child.share_task
        for client in (child, sara, bora):
            await client.close()

    run_async(scenario())
