"""Issue 19, acceptance 1: a referral acknowledged with an action date that passes is reminded, then
escalated step by step — the agency's fallback contact, the supervisors, the State Agency — across a
server restart and with a second process beside it; each step once, in the audit log and on the
supervisors' overdue list. Also: the plan's refusals, and the support recorded when closing."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from typing import Any

from tests.integration.referral_support import Member, cli, eventually, member, query, refer, seal_text, unwrap
from tests.support import ServerProcess, Stack

HOUR = 3600


async def _steps(stack: Stack, rid: str) -> list[str]:
    rows = await query(stack, "SELECT kind FROM referral_escalations WHERE referral_id = :r ORDER BY id", {"r": rid})
    return [row[0] for row in rows]


async def _overdue(url: str, supervisor: Member) -> list[dict[str, Any]]:
    async with supervisor.client(url) as http:
        answer = await http.get("/console/api/referral-overdue")
        assert answer.status_code == 200, answer.text
        items: list[dict[str, Any]] = answer.json()["overdue"]
        return items


async def test_a_missed_action_date_escalates_step_by_step_across_a_restart(
        stack: Stack, start_server: Callable[..., ServerProcess]) -> None:
    clock = stack.data_dir / "clock"
    clock.write_text("0")
    env = {"HELPLINE_TEST_CLOCK_FILE": str(clock), "HELPLINE_WORKER_SECONDS": "1"}
    cli(stack, "directory", "load")
    cli(stack, "directory", "contact", "cpu-shkoder", "mbrojtja@shkoder.example")
    cli(stack, "directory", "contact", "ashdmf", "njoftime@ashdmf.example")
    server = start_server(**env)
    ana = await member(stack, "ana", "counsellor")
    sara = await member(stack, "sara", "supervisor")
    drita = await member(stack, "drita", "officer", agency="cpu-shkoder", email="drita@shkoder.example")
    created, key = await refer(server.url, ana, stack, urgency="urgent")
    rid = created["id"]
    due = dt.datetime.now(dt.UTC) + dt.timedelta(hours=48)
    async with drita.client(server.url) as portal:
        assert (await portal.post(f"/referrals/api/referrals/{rid}/acknowledge")).status_code == 200
        planned = await portal.post(f"/referrals/api/referrals/{rid}/plan", json={
            "kind": "home_visit", "due": due.isoformat(), "body": seal_text(key, "Vizitë në shtëpi të enjten")})
        assert planned.status_code == 200, planned.text
        assert planned.json()["plan"] == 2  # the default date on acknowledging was the first
        read = (await portal.get(f"/referrals/api/referrals/{rid}")).json()
    assert read["follow"]["plan"]["action"] == "home_visit"
    assert unwrap(drita, read)  # the plan's note is in the thread, under the referral key
    assert await _overdue(server.url, sara) == []

    # A day before the date: the officer is reminded, nothing more.
    clock.write_text(str(25 * HOUR))
    assert await eventually(lambda: _steps(stack, rid)) == ["p2:remind"]
    # The date passes: the agency's fallback contact.
    clock.write_text(str(48 * HOUR + 60))
    await eventually(lambda: _has(stack, rid, "p2:agency"))
    listed = await _overdue(server.url, sara)
    assert [(i["id"], i["waiting_for"], i["escalated_to"], i["action"]) for i in listed] == [
        (rid, "action", "agency", "home_visit")]
    assert listed[0]["since"] == dt.datetime.fromisoformat(planned.json()["due_at"]).isoformat()
    assert listed[0]["agency_name"].endswith("Shkodër")
    server.stop()

    # Restarted a step later: the supervisors; then a step after that: the State Agency. A second
    # process and a manual run beside it change nothing.
    clock.write_text(str(72 * HOUR + 120))
    first = start_server(**env)
    await eventually(lambda: _has(stack, rid, "p2:supervisors"))
    clock.write_text(str(96 * HOUR + 180))
    second = start_server(**env)
    await eventually(lambda: _has(stack, rid, "p2:state_agency"))
    cli(stack, "notices", "send", env=env)
    await asyncio.sleep(2.5)
    assert await _steps(stack, rid) == ["p2:remind", "p2:agency", "p2:supervisors", "p2:state_agency"]
    listed = await _overdue(first.url, sara)
    assert [s["step"] for s in listed[0]["steps"]] == ["agency", "supervisors", "state_agency"]
    assert listed[0]["escalated_to"] == "state_agency"

    # Every step: one referral event, one audit row, and its notice or alert.
    audited = await query(stack, "SELECT action, detail FROM audit_log WHERE subject = :s AND actor = "
                                 "'system:follow-up' ORDER BY id", {"s": f"referral:{rid}"})
    assert [(a, _detail(d)["step"]) for a, d in audited] == [
        ("referral.reminder", "remind"), ("referral.escalation", "agency"),
        ("referral.escalation", "supervisors"), ("referral.escalation", "state_agency")]
    notices = await eventually(lambda: _sent_notices(stack, rid))
    assert notices == [("action_reminder", "drita@shkoder.example"), ("action_overdue", "mbrojtja@shkoder.example"),
                       ("action_overdue", "njoftime@ashdmf.example")]
    assert await query(stack, "SELECT kind FROM alerts") == [("escalation",)]
    events = await query(stack, "SELECT kind FROM referral_events WHERE actor = 'system:follow-up'")
    assert sorted(e[0] for e in events) == ["escalation", "escalation", "escalation", "reminder"]
    texts = [p.read_text("utf-8") for p in sorted((stack.data_dir / "outbox").glob("*-action_*.eml"))]
    assert len(texts) == 3 and not any("Arta" in t or "Rruga" in t or "enjten" in t for t in texts)

    # The agency records its action: off the overdue list, followed on to the next default date.
    async with drita.client(first.url) as portal:
        acted = await portal.post(f"/referrals/api/referrals/{rid}/actions",
                                  json={"kind": "home_visit", "body": seal_text(key, "U bë vizita")})
        assert acted.status_code == 200, acted.text
    assert await _overdue(first.url, sara) == []
    first.stop()
    second.stop()
    assert cli(stack, "audit", "verify").returncode == 0


async def _has(stack: Stack, rid: str, kind: str) -> bool:
    return kind in await _steps(stack, rid)


async def _sent_notices(stack: Stack, rid: str) -> list[tuple[Any, ...]] | None:
    rows = await query(stack, "SELECT kind, recipient, status FROM notices WHERE referral_id = :r AND kind LIKE "
                              "'action_%' ORDER BY id", {"r": rid})
    return [(k, to) for k, to, status in rows] if rows and all(r[2] == "sent" for r in rows) else None


def _detail(value: Any) -> dict[str, Any]:
    import json

    return value if isinstance(value, dict) else dict(json.loads(value))


async def test_plans_are_checked_and_closing_records_the_support(
        stack: Stack, start_server: Callable[..., ServerProcess]) -> None:
    cli(stack, "directory", "load")
    server = start_server()
    ana = await member(stack, "ana", "counsellor")
    drita = await member(stack, "drita", "officer", agency="cpu-shkoder")
    created, key = await refer(server.url, ana, stack, urgency="routine")
    rid = created["id"]
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(days=3)).date().isoformat()
    async with drita.client(server.url) as portal:
        early = await portal.post(f"/referrals/api/referrals/{rid}/plan", json={"kind": "meeting", "due": later})
        assert early.status_code == 409 and "Konfirmoni" in early.json()["error"], early.text
        assert (await portal.post(f"/referrals/api/referrals/{rid}/acknowledge")).status_code == 200
        past = await portal.post(f"/referrals/api/referrals/{rid}/plan", json={"kind": "meeting", "due": "2020-01-01"})
        assert past.status_code == 400 and "ardhmen" in past.json()["error"], past.text
        bad = await portal.post(f"/referrals/api/referrals/{rid}/plan", json={"kind": "meeting", "due": "nesër"})
        assert bad.status_code == 400, bad.text
        good = await portal.post(f"/referrals/api/referrals/{rid}/plan", json={"kind": "meeting", "due": later})
        assert good.status_code == 200 and good.json()["due_at"].startswith(later), good.text
        mixed = await portal.post(f"/referrals/api/referrals/{rid}/close", json={
            "outcome": "services_provided", "support": ["none", "legal"], "none_reason": "not_needed"})
        assert mixed.status_code == 400, mixed.text
        closed = await portal.post(f"/referrals/api/referrals/{rid}/close", json={
            "outcome": "services_provided", "support": ["psychological", "legal", "court"],
            "body": seal_text(key, "Mbështetje psikologjike dhe ligjore")})
        assert closed.status_code == 200, closed.text
        read = (await portal.get(f"/referrals/api/referrals/{rid}")).json()
    assert read["state"] == "closed" and read["follow"]["plan"] is None
    assert read["follow"]["support"] == ["psychological", "legal", "court"]
    rows = await query(stack, "SELECT kind, reason FROM referral_support WHERE referral_id = :r ORDER BY id",
                       {"r": rid})
    assert rows == [("psychological", None), ("legal", None), ("court", None)]

    other, _ = await refer(server.url, ana, stack, urgency="routine")
    async with drita.client(server.url) as portal:
        assert (await portal.post(f"/referrals/api/referrals/{other['id']}/acknowledge")).status_code == 200
        unexplained = await portal.post(f"/referrals/api/referrals/{other['id']}/close",
                                        json={"outcome": "child_not_found", "support": ["none"]})
        assert unexplained.status_code == 400, unexplained.text
        assert (await portal.get(f"/referrals/api/referrals/{other['id']}")).json()["state"] == "acknowledged"
        none = await portal.post(f"/referrals/api/referrals/{other['id']}/close", json={
            "outcome": "child_not_found", "support": ["none"], "none_reason": "child_not_found"})
        assert none.status_code == 200, none.text
    assert await query(stack, "SELECT kind, reason FROM referral_support WHERE referral_id = :r",
                       {"r": other["id"]}) == [("none", "child_not_found")]
