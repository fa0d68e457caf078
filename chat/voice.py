"""Voice calls from the chat (issue 24, docs/adr/0033-voice-calls.md): short-lived TURN
credentials per call, and the relay of the call's signalling.

The server never reads a call's signalling: offers, answers, ICE candidates and the DTLS
fingerprints are sealed by the pages under the conversation key (the same layout as a chat
message, docs/encryption.md) and travel in `signal` frames that are relayed to the other side and
never stored. TURN credentials follow coturn's REST-API scheme (`use-auth-secret`): the user name
is `<expiry>:<call id>` (a random id the page chose; nothing that names the child) and the
password is base64(HMAC-SHA1(HELPLINE_TURN_SECRET, user name)), so coturn checks them without
asking the helpline, and they stop working at the expiry.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from chat.protocol import Frame, ProtocolError
from helpline.crypto import CryptoError, check_ciphertext_shape
from helpline.models import Conversation, ConversationState, VoiceCall

if TYPE_CHECKING:
    from chat.connection import ClientConnection
    from helpline.settings import Settings

VOICE_OFF = "Voice calls are not set up on this helpline."


def turn_credentials(settings: Settings, call: str, now: float | None = None) -> dict[str, Any]:
    """The ICE configuration for one call: only the helpline's TURN server, relay only."""
    ttl = int(settings.turn_ttl_seconds)
    expiry = int(time.time() if now is None else now) + ttl
    username = f"{expiry}:{call}"
    mac = hmac.new(str(settings.turn_secret).encode(), username.encode(), hashlib.sha1).digest()
    return {"ice_servers": [{"urls": [settings.turn_url], "username": username,
                             "credential": base64.b64encode(mac).decode("ascii")}],
            "policy": "relay", "ttl": ttl}


async def ticket(conn: ClientConnection, frame: Frame) -> dict[str, Any]:
    """`turn`: a member of the conversation asks for credentials for one call."""
    await conn.check_member(frame["conv"])
    settings = conn.services.settings
    if not settings.turn_url or not settings.turn_secret:
        raise ProtocolError("bad_state", VOICE_OFF)
    # Only a chat with a counsellor in it gets a relay: the TURN server is no open proxy.
    async with conn.services.store.read() as db:
        state = await db.scalar(select(Conversation.state).where(Conversation.id == frame["conv"]))
    if state != ConversationState.ACTIVE:
        raise ProtocolError("bad_state", "A call needs a chat that a counsellor has answered.")
    return {"conv": frame["conv"], **turn_credentials(settings, frame["call"])}


async def relay(conn: ClientConnection, frame: Frame) -> dict[str, Any]:
    """`signal`: forwards a sealed signalling body to the other participants; stores nothing."""
    conv = frame["conv"]
    await conn.check_member(conv)
    try:
        check_ciphertext_shape(frame["body"], conn.services.settings.max_message_bytes)
    except CryptoError as exc:
        raise ProtocolError("bad_ciphertext", f"'body' {exc}.") from None
    event = {"type": "signal", "conv": conv, "from": conn.participant, "cid": frame.id, "body": frame["body"]}
    await conn.chat.broker.publish(f"conv:{conv}", {"k": "event", "to": "others:" + conn.participant,
                                                    "frame": event})
    return {}


MAX_CALL_SECONDS = 6 * 3600


async def record(conn: ClientConnection, frame: Frame) -> dict[str, Any]:
    """`voice_record` (staff): a call of this chat ended after `seconds`; stored once per call id, as
    a contact of the chat with channel "voice" (no audio, no transcript, nothing else)."""
    conv, call, seconds = frame["conv"], frame["call"], frame["seconds"]
    await conn.check_member(conv)
    if seconds > MAX_CALL_SECONDS:
        raise ProtocolError("bad_frame", f"'seconds' must be at most {MAX_CALL_SECONDS}.")
    store = conn.services.store
    try:
        async with store.write() as db:
            found = await db.scalar(select(VoiceCall.id).where(VoiceCall.conversation_id == conv,
                                                               VoiceCall.call_id == call))
            if found is None:
                db.add(VoiceCall(conversation_id=conv, call_id=call, seconds=seconds))
    except IntegrityError:
        pass  # the same call reported twice at once: stored once
    return {"conv": conv, "channel": "voice", "seconds": seconds}
