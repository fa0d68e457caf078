"""When a life is in danger (issue 9): the emergency alert, the protocol, the two-person rule for
sharing without consent, and the debrief. Real server, real WebSockets, real NaCl; both backends."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from helpline import crypto
from helpline.i18n import translate
from tests.chat_client import StaffClient
from tests.integration.referral_support import cli, member, query, seal_text
from tests.integration.test_chat_e2e import open_chat
from tests.integration.test_teamwork import api, audit_rows, signed_in
from tests.support import ServerProcess, Stack, add_user, run_async

NEEDS_APPROVAL = "Sharing without the child's consent needs a supervisor's approval."


async def referral_body(staff: StaffClient, stack: Stack, conv: str, consent: dict[str, str]) -> dict[str, Any]:
    """What the console's referral form sends: content sealed under a new key, wrapped for the CPO."""
    key = crypto.new_conversation_key()
    readers = (await api(staff, "GET", "/console/api/referral-readers?agency=cpu-shkoder")).json()["readers"]
    assert readers, "the Shkodër CPO has an enrolled key"
    assert staff.private_key is not None
    keys = []
    for reader in readers:
        public = crypto.b64u_decode(reader["public_key"])
        assert crypto.verify_staff_key(stack.org_public_key, reader["id"], public, reader["signature"],
                                       roles=crypto.REFERRAL_ROLES)
        keys.append({"reader": reader["id"], "wrapped_key": crypto.wrap_key(key, public, staff.private_key),
                     "wrapper_public_key": crypto.b64u_encode(bytes(staff.private_key.public_key))})
    return {"agency": "cpu-shkoder", "urgency": "emergency", "conversation": conv,
            "chi_category": "mental_health.suicidal",
            "consent": consent, "keys": keys,
            "content": seal_text(key, json.dumps({"place": "Shkodër, lagjja Qafë"}, ensure_ascii=False))}


async def frames_until(staff: StaffClient, kind: str, frame_id: int) -> list[dict[str, Any]]:
    """Every frame a console received up to the first ``kind`` frame with this id."""
    assert staff.socket is not None
    frames = []
    while True:
        frame = await asyncio.wait_for(staff.socket.events.get(), 10)
        frames.append(frame)
        if frame.get("type") == kind and frame.get("id") == frame_id:
            return frames


