"""The org signing key and the server secret, as files under the data folder."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import nacl.signing

from helpline.crypto import b64u_decode, b64u_encode


class KeyError_(RuntimeError):
    """A key file is missing or unreadable; the message says which command fixes it."""


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(text + "\n")


def init_org_key(secret_path: Path, public_path: Path) -> tuple[bool, str]:
    """Creates the org signing key if absent. Returns (created, public key b64u)."""
    if secret_path.exists():
        key = load_signing_key(secret_path)
        public = b64u_encode(bytes(key.verify_key))
        if not public_path.exists():
            public_path.parent.mkdir(parents=True, exist_ok=True)
            public_path.write_text(public + "\n", encoding="ascii")
        return False, public
    key = nacl.signing.SigningKey.generate()
    _write_private(secret_path, b64u_encode(bytes(key)))
    public = b64u_encode(bytes(key.verify_key))
    public_path.parent.mkdir(parents=True, exist_ok=True)
    public_path.write_text(public + "\n", encoding="ascii")
    return True, public


def load_signing_key(path: Path) -> nacl.signing.SigningKey:
    try:
        return nacl.signing.SigningKey(b64u_decode(path.read_text(encoding="ascii").strip()))
    except (OSError, ValueError) as exc:
        raise KeyError_(f"cannot read the org signing key at {path}: {exc}") from exc


def load_optional_signing_key(path: Path) -> nacl.signing.SigningKey | None:
    return load_signing_key(path) if path.exists() else None


def load_public_key(path: Path) -> bytes:
    try:
        raw = b64u_decode(path.read_text(encoding="ascii").strip())
    except (OSError, ValueError) as exc:
        raise KeyError_(f"no org public key at {path}: run `helpline keys init` first") from exc
    if len(raw) != 32:
        raise KeyError_(f"the org public key at {path} is not 32 bytes")
    return raw


def load_or_create_secret(path: Path) -> bytes:
    """The server's own secret for keyed hashes; made on first start."""
    if not path.exists():
        try:
            _write_private(path, b64u_encode(secrets.token_bytes(32)))
        except FileExistsError:
            pass  # another worker made it first
    return b64u_decode(path.read_text(encoding="ascii").strip())
