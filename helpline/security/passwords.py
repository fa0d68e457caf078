"""Staff sign-in passwords: Argon2id through libsodium (PyNaCl).

INTERACTIVE limits (64 MiB, ~0.1 s here) rather than MODERATE (256 MiB, ~0.7 s): sign-in is also
rate limited per account, and a shift start with many counsellors must not stall a 2-core host.
This hash and its salt are separate from the key-wrapping KDF the browser runs, so verifying a
password never yields the key that opens a staff member's private key.
"""

from __future__ import annotations

import functools
import secrets

import nacl.exceptions
import nacl.pwhash

MIN_LENGTH = 12


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


def check_password_policy(password: str) -> str | None:
    """An error message for a password that is too weak, or None."""
    if len(password) < MIN_LENGTH:
        return f"A password needs at least {MIN_LENGTH} characters."
    if len(password) > 1024:
        return "A password may have at most 1024 characters."
    return None
