"""Writes tests/vectors/wire.json: cross-language vectors for helpline/crypto.py and wire.js.

Every value comes from helpline/crypto.py itself; only the randomness is fixed (keys are
hashes of labels, nonces are patched in), so running this again writes the same file:

    .venv/bin/python tests/vectors/make_vectors.py
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import nacl.public
import nacl.signing
import nacl.utils

from helpline import crypto
from helpline.security import pow

OUT = Path(__file__).with_name("wire.json")


def fixed(label: str, size: int) -> bytes:
    """Deterministic bytes named by a label, so the file never changes between runs."""
    return hashlib.sha512(b"helpline-test-vector/" + label.encode()).digest()[:size]


@contextlib.contextmanager
def fixed_nonce(nonce: bytes) -> Iterator[None]:
    """crypto.py draws its nonces from nacl.utils.random; pin that one call."""
    with mock.patch.object(nacl.utils, "random", lambda size: nonce[:size]):
        yield


def b64u_section() -> dict[str, Any]:
    samples = [b"", b"f", b"fo", b"foo", b"foob", b"fooba", b"foobar", bytes(range(256)), b"\xfb\xff\xfe"]
    return {
        "valid": [{"hex": s.hex(), "b64u": crypto.b64u_encode(s)} for s in samples],
        # Refused by both sides.
        "invalid": ["Zg==", "Zg=", "Zm9v+", "Zm9v/", "Zm 9v", "Zm9v\n", "Z", "Zm9vY", "Zm9vé", "A*AA"],
        # Refused by wire.js; see tests/unit/test_crypto.py for crypto.py's current behaviour.
        "invalid_strict": ["Zh", "Zm9", "Zm!9v", "Zm9v."],
    }


def resume_section() -> dict[str, Any]:
    secrets = [bytes(10), b"\xff" * 10, fixed("resume-1", 10), fixed("resume-2", 10)]
    codes = []
    for secret in secrets:
        code = crypto.format_resume_code(secret)
        typed = [code.lower(), code.replace("-", " "), code.replace("-", ""), " " + code.replace("0", "o")]
        codes.append({"secret": secret.hex(), "code": code, "typed": typed})
    return {
        "codes": codes,
        "aliases": {
            "input": "oooo-iiii-llll-0000",
            "secret": crypto.parse_resume_code("0000111111110000").hex(),
        },
        "invalid": [
            "",
            "7K3M-Q9XD-2PRT-WZ4",
            "7K3M-Q9XD-2PRT-WZ4AB",
            "7K3M-Q9XD-2PRT-WZ4U",
            "7K3M_Q9XD_2PRT_WZ4A",
        ],
    }


def child_section() -> list[dict[str, str]]:
    rows = []
    for label in ("child-1", "child-2", "child-3"):
        secret = fixed(label, 10)
        private = crypto.child_private_key(secret)
        token = crypto.child_token(secret)
        rows.append(
            {
                "secret": secret.hex(),
                "code": crypto.format_resume_code(secret),
                "secret_key": bytes(private).hex(),
                "public_key": crypto.b64u_encode(bytes(private.public_key)),
                "token": crypto.b64u_encode(token),
                "token_hash": crypto.token_hash(token),
            }
        )
    return rows


def pad_section() -> dict[str, Any]:
    rows = []
    for size in (0, 1, 100, 254, 255, 256, 300):
        data = (fixed(f"pad-{size}", 64) * 5)[:size]
        rows.append({"data": data.hex(), "padded": crypto.pad(data).hex()})
    return {"valid": rows, "invalid": ["", "00", "0000", "41", "4142", "418001"]}


def sealed_section() -> list[dict[str, str]]:
    rows = []
    for i, plaintext in enumerate([b"", b"hello", crypto.pad("Përshëndetje!".encode())]):
        key, nonce = fixed(f"sealed-key-{i}", 32), fixed(f"sealed-nonce-{i}", 24)
        with fixed_nonce(nonce):
            wire = crypto.seal(key, plaintext)
        rows.append({"key": key.hex(), "nonce": nonce.hex(), "plaintext": plaintext.hex(), "wire": wire})
    return rows


def message_section() -> dict[str, Any]:
    key = fixed("message-key", 32)
    texts = [
        ("child", "Përshëndetje, kam nevojë të flas me dikë."),
        ("staff:k7f3", 'Jam këtu. Çfarë ndodhi? "Shkruaj" kur të jesh gati.\nS\'ka nxitim 🙂'),
        ("child", "x" * 300),
        ("child", ""),
    ]
    rows = []
    for i, (sender, text) in enumerate(texts):
        nonce = fixed(f"message-nonce-{i}", 24)
        envelope = {"conv": "c_9Qm2xLp", "from": sender, "cid": f"m{i}-Zx81"}
        at = 1_760_000_000_000 + i
        with fixed_nonce(nonce):
            wire = crypto.encrypt_message(
                key, conv=envelope["conv"], sender=sender, cid=envelope["cid"], text=text, at=at
            )
        rows.append({"nonce": nonce.hex(), **envelope, "text": text, "at": at, "wire": wire})
    first = rows[0]
    moved = [
        {"conv": "c_other", "from": first["from"], "cid": first["cid"]},
        {"conv": first["conv"], "from": "staff:k7f3", "cid": first["cid"]},
        {"conv": first["conv"], "from": first["from"], "cid": "m9-other"},
    ]
    return {"key": key.hex(), "messages": rows, "moved": {"wire": first["wire"], "envelopes": moved}}


def wrapped_section() -> list[dict[str, str]]:
    conv_key = fixed("conversation-key", 32)
    child = crypto.child_private_key(fixed("child-1", 10))
    staff = nacl.public.PrivateKey(fixed("staff-box-key", 32))
    rows = []
    for i, (name, recipient) in enumerate([("child for itself", child), ("child for staff", staff)]):
        nonce = fixed(f"wrap-nonce-{i}", 24)
        with fixed_nonce(nonce):
            wire = crypto.wrap_key(conv_key, bytes(recipient.public_key), child)
        rows.append(
            {
                "case": name,
                "conv_key": conv_key.hex(),
                "nonce": nonce.hex(),
                "wrapper_secret": bytes(child).hex(),
                "wrapper_public": crypto.b64u_encode(bytes(child.public_key)),
                "recipient_secret": bytes(recipient).hex(),
                "recipient_public": crypto.b64u_encode(bytes(recipient.public_key)),
                "shared_key": bytes(nacl.public.Box(child, recipient.public_key).shared_key()).hex(),
                "wire": wire,
            }
        )
    return rows


def staff_section() -> dict[str, Any]:
    org = nacl.signing.SigningKey(fixed("org-signing-seed", 32))
    staff_id = "staff:k7f3"
    role = "counsellor"
    public_key = crypto.b64u_encode(bytes(nacl.public.PrivateKey(fixed("staff-box-key", 32)).public_key))
    public = crypto.b64u_decode(public_key)
    other_key = crypto.b64u_encode(bytes(nacl.public.PrivateKey(fixed("other-box-key", 32)).public_key))
    signature = crypto.sign_staff_key(org, staff_id, public, role=role)
    other_org = nacl.signing.SigningKey(fixed("other-org-seed", 32))
    tampered = bytearray(crypto.b64u_decode(signature))
    tampered[0] ^= 1
    legacy = crypto.b64u_encode(bytes(org.sign(crypto.legacy_staff_key_statement(staff_id, public)).signature))
    good = {"staff_id": staff_id, "public_key": public_key, "signature": signature}
    # Each case differs from the good one in one way and must not verify for any role.
    bad = [
        ("other staff id", {"staff_id": "staff:k7f4"}),
        ("other public key", {"public_key": other_key}),
        ("tampered signature", {"signature": crypto.b64u_encode(bytes(tampered))}),
        ("signed by another org key", {"signature": crypto.sign_staff_key(other_org, staff_id, public, role=role)}),
        ("signature not base64url", {"signature": signature + "=="}),
        ("short signature", {"signature": signature[:40]}),
        ("old statement without a role (v1)", {"signature": legacy}),
    ]
    # The same key signed for each role: the role is found, and only the allowed ones are accepted.
    roles = [
        {"role": r, "statement": crypto.staff_key_statement(staff_id, public, role=r).hex(),
         "signature": crypto.sign_staff_key(org, staff_id, public, role=r)}
        for r in crypto.STAFF_ROLES
    ]
    return {
        "org_seed": fixed("org-signing-seed", 32).hex(),
        "org_public": crypto.b64u_encode(bytes(org.verify_key)),
        **good,
        "role": role,
        "statement": crypto.staff_key_statement(staff_id, public, role=role).hex(),
        "legacy_statement": crypto.legacy_staff_key_statement(staff_id, public).hex(),
        "legacy_signature": legacy,
        "roles": roles,
        "allowed": {
            "chat": sorted(crypto.CHAT_ROLES),
            "referral": sorted(crypto.REFERRAL_ROLES),
            "report": sorted(crypto.REPORT_ROLES),
        },
        "bad": [{"why": why, **good, **change} for why, change in bad],
    }


def fingerprint_section() -> list[dict[str, str]]:
    keys = [bytes(32), b"\xff" * 32, fixed("staff-box-key", 32), fixed("other-box-key", 32)]
    return [
        {"public_key": crypto.b64u_encode(bytes(nacl.public.PrivateKey(k).public_key)),
         "fingerprint": crypto.key_fingerprint(bytes(nacl.public.PrivateKey(k).public_key))}
        for k in keys
    ]


def wrapping_key_section() -> dict[str, Any]:
    cases = [("correct horse battery staple", 1000), ("Fjalëkalim-i-gjatë", 600_000)]
    keys = []
    for i, (password, iterations) in enumerate(cases):
        salt = fixed(f"kdf-salt-{i}", 16)
        key = crypto.derive_wrapping_key(password, salt, iterations).hex()
        keys.append({"password": password, "salt": salt.hex(), "iterations": iterations, "key": key})
    wrapping_key = bytes.fromhex(keys[0]["key"])
    staff_secret = fixed("staff-box-key", 32)
    nonce = fixed("private-key-nonce", 24)
    with fixed_nonce(nonce):
        sealed = crypto.seal(wrapping_key, staff_secret)
    return {
        "derive": keys,
        "private_key": {
            "wrapping_key": wrapping_key.hex(),
            "secret_key": staff_secret.hex(),
            "nonce": nonce.hex(),
            "wire": sealed,
        },
    }


def signin_section() -> list[dict[str, Any]]:
    """The sign-in derivation (ADR 0021): auth and unwrap from a password and the account's salt."""
    rows = []
    for i, (password, iterations) in enumerate([("correct horse battery staple", 1000),
                                                 ("Fjalëkalim-i-gjatë", 600_000)]):
        salt = fixed(f"signin-salt-{i}", 16)
        auth, unwrap = crypto.derive_signin(password, salt, iterations)
        rows.append({"password": password, "salt": crypto.b64u_encode(salt), "iterations": iterations,
                     "auth": crypto.b64u_encode(auth), "unwrap": unwrap.hex()})
    return rows


def pow_section() -> list[dict[str, Any]]:
    """Proofs of work (helpline/security/pow.py): the first nonce from 0 that solves each seed."""
    rows = []
    for i, bits in enumerate([0, 1, 8, 8, 12]):
        seed = crypto.b64u_encode(fixed(f"pow-seed-{i}", 33))
        nonce = pow.solve(seed, bits)
        assert pow.solves(seed, nonce, bits)
        rows.append({"seed": seed, "bits": bits, "nonce": nonce})
    return rows


def build() -> dict[str, Any]:
    return {
        "about": "Generated by tests/vectors/make_vectors.py from helpline/crypto.py; do not edit by hand.",
        "b64u": b64u_section(),
        "resume": resume_section(),
        "child": child_section(),
        "pad": pad_section(),
        "sealed": sealed_section(),
        "message": message_section(),
        "wrapped": wrapped_section(),
        "staff_key": staff_section(),
        "fingerprint": fingerprint_section(),
        "wrapping_key": wrapping_key_section(),
        "signin": signin_section(),
        "pow": pow_section(),
    }


def main() -> None:
    OUT.write_text(json.dumps(build(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
