"""A scripted flood of public reports, on both backends (referral/service.py, ADR 0020): every
report carries a proof of work priced by how many arrive, one with a valid proof is never refused
for the helpline's sake, officers get batched notices instead of one e-mail per report, and
status look-ups are throttled and not audited one by one."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx
import nacl.public

from helpline import crypto
from tests.integration.referral_support import cli, member, query, report_proof, seal_text
from tests.support import ServerProcess, Stack

REPORT = {"platform": "Chat", "link": "https://chat.example/someone", "what": "", "contact": ""}


async def sealed_report(page: httpx.AsyncClient, org_public: bytes) -> dict[str, Any]:
    """A report as the page seals it: a fresh key, wrapped with a key pair made for it alone."""
    readers = (await page.get("/report/api/readers")).json()["readers"]
    key, mine = crypto.new_conversation_key(), nacl.public.PrivateKey.generate()
    keys = []
    for reader in readers:
        public = crypto.b64u_decode(reader["public_key"])
        assert crypto.verify_staff_key(org_public, reader["id"], public, reader["signature"],
                                       roles=crypto.REPORT_ROLES)
        keys.append({"reader": reader["id"], "wrapped_key": crypto.wrap_key(key, public, mine),
                     "wrapper_public_key": crypto.b64u_encode(bytes(mine.public_key))})
    return {"kind": "grooming", "content": seal_text(key, json.dumps(REPORT)), "keys": keys}


async def test_a_flood_of_reports_with_proofs_is_taken_and_officers_are_not_mailed_per_report(
        stack: Stack, start_server: Callable[..., ServerProcess]) -> None:
    server = start_server(HELPLINE_POW_BITS="8", HELPLINE_POW_MAX_BITS="11")
    cli(stack, "directory", "load")
    await member(stack, "gent", "officer", agency="police-cyber", email="gent@asp.example")
    await member(stack, "vera", "officer", agency="police-cyber", email="vera@asp.example")

    async with httpx.AsyncClient(base_url=server.url, headers={"origin": server.url}) as page:
        report = await sealed_report(page, stack.org_public_key)
        # Without a proof: refused, clearly, with the puzzle to solve.
        bare = await page.post("/report/api/reports?lang=en", json=report)
        assert bare.status_code == 403 and bare.json()["code"] == "pow_required"
        assert bare.json()["challenge"]["bits"] == 8 and "puzzle" in bare.json()["error"]
        made = await page.post("/report/api/reports", json={**report, "pow": await report_proof(page)})
        assert made.status_code == 201, made.text
        code = made.json()["code"]

        # A script: four workers, 64 reports in a few seconds, each with its own proof. Before,
        # the 31st of a minute and every real report after it were refused.
        async def worker() -> list[int]:
            answers = []
            async with httpx.AsyncClient(base_url=server.url, headers={"origin": server.url}) as script:
                for _ in range(16):
                    proof = await report_proof(script)
                    answer = await script.post("/report/api/reports", json={**report, "pow": proof})
                    answers.append(answer.status_code)
            return answers

        results = await asyncio.gather(*(worker() for _ in range(4)))
        assert [status for answers in results for status in answers] == [201] * 64
        # The price rose with the arrivals (65 in the last minute: twice the 30 a minute, one bit more).
        assert (await page.get("/report/api/challenge")).json()["bits"] == 9
        # A proof is good for one report only.
        proof = await report_proof(page)
        assert (await page.post("/report/api/reports", json={**report, "pow": proof})).status_code == 201
        again = await page.post("/report/api/reports", json={**report, "pow": proof})
        assert again.status_code == 403 and again.json()["code"] == "pow_required"

    # 66 reports, and each officer has at most two notices: one due at once, then one that says
    # how many wait, due a quarter of an hour later. None per report.
    notices = await query(stack, "SELECT recipient, kind, body, status FROM notices ORDER BY id")
    assert {kind for _, kind, _, _ in notices} == {"reports_waiting"}
    for address in ("gent@asp.example", "vera@asp.example"):
        mine = [body for to, _, body, _ in notices if to == address]
        assert 1 <= len(mine) <= 2, mine
        assert ": 66." in mine[-1], mine[-1]

    # Status look-ups: throttled per code (keyed hash, expires), audited once per window.
    async with httpx.AsyncClient(base_url=server.url) as page:
        answers = [(await page.get(f"/report/api/reports/{code}")).status_code for _ in range(22)]
    assert answers == [200] * 20 + [429] * 2
    audited = await query(stack, "SELECT count(*) FROM audit_log WHERE action = 'referral.report_status'")
    assert audited[0][0] == 1
