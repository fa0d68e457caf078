"""/stats for everyone who may land on it (issue 20): a visitor is sent to sign in with the language
kept, a manager reads it in the language asked for, and a counsellor gets a page in her language
saying the statistics are not for her role, not an API's JSON."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests.chat_client import StaffClient
from tests.support import Stack, add_user


async def signed_in(url: str, stack: Stack, name: str, role: str) -> httpx.AsyncClient:
    password = await asyncio.to_thread(add_user, stack, name, role)
    staff = StaffClient(url, name, password)
    await staff.sign_in()
    return httpx.AsyncClient(base_url=url, cookies=staff.cookies, timeout=30)


async def test_stats_page_answers_each_role_in_its_language(stack: Stack, start_server: Any) -> None:
    server = start_server()
    async with httpx.AsyncClient(base_url=server.url) as visitor:
        answer = await visitor.get("/stats", params={"lang": "en"})
        assert answer.status_code == 303
        assert answer.headers["location"] == "/console?next=/stats&lang=en"
    async with await signed_in(server.url, stack, "lena", "counsellor") as counsellor:
        answer = await counsellor.get("/stats")  # her account's language: Albanian
        assert answer.status_code == 403
        assert answer.headers["content-type"].startswith("text/html")
        assert '<html lang="sq" dir="ltr">' in answer.text and "Roli juaj nuk ka qasje në to." in answer.text
        answer = await counsellor.get("/stats", params={"lang": "en"})
        assert answer.status_code == 403 and '<html lang="en" dir="ltr">' in answer.text
        assert "Your role does not see them." in answer.text
        assert (await counsellor.get("/stats/api/report")).headers["content-type"].startswith("application/json")
    async with await signed_in(server.url, stack, "mira", "manager") as manager:
        answer = await manager.get("/stats", params={"lang": "en"})
        assert answer.status_code == 200 and '<html lang="en" dir="ltr">' in answer.text
