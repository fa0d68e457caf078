"""Pre-chat answers given while waiting (the `prechat` frame, chat/late_answers.py), over real
WebSockets on both backends: stored while queued, urgency raised and never lowered, refused after
a counsellor took the chat, and a bad answer changes nothing."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.chat_client import ChildClient, FrameError, StaffClient
from tests.support import ServerProcess, Stack, add_user, run_async


async def queue_item(staff: StaffClient, conv: str, wanted: Any) -> dict[str, Any]:
    """The conversation's item in the first `queue` frame where wanted(item) holds."""
    assert staff.socket is not None
    for _ in range(20):
        queue = await staff.socket.next_event("queue")
        for item in queue.get("items", []):
            if item["conv"] == conv and wanted(item):
                return item
    pytest.fail("the queue never showed it")


def test_answers_given_while_waiting_reach_the_queue(stack: Stack, server: ServerProcess) -> None:
    password = add_user(stack, "ana")

    async def scenario() -> None:
        child = ChildClient(server.url, stack.org_public_key)
        await child.connect()
        conv = await child.start({})
        staff = StaffClient(server.url, "ana", password)
        await staff.sign_in()
        await staff.connect()
        assert child.socket is not None
        first = await queue_item(staff, conv, lambda item: True)
        assert first["urgency"] == 0 and first["topic"] is None

        async def answer(prechat: dict[str, Any]) -> dict[str, Any]:
            assert child.socket is not None
            return await child.socket.request({"type": "prechat", "conv": conv, "prechat": prechat})

        await answer({"topic": "school", "danger": True, "age_band": "10-12"})
        item = await queue_item(staff, conv, lambda item: item["urgency"] == 2)
        assert (item["topic"], item["age_band"]) == ("school", "10-12")
        await answer({"topic": "family", "danger": False})  # a later frame cannot undo the danger
        item = await queue_item(staff, conv, lambda item: item["topic"] == "family")
        assert item["urgency"] == 2
        with pytest.raises(FrameError) as bad:
            await answer({"topic": "football"})
        assert bad.value.code == "bad_frame"
        with pytest.raises(FrameError) as other:
            await child.socket.request({"type": "prechat", "conv": "not-this-chat", "prechat": {}})
        assert other.value.code == "not_found"
        await staff.accept(conv)
        with pytest.raises(FrameError) as late:
            await answer({"gender": "girl"})
        assert late.value.code == "bad_state"
        if child.share_task is not None:  # the child's page shares earlier chats after the accept
            await asyncio.gather(child.share_task, return_exceptions=True)
        await child.close()
        await staff.close()

    run_async(scenario())
