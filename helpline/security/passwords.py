"""Staff sign-in verifiers: Argon2id through libsodium (PyNaCl).

Since ADR 0021 what is hashed is not the password but the *auth value* the browser derives from it
(helpline.crypto.derive_signin with the account's salt); the password itself stays in the page.
Accounts made before that keep a hash of the password (SIGNIN_LEGACY) until their next sign-in.

INTERACTIVE limits (64 MiB, ~0.1 s here) rather than MODERATE (256 MiB, ~0.7 s): sign-in is also
rate limited per account, and a shift start with many counsellors must not stall a 2-core host.
This hash and its salt are separate from the key-wrapping KDF the browser runs, so verifying a
password never yields the key that opens a staff member's private key.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets

import nacl.exceptions
import nacl.pwhash

from helpline.crypto import b64u_decode, b64u_encode, derive_signin

MIN_LENGTH = 12
SALT_BYTES = 16
# Staff.signin_version: what the stored hash is of, and what the private key is sealed under.
SIGNIN_LEGACY = 1  # the password itself; the key under PBKDF2(password, kdf_salt)
SIGNIN_LEGACY_KEY = 2  # the auth value; the key still under the legacy wrapping key
SIGNIN_DERIVED = 3  # the auth value; the key under the derived unwrap value


def hash_password(password: str) -> str:
    return nacl.pwhash.argon2id.str(
        password.encode("utf-8"),
        opslimit=nacl.pwhash.argon2id.OPSLIMIT_INTERACTIVE,
        memlimit=nacl.pwhash.argon2id.MEMLIMIT_INTERACTIVE,
    ).decode("ascii")


@functools.cache
def dummy_hash() -> str:
    """The hash an unknown username is checked against: a random password's, made with the same
    limits as every real hash, so a name that does not exist costs the same Argon2id work."""
    return hash_password(secrets.token_urlsafe(32))


def verify_password(stored: str | None, password: str) -> bool:
    """Whether ``password`` matches ``stored``. With no stored hash (no such account) the same
    Argon2id work is done against :func:`dummy_hash` and the answer is False, so the time an
    answer takes does not tell which usernames exist."""
    try:
        matches = bool(nacl.pwhash.verify((stored or dummy_hash()).encode("ascii"), password.encode("utf-8")))
    except (nacl.exceptions.InvalidkeyError, nacl.exceptions.CryptoError, ValueError):
        return False
    return matches and stored is not None


def new_salt() -> str:
    return b64u_encode(secrets.token_bytes(SALT_BYTES))


def auth_verifier(password: str, salt: str) -> str:
    """The stored hash for a password the server was given (the CLI, an admin's one-time
    password): Argon2id of the auth value the browser will derive from it with ``salt``."""
    auth, _unwrap = derive_signin(password, b64u_decode(salt))
    return hash_password(b64u_encode(auth))


def fake_salt(server_secret: bytes, username: str) -> str:
    """The salt answered for a username that does not exist: the same for every ask, made with
    the server secret, so the salt request does not tell who exists."""
    digest = hmac.new(server_secret, b"signin-salt:" + username.encode("utf-8", "replace"), hashlib.sha256)
    return b64u_encode(digest.digest()[:SALT_BYTES])


def check_password_policy(password: str) -> str | None:
    """An error message for a password that is too weak, or None."""
    if len(password) < MIN_LENGTH:
        return f"A password needs at least {MIN_LENGTH} characters."
    if len(password) > 1024:
        return "A password may have at most 1024 characters."
    return None
