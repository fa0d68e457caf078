"""Made-up usernames and resume tokens cannot grow the throttle table without bound (issue 17,
ADR 0023). A real server with a small bound (HELPLINE_THROTTLE_MAX_ROWS=60) gets hundreds of
sign-ins with names nobody has and resumes with tokens nobody holds, from fresh connections; the
table never passes the bound, and the lock on a real account guessed at before the flood holds."""

from __future__ import annotations

import secrets
from collections.abc import Callable

import httpx

from helpline import crypto
from helpline.security import throttle
from tests.integration.referral_support import query
from tests.reliability.test_resume_throttle import resume_answer
from tests.support import ServerProcess, Stack, add_user

BOUND = 60


async def rows(stack: Stack) -> int:
    count: int = (await query(stack, "SELECT count(*) FROM throttles"))[0][0]
    return count


async def test_unknown_names_and_tokens_leave_the_table_within_its_bound(
        stack: Stack, start_server: Callable[..., ServerProcess]) -> None:
    server = start_server(HELPLINE_THROTTLE_MAX_ROWS=str(BOUND))
    add_user(stack, "ana")
    async with httpx.AsyncClient(base_url=server.url, headers={"origin": server.url}, timeout=30) as http:
        async def sign_in(username: str) -> int:
            # A guess: a well-formed auth value that no password derives (ADR 0021), as a script sends.
            guess = crypto.b64u_encode(secrets.token_bytes(32))
            answer = await http.post("/console/api/login", json={"username": username, "auth": guess})
            return answer.status_code

        # Ana's account is guessed at until it locks.
        answers = [await sign_in("ana") for _ in range(throttle.FREE + 1)]
        assert answers[-1] == 423, answers
        peak = 0
        for i in range(3 * BOUND):
            assert await sign_in(f"nobody-{i}-{secrets.token_hex(4)}") in (400, 401, 403), i
            if i % 10 == 0:
                peak = max(peak, await rows(stack))
        for i in range(3 * BOUND):
            assert await resume_answer(server, stack, crypto.new_resume_secret()) == "not_found", i
            if i % 10 == 0:
                peak = max(peak, await rows(stack))
        peak = max(peak, await rows(stack))
        assert peak <= BOUND, f"the throttle table grew to {peak} rows"
        assert await rows(stack) >= BOUND - 1  # it did fill: the bound, not an accident, held it
        # The lock on the real account outlived the flood of made-up names.
        assert await sign_in("ana") == 423
