"""A socket whose peer has gone quiet is closed, and its child shown offline (docs/adr/0017-liveness.md).

The pages ping every 25 s; the server sends no protocol pings and instead closes what it has not
heard from in HELPLINE_SILENT_SECONDS (2 s here), in one sweep for the whole process.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from tests.chat_client import ChildClient, StaffClient
from tests.support import ServerProcess, Stack, add_user


async def test_a_silent_child_is_closed_and_shown_offline_while_pinging_sockets_stay(
        stack: Stack, start_server: Callable[..., ServerProcess]) -> None:
    server = start_server(HELPLINE_SILENT_SECONDS="2")
    silent = ChildClient(server.url, stack.org_public_key)
    talking = ChildClient(server.url, stack.org_public_key)
    staff = StaffClient(server.url, "ana", add_user(stack, "ana"))
    try:
        await silent.connect()
        conv = await silent.start({})
        assert silent.socket is not None and silent.socket.ws is not None
        silent.socket.pinger.cancel()  # type: ignore[union-attr] - a phone that lost its network
        await staff.sign_in()
        await staff.connect()
        await staff.accept(conv)
        await staff.wait_for_key(conv)
        await talking.connect()
        assert talking.socket is not None and staff.socket is not None
        # Three times the limit: the two that keep talking are never closed.
        for _ in range(12):
            await talking.socket.request({"type": "ping"})
            await staff.socket.request({"type": "ping"})
            await asyncio.sleep(0.5)
        presence = await staff.socket.next_event("presence")
        while presence["child"] != "offline":
            presence = await staff.socket.next_event("presence")
        assert presence["conv"] == conv
        assert silent.socket.reader is not None
        await asyncio.wait_for(silent.socket.reader, 5)  # its reader ends when the server closes it
        assert silent.socket.ws.close_code == 1001  # "going away"
        # The child comes back (the page reconnects on its own) and is online again.
        await silent.connect()
        await silent.resume()
        presence = await staff.socket.next_event("presence")
        assert presence["child"] == "online"
    finally:
        for client in (silent, talking, staff):
            await client.close()
