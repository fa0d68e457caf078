"""The second factor: TOTP (RFC 6238, 30 s steps, 6 digits) and one-time recovery codes.

The TOTP secret is stored sealed (secretbox) under a key derived from the server secret, so a
database dump alone does not yield it. A code is accepted for the current step and one step
either side (clock drift), and never for a step at or before the last one used: a code seen
over someone's shoulder cannot be replayed. Recovery codes are stored as keyed hashes.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time

import pyotp
import segno

from helpline.crypto import CryptoError, open_sealed, seal

STEP_SECONDS = 30
DRIFT_STEPS = 1
RECOVERY_CODES = 10
ISSUER = "Helpline"
_CODE = re.compile(r"^\d{6}$")
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i


def _subkey(server_secret: bytes, purpose: str) -> bytes:
    return hmac.new(server_secret, purpose.encode("ascii"), hashlib.sha256).digest()


def new_secret() -> str:
    return pyotp.random_base32()  # 160 bits


def seal_secret(server_secret: bytes, secret: str) -> str:
    return seal(_subkey(server_secret, "totp-seal"), secret.encode("ascii"))


def open_secret(server_secret: bytes, sealed: str) -> str | None:
    try:
        return open_sealed(_subkey(server_secret, "totp-seal"), sealed).decode("ascii")
    except (CryptoError, UnicodeDecodeError):
        return None


def provisioning_uri(secret: str, username: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)


def qr_data_uri(uri: str) -> str:
    """The otpauth URI as an SVG QR code in a data: URI (the CSP allows data: images)."""
    return str(segno.make(uri, error="m").svg_data_uri(scale=5, border=4, dark="#000", light="#fff"))


def current_step(now: float | None = None) -> int:
    return int((time.time() if now is None else now) // STEP_SECONDS)


def matching_step(secret: str, code: str, last_step: int | None, now: float | None = None) -> int | None:
    """The time step ``code`` belongs to, if it is valid and newer than ``last_step``; else None."""
    code = code.strip().replace(" ", "")
    if not _CODE.match(code):
        return None
    totp = pyotp.TOTP(secret)
    step = current_step(now)
    for candidate in range(step - DRIFT_STEPS, step + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.at(candidate * STEP_SECONDS), code):
            if last_step is not None and candidate <= last_step:
                return None
            return candidate
    return None


def was_reused(secret: str, code: str, last_step: int | None, now: float | None = None) -> bool:
    """True when ``code`` is right for a step already used: the refusal can say so."""
    code = code.strip().replace(" ", "")
    if last_step is None or not _CODE.match(code):
        return False
    totp = pyotp.TOTP(secret)
    step = current_step(now)
    return any(hmac.compare_digest(totp.at(c * STEP_SECONDS), code) and c <= last_step
               for c in range(step - DRIFT_STEPS, step + DRIFT_STEPS + 1))


def new_recovery_codes() -> list[str]:
    """Ten codes like ``k7pq-3xhm-w2za`` (about 71 bits each)."""
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(12))
        codes.append(f"{raw[:4]}-{raw[4:8]}-{raw[8:]}")
    return codes


def normalise_recovery(code: str) -> str:
    return re.sub(r"[^a-z0-9]", "", code.lower())


def looks_like_recovery(code: str) -> bool:
    return len(normalise_recovery(code)) == 12


def recovery_hash(server_secret: bytes, staff_id: int, code: str) -> str:
    message = f"{staff_id}:{normalise_recovery(code)}".encode("ascii", "replace")
    return hmac.new(_subkey(server_secret, "recovery"), message, hashlib.sha256).hexdigest()
