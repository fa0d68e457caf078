"""An unacknowledged emergency referral escalates after its deadline exactly once, also across a
restart of the server and with a second process running the same worker (state in the database)."""

from __future__ import annotations

import asyncio
import email
from collections.abc import Callable

from tests.integration.referral_support import cli, eventually, member, query, refer
from tests.support import ServerProcess, Stack


async def test_overdue_emergency_escalates_once_across_restarts(
        stack: Stack, start_server: Callable[..., ServerProcess]) -> None:
    clock = stack.data_dir / "clock"
    clock.write_text("0")
    env = {"HELPLINE_TEST_CLOCK_FILE": str(clock), "HELPLINE_WORKER_SECONDS": "1"}
    cli(stack, "directory", "load")
    cli(stack, "directory", "contact", "cpu-shkoder", "mbrojtja@shkoder.example")
    server = start_server(**env)
    ana = await member(stack, "ana", "counsellor")
    await member(stack, "drita", "officer", agency="cpu-shkoder", email="drita@shkoder.example")
    emergency, _ = await refer(server.url, ana, stack, urgency="emergency")
    routine, _ = await refer(server.url, ana, stack, urgency="routine")

    async def escalations() -> list[tuple[object, ...]]:
        return await query(stack, "SELECT referral_id, alert_id, notice_id FROM referral_escalations")

    # Before the deadline (59 minutes on): nothing.
    clock.write_text(str(59 * 60))
    await asyncio.sleep(2.5)
    assert await escalations() == []

    # Past the one-hour deadline: the emergency escalates, the routine one (72 h) does not.
    clock.write_text(str(61 * 60))
    found = await eventually(escalations)
    assert [row[0] for row in found] == [emergency["id"]]
    server.stop()

    # A restart, a second server beside it, and a manual run: still exactly one escalation.
    first = start_server(**env)
    second = start_server(**env)
    manual = cli(stack, "notices", "send", env=env)
    assert manual.stdout.startswith("0 referral(s) escalated"), manual.stdout
    await asyncio.sleep(3)
    first.stop()
    second.stop()
    rows = await escalations()
    assert len(rows) == 1 and rows[0][0] == emergency["id"]
    alerts = await query(stack, "SELECT id, kind FROM alerts")
    assert alerts == [(rows[0][1], "escalation")]
    overdue = await query(stack, "SELECT recipient, status FROM notices WHERE kind = 'escalation'")
    assert overdue == [("mbrojtja@shkoder.example", "sent")]
    recorded = await query(stack, "SELECT subject FROM audit_log WHERE action = 'referral.escalation'")
    assert recorded == [(f"referral:{emergency['id']}",)]
    events = await query(stack, "SELECT referral_id FROM referral_events WHERE kind = 'escalation'")
    assert events == [(emergency["id"],)]
    assert routine["id"] not in {row[0] for row in rows}

    # The fallback contact's email names the agency but nothing of the child or the case.
    files = sorted((stack.data_dir / "outbox").glob("*-escalation.eml"))
    assert len(files) == 1
    message = email.message_from_bytes(files[0].read_bytes())
    assert message["To"] == "mbrojtja@shkoder.example"
    text = message.get_payload(decode=True).decode("utf-8")  # type: ignore[union-attr]
    assert "Njësia për Mbrojtjen e Fëmijëve – Bashkia Shkodër" in text and "/referrals" in text
    assert "Arta" not in text and "Rruga" not in text


async def test_an_acknowledged_referral_never_escalates(
        stack: Stack, start_server: Callable[..., ServerProcess]) -> None:
    clock = stack.data_dir / "clock"
    clock.write_text("0")
    env = {"HELPLINE_TEST_CLOCK_FILE": str(clock), "HELPLINE_WORKER_SECONDS": "1",
           "HELPLINE_ACK_URGENT_MINUTES": "5"}
    cli(stack, "directory", "load")
    server = start_server(**env)
    ana = await member(stack, "ana", "counsellor")
    cpo = await member(stack, "drita", "officer", agency="cpu-shkoder")
    created, _ = await refer(server.url, ana, stack, urgency="urgent")
    deadline = created["ack_deadline_at"]
    assert deadline is not None
    async with cpo.client(server.url) as portal:
        assert (await portal.post(f"/referrals/api/referrals/{created['id']}/acknowledge")).status_code == 200
    clock.write_text(str(10 * 60))
    await asyncio.sleep(3)
    assert await query(stack, "SELECT count(*) FROM referral_escalations") == [(0,)]
