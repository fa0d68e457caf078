"""Device cookies: a browser that has completed a full sign-in is not locked out by strangers.

After the password and the second factor, the browser gets a cookie binding the username and a
random nonce under an HMAC with the server secret (OWASP, "Slow Down Online Guessing Attacks with
Device Cookies"). At the next sign-in a cookie that verifies for the name being signed in to
makes that browser *trusted*: its failures count under a keyed hash of the cookie's nonce, and
only that cookie can be locked by them. Every other attempt — an unknown browser, a forged or
altered cookie, one issued for another name — counts in the account's *untrusted* bucket
(helpline.security.throttle.key_for), which locks untrusted browsers and never a trusted one.

The HMAC also covers a digest of the account's password hash, so changing the password or an
admin reset makes every earlier device cookie of that account worthless; nothing is stored.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from helpline.crypto import CryptoError, b64u_decode, b64u_encode

COOKIE_NAME = "hl_device"
COOKIE_PATH = "/console/api"
MAX_AGE_DAYS = 180
_NONCE_BYTES = 16


def _mac(server_secret: bytes, username: str, nonce: str, password_hash: str) -> bytes:
    name = username.strip().lower().encode("utf-8", "replace")
    binding = hashlib.sha256(password_hash.encode("utf-8", "replace")).digest()
    message = b"device-cookie/v1\x00" + name + b"\x00" + nonce.encode("ascii") + b"\x00" + binding
    return hmac.new(server_secret, message, hashlib.sha256).digest()


def issue(server_secret: bytes, username: str, password_hash: str) -> str:
    """A new device cookie for this account (a fresh nonce at every full sign-in)."""
    nonce = b64u_encode(secrets.token_bytes(_NONCE_BYTES))
    return f"{nonce}.{b64u_encode(_mac(server_secret, username, nonce, password_hash))}"


def trusted_nonce(server_secret: bytes, username: str, password_hash: str | None, cookie: str) -> str | None:
    """The cookie's nonce when it was issued by this server for this account (and its current
    password); None for a missing, malformed, forged or foreign cookie, or no account."""
    if password_hash is None or not cookie or len(cookie) > 200 or cookie.count(".") != 1:
        return None
    nonce, mac = cookie.split(".")
    try:
        if len(b64u_decode(nonce)) != _NONCE_BYTES:
            return None
        given = b64u_decode(mac)
    except CryptoError:
        return None
    return nonce if hmac.compare_digest(given, _mac(server_secret, username, nonce, password_hash)) else None


def throttle_key(server_secret: bytes, nonce: str) -> str:
    """The throttle row of one trusted browser: a keyed hash of its nonce, never the cookie."""
    return hmac.new(server_secret, b"device:" + nonce.encode("ascii"), hashlib.sha256).hexdigest()
