"""Staff working together over real WebSockets with real NaCl: transfer, ask a supervisor, block,
the chat limit and wrap-up, case records. Both backends."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest

from helpline import crypto
from helpline.i18n import translate
from helpline.pack import numbers
from tests.chat_client import ChildClient, FrameError, StaffClient
from tests.integration.test_chat_e2e import PRECHAT, database_dump, eventually, open_chat
from tests.support import ServerProcess, Stack, add_user, run_async


async def api(staff: StaffClient, method: str, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
    """A console API call with the staff member's session cookie and CSRF token."""
    async with httpx.AsyncClient(base_url=staff.base_url, cookies=staff.cookies,
                                 headers={"origin": staff.base_url, "x-csrf-token": staff.csrf}) as http:
        return await http.request(method, path, json=body)


async def signed_in(server: ServerProcess, username: str, password: str) -> StaffClient:
    staff = StaffClient(server.url, username, password)
    await staff.sign_in()
    await staff.connect()
    return staff


async def card(staff: StaffClient, of: StaffClient) -> dict[str, Any]:
    colleagues = (await api(staff, "GET", "/console/api/colleagues")).json()["staff"]
    found: dict[str, Any] = next(c for c in colleagues if c["id"] == of.participant)
    return found


def test_transfer_to_a_colleague_hands_over_the_whole_history(stack: Stack, server: ServerProcess) -> None:
    ana_pw, bea_pw = add_user(stack, "ana"), add_user(stack, "bea")

    async def scenario() -> None:
        child, ana, conv = await open_chat(server, stack, ana_pw)
        bea = await signed_in(server, "bea", bea_pw)
        for i in range(3):
            await child.say(f"fëmija {i}")
            await ana.say(conv, f"ana {i}")
        bea_card = await card(ana, bea)
        await ana.transfer(conv, bea_card, stack.org_public_key, note="Ka frikë nga një llogari në Instagram")

        handover = await bea.socket.next_event("handover")  # type: ignore[union-attr]
        assert handover["conv"] == conv and handover["from"] == "Ana"
        await bea.wait_for_key(conv)
        note = crypto.unpad(crypto.open_sealed(bea.keys[conv], handover["note"]))
        assert b"Instagram" in note
        await bea.sync(conv, 0)
        await eventually(lambda: len(bea.received.get(conv, {})) == 6)
        assert [m.text for m in sorted(bea.received[conv].values(), key=lambda m: m.seq)][:2] == ["fëmija 0", "ana 0"]

        moved = await ana.socket.next_event("transferred")  # type: ignore[union-attr]
        assert moved["to"] == "colleague"
        # The child's page sees the new counsellor and wraps the key for them itself too.
        await child.socket.next_event("transferred")  # type: ignore[union-attr]
        seq = await child.say("a je ti tani?")
        await eventually(lambda: seq in bea.received.get(conv, {}))
        await asyncio.sleep(0.3)
        assert seq not in ana.received.get(conv, {})
        with pytest.raises(FrameError) as refused:
            await ana.say(conv, "a mund të shkruaj?")
        assert refused.value.frame["code"] == "forbidden"
        reply = await bea.say(conv, "Po, jam Bea.")
        await eventually(lambda: reply in child.received)
        for client in (child, ana, bea):
            await client.close()

    run_async(scenario())


def test_transfer_back_to_the_queue_and_another_counsellor_takes_it(stack: Stack, server: ServerProcess) -> None:
    ana_pw, bea_pw = add_user(stack, "ana"), add_user(stack, "bea")

    async def scenario() -> None:
        child, ana, conv = await open_chat(server, stack, ana_pw)
        await child.say("përshëndetje")
        await ana.transfer(conv, None, stack.org_public_key)
        bea = await signed_in(server, "bea", bea_pw)
        await bea.accept(conv)
        await bea.wait_for_key(conv)  # wrapped again by the child's page
        await bea.sync(conv, 0)
        await eventually(lambda: [m.text for m in bea.received.get(conv, {}).values()] == ["përshëndetje"])
        for client in (child, ana, bea):
            await client.close()

    run_async(scenario())


