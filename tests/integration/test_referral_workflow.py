"""A referral over HTTP against a real server: a counsellor refers a case to the CPO of Shkodër, the
CPO reads it (decrypted here with PyNaCl, as the portal does), acknowledges, acts, asks, closes;
the counsellor follows every step; an officer elsewhere gets an audited 403; notices say nothing."""

from __future__ import annotations

import email
import json
from collections.abc import Callable

from helpline import crypto
from tests.integration.referral_support import (
    CONTENT,
    cli,
    eventually,
    member,
    open_text,
    query,
    refer,
    seal_text,
    unwrap,
)
from tests.pgbouncer import also_through_pgbouncer
from tests.support import ServerProcess, Stack


@also_through_pgbouncer
async def test_refer_read_acknowledge_act_ask_close_and_follow(
        stack: Stack, start_server: Callable[..., ServerProcess]) -> None:
    cli(stack, "directory", "load")
    cli(stack, "directory", "contact", "cpu-shkoder", "mbrojtja@shkoder.example")
    server = start_server(HELPLINE_WORKER_SECONDS="1")
    ana = await member(stack, "ana", "counsellor")
    sara = await member(stack, "sara", "supervisor")
    cpo = await member(stack, "drita", "officer", agency="cpu-shkoder", email="drita@shkoder.example")
    other = await member(stack, "besnik", "officer", agency="cpu-tirane", email="besnik@tirane.example")
    admin = await member(stack, "admin", "admin", with_key=False)

    async with ana.client(server.url) as console:
        directory = (await console.get("/console/api/referral-agencies",
                                       params={"municipality": "Shkodër", "concern": "family"})).json()
        assert directory["suggested"] == "cpu-shkoder"
        assert len([a for a in directory["agencies"] if a["kind"] == "cpu"]) == 61
        cyber = (await console.get("/console/api/referral-agencies", params={"concern": "grooming"})).json()
        assert cyber["suggested"] == "police-cyber"

    created, key = await refer(server.url, ana, stack)
    rid = created["id"]
    assert created["state"] == "sent" and created["agency"] == "cpu-shkoder" and created["urgency"] == "emergency"
    assert created["ack_deadline_at"] is not None

    async with cpo.client(server.url) as portal:
        listing = (await portal.get("/referrals/api/referrals")).json()["referrals"]
        assert [item["id"] for item in listing] == [rid]
        read = (await portal.get(f"/referrals/api/referrals/{rid}")).json()
        referral_key = unwrap(cpo, read)
        assert referral_key == key
        assert json.loads(open_text(referral_key, read["content"])) == CONTENT
        assert read["sender"]["id"] == ana.participant

        answer = await portal.post(f"/referrals/api/referrals/{rid}/close", json={"outcome": "child_protected"})
        assert answer.status_code == 409
        assert answer.json()["error"] == "Një referim në gjendjen sent nuk mund të kalojë në closed."  # staff locale sq

        assert (await portal.post(f"/referrals/api/referrals/{rid}/acknowledge")).json()["state"] == "acknowledged"
        again = await portal.post(f"/referrals/api/referrals/{rid}/acknowledge")
        assert again.status_code == 409
        assert "gjendjen acknowledged nuk mund të kalojë në acknowledged" in again.json()["error"]
        acted = await portal.post(f"/referrals/api/referrals/{rid}/actions",
                                  json={"kind": "home_visit", "body": seal_text(key, "Vizitë në shtëpi, ora 14")})
        assert acted.json()["state"] == "in_progress"
        asked = await portal.post(f"/referrals/api/referrals/{rid}/questions",
                                  json={"body": seal_text(key, "A ka vëlla apo motër?")})
        assert asked.status_code == 200
        plain = await portal.post(f"/referrals/api/referrals/{rid}/questions", json={"body": "plain text"})
        assert plain.status_code == 400  # the server takes ciphertext only

    async with ana.client(server.url) as console:
        answered = await console.post(f"/console/api/referrals/{rid}/answers",
                                      json={"body": seal_text(key, "Po, një vëlla 8 vjeç")})
        assert answered.status_code == 200, answered.text
        mine = (await console.get("/console/api/referrals")).json()["referrals"]
        assert [item["id"] for item in mine] == [rid]

    async with cpo.client(server.url) as portal:
        closed = await portal.post(f"/referrals/api/referrals/{rid}/close",
                                   json={"outcome": "child_protected", "body": seal_text(key, "Fëmija është mirë")})
        assert closed.json() == {"state": "closed", "outcome": "child_protected"}
        thread = (await portal.get(f"/referrals/api/referrals/{rid}")).json()["events"]
        answer_event = next(e for e in thread if e["kind"] == "answer")
        assert open_text(key, answer_event["body"]) == "Po, një vëlla 8 vjeç"

    # The counsellor (and a supervisor) sees every step, and can read each encrypted line.
    for person in (ana, sara):
        async with person.client(server.url) as console:
            read = (await console.get(f"/console/api/referrals/{rid}")).json()
        steps = [(e["kind"], e["to"]) for e in read["events"]]
        # "plan": the date the agency acts by (the urgency's default after acknowledging and after each action).
        assert steps == [("created", "draft"), ("transition", "sent"), ("transition", "acknowledged"),
                         ("plan", None), ("transition", "in_progress"), ("action", None), ("plan", None),
                         ("question", None), ("answer", None), ("transition", "closed")]
        if person is sara:  # the supervisor's page also shows every read and step from the audit log
            logged = [(a["actor"], a["action"]) for a in read["audit"]]
            assert (cpo.participant, "referral.read") in logged and (ana.participant, "referral.created") in logged
            assert logged[-1] == (sara.participant, "referral.read")
        else:
            assert read["audit"] is None
        their_key = unwrap(person, read)
        assert open_text(their_key, read["events"][5]["body"]) == "Vizitë në shtëpi, ora 14"
        assert read["events"][5]["detail"] == {"action": "home_visit"}
        assert read["events"][5]["actor_name"] == "Drita"

    # An officer of another municipality: 403, and the attempt is in the audit log.
    async with other.client(server.url) as portal:
        assert (await portal.get("/referrals/api/referrals")).json()["referrals"] == []
        refused = await portal.get(f"/referrals/api/referrals/{rid}")
        assert refused.status_code == 403
        assert (await portal.post(f"/referrals/api/referrals/{rid}/acknowledge")).status_code == 403
    denied = await query(stack, "SELECT actor, subject FROM audit_log WHERE action = 'denied'")
    assert (other.participant, f"/referrals/api/referrals/{rid}") in denied
    assert (other.participant, f"/referrals/api/referrals/{rid}/acknowledge") in denied
    # A counsellor may not use the officers' portal at all, nor an officer the console side.
    async with ana.client(server.url) as console:
        assert (await console.get(f"/referrals/api/referrals/{rid}")).status_code == 403
    async with cpo.client(server.url) as portal:
        assert (await portal.get(f"/console/api/referrals/{rid}")).status_code == 403

    # Every read and transition is in the hash-chained log, and the chain holds.
    actions = {r[0] for r in await query(stack, "SELECT action FROM audit_log WHERE subject = :s",
                                         {"s": f"referral:{rid}"})}
    assert {"referral.created", "referral.transition", "referral.read", "referral.action", "referral.question",
            "referral.answer"} <= actions
    verified = cli(stack, "audit", "verify")
    assert verified.returncode == 0 and "intact" in verified.stdout

    # The notice went to the officer (the worker wrote it to the outbox): no name, place or detail.
    outbox = stack.data_dir / "outbox"
    files = await eventually(lambda: sorted(outbox.glob("*.eml")))
    assert len(files) == 1
    message = email.message_from_bytes(files[0].read_bytes())
    assert message["To"] == "drita@shkoder.example"
    text = message.get_payload(decode=True).decode("utf-8")  # type: ignore[union-attr]
    assert f"{server.url.split('//')[0]}//" in text and "/referrals" in text
    for secret in [*CONTENT.values(), "Shkodër", "Arta", "abuse", rid]:
        assert secret not in text and secret not in str(message["Subject"])
    async with admin.client(server.url) as admin_http:
        box = (await admin_http.get("/admin/api/outbox")).json()
    assert box["mode"] == "outbox" and box["outbox_files"] == [files[0].name]
    assert [(n["to"], n["status"], n["kind"]) for n in box["notices"]] == [
        ("drita@shkoder.example", "sent", "referral_waiting")]
    async with ana.client(server.url) as console:
        assert (await console.get("/admin/api/outbox")).status_code == 403

    # Nothing the child said is anywhere in the database in the clear.
    rows = await query(stack, "SELECT content FROM referrals UNION ALL SELECT coalesce(body, '') FROM referral_events")
    assert all("Arta" not in row[0] and "Vizitë" not in row[0] for row in rows)


