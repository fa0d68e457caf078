"""Abuse without identifiers, over real WebSockets on both backends (chat/abuse.py, ADR 0011):
proof of work switched on and off by queue pressure, rate limits on new chats per device and for
the whole helpline, and blocking by resume identity and device token."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable

import pytest

from chat import abuse
from helpline.crypto import b64u_encode
from helpline.pack import numbers
from tests.chat_client import ChildClient, FrameError
from tests.integration.test_chat_e2e import PRECHAT, open_chat
from tests.support import ServerProcess, Stack, add_user, run_async


async def child_on(server: ServerProcess, stack: Stack, **kwargs: object) -> ChildClient:
    child = ChildClient(server.url, stack.org_public_key, **kwargs)  # type: ignore[arg-type]
    await child.connect()
    return child


async def refused(child: ChildClient) -> dict[str, object]:
    with pytest.raises(FrameError) as caught:
        await child.start(PRECHAT)
    return caught.value.frame


def test_proof_of_work_comes_with_queue_pressure_and_goes_after(
        stack: Stack, start_server: Callable[..., ServerProcess]) -> None:
    server = start_server(HELPLINE_POW_QUEUE_THRESHOLD="3", HELPLINE_POW_BITS="12")

    async def scenario() -> None:
        early = []
        for _ in range(3):  # below the threshold nobody is asked for work
            child = await child_on(server, stack, solve_pow=False)
            await child.start(PRECHAT)
            early.append(child)
        flood = [await child_on(server, stack, solve_pow=False) for _ in range(10)]
        answers = await asyncio.gather(*(refused(c) for c in flood))
        assert {a["code"] for a in answers} == {"pow_required"}
        challenge = answers[0]["challenge"]
        assert isinstance(challenge, dict) and challenge["bits"] == 12
        assert "puzzle" in str(answers[0]["message"])

        # A wrong or borrowed answer does not pass: the seed is bound to the identity.
        cheat = flood[1]
        assert cheat.socket is not None
        other = answers[0]["challenge"]
        assert isinstance(other, dict)
        nonce = abuse.solve(str(other["seed"]), 12)
        with pytest.raises(FrameError) as wrong:
            await cheat.socket.request({"type": "start", "token": b64u_encode(cheat.token),
                                        "public_key": b64u_encode(cheat.public_key),
                                        "self_key": "A" * 96, "pow": {"seed": other["seed"], "nonce": nonce}})
        assert wrong.value.code == "pow_required"

        honest = await child_on(server, stack)  # solves it, like the child's page
        conv = await honest.start(PRECHAT)
        assert conv and honest.pow_seconds > 0

        # The waiting chats end: pressure is gone and so is the puzzle.
        for child in [*early, honest]:
            assert child.socket is not None and child.conv is not None
            await child.socket.request({"type": "leave", "conv": child.conv})
        late = await child_on(server, stack, solve_pow=False)
        assert await late.start(PRECHAT)
        for child in [*early, *flood, honest, late]:
            await child.close()

    run_async(scenario())


def test_new_chats_are_limited_per_device_and_for_everyone(
        stack: Stack, start_server: Callable[..., ServerProcess]) -> None:
    server = start_server(HELPLINE_NEW_CHATS_PER_DEVICE="2", HELPLINE_NEW_CHATS_PER_MINUTE="4")

    async def scenario() -> None:
        device = secrets.token_bytes(32)
        same = [await child_on(server, stack, device=device) for _ in range(3)]
        await same[0].start(PRECHAT)
        await same[1].start(PRECHAT)
        limited = await refused(same[2])
        assert limited["code"] == "rate_limited" and limited["scope"] == "device"
        assert isinstance(limited["retry_after"], int) and 3000 < limited["retry_after"] <= 3600
        # Asking again for the open chat of the same identity is not a new chat.
        again = await child_on(server, stack, secret=same[0].secret, device=device)
        assert await again.start(PRECHAT) == same[0].conv

        # The helpline-wide limit (4 a minute, and 4 started) asks for work, it does not refuse:
        # a script cannot shut the next child out, it can only make each chat cost more.
        others = [await child_on(server, stack, solve_pow=False) for _ in range(3)]
        await others[0].start(PRECHAT)
        await others[1].start(PRECHAT)
        asked = await refused(others[2])
        assert asked["code"] == "pow_required" and isinstance(asked["challenge"], dict)
        solver = await child_on(server, stack)
        assert await solver.start(PRECHAT) and solver.pow_bits >= 14
        for child in [*same, again, *others, solver]:
            await child.close()

    run_async(scenario())


def test_a_block_covers_the_resume_identity_and_the_device(stack: Stack, server: ServerProcess) -> None:
    ana_pw = add_user(stack, "ana")

    async def scenario() -> None:
        device = secrets.token_bytes(32)
        child, ana, conv = await open_chat(server, stack, ana_pw)
        # The child's page sent its device token when it came back (resume), as the browser does.
        await child.close()
        child.device = device
        await child.connect()
        await child.resume()
        await ana.command({"type": "block", "conv": conv, "reason": "prank"})
        ended = await child.socket.next_event("ended")  # type: ignore[union-attr]
        assert ended["blocked"] is True

        same_identity = await child_on(server, stack, secret=child.secret)
        answer = await refused(same_identity)
        assert answer["code"] == "blocked" and numbers()["helpline"] in str(answer["message"])

        new_identity_same_device = await child_on(server, stack, device=device)
        assert (await refused(new_identity_same_device))["code"] == "blocked"

        elsewhere = await child_on(server, stack, device=secrets.token_bytes(32))
        assert await elsewhere.start(PRECHAT)
        for client in (child, same_identity, new_identity_same_device, elsewhere, ana):
            await client.close()

    run_async(scenario())


def test_a_blocked_identity_on_a_new_device_blocks_that_device_too(stack: Stack, server: ServerProcess) -> None:
    ana_pw = add_user(stack, "ana")

    async def scenario() -> None:
        child, ana, conv = await open_chat(server, stack, ana_pw)
        await ana.command({"type": "block", "conv": conv, "reason": "abusive"})
        await child.socket.next_event("ended")  # type: ignore[union-attr]
        device = secrets.token_bytes(32)
        comeback = await child_on(server, stack, secret=child.secret, device=device)
        assert (await refused(comeback))["code"] == "blocked"
        fresh = await child_on(server, stack, device=device)
        assert (await refused(fresh))["code"] == "blocked"
        for client in (child, comeback, fresh, ana):
            await client.close()

    run_async(scenario())


def test_the_proof_of_work_check() -> None:
    secret, token = secrets.token_bytes(32), secrets.token_bytes(32)
    challenge = abuse.challenge(secret, token, 10)
    nonce = abuse.solve(challenge["seed"], 10)
    proof = {"seed": challenge["seed"], "nonce": nonce}
    assert abuse.check_pow(secret, token, 10, proof)
    assert not abuse.check_pow(secret, secrets.token_bytes(32), 10, proof)  # another identity
    assert not abuse.check_pow(secrets.token_bytes(32), token, 10, proof)  # another server
    assert not abuse.check_pow(secret, token, 10, {"seed": challenge["seed"], "nonce": nonce + "x"}) or \
        abuse.solves(challenge["seed"], nonce + "x", 10)
    old = abuse.challenge(secret, token, 10, now=1_000_000)
    old_proof = {"seed": old["seed"], "nonce": abuse.solve(old["seed"], 10)}
    assert not abuse.check_pow(secret, token, 10, old_proof)
    assert abuse.leading_zero_bits(b"\x00\x00\x1f" + b"\xff" * 61) == 19
