"""Failed `resume` attempts, counted in the database across connections and processes.

The per-connection frame and error buckets in chat/connection.py stop one socket from hammering the
server; this stops a script that opens a new socket (or reaches another process) for each try.
Failures are counted with helpline/security/throttle.py under an HMAC (server secret) of the
token's SHA-256, so the throttles table holds neither the token nor its stored hash nor any
address, and the same token is slowed down in every process: after throttle.FREE failures it is
locked for 1, 2, 4 ... minutes (at most throttle.MAX_LOCK_MINUTES); rows expire a day later.
A correct code is never counted, so a child who finds their code again is not held back by it.
See ADR 0010 for why the key is the token and what that does and does not stop.
"""

from __future__ import annotations

import hashlib
import hmac

from chat.protocol import ProtocolError
from helpline.db import Store, StoreUnavailable
from helpline.security import throttle


class Locked(ProtocolError):
    """Too many wrong codes for this token; `retry_after` is in seconds."""

    def __init__(self, minutes: int) -> None:
        super().__init__("rate_limited", f"Too many wrong resume codes; try again in {minutes} min.")
        self.retry_after = minutes * 60


def key_for(server_secret: bytes, token_hash: str) -> str:
    return hmac.new(server_secret, b"resume:" + token_hash.encode("ascii"), hashlib.sha256).hexdigest()


async def check(store: Store, key: str) -> None:
    """Refuses the attempt while the key is locked (before the token is looked up)."""
    try:
        async with store.write() as db:
            minutes = await throttle.locked_for(db, key)
    except StoreUnavailable:
        raise ProtocolError("unavailable", "Storage is unavailable; nothing was stored. Please try again.") from None
    if minutes:
        raise Locked(minutes)


async def failed(store: Store, key: str) -> None:
    """Counts one unknown token; a database outage here does not hide the not_found answer."""
    try:
        async with store.write() as db:
            await throttle.fail(db, key)
    except StoreUnavailable:
        pass
