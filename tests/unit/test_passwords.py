"""Sign-in passwords: an unknown username costs the same Argon2id work as a known one."""

from __future__ import annotations

import re

import nacl.pwhash
import pytest

from helpline.security import passwords


def _limits(stored: str | bytes) -> str:
    text = stored.decode("ascii") if isinstance(stored, bytes) else stored
    found = re.match(r"^\$argon2id\$v=\d+\$(m=\d+,t=\d+,p=\d+)\$", text)
    assert found, text
    return found.group(1)


def test_an_unknown_username_is_hashed_against_a_dummy_with_the_same_limits(
        monkeypatch: pytest.MonkeyPatch) -> None:
    checked: list[bytes] = []
    real_verify = nacl.pwhash.verify

    def counting_verify(stored: bytes, password: bytes) -> bool:  # libsodium's own check, counted
        checked.append(stored)
        return bool(real_verify(stored, password))

    monkeypatch.setattr(nacl.pwhash, "verify", counting_verify)
    real = passwords.hash_password("a real password")
    assert passwords.verify_password(real, "a real password") is True
    assert passwords.verify_password(None, "a real password") is False
    assert passwords.verify_password(None, "") is False
    assert len(checked) == 3, "no account must still cost one Argon2id verification"
    assert checked[1] == passwords.dummy_hash().encode("ascii")
    assert _limits(checked[1]) == _limits(real)
    # Even the password that made the dummy hash opens nothing: there is no account behind it.
    assert passwords.verify_password(None, passwords.dummy_hash()) is False
