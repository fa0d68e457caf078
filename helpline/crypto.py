"""The one definition of Helpline's wire cryptography on the Python side.

The browser twin is ``helpline/static/js/wire.js``; both follow docs/encryption.md and are
checked against the vectors in ``tests/vectors/``. The server uses only the shape checks,
the staff-key signature and the token hash: it never holds a key that opens a message.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from typing import Any

import nacl.exceptions
import nacl.public
import nacl.secret
import nacl.signing
import nacl.utils

NONCE_BYTES = 24
MAC_BYTES = 16
KEY_BYTES = 32
PAD_BUCKET = 256
RESUME_SECRET_BYTES = 10  # 80 bits, shown as 16 Crockford base32 characters
PBKDF2_ITERATIONS = 600_000

_CHILD_BOX = b"helpline/child-box/v1\x00"
_CHILD_TOKEN = b"helpline/child-token/v1\x00"
_STAFF_KEY_V1 = b"helpline/staff-key/v1\x00"  # no role: only read, to find keys to sign again
_STAFF_KEY = b"helpline/staff-key/v2\x00"
_SIGNIN_SALT = b"helpline/staff-signin/v1\x00"
_SIGNIN_AUTH = b"helpline/signin-auth/v1"
_SIGNIN_UNWRAP = b"helpline/key-unwrap/v1"
_FINGERPRINT = b"helpline/key-fingerprint/v1\x00"
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_CROCKFORD_ALIASES = {"O": "0", "I": "1", "L": "1"}


class CryptoError(ValueError):
    """Raised for anything that does not decode, verify or decrypt."""


def b64u_encode(data: bytes) -> str:
    """URL-safe base64 without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64u_decode(text: str) -> bytes:
    """Inverse of :func:`b64u_encode`; refuses anything that is not strict base64url."""
    if not isinstance(text, str):
        raise CryptoError("not base64url")
    try:
        raw = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError) as exc:
        raise CryptoError("not base64url") from exc
    # Canonical form only: no '=' inside, no stray low bits in the last character.
    if b64u_encode(raw) != text:
        raise CryptoError("not canonical base64url")
    return raw


# -- resume code and child keys --------------------------------------------------------------


def new_resume_secret() -> bytes:
    return secrets.token_bytes(RESUME_SECRET_BYTES)


def format_resume_code(secret: bytes) -> str:
    """80 bits as four groups of four, ``7K3M-Q9XD-2PRT-WZ4A``, in Crockford base32 (no I, L, O, U)."""
    if len(secret) != RESUME_SECRET_BYTES:
        raise CryptoError("resume secret must be 10 bytes")
    number = int.from_bytes(secret, "big")
    chars = [_CROCKFORD[(number >> (5 * i)) & 31] for i in reversed(range(16))]
    code = "".join(chars)
    return "-".join(code[i : i + 4] for i in range(0, 16, 4))


def parse_resume_code(code: str) -> bytes:
    """Reads a resume code typed by a person: case, spaces and dashes do not matter."""
    cleaned = "".join(c for c in code.upper() if c not in " -\t")
    cleaned = "".join(_CROCKFORD_ALIASES.get(c, c) for c in cleaned)
    if len(cleaned) != 16 or any(c not in _CROCKFORD for c in cleaned):
        raise CryptoError("a resume code has 16 letters and digits")
    number = 0
    for c in cleaned:
        number = (number << 5) | _CROCKFORD.index(c)
    return number.to_bytes(RESUME_SECRET_BYTES, "big")


def child_private_key(secret: bytes) -> nacl.public.PrivateKey:
    """The child's X25519 key: a domain-separated SHA-512 of the resume secret."""
    return nacl.public.PrivateKey(hashlib.sha512(_CHILD_BOX + secret).digest()[:KEY_BYTES])


def child_token(secret: bytes) -> bytes:
    """What the child shows the server to prove it holds the secret."""
    return hashlib.sha512(_CHILD_TOKEN + secret).digest()[:KEY_BYTES]


def token_hash(token: bytes) -> str:
    """What the server stores: the token is 256 bits of hash output, so one SHA-256 suffices."""
    return hashlib.sha256(token).hexdigest()


# -- padding and message boxes ------------------------------------------------------------------


def pad(data: bytes, bucket: int = PAD_BUCKET) -> bytes:
    """ISO/IEC 7816-4 padding to a whole number of buckets, so size says little."""
    padded = data + b"\x80"
    return padded + b"\x00" * (-len(padded) % bucket)