def test_sharing_without_consent_needs_a_supervisor_who_is_another_person(stack: Stack, server: ServerProcess) -> None:
    ana_pw, sara_pw = add_user(stack, "ana"), add_user(stack, "sara", role="supervisor")
    without = {"identity": "child_consented", "location": "shared_without_consent_for_safety"}

    cli(stack, "directory", "load")

    async def scenario() -> None:
        await member(stack, "cpo-shkoder", "officer", agency="cpu-shkoder")
        child, ana, conv = await open_chat(server, stack, ana_pw)
        sara = await signed_in(server, "sara", sara_pw)

        # The emergency alert reaches the supervisor; the child is told that help is coming.
        await ana.command({"type": "ask_supervisor", "conv": conv, "kind": "emergency"})
        alert = await sara.socket.next_event("alert")  # type: ignore[union-attr]
        assert alert["kind"] == "emergency" and alert["conv"] == conv
        await child.socket.next_event("safety_help")  # type: ignore[union-attr]
        protocol = (await api(ana, "GET", "/console/api/emergency/protocol")).json()
        assert "129" in protocol["protocol"] and protocol["custom"] is False

        # Without an approval the referral is refused and nothing is stored.
        body = await referral_body(ana, stack, conv, without)
        refused = await api(ana, "POST", "/console/api/referrals", body)
        assert refused.status_code == 403
        assert refused.json()["error"] == translate("sq", NEEDS_APPROVAL)
        assert await query(stack, "SELECT count(*) FROM referrals") == [(0,)]

        asked = await api(ana, "POST", f"/console/api/conversations/{conv}/disclosures",
                          {"items": ["location"], "reason": "child_life_at_risk"})
        assert asked.status_code == 201, asked.text
        request = await sara.socket.next_event("disclosure")  # type: ignore[union-attr]
        assert request["id"] == asked.json()["id"] and request["asked_by"] == "Ana"

        # The counsellor cannot approve (not a supervisor); a bad reason changes nothing.
        mine = await api(ana, "POST", f"/console/api/disclosures/{request['id']}/decision",
                         {"approve": True, "reason": "risk_confirmed"})
        assert mine.status_code == 403
        wrong = await api(sara, "POST", f"/console/api/disclosures/{request['id']}/decision",
                          {"approve": True, "reason": "risk_not_confirmed"})
        assert wrong.status_code == 400
        assert (await api(ana, "POST", "/console/api/referrals", body)).status_code == 403

        approved = await api(sara, "POST", f"/console/api/disclosures/{request['id']}/decision",
                             {"approve": True, "reason": "risk_confirmed"})
        assert approved.status_code == 200 and approved.json()["state"] == "approved"
        told = await ana.socket.next_event("disclosure_decided")  # type: ignore[union-attr]
        assert told["state"] == "approved" and told["decided_by"] == "Sara"
        again = await api(sara, "POST", f"/console/api/disclosures/{request['id']}/decision",
                          {"approve": False, "reason": "other_route"})
        assert again.status_code == 409

        # An item the supervisor did not approve stays refused; the approved one goes through, once.
        wider_consent = {**without, "family": "shared_without_consent_for_safety"}
        wider = await api(ana, "POST", "/console/api/referrals", await referral_body(ana, stack, conv, wider_consent))
        assert wider.status_code == 403
        sent = await api(ana, "POST", "/console/api/referrals", body)
        assert sent.status_code == 201, sent.text
        assert (await api(ana, "POST", "/console/api/referrals", await referral_body(ana, stack, conv, without))
                ).status_code == 403
        stored = await query(stack, "SELECT consent FROM referrals")
        consent = stored[0][0] if isinstance(stored[0][0], dict) else json.loads(stored[0][0])
        assert consent == without  # the referral says which item went without consent

        # A supervisor cannot approve their own request: a second person must decide.
        own = await api(sara, "POST", f"/console/api/conversations/{conv}/disclosures",
                        {"items": ["family"], "reason": "other_life_at_risk"})
        assert own.status_code == 403  # sara is not handling this chat
        for client in (child, ana, sara):
            await client.close()

    run_async(scenario())
    rows = audit_rows(stack)
    asked = [d for action, _, d in rows if action == "disclosure.asked"]
    decided = [(subject, d) for action, subject, d in rows if action == "disclosure.approved"]
    used = [d for action, _, d in rows if action == "disclosure.used"]
    assert asked == [{"disclosure": asked[0]["disclosure"], "items": ["location"], "reason": "child_life_at_risk"}]
    assert len(decided) == 1 and decided[0][1]["reason"] == "risk_confirmed"
    assert decided[0][1]["asked_reason"] == "child_life_at_risk" and decided[0][1]["asked_by"].startswith("staff:")
    assert len(used) == 1 and used[0]["items"] == ["location"]
    actors = {d["asked_by"] for _, d in decided}
    assert len(actors) == 1 and all(a != decided[0][0] for a in actors)


