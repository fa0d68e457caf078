"""SMTP down: the notice is retried with back-off and delivered once a real SMTP server (aiosmtpd)
comes up on that port; nothing is lost and nothing is sent twice."""

from __future__ import annotations

import asyncio
import email
from collections.abc import Callable
from typing import Any

from aiosmtpd.controller import Controller

from tests.integration.referral_support import CONTENT, cli, eventually, member, query, refer
from tests.support import ServerProcess, Stack, free_port


class Inbox:
    """An aiosmtpd handler that keeps every message it receives."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        self.messages.append((list(envelope.rcpt_tos), bytes(envelope.content)))
        return "250 OK"


async def test_notice_waits_for_smtp_and_is_delivered_once(
        stack: Stack, start_server: Callable[..., ServerProcess]) -> None:
    port = free_port()
    cli(stack, "directory", "load")
    server = start_server(HELPLINE_SMTP_HOST="127.0.0.1", HELPLINE_SMTP_PORT=str(port), HELPLINE_SMTP_TLS="none",
                          HELPLINE_MAIL_FROM="noreply@helpline.example", HELPLINE_WORKER_SECONDS="1",
                          HELPLINE_NOTICE_RETRY_SECONDS="1")
    ana = await member(stack, "ana", "counsellor")
    await member(stack, "drita", "officer", agency="cpu-shkoder", email="drita@shkoder.example")
    created, _ = await refer(server.url, ana, stack, urgency="urgent")

    async def failed_twice() -> bool:
        rows = await query(stack, "SELECT status, attempts, last_error FROM notices")
        return len(rows) == 1 and rows[0][0] == "pending" and rows[0][1] >= 2 and bool(rows[0][2])

    await eventually(failed_twice, timeout=30)
    assert not (stack.data_dir / "outbox").exists()  # with SMTP configured, nothing goes to the outbox

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        async def sent() -> bool:
            rows = await query(stack, "SELECT status FROM notices")
            return rows == [("sent",)]

        await eventually(sent, timeout=60)
        await asyncio.sleep(2.5)  # two more worker runs: nothing is sent again
    finally:
        controller.stop()

    assert len(inbox.messages) == 1
    recipients, raw = inbox.messages[0]
    assert recipients == ["drita@shkoder.example"]
    message = email.message_from_bytes(raw)
    assert message["From"] == "noreply@helpline.example"
    text = message.get_payload(decode=True).decode("utf-8")  # type: ignore[union-attr]
    assert server.url.replace("http://", "") not in text or "/referrals" in text
    for secret in [*CONTENT.values(), "Shkodër", created["id"], "abuse"]:
        assert secret not in text and secret not in str(message["Subject"])
    status, attempts, last_error, sent_at = (await query(
        stack, "SELECT status, attempts, last_error, sent_at FROM notices"))[0]
    assert status == "sent" and attempts >= 3 and last_error is None and sent_at is not None
    listed = cli(stack, "notices", "list")
    assert "\tsent\t" in listed.stdout and "drita@shkoder.example" in listed.stdout
