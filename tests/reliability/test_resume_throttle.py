"""Guessing resume codes is throttled across connections and processes, by a keyed hash only."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from chat.resume_guard import key_for
from helpline import crypto
from helpline.keys import load_or_create_secret
from helpline.security import throttle
from tests.chat_client import ChildClient, FrameError
from tests.integration.test_chat_e2e import PRECHAT, database_dump
from tests.support import ServerProcess, Stack


async def resume_answer(server: ServerProcess, stack: Stack, secret: bytes) -> str:
    """One attempt on a fresh connection, as a script opening a socket per guess would do."""
    child = ChildClient(server.url, stack.org_public_key, secret=secret)
    await child.connect()
    try:
        await child.resume()
        return "ack"
    except FrameError as exc:
        return str(exc.code)
    finally:
        await child.close()


async def test_wrong_resume_codes_lock_the_token_in_every_process(
        stack: Stack, start_server: Callable[..., ServerProcess]) -> None:
    first = start_server()
    second = start_server() if stack.redis_url else first
    real = ChildClient(first.url, stack.org_public_key)
    await real.connect()
    await real.start(PRECHAT)
    await real.close()

    guessed = crypto.new_resume_secret()
    answers = [await resume_answer(first if i % 2 else second, stack, guessed) for i in range(throttle.FREE + 3)]
    assert answers[:throttle.FREE + 1] == ["not_found"] * (throttle.FREE + 1)
    assert answers[throttle.FREE + 1:] == ["rate_limited"] * 2

    # The lock is the guessed token's: the real child resumes, from either process.
    for server in (first, second):
        assert await resume_answer(server, stack, real.secret) == "ack"

    # The answer says how long to wait, and the database holds a keyed hash, not the token's hash.
    locked = ChildClient(second.url, stack.org_public_key, secret=guessed)
    await locked.connect()
    with pytest.raises(FrameError) as refused:
        await locked.resume()
    assert refused.value.frame["retry_after"] >= 60
    await locked.close()
    dumped = await database_dump(stack)
    guessed_hash = crypto.token_hash(crypto.child_token(guessed))
    assert guessed_hash.encode() not in dumped
    assert key_for(load_or_create_secret(stack.data_dir / "server-secret.key"), guessed_hash).encode() in dumped
