"""Three server processes behave as one helpline (issue 8, scale-out): children and counsellors
spread over them, coordinated only through PostgreSQL and Redis; every message arrives once and
in order, whichever process each side is connected to; also with PgBouncer in transaction pooling
mode between the processes and PostgreSQL (ADR 0031)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.chat_client import ChildClient, StaffClient
from tests.integration.test_chat_e2e import PRECHAT, eventually
from tests.support import ServerProcess, Stack, add_user, destroy_stack, make_stack

PAIRS = 6
MESSAGES = 15


class CountingChild(ChildClient):
    """The real client, also noting each message frame as it arrives (a dict by seq hides repeats)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.arrivals: list[int] = []

    async def _on_event(self, frame: dict[str, Any]) -> None:
        if frame["type"] == "msg" and frame["from"] != "child":
            self.arrivals.append(frame["seq"])
        await super()._on_event(frame)


class CountingStaff(StaffClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.arrivals: dict[str, list[int]] = {}

    async def _on_event(self, frame: dict[str, Any]) -> None:
        if frame["type"] == "msg" and frame["from"] == "child":
            self.arrivals.setdefault(frame["conv"], []).append(frame["seq"])
        await super()._on_event(frame)


@pytest.mark.parametrize("backend", ["postgres", "pgbouncer"])
async def test_three_processes_deliver_every_message_once_and_in_order(tmp_path: Any, backend: str) -> None:
    stack: Stack = make_stack(backend, tmp_path)
    try:
        servers = [ServerProcess(stack).start() for _ in range(3)]
        stack.servers += servers
        counsellors = []
        for n in range(3):
            password = add_user(stack, f"c{n}")
            staff = CountingStaff(servers[n].url, f"c{n}", password)
            await staff.sign_in()
            await staff.connect()
            counsellors.append(staff)
        pairs: list[tuple[CountingChild, CountingStaff, str]] = []
        for i in range(PAIRS):
            child = CountingChild(servers[i % 3].url, stack.org_public_key)
            await child.connect()
            conv = await child.start(PRECHAT)
            staff = counsellors[(i + 1) % 3]  # never on the child's process
            await staff.accept(conv)
            await staff.wait_for_key(conv)
            await eventually(lambda c=child: c.conv_key is not None)
            pairs.append((child, staff, conv))

        async def talk(i: int, child: CountingChild, staff: CountingStaff, conv: str) -> None:
            for k in range(MESSAGES):
                await child.say(f"fëmija {i}-{k}")
                await staff.say(conv, f"këshilltari {i}-{k}")

        await asyncio.gather(*(talk(i, *pair) for i, pair in enumerate(pairs)))
        for i, (child, staff, conv) in enumerate(pairs):
            await eventually(lambda c=child: len(c.received) >= MESSAGES, timeout=20)
            await eventually(lambda s=staff, c=conv: len(s.arrivals.get(c, [])) >= MESSAGES, timeout=20)
            await asyncio.sleep(0.2)  # a repeat would arrive now
            from_staff = sorted(child.arrivals)
            assert child.arrivals == from_staff and len(set(from_staff)) == len(from_staff) == MESSAGES
            from_child = staff.arrivals[conv]
            assert from_child == sorted(from_child) and len(set(from_child)) == len(from_child) == MESSAGES
            assert [m.text for m in sorted(child.received.values(), key=lambda m: m.seq)
                    if m.sender != "child"] == [f"këshilltari {i}-{k}" for k in range(MESSAGES)]
            assert [m.text for m in sorted(staff.received[conv].values(), key=lambda m: m.seq)
                    if m.sender == "child"] == [f"fëmija {i}-{k}" for k in range(MESSAGES)]
        for child, _, _ in pairs:
            await child.close()
        for staff in counsellors:
            await staff.close()
    finally:
        destroy_stack(stack)