def test_ask_a_supervisor_reaches_them_within_a_second_and_they_join(stack: Stack, server: ServerProcess) -> None:
    ana_pw, sara_pw = add_user(stack, "ana"), add_user(stack, "sara", role="supervisor")

    async def scenario() -> None:
        sara = await signed_in(server, "sara", sara_pw)
        child, ana, conv = await open_chat(server, stack, ana_pw)
        await child.say("kam frikë")
        started = time.monotonic()
        await ana.command({"type": "ask_supervisor", "conv": conv, "kind": "help"})
        alert = await sara.socket.next_event("alert", timeout=1.0)  # type: ignore[union-attr]
        assert time.monotonic() - started < 1.0
        assert alert["conv"] == conv and alert["from"] == "Ana"

        await sara.command({"type": "join", "alert": alert["alert"]})
        request = await ana.socket.next_event("join_request")  # type: ignore[union-attr]
        await ana.grant(conv, request["supervisor"], stack.org_public_key)
        await sara.wait_for_key(conv)
        joined = await child.socket.next_event("joined")  # type: ignore[union-attr]
        assert joined["role"] == "supervisor"
        await sara.sync(conv, 0)
        await eventually(lambda: [m.text for m in sara.received.get(conv, {}).values()] == ["kam frikë"])
        seq = await sara.say(conv, "Jam Sara, mbikëqyrëse.")
        await eventually(lambda: seq in child.received)
        for client in (child, ana, sara):
            await client.close()

    run_async(scenario())


def test_a_counsellor_cannot_join_or_grant_a_counsellor(stack: Stack, server: ServerProcess) -> None:
    ana_pw, bea_pw = add_user(stack, "ana"), add_user(stack, "bea")

    async def scenario() -> None:
        child, ana, conv = await open_chat(server, stack, ana_pw)
        bea = await signed_in(server, "bea", bea_pw)
        with pytest.raises(FrameError) as refused:
            await ana.grant(conv, await card(ana, bea), stack.org_public_key)
        assert refused.value.frame["code"] == "forbidden"
        with pytest.raises(FrameError) as refused:
            await bea.command({"type": "join", "alert": 1})
        assert refused.value.frame["code"] == "forbidden"
        with pytest.raises(FrameError):
            await bea.sync(conv, 0)
        for client in (child, ana, bea):
            await client.close()

    run_async(scenario())


def test_a_blocked_resume_identity_is_refused_calmly(stack: Stack, server: ServerProcess) -> None:
    ana_pw = add_user(stack, "ana")

    async def scenario() -> None:
        child, ana, conv = await open_chat(server, stack, ana_pw)
        await ana.command({"type": "block", "conv": conv, "reason": "abusive"})
        ended = await child.socket.next_event("ended")  # type: ignore[union-attr]
        assert ended["blocked"] is True
        again = ChildClient(server.url, stack.org_public_key, child.secret)
        await again.connect()
        with pytest.raises(FrameError) as refused:
            await again.start(PRECHAT)
        assert refused.value.frame["code"] == "blocked"
        assert numbers()["helpline"] in refused.value.frame["message"]
        for client in (child, again, ana):
            await client.close()

    run_async(scenario())


def test_three_chats_at_once_a_fourth_waits_and_wrap_up_comes_first(stack: Stack, server: ServerProcess) -> None:
    ana_pw = add_user(stack, "ana")

    async def scenario() -> None:
        ana = await signed_in(server, "ana", ana_pw)
        children, convs = [], []
        for _ in range(4):
            child = ChildClient(server.url, stack.org_public_key)
            await child.connect()
            convs.append(await child.start(PRECHAT))
            children.append(child)
        for conv in convs[:3]:
            await ana.accept(conv)
        with pytest.raises(FrameError) as refused:
            await ana.accept(convs[3])
        assert refused.value.frame["code"] == "busy"
        for conv in convs[:3]:
            await ana.wait_for_key(conv)
        await ana.end(convs[0])
        with pytest.raises(FrameError) as refused:
            await ana.accept(convs[3])
        assert refused.value.frame["code"] == "wrap_up"

        incomplete = await api(ana, "PUT", f"/console/api/cases/{convs[0]}", {"contact_type": "counselling",
                               "risk": "low", "outcome": "advice"})
        assert incomplete.status_code == 400
        assert incomplete.json()["error"] == translate("sq", "A counselling contact needs a primary category.")
        saved = await api(ana, "PUT", f"/console/api/cases/{convs[0]}", {
            "contact_type": "counselling", "primary_category": "violence",
            "secondary_categories": ["violence.cyberbullying"], "risk": "medium", "outcome": "advice",
            "age_band": "13-15", "gender": "girl", "follow_up": True})
        assert saved.status_code == 200, saved.text
        await ana.accept(convs[3])
        for client in (*children, ana):
            await client.close()

    run_async(scenario())


