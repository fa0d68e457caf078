"""Cases over the real server with real NaCl (PyNaCl clients do what the console does), both backends:
a case's key is wrapped for its team only (issue 18, acceptance 2, server side), a returning child's
new chat is offered for the case of the earlier one, follow-ups fall due on the owner's console and
overdue ones reach the supervisors (acceptance 3), and a handover note is read by the next shift."""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any

import nacl.public
from sqlalchemy import select

from helpline import crypto
from helpline.db import make_engine, make_sessionmaker
from helpline.models import CaseMember, CaseRecord, Staff
from tests.chat_client import ChildClient, StaffClient
from tests.integration.test_chat_e2e import PRECHAT, database_dump, open_chat
from tests.integration.test_teamwork import api, card, signed_in
from tests.support import ServerProcess, Stack, add_user, run_async

SECRET = "shënim-i-ekipit-Drini-9-vjeç"


def wrap_for(key: bytes, cards: list[dict[str, Any]]) -> dict[str, Any]:
    """As the console: one ephemeral key pair, the key boxed for each reader's org-signed key."""
    ephemeral = nacl.public.PrivateKey.generate()
    return {"epk": crypto.b64u_encode(bytes(ephemeral.public_key)),
            "keys": {c["id"]: crypto.wrap_key(key, crypto.b64u_decode(c["public_key"]), ephemeral) for c in cards}}


def unwrap(staff: StaffClient, epk: str, wrapped: str) -> bytes:
    assert staff.private_key is not None
    return crypto.unwrap_key(wrapped, crypto.b64u_decode(epk), staff.private_key)


async def record_chat(ana: StaffClient, conv: str, text: str, readers: list[dict[str, Any]]) -> tuple[int, bytes]:
    """Ana records the contact; its note is readable by her and the supervisors only."""
    note_key = crypto.new_conversation_key()
    plain = json.dumps({"v": 1, "conv": conv, "text": text}, ensure_ascii=False)
    sealed = crypto.seal(note_key, crypto.pad(plain.encode()))
    saved = await api(ana, "PUT", f"/console/api/cases/{conv}", {
        "contact_type": "counselling", "primary_category": "violence", "risk": "medium", "outcome": "advice",
        "note": sealed, "note_keys": wrap_for(note_key, readers)})
    assert saved.status_code == 200, saved.text
    listed = (await api(ana, "GET", "/console/api/casework")).json()["unlinked"]
    return next(r["record"] for r in listed if r["conv"] == conv), note_key


async def db_rows(stack: Stack, query: Any) -> list[Any]:
    engine = make_engine(stack.database_url)
    try:
        async with make_sessionmaker(engine)() as db:
            return list((await db.execute(query)).all())
    finally:
        await engine.dispose()


