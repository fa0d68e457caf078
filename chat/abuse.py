"""Abuse without identifiers: device tokens, proof of work under queue pressure, limits on new chats.

Nothing here knows an address. What the server keeps (see docs/adr/0011-flood-guard.md):

- A *device token* is 32 random bytes the child's browser makes and keeps for a week
  (chat/child_connection.py receives it in `start` and `resume`). The server never stores it,
  nor links it to a conversation: it keeps only a keyed hash (HMAC with the server secret) in the
  throttles table, and only when the device is blocked (for BLOCK_DAYS) or while it is being
  counted against the per-device limit (an hour). A device is blocked when a counsellor blocks the
  chat open on it, or when it presents a resume identity that was blocked.
- *Proof of work*: while HELPLINE_POW_QUEUE_THRESHOLD or more chats wait, or at least
  HELPLINE_NEW_CHATS_PER_MINUTE started in the last minute, a new chat is accepted only with a
  solved challenge, HELPLINE_POW_BITS hard and one bit harder each time that pressure doubles (at
  most HELPLINE_POW_MAX_BITS). The challenge is stateless (helpline/security/pow.py): a timestamp,
  the bits and an HMAC bound to the child's token, so a solution is good for one identity for
  CHALLENGE_SECONDS and costs nothing to store. A start creates at most one open chat per
  identity, so a script needs a new identity, and so new work, for each chat it puts in the queue.
  A start with a proof at the current difficulty is never refused by a helpline-wide limit: the
  helpline-wide limit *is* the price (ADR 0020).
- *Rate limits*: new chats per device token (or resume identity without one) per hour.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from chat import repository as repo
from chat.protocol import Blocked, ProtocolError
from helpline.models import Throttle, utcnow
from helpline.security import pow, throttle
from helpline.settings import Settings

BLOCK_DAYS = 7
CHALLENGE_SECONDS = pow.CHALLENGE_SECONDS
DEVICE_WINDOW = dt.timedelta(hours=1)
GLOBAL_WINDOW = dt.timedelta(minutes=1)


def keyed(secret: bytes, purpose: str, value: bytes | str) -> str:
    """A 64-hex keyed hash; ``purpose`` keeps the uses of one value apart in the throttles table."""
    raw = value.encode("ascii") if isinstance(value, str) else value
    return hmac.new(secret, purpose.encode("ascii") + b":" + raw, hashlib.sha256).hexdigest()


# -- proof of work (helpline/security/pow.py) ----------------------------------------------------

challenge = pow.challenge
leading_zero_bits = pow.leading_zero_bits
solves = pow.solves
solve = pow.solve


def check_pow(secret: bytes, token: bytes, bits: int, proof: Any, now: float | None = None) -> bool:
    """A fresh proof for this identity, solved at ``bits`` or more."""
    solved = pow.solved_bits(secret, token, proof, now)
    return solved is not None and solved >= bits


class PowRequired(ProtocolError):
    def __init__(self, secret: bytes, token: bytes, bits: int, wrong: bool) -> None:
        super().__init__("pow_required", "Many chats are waiting: solve this small puzzle first."
                         if not wrong else "The puzzle answer is missing, old, wrong or too easy now: solve this one.")
        self.extra = {"challenge": challenge(secret, token, bits)}


class TooMany(ProtocolError):
    def __init__(self, scope: str, retry_after: int) -> None:
        super().__init__("rate_limited", "Too many new chats from this device; wait a little." if scope == "device"
                         else "Too many new chats right now; wait a little.")
        self.retry_after = retry_after
        self.extra = {"scope": scope, "retry_after": retry_after}


# -- the guard, run inside ChatService.start's one transaction before a new conversation is made --

def start_difficulty(db: Session, settings: Settings) -> int:
    """The bits a new chat must solve now, 0 for none: the pressure is the queue against
    HELPLINE_POW_QUEUE_THRESHOLD or the new chats of the last minute against
    HELPLINE_NEW_CHATS_PER_MINUTE, whichever is higher; each doubling adds a bit, up to
    HELPLINE_POW_MAX_BITS. Counted from the conversations table each time: no state to share."""
    base, top = settings.pow_bits, settings.pow_max_bits
    threshold, per_minute = settings.pow_queue_threshold, settings.new_chats_per_minute
    queued = repo.count_up_to(db, repo.StartSql.queued_up_to, pow.counting_limit(threshold, base, top))
    arrived = repo.count_up_to(db, repo.StartSql.started_since_up_to, pow.counting_limit(per_minute, base, top),
                               since=utcnow() - GLOBAL_WINDOW)
    return pow.difficulty(base, top, max(queued / threshold, arrived / per_minute))


def guard_new_chat(db: Session, settings: Settings, secret: bytes, token: bytes,
                   device: bytes | None, proof: Any) -> int:
    """Refuses a new conversation under a flood unless it carries a proof at the current
    difficulty; a start with one is never refused for the helpline's sake, only for its device's.
    Returns the bits that were asked (0 for none)."""
    bits = start_difficulty(db, settings)
    if bits and not pow.passes(pow.solved_bits(secret, token, proof), bits):
        raise PowRequired(secret, token, bits, wrong=proof is not None)
    key = keyed(secret, "starts-device", device) if device else keyed(secret, "starts-token", token)
    wait = throttle.count_in_window(db, key, settings.new_chats_per_device, DEVICE_WINDOW)
    if wait:
        raise TooMany("device", wait)
    return bits


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