def test_a_supervisor_cannot_approve_what_they_asked_and_the_debrief_is_a_number(
        stack: Stack, server: ServerProcess) -> None:
    sara_pw, tom_pw = add_user(stack, "sara", role="supervisor"), add_user(stack, "tom", role="supervisor")
    ana_pw = add_user(stack, "ana")

    async def scenario() -> None:
        child, sara, conv = await open_chat(server, stack, sara_pw, username="sara")
        tom = await signed_in(server, "tom", tom_pw)
        asked = (await api(sara, "POST", f"/console/api/conversations/{conv}/disclosures",
                           {"items": ["identity", "location"], "reason": "serious_harm_now"})).json()
        own = await api(sara, "POST", f"/console/api/disclosures/{asked['id']}/decision",
                        {"approve": True, "reason": "risk_confirmed"})
        assert own.status_code == 403
        assert own.json()["error"] == translate("sq", "A second person must decide: you asked for this yourself.")
        pending = (await api(tom, "GET", "/console/api/disclosures")).json()["disclosures"]
        assert [p["id"] for p in pending] == [asked["id"]]
        refused = await api(tom, "POST", f"/console/api/disclosures/{asked['id']}/decision",
                            {"approve": False, "reason": "consent_still_possible"})
        assert refused.json()["state"] == "refused"
        assert (await api(tom, "GET", "/console/api/disclosures")).json()["disclosures"] == []
        # Each supervisor's console hears of the decision once, the one who asked included: a later
        # request is the marker after which a second copy would already have arrived.
        marker = (await api(sara, "POST", f"/console/api/conversations/{conv}/disclosures",
                            {"items": ["family"], "reason": "serious_harm_now"})).json()
        for console in (sara, tom):
            frames = await frames_until(console, "disclosure", marker["id"])
            decided = [f for f in frames if f["type"] == "disclosure_decided" and f["id"] == asked["id"]]
            assert len(decided) == 1 and decided[0]["state"] == "refused"

        ana = StaffClient(server.url, "ana", ana_pw)
        await ana.sign_in()
        debrief = await api(tom, "POST", "/console/api/debriefs",
                            {"counsellor": ana.participant, "wellbeing": "shaken"})
        assert debrief.status_code == 201
        assert (await api(tom, "POST", "/console/api/debriefs",
                          {"counsellor": ana.participant, "wellbeing": "sad and tired"})).status_code == 400
        assert (await api(ana, "POST", "/console/api/debriefs",
                          {"counsellor": tom.participant, "wellbeing": "fine"})).status_code == 403
        # In the statistics a debrief is a number, protected like every other (k = 5 shows "< 5").
        report = (await api(tom, "GET", "/stats/api/report?lang=en")).json()
        assert {f["id"]: f["value"] for f in report["figures"]}["debriefs"] == "< 5"
        by_county = (await api(tom, "GET", "/stats/api/report?lang=en&county=Shkodër")).json()
        assert "debriefs" not in {f["id"] for f in by_county["figures"]}
        for client in (child, sara, tom):
            await client.close()

    run_async(scenario())
    assert run_async(query(stack, "SELECT wellbeing FROM debriefs")) == [("shaken",)]


def test_admins_write_the_emergency_protocol_per_language(stack: Stack, server: ServerProcess) -> None:
    admin_pw, ana_pw = add_user(stack, "root", role="admin"), add_user(stack, "ana")

    async def scenario() -> None:
        admin = StaffClient(server.url, "root", admin_pw)
        await admin.sign_in()
        ana = StaffClient(server.url, "ana", ana_pw)
        await ana.sign_in()
        text = "1. Qëndro në bisedë.\n2. Telefono mbikëqyrësen: 06x xxx xxxx."
        saved = await api(admin, "POST", "/console/api/admin/emergency-protocol", {"locale": "sq", "text": text})
        assert saved.status_code == 200
        bad = await api(admin, "POST", "/console/api/admin/emergency-protocol", {"locale": "de", "text": "x"})
        assert bad.status_code == 400
        assert (await api(ana, "POST", "/console/api/admin/emergency-protocol",
                          {"locale": "sq", "text": "x"})).status_code == 403
        for _ in range(80):  # each process re-reads the settings within a few seconds
            shown = (await api(ana, "GET", "/console/api/emergency/protocol")).json()
            if shown["custom"]:
                break
            await asyncio.sleep(0.1)
        assert shown["protocol"] == text
        cleared = await api(admin, "POST", "/console/api/admin/emergency-protocol", {"locale": "sq", "text": ""})
        assert cleared.json()["custom"] is False

    run_async(scenario())