def test_a_case_is_readable_by_its_team_only(stack: Stack, server: ServerProcess) -> None:
    ana_pw, bea_pw, cem_pw = add_user(stack, "ana"), add_user(stack, "bea"), add_user(stack, "cem")
    sara_pw = add_user(stack, "sara", "supervisor")

    async def scenario() -> None:
        child, ana, conv = await open_chat(server, stack, ana_pw)
        bea, cem = await signed_in(server, "bea", bea_pw), await signed_in(server, "cem", cem_pw)
        sara = await signed_in(server, "sara", sara_pw)
        await ana.end(conv)
        ana_card, sara_card, bea_card = await card(ana, ana), await card(ana, sara), await card(ana, bea)
        record, note_key = await record_chat(ana, conv, SECRET, [ana_card, sara_card])

        case_key = crypto.new_conversation_key()
        # Another counsellor may not be given the key at opening: colleagues are added by the owner.
        refused = await api(ana, "POST", "/console/api/casework", {
            "record": record, **wrap_for(case_key, [ana_card, bea_card]), "case_note_key": None})
        assert refused.status_code == 400
        opened = await api(ana, "POST", "/console/api/casework", {
            "record": record, **wrap_for(case_key, [ana_card, sara_card]),
            "case_note_key": crypto.seal(case_key, note_key)})
        assert opened.status_code == 201, opened.text
        case_id = opened.json()["case"]
        assert (await api(bea, "GET", f"/console/api/casework/{case_id}")).status_code == 403
        # Ana adds Bea: her browser wraps the case key for Bea alone.
        added = await api(ana, "POST", f"/console/api/casework/{case_id}/members",
                          {"staff": bea.participant, **_one(wrap_for(case_key, [bea_card]), bea.participant)})
        assert added.status_code == 200, added.text
        assert (await api(bea, "POST", f"/console/api/casework/{case_id}/members",
                          {"staff": cem.participant, **_one(wrap_for(case_key, [await card(bea, cem)]),
                                                             cem.participant)})).status_code == 403

        for reader in (ana, bea, sara):
            view = (await api(reader, "GET", f"/console/api/casework/{case_id}")).json()
            key = unwrap(reader, view["key"]["epk"], view["key"]["wrapped"])
            contact = view["contacts"][0]
            opened_key = crypto.open_sealed(key, contact["case_note_key"])
            assert SECRET in crypto.unpad(crypto.open_sealed(opened_key, contact["note"])).decode()
            assert view["owner"] == ana.participant and view["status"] == "open"

        # Cem: refused by the rule, and nothing the server holds opens the note for him.
        assert (await api(cem, "GET", f"/console/api/casework/{case_id}")).status_code == 403
        assert (await api(cem, "GET", "/console/api/casework")).json()["cases"] == []
        cem_id = (await db_rows(stack, select(Staff.id).where(Staff.username == "cem")))[0][0]
        assert await db_rows(stack, select(CaseMember).where(CaseMember.staff_id == cem_id)) == []
        for (keys,) in await db_rows(stack, select(CaseRecord.note_keys)):
            assert cem.participant not in keys["keys"]
        assert SECRET.encode() not in await database_dump(stack)
        await child.close()
        await returning_child_is_offered_the_case(server, stack, child.secret, bea, case_id)
        for client in (ana, bea, cem, sara):
            await client.close()

    run_async(scenario())


def _one(wrapped: dict[str, Any], participant: str) -> dict[str, str]:
    return {"epk": wrapped["epk"], "wrapped_key": wrapped["keys"][participant]}


async def returning_child_is_offered_the_case(server: ServerProcess, stack: Stack, secret: bytes,
                                              bea: StaffClient, case_id: int) -> None:
    """The child comes back with the resume code; Bea records the new chat, which is offered for the
    case of the earlier one, and links it (she is on the team)."""
    back = ChildClient(server.url, stack.org_public_key, secret)
    await back.connect()
    second = await back.start(PRECHAT)
    await bea.accept(second)
    await bea.wait_for_key(second)
    await bea.end(second)
    record, note_key = await record_chat(bea, second, "herën e dytë", [await card(bea, bea)])
    listed = (await api(bea, "GET", "/console/api/casework")).json()
    offered = next(r for r in listed["unlinked"] if r["record"] == record)
    assert offered["earlier_cases"] == [case_id]
    view = (await api(bea, "GET", f"/console/api/casework/{case_id}")).json()
    case_key = unwrap(bea, view["key"]["epk"], view["key"]["wrapped"])
    linked = await api(bea, "POST", f"/console/api/casework/{case_id}/contacts",
                       {"record": record, "case_note_key": crypto.seal(case_key, note_key)})
    assert linked.status_code == 200, linked.text
    view = (await api(bea, "GET", f"/console/api/casework/{case_id}")).json()
    assert [c["conv"] for c in view["contacts"]][1] == second
    await back.close()


