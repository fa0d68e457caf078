"""Sign-in answers take the same time for a username that exists and one that does not, so the
time of an answer cannot be used to list the staff (issue 17)."""

from __future__ import annotations

import secrets
import statistics
import time

import httpx
from sqlalchemy import update

from helpline.db import make_engine, make_sessionmaker
from helpline.models import Staff
from tests.chat_client import signin_body
from tests.support import ServerProcess, Stack, add_user


async def test_known_and_unknown_usernames_answer_in_the_same_time(stack: Stack, server: ServerProcess) -> None:
    known = ["kim", "lee"]
    for name in known:
        add_user(stack, name)
    disabled_password = add_user(stack, "may")
    await disable(stack, "may")
    times: dict[str, list[float]] = {"known": [], "unknown": [], "disabled": []}
    async with httpx.AsyncClient(base_url=server.url, headers={"origin": server.url}, timeout=30) as http:
        async def attempt(kind: str, username: str, password: str = "") -> None:
            body = await signin_body(http, username, password or "wrong-" + secrets.token_hex(4))
            started = time.perf_counter()
            answer = await http.post("/console/api/login?lang=en", json=body)
            times[kind].append(time.perf_counter() - started)
            assert answer.status_code == 401, answer.text
            assert answer.json()["error"] == "Wrong username or password."

        # Interleaved, so load on the machine falls on both kinds alike; each known name stays
        # within its free failures (a lock would answer early and prove nothing).
        for _ in range(4):
            for name in known:
                await attempt("known", name)
                await attempt("unknown", "ghost-" + secrets.token_hex(4))
            # A disabled account, even with its right password, answers like any wrong one.
            await attempt("disabled", "may", disabled_password)
    known_median = statistics.median(times["known"])
    unknown_median = statistics.median(times["unknown"])
    assert unknown_median >= 0.5 * known_median, times
    assert known_median <= 2.0 * unknown_median, times
    assert statistics.median(times["disabled"]) >= 0.5 * known_median, times


async def disable(stack: Stack, username: str) -> None:
    engine = make_engine(stack.database_url)
    try:
        async with make_sessionmaker(engine)() as db, db.begin():
            await db.execute(update(Staff).where(Staff.username == username).values(disabled=True))
    finally:
        await engine.dispose()
