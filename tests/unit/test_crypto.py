"""helpline/crypto.py against the cross-language vectors (tests/vectors/wire.json) and its refusals."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from unittest import mock

import nacl.public
import nacl.signing
import nacl.utils
import pytest

from helpline import crypto
from helpline.security import pow

VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).parents[1] / "vectors" / "wire.json").read_text(encoding="utf-8")
)
MESSAGE = VECTORS["message"]
STAFF = VECTORS["staff_key"]


def pinned_nonce(hex_nonce: str) -> Any:
    """crypto.py draws nonces from nacl.utils.random; pin it to reproduce a vector exactly."""
    nonce = bytes.fromhex(hex_nonce)
    return mock.patch.object(nacl.utils, "random", lambda size: nonce[:size])


# -- base64url ---------------------------------------------------------------------------------


@pytest.mark.parametrize("row", VECTORS["b64u"]["valid"], ids=lambda r: r["b64u"][:12] or "empty")
def test_b64u_round_trip(row: dict[str, str]) -> None:
    assert crypto.b64u_encode(bytes.fromhex(row["hex"])) == row["b64u"]
    assert crypto.b64u_decode(row["b64u"]) == bytes.fromhex(row["hex"])


@pytest.mark.parametrize("text", VECTORS["b64u"]["invalid"])
def test_b64u_refuses_what_is_not_base64url(text: str) -> None:
    with pytest.raises(crypto.CryptoError):
        crypto.b64u_decode(text)


@pytest.mark.parametrize("value", [None, b"Zm9v", 42])
def test_b64u_refuses_non_strings(value: Any) -> None:
    with pytest.raises(crypto.CryptoError):
        crypto.b64u_decode(value)


@pytest.mark.parametrize("text", VECTORS["b64u"]["invalid_strict"])
def test_b64u_is_strict(text: str) -> None:
    with pytest.raises(crypto.CryptoError):
        crypto.b64u_decode(text)


# -- resume code, child key, token -------------------------------------------------------------


@pytest.mark.parametrize("row", VECTORS["resume"]["codes"], ids=lambda r: r["code"])
def test_resume_code_format_and_parse(row: dict[str, Any]) -> None:
    secret = bytes.fromhex(row["secret"])
    assert crypto.format_resume_code(secret) == row["code"]
    for typed in [row["code"], *row["typed"]]:
        assert crypto.parse_resume_code(typed) == secret


def test_resume_code_reads_look_alike_letters_as_digits() -> None:
    aliases = VECTORS["resume"]["aliases"]
    assert crypto.parse_resume_code(aliases["input"]).hex() == aliases["secret"]


@pytest.mark.parametrize("code", VECTORS["resume"]["invalid"])
def test_resume_code_refuses_malformed_codes(code: str) -> None:
    with pytest.raises(crypto.CryptoError):
        crypto.parse_resume_code(code)


@pytest.mark.parametrize("size", [0, 9, 11, 32])
def test_resume_code_needs_ten_bytes(size: int) -> None:
    with pytest.raises(crypto.CryptoError):
        crypto.format_resume_code(bytes(size))


def test_new_resume_secret_round_trips_through_the_code() -> None:
    secret = crypto.new_resume_secret()
    assert len(secret) == 10
    assert crypto.parse_resume_code(crypto.format_resume_code(secret)) == secret


@pytest.mark.parametrize("row", VECTORS["child"], ids=lambda r: r["code"])
def test_child_key_and_token(row: dict[str, str]) -> None:
    secret = bytes.fromhex(row["secret"])
    private = crypto.child_private_key(secret)
    assert bytes(private).hex() == row["secret_key"]
    assert crypto.b64u_encode(bytes(private.public_key)) == row["public_key"]
    token = crypto.child_token(secret)
    assert crypto.b64u_encode(token) == row["token"]
    assert crypto.token_hash(token) == row["token_hash"]


def test_child_key_and_token_are_different_derivations() -> None:
    row = VECTORS["child"][0]
    assert row["token"] != row["public_key"]
    assert crypto.b64u_decode(row["token"]).hex() != row["secret_key"]


# -- padding -----------------------------------------------------------------------------------


@pytest.mark.parametrize("row", VECTORS["pad"]["valid"], ids=lambda r: str(len(r["data"]) // 2))
def test_pad_and_unpad(row: dict[str, str]) -> None:
    data, padded = bytes.fromhex(row["data"]), bytes.fromhex(row["padded"])
    assert crypto.pad(data) == padded
    assert len(padded) % crypto.PAD_BUCKET == 0
    assert crypto.unpad(padded) == data


@pytest.mark.parametrize("hex_data", VECTORS["pad"]["invalid"])
def test_unpad_refuses_bad_padding(hex_data: str) -> None:
    with pytest.raises(crypto.CryptoError, match="bad padding"):
        crypto.unpad(bytes.fromhex(hex_data))


# -- sealed boxes and messages -----------------------------------------------------------------


@pytest.mark.parametrize("row", VECTORS["sealed"], ids=lambda r: r["nonce"][:8])
def test_seal_matches_vector_and_opens(row: dict[str, str]) -> None:
    key = bytes.fromhex(row["key"])
    with pinned_nonce(row["nonce"]):
        assert crypto.seal(key, bytes.fromhex(row["plaintext"])) == row["wire"]
    assert crypto.open_sealed(key, row["wire"]) == bytes.fromhex(row["plaintext"])


def test_seal_uses_a_fresh_nonce_each_time() -> None:
    key = crypto.new_conversation_key()
    assert crypto.seal(key, b"same") != crypto.seal(key, b"same")


def test_open_sealed_refuses_wrong_key_tampering_and_short_input() -> None:
    row = VECTORS["sealed"][1]
    key = bytes.fromhex(row["key"])
    raw = bytearray(crypto.b64u_decode(row["wire"]))
    raw[-1] ^= 1
    for wire, key_used in [
        (row["wire"], bytes(32)),
        (crypto.b64u_encode(bytes(raw)), key),
        (crypto.b64u_encode(bytes(39)), key),
        ("not base64!", key),
    ]:
        with pytest.raises(crypto.CryptoError):
            crypto.open_sealed(key_used, wire)


@pytest.mark.parametrize("row", MESSAGE["messages"], ids=lambda r: r["cid"])
def test_encrypt_message_matches_vector(row: dict[str, Any]) -> None:
    key = bytes.fromhex(MESSAGE["key"])
    with pinned_nonce(row["nonce"]):
        wire = crypto.encrypt_message(
            key, conv=row["conv"], sender=row["from"], cid=row["cid"], text=row["text"], at=row["at"]
        )
    assert wire == row["wire"]
    assert (len(crypto.b64u_decode(wire)) - 40) % crypto.PAD_BUCKET == 0


@pytest.mark.parametrize("row", MESSAGE["messages"], ids=lambda r: r["cid"])
def test_decrypt_message_returns_the_payload(row: dict[str, Any]) -> None:
    payload = crypto.decrypt_message(
        bytes.fromhex(MESSAGE["key"]), row["wire"], conv=row["conv"], sender=row["from"], cid=row["cid"]
    )
    assert payload == {
        "v": 1,
        "conv": row["conv"],
        "from": row["from"],
        "cid": row["cid"],
        "text": row["text"],
        "at": row["at"],
    }


@pytest.mark.parametrize("envelope", MESSAGE["moved"]["envelopes"], ids=["conv", "from", "cid"])
def test_decrypt_message_refuses_a_moved_message(envelope: dict[str, str]) -> None:
    with pytest.raises(crypto.CryptoError, match="moved"):
        crypto.decrypt_message(
            bytes.fromhex(MESSAGE["key"]),
            MESSAGE["moved"]["wire"],
            conv=envelope["conv"],
            sender=envelope["from"],
            cid=envelope["cid"],
        )


@pytest.mark.parametrize(
    "plaintext",
    [b"not json", b'["a list"]', b'{"v":2,"conv":"c","from":"child","cid":"m"}', b"\xff\xfe"],
)
def test_decrypt_message_refuses_what_is_not_a_v1_message(plaintext: bytes) -> None:
    key = crypto.new_conversation_key()
    with pytest.raises(crypto.CryptoError):
        crypto.decrypt_message(
            key, crypto.seal(key, crypto.pad(plaintext)), conv="c", sender="child", cid="m"
        )


def test_decrypt_message_refuses_an_unpadded_message() -> None:
    key = crypto.new_conversation_key()
    with pytest.raises(crypto.CryptoError, match="bad padding"):
        crypto.decrypt_message(key, crypto.seal(key, b'{"v":1}'), conv="c", sender="child", cid="m")


# -- server-side shape check -------------------------------------------------------------------


def test_check_ciphertext_shape_accepts_real_messages() -> None:
    for row in MESSAGE["messages"]:
        size = crypto.check_ciphertext_shape(row["wire"], 4096)
        assert size == len(crypto.b64u_decode(row["wire"]))


@pytest.mark.parametrize(
    "body",
    [
        None,
        123,
        b"bytes",
        "",
        "not base64!",
        crypto.b64u_encode(bytes(40)),  # nonce and MAC, nothing boxed
        crypto.b64u_encode(bytes(40 + 255)),  # one byte short of a bucket
        crypto.b64u_encode(bytes(40 + 300)),  # not a whole number of buckets
        crypto.b64u_encode(bytes(40 + 256)) + "=",
    ],
    ids=["none", "int", "bytes", "empty", "alphabet", "empty box", "short bucket", "ragged", "padding"],
)
def test_check_ciphertext_shape_refuses_wrong_shapes(body: object) -> None:
    with pytest.raises(crypto.CryptoError):
        crypto.check_ciphertext_shape(body, 4096)


def test_check_ciphertext_shape_refuses_bodies_over_the_limit() -> None:
    body = crypto.b64u_encode(bytes(40 + 256 * 8))
    assert crypto.check_ciphertext_shape(body, 40 + 256 * 8) == 40 + 256 * 8
    with pytest.raises(crypto.CryptoError, match="too large"):
        crypto.check_ciphertext_shape(body, 40 + 256 * 7)
    with pytest.raises(crypto.CryptoError, match="too large"):
        crypto.check_ciphertext_shape("A" * 100_000, 4096)


# -- wrapped conversation keys -----------------------------------------------------------------


@pytest.mark.parametrize("row", VECTORS["wrapped"], ids=lambda r: r["case"])
def test_wrap_key_matches_vector_and_unwraps(row: dict[str, str]) -> None:
    wrapper = nacl.public.PrivateKey(bytes.fromhex(row["wrapper_secret"]))
    recipient = nacl.public.PrivateKey(bytes.fromhex(row["recipient_secret"]))
    assert crypto.b64u_encode(bytes(recipient.public_key)) == row["recipient_public"]
    conv_key = bytes.fromhex(row["conv_key"])
    with pinned_nonce(row["nonce"]):
        assert crypto.wrap_key(conv_key, bytes(recipient.public_key), wrapper) == row["wire"]
    wrapper_public = crypto.b64u_decode(row["wrapper_public"])
    assert crypto.unwrap_key(row["wire"], wrapper_public, recipient).hex() == row["conv_key"]
    assert bytes(nacl.public.Box(recipient, wrapper.public_key).shared_key()).hex() == row["shared_key"]


def test_unwrap_key_refuses_the_wrong_recipient_or_wrapper() -> None:
    row = VECTORS["wrapped"][1]
    recipient = nacl.public.PrivateKey(bytes.fromhex(row["recipient_secret"]))
    stranger = nacl.public.PrivateKey.generate()
    wrapper_public = crypto.b64u_decode(row["wrapper_public"])
    with pytest.raises(crypto.CryptoError):
        crypto.unwrap_key(row["wire"], wrapper_public, stranger)
    with pytest.raises(crypto.CryptoError):
        crypto.unwrap_key(row["wire"], bytes(stranger.public_key), recipient)
    with pytest.raises(crypto.CryptoError):
        crypto.unwrap_key(row["wire"], wrapper_public[:31], recipient)
    with pytest.raises(crypto.CryptoError):
        crypto.unwrap_key(crypto.b64u_encode(bytes(10)), wrapper_public, recipient)


def test_unwrap_key_refuses_a_key_of_the_wrong_length() -> None:
    me = nacl.public.PrivateKey.generate()
    wire = crypto.b64u_encode(bytes(nacl.public.Box(me, me.public_key).encrypt(bytes(16))))
    with pytest.raises(crypto.CryptoError, match="wrong length"):
        crypto.unwrap_key(wire, bytes(me.public_key), me)


# -- staff key signatures ------------------------------------------------------------------------


def test_staff_key_statement_and_signature_match_vector() -> None:
    org = nacl.signing.SigningKey(bytes.fromhex(STAFF["org_seed"]))
    public_key = crypto.b64u_decode(STAFF["public_key"])
    assert crypto.b64u_encode(bytes(org.verify_key)) == STAFF["org_public"]
    assert crypto.staff_key_statement(STAFF["staff_id"], public_key, role=STAFF["role"]).hex() == STAFF["statement"]
    assert crypto.sign_staff_key(org, STAFF["staff_id"], public_key, role=STAFF["role"]) == STAFF["signature"]
    assert crypto.verify_staff_key(
        crypto.b64u_decode(STAFF["org_public"]), STAFF["staff_id"], public_key, STAFF["signature"],
        roles=crypto.CHAT_ROLES,
    )


def test_the_statement_is_versioned_and_names_the_role() -> None:
    """v2 = "helpline/staff-key/v2" NUL role NUL staff id NUL key: no role's statement is another's."""
    public_key = crypto.b64u_decode(STAFF["public_key"])
    statement = crypto.staff_key_statement(STAFF["staff_id"], public_key, role="officer")
    assert statement == b"helpline/staff-key/v2\x00officer\x00staff:k7f3\x00" + public_key
    assert crypto.legacy_staff_key_statement(STAFF["staff_id"], public_key).hex() == STAFF["legacy_statement"]
    with pytest.raises(crypto.CryptoError):
        crypto.staff_key_statement(STAFF["staff_id"], public_key, role="child")
    with pytest.raises(crypto.CryptoError):
        crypto.staff_key_statement("staff:k7f3\x00officer", public_key, role="admin")


@pytest.mark.parametrize("row", STAFF["roles"], ids=lambda r: r["role"])
def test_a_key_signed_for_a_role_is_accepted_only_where_that_role_may_read(row: dict[str, str]) -> None:
    """An officer's or admin's signed key does not pass the child page's counsellor check."""
    org_public = crypto.b64u_decode(STAFF["org_public"])
    public_key = crypto.b64u_decode(STAFF["public_key"])
    assert crypto.staff_key_statement(STAFF["staff_id"], public_key, role=row["role"]).hex() == row["statement"]
    assert crypto.staff_key_role(org_public, STAFF["staff_id"], public_key, row["signature"]) == row["role"]
    for purpose, roles in (("chat", crypto.CHAT_ROLES), ("referral", crypto.REFERRAL_ROLES),
                           ("report", crypto.REPORT_ROLES)):
        assert sorted(roles) == STAFF["allowed"][purpose]
        accepted = crypto.verify_staff_key(org_public, STAFF["staff_id"], public_key, row["signature"], roles=roles)
        assert accepted == (row["role"] in roles), (purpose, row["role"])
    assert crypto.CHAT_ROLES == {"counsellor", "supervisor"}