def test_follow_ups_fall_due_on_the_owners_console_and_overdue_ones_reach_supervisors(
        stack: Stack, server: ServerProcess) -> None:
    ana_pw, sara_pw = add_user(stack, "ana"), add_user(stack, "sara", "supervisor")

    async def scenario() -> None:
        child, ana, conv = await open_chat(server, stack, ana_pw)
        sara = await signed_in(server, "sara", sara_pw)
        await ana.end(conv)
        ana_card, sara_card = await card(ana, ana), await card(ana, sara)
        record, _ = await record_chat(ana, conv, SECRET, [ana_card, sara_card])
        case_key = crypto.new_conversation_key()
        case_id = (await api(ana, "POST", "/console/api/casework", {
            "record": record, **wrap_for(case_key, [ana_card, sara_card]), "case_note_key": None})).json()["case"]
        now = dt.datetime.now(dt.UTC)
        due_at = now + dt.timedelta(seconds=20)  # the job looks every 10 s: it must not come early
        text = crypto.seal(case_key, crypto.pad(json.dumps({"v": 1, "text": "telefono shkollën"}).encode()))
        soon = await api(ana, "POST", f"/console/api/casework/{case_id}/tasks", {
            "owner": ana.participant, "due_at": due_at.isoformat().replace("+00:00", "Z"), "text": text})
        assert soon.status_code == 201, soon.text
        late = await api(ana, "POST", f"/console/api/casework/{case_id}/tasks", {
            "owner": ana.participant, "due_at": (now - dt.timedelta(hours=2)).isoformat(), "text": None})
        assert late.status_code == 201
        bad = await api(ana, "POST", f"/console/api/casework/{case_id}/tasks",
                        {"owner": ana.participant, "due_at": "tomorrow", "text": None})
        assert bad.status_code == 400 and "due_at" in bad.json()["error"]

        flagged = await sara.socket.next_event("task_overdue", timeout=30)  # type: ignore[union-attr]
        assert flagged["task"] == late.json()["id"] and flagged["owner_name"]
        overdue = (await api(sara, "GET", "/console/api/followups")).json()["overdue"]
        assert [t["id"] for t in overdue] == [late.json()["id"]]

        frame = await ana.socket.next_event("task_due", timeout=90)  # type: ignore[union-attr]
        while frame["task"] != soon.json()["id"]:
            frame = await ana.socket.next_event("task_due", timeout=90)  # type: ignore[union-attr]
        arrived = dt.datetime.now(dt.UTC)
        assert due_at - dt.timedelta(seconds=1) <= arrived <= due_at + dt.timedelta(seconds=60)
        mine = (await api(ana, "GET", "/console/api/followups")).json()["mine"]
        task = next(t for t in mine if t["id"] == soon.json()["id"])
        assert task["due"] and not task["overdue"]
        key = unwrap(ana, task["key"]["epk"], task["key"]["wrapped"])
        assert b"telefono" in crypto.unpad(crypto.open_sealed(key, task["text"]))
        done = await api(ana, "PUT", f"/console/api/followups/{task['id']}", {"done": True})
        assert done.status_code == 200 and done.json()["done_at"]
        await handover_is_read_by_the_next_shift(ana, sara, [ana_card, sara_card])
        for client in (child, ana, sara):
            await client.close()

    started = time.monotonic()
    run_async(scenario())
    assert time.monotonic() - started < 120


async def handover_is_read_by_the_next_shift(ana: StaffClient, sara: StaffClient, cards: list[dict[str, Any]]) -> None:
    note_key = crypto.new_conversation_key()
    sealed = crypto.seal(note_key, crypto.pad("Fëmija i rastit 1 telefonon sërish pas orës 18.".encode()))
    left = await api(ana, "POST", "/console/api/handover", {"note": sealed, "note_keys": wrap_for(note_key, cards)})
    assert left.status_code == 201, left.text
    assert (await api(ana, "GET", "/console/api/handover")).json()["notes"] == []  # not one's own
    note = (await api(sara, "GET", "/console/api/handover")).json()["notes"][0]
    assert note["read_at"] is None
    key = unwrap(sara, note["key"]["epk"], note["key"]["wrapped"])
    assert "18" in crypto.unpad(crypto.open_sealed(key, note["note"])).decode()
    assert (await api(sara, "POST", f"/console/api/handover/{note['id']}/read", {})).status_code == 200
    assert (await api(sara, "GET", "/console/api/handover")).json()["notes"][0]["read_by"] == "Sara"