def unpad(data: bytes) -> bytes:
    end = data.rstrip(b"\x00")
    if not end or end[-1] != 0x80:
        raise CryptoError("bad padding")
    return end[:-1]


def seal(key: bytes, plaintext: bytes) -> str:
    """``b64u(nonce[24] || secretbox)``: PyNaCl already puts the nonce first."""
    box = nacl.secret.SecretBox(key)
    return b64u_encode(bytes(box.encrypt(plaintext, nacl.utils.random(NONCE_BYTES))))


def open_sealed(key: bytes, wire: str) -> bytes:
    raw = b64u_decode(wire)
    if len(raw) < NONCE_BYTES + MAC_BYTES:
        raise CryptoError("ciphertext too short")
    try:
        return nacl.secret.SecretBox(key).decrypt(raw[NONCE_BYTES:], raw[:NONCE_BYTES])
    except nacl.exceptions.CryptoError as exc:
        raise CryptoError("ciphertext does not open with this key") from exc


def encrypt_message(key: bytes, *, conv: str, sender: str, cid: str, text: str, at: int) -> str:
    """Encrypts one chat message; the envelope fields are repeated inside for checking."""
    payload = {"v": 1, "conv": conv, "from": sender, "cid": cid, "text": text, "at": at}
    try:
        data = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise CryptoError("text is not valid Unicode") from exc
    return seal(key, pad(data))


def decrypt_message(key: bytes, wire: str, *, conv: str, sender: str, cid: str) -> dict[str, Any]:
    """Opens a message and refuses it unless it names the conversation, sender and id it came with."""
    try:
        payload = json.loads(unpad(open_sealed(key, wire)).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CryptoError("message is not JSON") from exc
    if not isinstance(payload, dict) or type(payload.get("v")) is not int or payload["v"] != 1:
        raise CryptoError("unknown message version")
    if not isinstance(payload.get("text"), str):
        raise CryptoError("message has no text")
    if (payload.get("conv"), payload.get("from"), payload.get("cid")) != (conv, sender, cid):
        raise CryptoError("message was moved from another conversation or sender")
    return payload


def check_ciphertext_shape(wire: object, max_bytes: int) -> int:
    """Server-side check of a message body without a key: base64url, padded, within limits.

    Returns the raw length. The server cannot tell garbage of the right shape from a message;
    the receiving client refuses it and shows a neutral "could not be opened" line.
    """
    if not isinstance(wire, str):
        raise CryptoError("body must be a string")
    if len(wire) > (max_bytes * 4) // 3 + 4:
        raise CryptoError("body too large")
    raw = b64u_decode(wire)
    boxed = len(raw) - NONCE_BYTES - MAC_BYTES
    if boxed < PAD_BUCKET or boxed % PAD_BUCKET:
        raise CryptoError("body is not a padded secretbox")
    if len(raw) > max_bytes:
        raise CryptoError("body too large")
    return len(raw)


# -- key wrapping ------------------------------------------------------------------------------


def new_conversation_key() -> bytes:
    return nacl.utils.random(KEY_BYTES)


def wrap_key(conv_key: bytes, recipient_public: bytes, wrapper: nacl.public.PrivateKey) -> str:
    """Boxes a conversation key for one participant: ``b64u(nonce || box)``."""
    box = nacl.public.Box(wrapper, nacl.public.PublicKey(recipient_public))
    return b64u_encode(bytes(box.encrypt(conv_key, nacl.utils.random(NONCE_BYTES))))


def unwrap_key(wire: str, wrapper_public: bytes, recipient: nacl.public.PrivateKey) -> bytes:
    raw = b64u_decode(wire)
    try:
        box = nacl.public.Box(recipient, nacl.public.PublicKey(wrapper_public))
        key = box.decrypt(raw[NONCE_BYTES:], raw[:NONCE_BYTES])
    except (nacl.exceptions.CryptoError, nacl.exceptions.TypeError, ValueError) as exc:
        raise CryptoError("wrapped key does not open") from exc
    if len(key) != KEY_BYTES:
        raise CryptoError("wrapped key has the wrong length")
    return key


# -- staff keys ---------------------------------------------------------------------------------


# Every role a staff key can be signed for, and which of them may read what (docs/encryption.md).
STAFF_ROLES = ("counsellor", "supervisor", "officer", "manager", "admin")
CHAT_ROLES = frozenset({"counsellor", "supervisor"})  # a child wraps only for these; case notes too
REFERRAL_ROLES = frozenset({"counsellor", "supervisor", "officer"})  # a referral's readers
REPORT_ROLES = frozenset({"supervisor", "officer"})  # the public report page's readers
FINGERPRINT_BYTES = 10  # 80 bits, shown like a resume code: 16 Crockford characters


def staff_key_statement(staff_id: str, public_key: bytes, *, role: str) -> bytes:
    """The bytes the org key signs (v2): domain, role, NUL, staff id, NUL, the 32-byte public key."""
    if role not in STAFF_ROLES:
        raise CryptoError("unknown staff role")
    if "\x00" in staff_id:
        raise CryptoError("a staff id has no NUL")
    return _STAFF_KEY + role.encode("ascii") + b"\x00" + staff_id.encode("utf-8") + b"\x00" + public_key


def legacy_staff_key_statement(staff_id: str, public_key: bytes) -> bytes:
    """What the org key signed before roles were in the statement (v1). Never accepted as a key's
    signature any more; only recognised, so `helpline keys sign` can offer it for signing again."""
    return _STAFF_KEY_V1 + staff_id.encode("utf-8") + b"\x00" + public_key


def sign_staff_key(signing_key: nacl.signing.SigningKey, staff_id: str, public_key: bytes, *, role: str) -> str:
    signed = signing_key.sign(staff_key_statement(staff_id, public_key, role=role))
    return b64u_encode(bytes(signed.signature))


def _verifies(org_public: bytes, statement: bytes, signature: str) -> bool:
    try:
        nacl.signing.VerifyKey(org_public).verify(statement, b64u_decode(signature))
    except (nacl.exceptions.BadSignatureError, nacl.exceptions.ValueError, nacl.exceptions.TypeError,
            CryptoError, ValueError, TypeError):
        return False
    return True


def derive_signin(password: str, salt: bytes, iterations: int = PBKDF2_ITERATIONS) -> tuple[bytes, bytes]:
    """(auth, unwrap) from a staff password and the account's 16-byte salt (ADR 0021).

    One slow PBKDF2-SHA256 gives a 32-byte master, and two HMAC-SHA256 of it under different labels
    give the value that signs in (the server keeps only an Argon2id of it) and the secretbox key
    that seals the staff private key (it never leaves the page). Knowing ``auth`` tells nothing
    of ``unwrap``. The browser's twin is ``deriveSignin`` in wire.js; the server runs this only to
    make a verifier from a password it was given anyway (CLI, one-time passwords, legacy upgrade)."""
    master = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), _SIGNIN_SALT + salt, iterations, KEY_BYTES)
    return (hmac.new(master, _SIGNIN_AUTH, hashlib.sha256).digest(),
            hmac.new(master, _SIGNIN_UNWRAP, hashlib.sha256).digest())