def test_an_old_signature_without_a_role_is_refused_but_recognised() -> None:
    org_public = crypto.b64u_decode(STAFF["org_public"])
    public_key = crypto.b64u_decode(STAFF["public_key"])
    legacy = STAFF["legacy_signature"]
    assert crypto.staff_key_role(org_public, STAFF["staff_id"], public_key, legacy) is None
    assert crypto.is_legacy_staff_signature(org_public, STAFF["staff_id"], public_key, legacy)
    assert not crypto.is_legacy_staff_signature(org_public, STAFF["staff_id"], public_key, STAFF["signature"])


@pytest.mark.parametrize("case", STAFF["bad"], ids=lambda c: c["why"])
def test_verify_staff_key_refuses_a_bad_signature(case: dict[str, str]) -> None:
    assert crypto.staff_key_role(
        crypto.b64u_decode(STAFF["org_public"]),
        case["staff_id"],
        crypto.b64u_decode(case["public_key"]),
        case["signature"],
    ) is None


def test_verify_staff_key_refuses_a_malformed_org_key() -> None:
    public_key = crypto.b64u_decode(STAFF["public_key"])
    assert not crypto.verify_staff_key(bytes(31), STAFF["staff_id"], public_key, STAFF["signature"],
                                       roles=crypto.CHAT_ROLES)


