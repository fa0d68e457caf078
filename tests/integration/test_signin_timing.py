"""Sign-in answers take the same time for a username that exists and one that does not, so the
time of an answer cannot be used to list the staff (issue 17)."""

from __future__ import annotations

import secrets
import statistics
import time

import httpx

from chat.client import signin_body
from tests.support import ServerProcess, Stack, add_user


async def test_known_and_unknown_usernames_answer_in_the_same_time(stack: Stack, server: ServerProcess) -> None:
    known = ["kim", "lee"]
    for name in known:
        add_user(stack, name)
    times: dict[str, list[float]] = {"known": [], "unknown": []}
    async with httpx.AsyncClient(base_url=server.url, headers={"origin": server.url}, timeout=30) as http:
        async def attempt(kind: str, username: str) -> None:
            body = await signin_body(http, username, "wrong-" + secrets.token_hex(4))
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
    known_median = statistics.median(times["known"])
    unknown_median = statistics.median(times["unknown"])
    assert unknown_median >= 0.5 * known_median, times
    assert known_median <= 2.0 * unknown_median, times