async def test_keys_must_cover_every_reader_and_come_from_the_sender(
        stack: Stack, server: ServerProcess) -> None:
    cli(stack, "directory", "load")
    ana = await member(stack, "ana", "counsellor")
    await member(stack, "drita", "officer", agency="cpu-shkoder")
    async with ana.client(server.url) as console:
        readers = (await console.get("/console/api/referral-readers", params={"agency": "cpu-shkoder"})).json()
        assert {r["role"] for r in readers["readers"]} == {"counsellor", "officer"}
        body = {"agency": "cpu-shkoder", "urgency": "urgent", "chi_category": "violence.physical", "consent": {},
                "content": "A" * 100, "keys": []}
        refused = await console.post("/console/api/referrals", json=body)
        assert refused.status_code == 400
        # A category the taxonomy does not know (issue 19).
        made_up = await console.post("/console/api/referrals", json={**body, "chi_category": "abuse.made_up"})
        assert made_up.status_code == 400 and "abuse.made_up" in made_up.json()["error"], made_up.text
        unknown = await console.post("/console/api/referrals", json={**body, "agency": "cpu-atlantis"})
        assert unknown.status_code == 400 and "cpu-atlantis" in unknown.json()["error"]
        wrong = await console.post("/console/api/referrals", json={**body, "urgency": "someday"})
        assert wrong.status_code == 400
    assert await query(stack, "SELECT count(*) FROM referrals") == [(0,)]


