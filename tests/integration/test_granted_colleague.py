"""The granted colleague behaves as docs/permissions.md ("Who may see this") decides: a colleague
granted a chat works it with the holder, so may read it and write in it, read and record its case,
and refer it; a colleague with no tie may do none of it. Over HTTP and in staff socket frames, on
both backends."""

from __future__ import annotations

import json
from typing import Any

import pytest

from helpline import crypto
from tests.chat_client import ChildClient, FrameError, StaffClient
from tests.integration.referral_support import cli, member
from tests.integration.test_chat_e2e import PRECHAT, eventually, open_chat
from tests.integration.test_teamwork import api, signed_in
from tests.support import ServerProcess, Stack, add_user, run_async

CASE = {"contact_type": "counselling", "primary_category": "violence", "risk": "high", "outcome": "referral"}


async def referral_body(staff: StaffClient, stack: Stack, conv: str) -> dict[str, Any]:
    """What the console sends to refer a case: content sealed, its key wrapped for every reader."""
    readers = await api(staff, "GET", "/console/api/referral-readers?agency=cpu-shkoder")
    assert readers.status_code == 200, readers.text
    assert staff.private_key is not None
    key = crypto.new_conversation_key()
    wrapped = []
    for reader in readers.json()["readers"]:
        public = crypto.b64u_decode(reader["public_key"])
        assert crypto.verify_staff_key(stack.org_public_key, reader["id"], public, reader["signature"],
                                       roles=crypto.REFERRAL_ROLES)
        wrapped.append({"reader": reader["id"], "wrapped_key": crypto.wrap_key(key, public, staff.private_key),
                        "wrapper_public_key": crypto.b64u_encode(bytes(staff.private_key.public_key))})
    content = crypto.seal(key, crypto.pad(json.dumps({"concern": "dhunë"}).encode()))
    return {"agency": "cpu-shkoder", "urgency": "urgent", "chi_category": "violence.physical",
            "consent": {"identity": "child_consented"}, "content": content, "keys": wrapped, "conversation": conv}


def test_a_granted_colleague_records_and_refers_the_case_and_another_may_not(
        stack: Stack, server: ServerProcess) -> None:
    """Bea answers a returning child; the child's page shares the earlier chat, Ana's, with her (a grant)."""
    ana_pw, bea_pw, cem_pw = add_user(stack, "ana"), add_user(stack, "bea"), add_user(stack, "cem")
    cli(stack, "directory", "load")

    async def scenario() -> None:
        await member(stack, "olsi", "officer", agency="cpu-shkoder")
        child, ana, first = await open_chat(server, stack, ana_pw)
        await child.say("herën e parë")
        await ana.end(first)
        assert (await api(ana, "PUT", f"/console/api/cases/{first}", CASE)).status_code == 200
        await child.close()
        back = ChildClient(server.url, stack.org_public_key, child.secret)
        await back.connect()
        second = await back.start(PRECHAT)
        bea = await signed_in(server, "bea", bea_pw)
        await bea.accept(second)
        history = await bea.socket.next_event("history")  # type: ignore[union-attr]
        assert history["earlier"] == first
        cem = await signed_in(server, "cem", cem_pw)

        # Frames: the granted colleague reads the earlier chat; a colleague with no tie is refused.
        await bea.sync(first, 0)
        with pytest.raises(FrameError) as refused:
            await cem.sync(first, 0)
        assert refused.value.code == "forbidden"

        # HTTP: read, record and list the case.
        assert (await api(bea, "GET", f"/console/api/cases/{first}")).status_code == 200
        written = await api(bea, "PUT", f"/console/api/cases/{first}", {**CASE, "risk": "medium"})
        assert written.status_code == 200, written.text
        listed = (await api(bea, "GET", "/console/api/cases")).json()["cases"]
        assert {c["conv"]: c["mine"] for c in listed}[first] is False
        assert (await api(cem, "GET", f"/console/api/cases/{first}")).status_code == 403
        assert (await api(cem, "PUT", f"/console/api/cases/{first}", CASE)).status_code == 403
        assert first not in [c["conv"] for c in (await api(cem, "GET", "/console/api/cases")).json()["cases"]]

        # HTTP: refer it.
        referred = await api(bea, "POST", "/console/api/referrals", await referral_body(bea, stack, first))
        assert referred.status_code == 201, referred.text
        refused_referral = await api(cem, "POST", "/console/api/referrals", await referral_body(cem, stack, first))
        assert refused_referral.status_code == 403
        for client in (back, ana, bea, cem):
            await client.close()

    run_async(scenario())


def test_a_granted_supervisor_writes_in_the_chat_and_an_untied_counsellor_may_not(
        stack: Stack, server: ServerProcess) -> None:
    ana_pw, cem_pw, sara_pw = add_user(stack, "ana"), add_user(stack, "cem"), add_user(stack, "sara", "supervisor")

    async def scenario() -> None:
        sara = await signed_in(server, "sara", sara_pw)
        cem = await signed_in(server, "cem", cem_pw)
        child, ana, conv = await open_chat(server, stack, ana_pw)
        await ana.command({"type": "ask_supervisor", "conv": conv, "kind": "help"})
        alert = await sara.socket.next_event("alert")  # type: ignore[union-attr]
        await sara.command({"type": "join", "alert": alert["alert"]})
        request = await ana.socket.next_event("join_request")  # type: ignore[union-attr]
        await ana.grant(conv, request["supervisor"], stack.org_public_key)
        await sara.wait_for_key(conv)
        seq = await sara.say(conv, "Jam Sara.")
        await eventually(lambda: seq in child.received)
        with pytest.raises(FrameError) as refused:
            await cem.command({"type": "ask_supervisor", "conv": conv, "kind": "help"})
        assert refused.value.code == "forbidden"
        assert (await api(sara, "GET", f"/console/api/cases/{conv}")).status_code == 200
        assert (await api(cem, "GET", f"/console/api/cases/{conv}")).status_code == 403
        for client in (child, ana, sara, cem):
            await client.close()

    run_async(scenario())