@pytest.mark.parametrize("row", VECTORS["fingerprint"], ids=lambda r: r["fingerprint"])
def test_key_fingerprint_matches_vector(row: dict[str, str]) -> None:
    public_key = crypto.b64u_decode(row["public_key"])
    assert crypto.key_fingerprint(public_key) == row["fingerprint"]
    assert crypto.parse_fingerprint(row["fingerprint"].lower().replace("-", " ")) == row["fingerprint"]
    with pytest.raises(crypto.CryptoError):
        crypto.key_fingerprint(public_key[:31])


# -- password-derived wrapping key ---------------------------------------------------------------


@pytest.mark.parametrize("row", VECTORS["wrapping_key"]["derive"], ids=lambda r: str(r["iterations"]))
def test_derive_wrapping_key_matches_vector(row: dict[str, Any]) -> None:
    key = crypto.derive_wrapping_key(row["password"], bytes.fromhex(row["salt"]), row["iterations"])
    assert key.hex() == row["key"]


def test_derive_wrapping_key_defaults_to_600000_iterations() -> None:
    row = next(r for r in VECTORS["wrapping_key"]["derive"] if r["iterations"] == crypto.PBKDF2_ITERATIONS)
    assert crypto.derive_wrapping_key(row["password"], bytes.fromhex(row["salt"])).hex() == row["key"]