def test_case_note_is_ciphertext_and_cases_are_need_to_know(stack: Stack, server: ServerProcess) -> None:
    ana_pw, bea_pw, sara_pw = add_user(stack, "ana"), add_user(stack, "bea"), add_user(stack, "sara", "supervisor")
    secret_note = "shënim-sekret-Arta-12-vjeç-nga-Shkodra"

    async def scenario() -> None:
        child, ana, conv = await open_chat(server, stack, ana_pw)
        bea = await signed_in(server, "bea", bea_pw)
        sara = await signed_in(server, "sara", sara_pw)
        await ana.end(conv)
        # The browser's way, in PyNaCl: seal under a fresh key, wrap it for each staff key.
        readers = (await api(ana, "GET", "/console/api/colleagues")).json()["staff"]
        note_key = crypto.new_conversation_key()
        sealed = crypto.seal(note_key, crypto.pad(f'{{"v":1,"conv":"{conv}","text":"{secret_note}"}}'.encode()))
        import nacl.public

        ephemeral = nacl.public.PrivateKey.generate()
        keys = {r["id"]: crypto.wrap_key(note_key, crypto.b64u_decode(r["public_key"]), ephemeral) for r in readers}
        saved = await api(ana, "PUT", f"/console/api/cases/{conv}", {
            "contact_type": "counselling", "primary_category": "violence", "risk": "high", "outcome": "referral",
            "note": sealed, "note_keys": {"epk": crypto.b64u_encode(bytes(ephemeral.public_key)), "keys": keys}})
        assert saved.status_code == 200, saved.text

        assert secret_note.encode() not in await database_dump(stack)
        # Sara (supervisor) reads it and opens the note with her own key.
        record = (await api(sara, "GET", f"/console/api/cases/{conv}")).json()["case"]
        assert sara.private_key is not None
        mine = crypto.unwrap_key(record["note_keys"]["keys"][sara.participant],
                                 crypto.b64u_decode(record["note_keys"]["epk"]), sara.private_key)
        assert secret_note.encode() in crypto.unpad(crypto.open_sealed(mine, record["note"]))
        # Bea never held this chat: 403, and the refusal is in the audit log.
        refused = await api(bea, "GET", f"/console/api/cases/{conv}")
        assert refused.status_code == 403
        found = (await api(bea, "GET", "/console/api/cases")).json()["cases"]
        assert found == []
        found = (await api(ana, "GET", "/console/api/cases?category=violence&risk=high&status=recorded")).json()
        assert [c["conv"] for c in found["cases"]] == [conv]
        assert (await api(ana, "GET", "/console/api/cases?risk=low")).json()["cases"] == []
        assert (await api(ana, "GET", "/console/api/cases?from=yesterday")).status_code == 400
        for client in (child, ana, bea, sara):
            await client.close()

    run_async(scenario())
    log = audit_rows(stack)
    assert any(a == "denied" and s.startswith("/console/api/cases/") and d["reason"] == "object" for a, s, d in log)
    assert any(a == "case.read" for a, _, _ in log) and any(a == "case.write" for a, _, _ in log)


def audit_rows(stack: Stack) -> list[tuple[str, str, dict[str, Any]]]:
    from sqlalchemy import select

    from helpline.db import make_engine, make_sessionmaker
    from helpline.models import AuditEntry

    async def read() -> list[tuple[str, str, dict[str, Any]]]:
        engine = make_engine(stack.database_url)
        try:
            async with make_sessionmaker(engine)() as db:
                rows = (await db.execute(select(AuditEntry).order_by(AuditEntry.id))).scalars().all()
                return [(r.action, r.subject, r.detail) for r in rows]
        finally:
            await engine.dispose()

    result: list[tuple[str, str, dict[str, Any]]] = run_async(read())
    return result


def test_a_returning_child_shares_earlier_chats_with_the_new_counsellor(stack: Stack, server: ServerProcess) -> None:
    ana_pw, bea_pw, cem_pw = add_user(stack, "ana"), add_user(stack, "bea"), add_user(stack, "cem")

    async def scenario() -> None:
        child, ana, first = await open_chat(server, stack, ana_pw)
        await child.say("herën e parë: më ngacmojnë në shkollë")
        await ana.end(first)
        saved = await api(ana, "PUT", f"/console/api/cases/{first}", {
            "contact_type": "counselling", "primary_category": "violence", "risk": "low", "outcome": "advice"})
        assert saved.status_code == 200
        await child.close()

        back = ChildClient(server.url, stack.org_public_key, child.secret)  # the resume code, on any device
        await back.connect()
        second = await back.start(PRECHAT)
        bea = await signed_in(server, "bea", bea_pw)
        await bea.accept(second)
        history = await bea.socket.next_event("history")  # type: ignore[union-attr]
        assert history["conv"] == second and history["earlier"] == first
        bea._take_key(first, history["key"], history["wrapper_public_key"])
        await bea.sync(first, 0)
        await eventually(lambda: [m.text for m in bea.received.get(first, {}).values()]
                         == ["herën e parë: më ngacmojnë në shkollë"])
        record = await api(bea, "GET", f"/console/api/cases/{first}")
        assert record.status_code == 200 and record.json()["case"]["primary_category"] == "violence"

        cem = await signed_in(server, "cem", cem_pw)
        assert (await api(cem, "GET", f"/console/api/cases/{first}")).status_code == 403
        with pytest.raises(FrameError):
            await bea.say(first, "the earlier chat is closed for writing")
        for client in (back, ana, bea, cem):
            await client.close()

    run_async(scenario())
