"""Abuse without identifiers: device tokens, proof of work under queue pressure, limits on new chats.

Nothing here knows an address. What the server keeps (see docs/adr/0011-flood-guard.md):

- A *device token* is 32 random bytes the child's browser makes and keeps for a week (chat/web.py
  receives it in `start` and `resume`). The server never stores it, nor links it to a conversation:
  it keeps only a keyed hash (HMAC with the server secret) in the throttles table, and only when
  the device is blocked (for BLOCK_DAYS) or while it is being counted against the per-device limit
  (an hour). A device is blocked when a counsellor blocks the chat open on it, or when it presents
  a resume identity that was blocked.
- *Proof of work*: while HELPLINE_POW_QUEUE_THRESHOLD or more chats wait, a new chat is accepted only
  with a solved challenge. The challenge is stateless: a timestamp and an HMAC bound to the child's
  token, so a solution is good for one identity for CHALLENGE_SECONDS and costs nothing to store.
  SHA-512(seed + ":" + nonce) must start with HELPLINE_POW_BITS zero bits (tweetnacl's nacl.hash
  in the browser). A start creates at most one open chat per identity, so a script needs a new
  identity, and so new work, for each chat it puts in the queue.
- *Rate limits*: new chats per device token (or resume identity without one) per hour, and new
  chats per minute for the whole helpline, counted from the conversations table.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import struct
import time
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from chat import repository as repo
from chat.protocol import Blocked, ProtocolError
from helpline.crypto import CryptoError, b64u_decode, b64u_encode
from helpline.models import Throttle, utcnow
from helpline.security import throttle
from helpline.settings import Settings

BLOCK_DAYS = 7
CHALLENGE_SECONDS = 300
DEVICE_WINDOW = dt.timedelta(hours=1)
GLOBAL_WINDOW = dt.timedelta(minutes=1)


def keyed(secret: bytes, purpose: str, value: bytes | str) -> str:
    """A 64-hex keyed hash; ``purpose`` keeps the uses of one value apart in the throttles table."""
    raw = value.encode("ascii") if isinstance(value, str) else value
    return hmac.new(secret, purpose.encode("ascii") + b":" + raw, hashlib.sha256).hexdigest()


# -- proof of work -------------------------------------------------------------------------------

def challenge(secret: bytes, token: bytes, bits: int, now: float | None = None) -> dict[str, Any]:
    stamp = struct.pack(">Q", int(now if now is not None else time.time()))
    mac = hmac.new(secret, b"pow:" + stamp + token, hashlib.sha256).digest()[:16]
    return {"seed": b64u_encode(stamp + mac), "bits": bits}


def leading_zero_bits(digest: bytes) -> int:
    count = 0
    for byte in digest:
        if byte == 0:
            count += 8
            continue
        return count + 8 - byte.bit_length()
    return count


def solves(seed: str, nonce: str, bits: int) -> bool:
    digest = hashlib.sha512(f"{seed}:{nonce}".encode("ascii", "replace")).digest()
    return leading_zero_bits(digest) >= bits


def solve(seed: str, bits: int) -> str:
    """What a client does (chat/client.py); here so the tests and the load driver share it."""
    nonce = 0
    while not solves(seed, str(nonce), bits):
        nonce += 1
    return str(nonce)


def check_pow(secret: bytes, token: bytes, bits: int, proof: Any, now: float | None = None) -> bool:
    if not isinstance(proof, dict):
        return False
    seed, nonce = proof.get("seed"), proof.get("nonce")
    if not isinstance(seed, str) or not isinstance(nonce, str) or len(nonce) > 24 or len(seed) > 64:
        return False
    try:
        raw = b64u_decode(seed)
    except CryptoError:
        return False
    if len(raw) != 24:
        return False
    stamp, mac = raw[:8], raw[8:]
    expected = hmac.new(secret, b"pow:" + stamp + token, hashlib.sha256).digest()[:16]
    age = (now if now is not None else time.time()) - struct.unpack(">Q", stamp)[0]
    return hmac.compare_digest(mac, expected) and -30 <= age <= CHALLENGE_SECONDS and solves(seed, nonce, bits)


class PowRequired(ProtocolError):
    def __init__(self, secret: bytes, token: bytes, bits: int, wrong: bool) -> None:
        super().__init__("pow_required", "Many chats are waiting: solve this small puzzle first."
                         if not wrong else "The puzzle answer is missing, old or wrong: solve this one.")
        self.extra = {"challenge": challenge(secret, token, bits)}


class TooMany(ProtocolError):
    def __init__(self, scope: str, retry_after: int) -> None:
        super().__init__("rate_limited", "Too many new chats from this device; wait a little." if scope == "device"
                         else "Too many new chats right now; wait a little.")
        self.retry_after = retry_after
        self.extra = {"scope": scope, "retry_after": retry_after}


# -- the guard, run inside ChatService.start's one transaction before a new conversation is made --

def under_pressure(db: Session, settings: Settings) -> bool:
    threshold: int = settings.pow_queue_threshold
    return repo.count_up_to(db, repo.StartSql.queued_up_to, threshold) >= threshold


def guard_new_chat(db: Session, settings: Settings, secret: bytes, token: bytes,
                   device: bytes | None, proof: Any) -> None:
    """Refuses a new conversation under a flood: proof of work, then the global and per-device limits."""
    if under_pressure(db, settings) and not check_pow(secret, token, settings.pow_bits, proof):
        raise PowRequired(secret, token, settings.pow_bits, wrong=proof is not None)
    limit = settings.new_chats_per_minute
    since = utcnow() - GLOBAL_WINDOW
    if repo.count_up_to(db, repo.StartSql.started_since_up_to, limit, since=since) >= limit:
        raise TooMany("all", 15)
    key = keyed(secret, "starts-device", device) if device else keyed(secret, "starts-token", token)
    wait = throttle.count_in_window(db, key, settings.new_chats_per_device, DEVICE_WINDOW)
    if wait:
        raise TooMany("device", wait)


# -- device blocks --------------------------------------------------------------------------------

def refuse_blocked_device(db: Session, secret: bytes, device: bytes | None) -> None:
    """Run first in every start (ChatService.start's ``refuse``): a blocked device gets no chat."""
    if not device:
        return
    until = db.connection().execute(_BLOCKED_UNTIL, {"key": keyed(secret, "device-block", device)}).scalar_one_or_none()
    if until is not None and until > utcnow():
        raise Blocked()


_BLOCKED_UNTIL = select(Throttle.locked_until).where(Throttle.key == bindparam("key"))


async def block_device(db: AsyncSession, secret: bytes, device: bytes) -> None:
    key = keyed(secret, "device-block", device)
    until = utcnow() + dt.timedelta(days=BLOCK_DAYS)
    row = await throttle.locked_row(db, key, until)
    row.failures, row.locked_until, row.expires_at = 1, until, until
