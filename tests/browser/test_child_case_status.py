"""Issue 19, acceptance 3, in real Chromium on both backends: a child who agreed to be told comes
back with her resume code and reads, in Albanian, where her case stands (agency and dates only),
with a link to the page on what happens after a referral and her rights; a child who did not
agree sees nothing. The status is given for the resume token only (never for a conversation id).
"""

from __future__ import annotations

import json
from typing import Any

import httpx
from playwright.sync_api import Browser, Page, expect

from helpline import crypto
from tests.browser.conftest import axe_violations
from tests.integration.referral_support import Member, cli, eventually, member, query, seal_text, wrap_for
from tests.support import Stack, run_async


def start_chat(browser: Browser, url: str) -> tuple[Any, str]:
    """A child starts a chat (it waits in the queue) and writes down her resume code."""
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="sq-AL")
    page = context.new_page()
    page.goto(url + "/")
    page.click("#start-chat")
    page.click("#prechat-submit")
    expect(page.locator("#resume-code")).not_to_be_empty()
    code = page.locator("#resume-code").text_content() or ""
    return context, code


async def refer_conversation(url: str, stack: Stack, sue: Member, conv: str, tell_child: bool) -> str:
    key = crypto.new_conversation_key()
    consent = {"identity": "child_consented", **({"tell_child_status": "child_consented"} if tell_child else {})}
    async with sue.client(url) as http:
        readers = (await http.get("/console/api/referral-readers", params={"agency": "cpu-shkoder"})).json()
        created = await http.post("/console/api/referrals", json={
            "agency": "cpu-shkoder", "urgency": "urgent", "chi_category": "violence.physical", "consent": consent,
            "content": seal_text(key, json.dumps({"concern": "babai më godet"})), "conversation": conv,
            "keys": wrap_for(readers["readers"], sue, key, stack.org_public_key)})
        assert created.status_code == 201, created.text
        return str(created.json()["id"])


async def conversations(stack: Stack, count: int) -> list[str]:
    async def found() -> list[str] | None:
        rows = await query(stack, "SELECT id FROM conversations ORDER BY created_at")
        return [str(r[0]) for r in rows] if len(rows) >= count else None
    result: list[str] = await eventually(found)
    return result


def come_back(browser: Browser, url: str, code: str) -> tuple[Any, Page]:
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="sq-AL")
    page = context.new_page()
    page.goto(url + "/")
    page.click("#resume-link")
    page.fill("#resume-input", code)
    page.click("#resume-submit")
    expect(page.locator("#screen-chat")).to_be_visible()
    return context, page


def test_a_returning_child_who_agreed_sees_where_her_case_stands(stack: Stack, start_server: Any,
                                                                  browser: Browser) -> None:
    cli(stack, "directory", "load")
    server = start_server()
    sue = run_async(member(stack, "sue", "supervisor"))
    drita = run_async(member(stack, "drita", "officer", agency="cpu-shkoder"))
    first, agreed_code = start_chat(browser, server.url)
    second, other_code = start_chat(browser, server.url)
    first.close()
    second.close()
    agreed_conv, other_conv = run_async(conversations(stack, 2))
    rid = run_async(refer_conversation(server.url, stack, sue, agreed_conv, True))
    run_async(refer_conversation(server.url, stack, sue, other_conv, False))

    async def acknowledge() -> None:
        async with drita.client(server.url) as portal:
            answer = await portal.post(f"/referrals/api/referrals/{rid}/acknowledge")
            assert answer.status_code == 200, answer.text
    run_async(acknowledge())

    errors: list[str] = []
    context, page = come_back(browser, server.url, agreed_code)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    status = page.locator("#case-status")
    expect(status).to_be_visible()
    expect(status).to_contain_text("Çfarë po ndodh me kërkesën tënde")
    expect(status).to_contain_text("kërkuam ndihmë për ty te Njësia për Mbrojtjen e Fëmijëve – Bashkia Shkodër")
    expect(status).to_contain_text("ata na thanë se e morën kërkesën")
    text = status.text_content() or ""
    assert "godet" not in text and "violence" not in text and "dhun" not in text.lower()
    assert axe_violations(page) == [], "the case status"
    page.click("#case-status a")
    expect(page.locator("h1")).to_contain_text("Kur u kërkojmë të tjerëve të të ndihmojnë")
    expect(page.locator("article")).to_contain_text("Ke të drejtë të dish çfarë ndodh me kërkesën tënde.")
    assert axe_violations(page) == [], "the rights page"
    context.close()

    context, page = come_back(browser, server.url, other_code)
    page.wait_for_load_state("networkidle")
    expect(page.locator("#case-status")).to_be_hidden()
    context.close()
    assert errors == []


def test_the_status_needs_the_resume_token_not_a_conversation_id(stack: Stack, start_server: Any) -> None:
    server = start_server()

    async def ask() -> None:
        async with httpx.AsyncClient(base_url=server.url, timeout=20) as http:
            unknown = await http.post("/api/child/status", json={"token": crypto.b64u_encode(bytes(32))})
            assert unknown.status_code == 404
            assert "kod" in unknown.json()["error"]
            wrong = await http.post("/api/child/status?lang=en", json={"conv": "abc"})
            assert wrong.status_code == 400
            assert "resume code" in wrong.json()["error"]
            foreign = await http.post("/api/child/status", json={"token": crypto.b64u_encode(bytes(32))},
                                      headers={"origin": "https://evil.example"})
            assert foreign.status_code == 403
    run_async(ask())
