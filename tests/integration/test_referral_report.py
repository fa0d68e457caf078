"""An anonymous report of illegal content reaches the police cybercrime officers' list in the portal,
encrypted in the reporter's page; the reporter's code shows when it was acknowledged."""

from __future__ import annotations

import json

import httpx
import nacl.public

from helpline import crypto
from tests.integration.referral_support import cli, member, open_text, query, report_proof, seal_text, unwrap
from tests.support import ServerProcess, Stack

REPORT = {"platform": "Instagram", "link": "https://instagram.example/some.account",
          "what": "Një i rritur i kërkon foto një vajze 13 vjeç", "contact": ""}


async def test_anonymous_report_reaches_cyber_officers_and_the_code_shows_acknowledgement(
        stack: Stack, server: ServerProcess) -> None:
    cli(stack, "directory", "load")
    cyber = await member(stack, "gent", "officer", agency="police-cyber", email="gent@asp.example")
    cpo = await member(stack, "drita", "officer", agency="cpu-shkoder")
    sara = await member(stack, "sara", "supervisor")

    # The reporter's page: no account, no cookie; a key pair made for this report only.
    async with httpx.AsyncClient(base_url=server.url, headers={"origin": server.url}) as page:
        readers = (await page.get("/report/api/readers")).json()
        assert {r["id"] for r in readers["readers"]} == {cyber.participant, sara.participant}
        assert readers["agency"]["code"] == "police-cyber"
        key = crypto.new_conversation_key()
        mine = nacl.public.PrivateKey.generate()
        keys = []
        for reader in readers["readers"]:
            public = crypto.b64u_decode(reader["public_key"])
            assert crypto.verify_staff_key(stack.org_public_key, reader["id"], public, reader["signature"],
                                           roles=crypto.REPORT_ROLES)
            keys.append({"reader": reader["id"], "wrapped_key": crypto.wrap_key(key, public, mine),
                         "wrapper_public_key": crypto.b64u_encode(bytes(mine.public_key))})
        content = seal_text(key, json.dumps(REPORT, ensure_ascii=False))
        refused = await page.post("/report/api/reports", json={"kind": "grooming", "content": content,
                                                               "keys": keys[:1], "pow": await report_proof(page)})
        assert refused.status_code == 400  # every reader must get the key
        foreign = await page.post("/report/api/reports", json={"kind": "grooming", "content": content, "keys": keys},
                                  headers={"origin": "https://evil.example"})
        assert foreign.status_code == 403
        made = await page.post("/report/api/reports", json={"kind": "grooming", "content": content, "keys": keys,
                                                            "pow": await report_proof(page)})
        assert made.status_code == 201, made.text
        code = made.json()["code"]
        status = (await page.get(f"/report/api/reports/{code}")).json()
        assert status["acknowledged"] is False and status["state"] == "sent"
        assert (await page.get("/report/api/reports/AAAA-BBBB-CCCC")).status_code == 404

    async with cyber.client(server.url) as portal:
        listing = (await portal.get("/referrals/api/referrals")).json()["referrals"]
        assert len(listing) == 1 and listing[0]["source"] == "report"
        assert listing[0]["chi_category"] == "illegal_content.grooming"
        rid = listing[0]["id"]
        read = (await portal.get(f"/referrals/api/referrals/{rid}")).json()
        assert json.loads(open_text(unwrap(cyber, read), read["content"])) == REPORT
        assert read["sender"] is None
        assert (await portal.post(f"/referrals/api/referrals/{rid}/acknowledge")).status_code == 200
    async with cpo.client(server.url) as portal:
        assert (await portal.get("/referrals/api/referrals")).json()["referrals"] == []
        assert (await portal.get(f"/referrals/api/referrals/{rid}")).status_code == 403

    async with httpx.AsyncClient(base_url=server.url) as page:
        status = (await page.get(f"/report/api/reports/{code.lower()}")).json()
    assert status["acknowledged"] is True and status["acknowledged_at"] is not None
    assert status["state"] == "acknowledged"
    # The code is kept only as a keyed hash; the link and words only as ciphertext.
    stored = await query(stack, "SELECT report_code_hash, content, created_by FROM referrals")
    assert stored[0][0] != code and code.replace("-", "") not in stored[0][0] and stored[0][2] is None
    assert "instagram" not in stored[0][1].lower()