def staff_key_role(org_public: bytes, staff_id: str, public_key: bytes, signature: str) -> str | None:
    """The role the pinned org key signed this staff id and public key for, or None."""
    if not isinstance(staff_id, str) or "\x00" in staff_id or len(public_key) != KEY_BYTES:
        return None
    for role in STAFF_ROLES:
        if _verifies(org_public, staff_key_statement(staff_id, public_key, role=role), signature):
            return role
    return None


def verify_staff_key(org_public: bytes, staff_id: str, public_key: bytes, signature: str, *,
                     roles: frozenset[str]) -> bool:
    """True only if the pinned org key signed exactly this staff id and public key for one of ``roles``."""
    return staff_key_role(org_public, staff_id, public_key, signature) in roles


def is_legacy_staff_signature(org_public: bytes, staff_id: str, public_key: bytes, signature: str) -> bool:
    """True if the org key signed this key with the old statement that names no role."""
    return _verifies(org_public, legacy_staff_key_statement(staff_id, public_key), signature)


def key_fingerprint(public_key: bytes) -> str:
    """A short, readable name of a public key, compared by eye between the console and the CLI:
    ``SHA-512("helpline/key-fingerprint/v1" || 0x00 || key)[0:10]`` as four groups of four
    Crockford base32 characters."""
    if len(public_key) != KEY_BYTES:
        raise CryptoError("a public key has 32 bytes")
    return format_resume_code(hashlib.sha512(_FINGERPRINT + public_key).digest()[:FINGERPRINT_BYTES])


def parse_fingerprint(text: str) -> str:
    """A fingerprint as typed (any case, spaces or dashes) in its canonical form."""
    return format_resume_code(parse_resume_code(text))


def derive_wrapping_key(password: str, salt: bytes, iterations: int = PBKDF2_ITERATIONS) -> bytes:
    """The legacy key-wrapping key (before ADR 0021): kept to open a private key sealed under it
    once, at the first sign-in after the upgrade, in the browser (or the test client)."""
    return hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations, KEY_BYTES)
