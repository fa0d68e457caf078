"""Voice calls, server side (issue 24, ADR 0033): TURN credentials per call in coturn's REST-API
scheme, and sealed signalling relayed to the other side and never stored."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from helpline import crypto
from tests.chat_client import FrameError
from tests.integration.test_chat_e2e import database_dump, open_chat
from tests.support import ServerProcess, Stack, add_user

SECRET = "test-turn-secret-7f3a"
TURN = "turn:127.0.0.1:3479?transport=udp"


def sealed(key: bytes, conv: str, sender: str, cid: str, signal: dict[str, object]) -> str:
    return crypto.encrypt_message(key, conv=conv, sender=sender, cid=cid, text=json.dumps(signal),
                                  at=int(time.time() * 1000))


async def test_signal_is_relayed_sealed_and_never_stored(stack: Stack,
                                                         start_server: Callable[..., ServerProcess]) -> None:
    server = start_server(HELPLINE_TURN_URL=TURN, HELPLINE_TURN_SECRET=SECRET)
    password = add_user(stack, "ana")
    child, staff, conv = await open_chat(server, stack, password)
    assert child.socket and staff.socket and child.conv_key
    # Credentials: only the helpline's TURN server, relay only, user name "<expiry>:<call id>".
    ack = await child.socket.request({"type": "turn", "conv": conv, "call": "c4llIdAbCdEf"})
    assert ack["policy"] == "relay" and len(ack["ice_servers"]) == 1
    server_entry = ack["ice_servers"][0]
    assert server_entry["urls"] == [TURN]
    expiry, _, call = server_entry["username"].partition(":")
    assert call == "c4llIdAbCdEf" and 0 < int(expiry) - time.time() <= 3600
    mac = hmac.new(SECRET.encode(), server_entry["username"].encode(), hashlib.sha1).digest()
    assert server_entry["credential"] == base64.b64encode(mac).decode()
    # A signal: the counsellor gets it with its envelope and opens it; nothing is stored.
    marker = "a=fingerprint:sha-256 AB:CD:voice-marker"
    body = sealed(child.conv_key, conv, "child", "sig-1", {"kind": "offer", "sdp": marker})
    await child.socket.request({"type": "signal", "id": "sig-1", "conv": conv, "body": body})
    event = await staff.socket.next_event("signal")
    assert (event["conv"], event["from"], event["cid"]) == (conv, "child", "sig-1")
    opened = crypto.decrypt_message(staff.keys[conv], event["body"], conv=conv, sender="child", cid="sig-1")
    assert json.loads(opened["text"])["sdp"] == marker
    back = sealed(staff.keys[conv], conv, staff.participant, "sig-2", {"kind": "answer"})
    await staff.socket.request({"type": "signal", "id": "sig-2", "conv": conv, "body": back})
    assert (await child.socket.next_event("signal"))["cid"] == "sig-2"
    assert (await staff.sync(conv))["last_seq"] == 0  # no chat message was stored
    assert body.encode() not in await database_dump(stack)
    # Bad input changes nothing: a call id that is not base64url, a body that is not a sealed box.
    with pytest.raises(FrameError) as bad:
        await child.socket.request({"type": "turn", "conv": conv, "call": "no spaces!"})
    assert bad.value.code == "bad_frame"
    with pytest.raises(FrameError) as bad:
        await child.socket.request({"type": "signal", "conv": conv, "body": "AAAA"})
    assert bad.value.code == "bad_ciphertext"
    with pytest.raises(FrameError) as bad:
        await staff.socket.request({"type": "signal", "conv": "not-mine", "body": body})
    assert bad.value.code in ("forbidden", "not_found")
    # The counsellor's console records the call's length once: a contact of the chat, channel voice.
    for _ in range(2):
        ack = await staff.command({"type": "voice_record", "conv": conv, "call": "c4llIdAbCdEf", "seconds": 42})
        assert (ack["channel"], ack["seconds"]) == ("voice", 42)
    assert await voice_calls(stack) == [(conv, "c4llIdAbCdEf", 42)]
    with pytest.raises(FrameError) as bad:
        await staff.command({"type": "voice_record", "conv": conv, "call": "c4llIdAbCdEf", "seconds": 99999})
    assert bad.value.code == "bad_frame"
    with pytest.raises(FrameError) as bad:  # only the console records calls
        await child.socket.request({"type": "voice_record", "conv": conv, "call": "c4llIdAbCdEf", "seconds": 1})
    assert bad.value.code == "unknown_type"
    await staff.end(conv)  # an ended chat gets no relay: the TURN server is no open proxy
    with pytest.raises(FrameError) as refused:
        await child.socket.request({"type": "turn", "conv": conv, "call": "c4llIdAbCdEf"})
    assert refused.value.code == "bad_state"
    await asyncio.gather(child.close(), staff.close())


async def voice_calls(stack: Stack) -> list[tuple[str, str, int]]:
    """The voice_calls rows, read straight from the database."""
    engine = create_async_engine(stack.database_url)
    try:
        async with engine.connect() as db:
            rows = await db.execute(text("SELECT conversation_id, call_id, seconds FROM voice_calls"))
            return [(str(r[0]), str(r[1]), int(r[2])) for r in rows]
    finally:
        await engine.dispose()


async def test_no_turn_server_no_credentials(stack: Stack, server: ServerProcess) -> None:
    password = add_user(stack, "ana")
    child, staff, conv = await open_chat(server, stack, password)
    assert child.socket
    with pytest.raises(FrameError) as refused:
        await child.socket.request({"type": "turn", "conv": conv, "call": "c4llIdAbCdEf"})
    assert refused.value.code == "bad_state"
    await asyncio.gather(child.close(), staff.close())