@pytest.mark.parametrize("row", VECTORS["signin"], ids=lambda r: str(r["iterations"]))
def test_derive_signin_matches_vector(row: dict[str, Any]) -> None:
    iterations = {} if row["iterations"] == crypto.PBKDF2_ITERATIONS else {"iterations": row["iterations"]}
    auth, unwrap = crypto.derive_signin(row["password"], crypto.b64u_decode(row["salt"]), **iterations)
    assert crypto.b64u_encode(auth) == row["auth"] and unwrap.hex() == row["unwrap"]
    # Domain separation: neither output is the other, nor the legacy wrapping key of the same input.
    legacy = crypto.derive_wrapping_key(row["password"], crypto.b64u_decode(row["salt"]), row["iterations"])
    assert len({auth, unwrap, legacy}) == 3


def test_sealed_private_key_matches_vector() -> None:
    row = VECTORS["wrapping_key"]["private_key"]
    wrapping_key = bytes.fromhex(row["wrapping_key"])
    with pinned_nonce(row["nonce"]):
        assert crypto.seal(wrapping_key, bytes.fromhex(row["secret_key"])) == row["wire"]
    assert crypto.open_sealed(wrapping_key, row["wire"]).hex() == row["secret_key"]


# -- proof of work (helpline/security/pow.py; wire.js solveProof finds the same nonces) -----------

@pytest.mark.parametrize("row", VECTORS["pow"], ids=lambda row: f"{row['bits']}-{row['nonce']}")
def test_proof_of_work_matches_vector(row: dict[str, Any]) -> None:
    assert pow.solve(row["seed"], row["bits"]) == row["nonce"]
    assert pow.solves(row["seed"], row["nonce"], row["bits"])
    assert not pow.solves(row["seed"], row["nonce"], row["bits"] + 24)