async def test_return_and_reroute_to_another_agency(stack: Stack, server: ServerProcess) -> None:
    from tests.integration.referral_support import wrap_for

    cli(stack, "directory", "load")
    ana = await member(stack, "ana", "counsellor")
    wrong_cpo = await member(stack, "drita", "officer", agency="cpu-shkoder")
    right_cpo = await member(stack, "erion", "officer", agency="cpu-vau-i-dejes")
    created, key = await refer(server.url, ana, stack, urgency="urgent")
    rid = created["id"]
    async with wrong_cpo.client(server.url) as portal:
        returned = await portal.post(f"/referrals/api/referrals/{rid}/return", json={"reason": "not_our_area"})
        assert returned.json()["state"] == "returned"
    async with right_cpo.client(server.url) as portal:
        assert (await portal.get(f"/referrals/api/referrals/{rid}")).status_code == 403
    async with ana.client(server.url) as console:
        readers = (await console.get("/console/api/referral-readers", params={"agency": "cpu-vau-i-dejes"})).json()
        moved = await console.post(f"/console/api/referrals/{rid}/reroute", json={
            "agency": "cpu-vau-i-dejes", "keys": wrap_for(readers["readers"], ana, key, stack.org_public_key)})
        assert moved.status_code == 200, moved.text
        assert moved.json()["state"] == "sent" and moved.json()["agency"] == "cpu-vau-i-dejes"
    async with right_cpo.client(server.url) as portal:
        read = (await portal.get(f"/referrals/api/referrals/{rid}")).json()
        assert json.loads(open_text(unwrap(right_cpo, read), read["content"])) == CONTENT
    async with wrong_cpo.client(server.url) as portal:
        assert (await portal.get(f"/referrals/api/referrals/{rid}")).status_code == 403


async def test_a_reader_who_enrols_later_gets_the_key_from_one_who_holds_it(
        stack: Stack, server: ServerProcess) -> None:
    from tests.integration.referral_support import wrap_for

    cli(stack, "directory", "load")
    ana = await member(stack, "ana", "counsellor")
    await member(stack, "drita", "officer", agency="cpu-shkoder")
    created, key = await refer(server.url, ana, stack, urgency="routine")
    rid = created["id"]
    late = await member(stack, "fatos", "officer", agency="cpu-shkoder")
    async with late.client(server.url) as portal:
        assert (await portal.get(f"/referrals/api/referrals/{rid}")).json()["key"] is None
    async with ana.client(server.url) as console:
        read = (await console.get(f"/console/api/referrals/{rid}")).json()
        assert [r["id"] for r in read["missing_readers"]] == [late.participant]
        again = {"reader": ana.participant, "wrapped_key": crypto.wrap_key(key, ana.public_key, ana.private_key),
                 "wrapper_public_key": crypto.b64u_encode(ana.public_key)}
        refused = await console.post(f"/console/api/referrals/{rid}/keys", json={"keys": [again]})
        assert refused.status_code == 400  # only readers still without a key
        added = await console.post(f"/console/api/referrals/{rid}/keys", json={
            "keys": wrap_for(read["missing_readers"], ana, key, stack.org_public_key)})
        assert added.status_code == 200, added.text
        assert (await console.get(f"/console/api/referrals/{rid}")).json()["missing_readers"] == []
    async with late.client(server.url) as portal:
        read = (await portal.get(f"/referrals/api/referrals/{rid}")).json()
        assert json.loads(open_text(unwrap(late, read), read["content"])) == CONTENT
