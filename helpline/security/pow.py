"""Stateless proof of work whose difficulty follows pressure (chat starts and public reports).

A challenge is a *seed*: an 8-byte time, the difficulty in bits, 8 random bytes and an HMAC (server
secret) over them and whatever the proof is bound to (a child's token; nothing for a report). The
server stores nothing per challenge: the seed itself says when it was made and how hard it is, and
the HMAC says the server made it. A solution is a nonce such that SHA-512(seed ":" nonce) starts
with that many zero bits (tweetnacl's nacl.hash in the pages). The difficulty is computed from
counts in the database each time it is needed, so it rises and falls with pressure in every
process at once (docs/adr/0020-pressure-priced-proof-of-work.md).
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
import struct
import time
from typing import Any

from helpline.crypto import CryptoError, b64u_decode, b64u_encode

CHALLENGE_SECONDS = 300
GRACE_BITS = 1  # a proof solved one step below the current difficulty still passes: pressure moves
_SEED_BYTES = 8 + 1 + 8 + 16


def _mac(secret: bytes, purpose: bytes, head: bytes, bound: bytes) -> bytes:
    return hmac.new(secret, purpose + b":" + head + bound, hashlib.sha256).digest()[:16]


def challenge(secret: bytes, bound: bytes, bits: int, now: float | None = None, *,
              purpose: bytes = b"pow") -> dict[str, Any]:
    """A fresh challenge of ``bits`` bound to ``bound`` (the same bytes must come with the answer)."""
    stamp = struct.pack(">Q", int(now if now is not None else time.time()))
    head = stamp + bytes([bits]) + secrets.token_bytes(8)  # unique: a used seed can be told apart
    return {"seed": b64u_encode(head + _mac(secret, purpose, head, bound)), "bits": bits}


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
    """What a client does (tests/chat_client.py, benchmarks/load.py); here so tests and benches share it."""
    state = hashlib.sha512(f"{seed}:".encode("ascii"))
    nonce = 0
    while True:
        attempt = state.copy()
        attempt.update(str(nonce).encode("ascii"))
        if leading_zero_bits(attempt.digest()) >= bits:
            return str(nonce)
        nonce += 1


def solved_bits(secret: bytes, bound: bytes, proof: Any, now: float | None = None, *,
                purpose: bytes = b"pow") -> int | None:
    """The difficulty a fresh proof made by this server for ``bound`` was solved at; None if it is
    not one (missing, malformed, foreign, old, or not solved)."""
    if not isinstance(proof, dict):
        return None
    seed, nonce = proof.get("seed"), proof.get("nonce")
    if not isinstance(seed, str) or not isinstance(nonce, str) or len(nonce) > 24 or len(seed) > 64:
        return None
    try:
        raw = b64u_decode(seed)
    except CryptoError:
        return None
    if len(raw) != _SEED_BYTES:
        return None
    head, mac = raw[:17], raw[17:]
    bits = head[8]
    age = (now if now is not None else time.time()) - struct.unpack(">Q", head[:8])[0]
    if not (hmac.compare_digest(mac, _mac(secret, purpose, head, bound)) and -30 <= age <= CHALLENGE_SECONDS):
        return None
    return bits if solves(seed, nonce, bits) else None


def passes(solved: int | None, required: int) -> bool:
    """Whether a proof solved at ``solved`` bits is enough while ``required`` bits are asked."""
    return solved is not None and solved >= required - GRACE_BITS


def difficulty(base: int, top: int, load: float) -> int:
    """0 below a load of 1 (no work asked); from there ``base`` bits, one more each time the load
    doubles, at most ``top``. The load is the pressure measured against its threshold."""
    if load < 1:
        return 0
    return min(max(top, base), base + int(math.log2(load)))


def counting_limit(threshold: int, base: int, top: int) -> int:
    """How far a pressure count must go to tell every difficulty apart, and no further."""
    return threshold << max(0, top - base)
