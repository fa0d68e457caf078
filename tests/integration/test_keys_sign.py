"""`helpline keys sign` shows each waiting key (fingerprint, person, role) and signs only what the
admin confirms on a terminal or names by fingerprint; the signature names the role (ADR 0022)."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from collections.abc import Callable

import nacl.public
import nacl.signing
from sqlalchemy import select

from helpline import crypto
from helpline.db import make_engine, make_sessionmaker
from helpline.keys import load_signing_key
from helpline.models import Staff
from tests.support import ROOT, ServerProcess, Stack, add_user


async def _enrol(stack: Stack, username: str, signature: Callable[[Staff, bytes], str | None] | None = None
                 ) -> bytes:
    """Stores a public key as the browser enrols it (waiting for the org key, or with `signature`)."""
    public = bytes(nacl.public.PrivateKey.generate().public_key)
    engine = make_engine(stack.database_url)
    try:
        async with make_sessionmaker(engine)() as db, db.begin():
            staff = (await db.execute(select(Staff).where(Staff.username == username))).scalar_one()
            staff.public_key = crypto.b64u_encode(public)
            staff.key_signature = signature(staff, public) if signature else None
    finally:
        await engine.dispose()
    return public


async def _rows(stack: Stack) -> dict[str, Staff]:
    engine = make_engine(stack.database_url)
    try:
        async with make_sessionmaker(engine)() as db:
            return {s.username: s for s in (await db.execute(select(Staff))).scalars()}
    finally:
        await engine.dispose()


def _signed_role(stack: Stack, staff: Staff) -> str | None:
    if staff.key_signature is None or staff.public_key is None:
        return None
    return crypto.staff_key_role(stack.org_public_key, staff.participant_id, crypto.b64u_decode(staff.public_key),
                                 staff.key_signature)


def _sign(stack: Stack, *args: str, answers: str | None = None, tty: bool = False) -> subprocess.CompletedProcess[str]:
    """The real CLI in a subprocess; with `tty`, stdin is a terminal (a pty) that types `answers`."""
    command = [sys.executable, "-m", "helpline.cli", "keys", "sign", *args]
    if not tty:
        return subprocess.run(command, cwd=ROOT, env=stack.env, input=answers or "", text=True,  # noqa: S603
                              capture_output=True, timeout=120)
    master, slave = pty.openpty()
    try:
        process = subprocess.Popen(command, cwd=ROOT, env=stack.env, stdin=slave,  # noqa: S603
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        os.close(slave)
        os.write(master, (answers or "").encode())
        out, err = process.communicate(timeout=120)
    finally:
        os.close(master)
    return subprocess.CompletedProcess(command, process.returncode, out, err)


async def test_keys_sign_shows_each_key_and_signs_only_what_is_confirmed(stack: Stack) -> None:
    org = load_signing_key(stack.data_dir / "org-signing.key")
    add_user(stack, "ana", "counsellor")
    add_user(stack, "bora", "officer")
    add_user(stack, "cen", "counsellor")
    add_user(stack, "dita", "supervisor")
    keys = {name: await _enrol(stack, name) for name in ("ana", "bora", "cen")}
    # Signed before roles were in the statement: listed as needing to be signed again.
    keys["dita"] = await _enrol(stack, "dita", lambda staff, public: crypto.b64u_encode(
        bytes(org.sign(crypto.legacy_staff_key_statement(staff.participant_id, public)).signature)))
    prints = {name: crypto.key_fingerprint(public) for name, public in keys.items()}

    # No terminal, no fingerprints: everything is listed, nothing is signed, whatever stdin says.
    listed = _sign(stack, answers="y\ny\ny\ny\n")
    assert listed.returncode == 0, listed.stderr
    for name, role in (("ana", "counsellor"), ("bora", "officer"), ("cen", "counsellor"), ("dita", "supervisor")):
        line = next(line for line in listed.stdout.splitlines() if prints[name] in line)
        assert name in line and name.title() in line and role in line, line
    assert "signed without a role: sign again" in listed.stdout
    assert "Signed 0 staff key(s)" in listed.stdout
    rows = await _rows(stack)
    assert all(rows[name].key_signature is None for name in ("ana", "bora", "cen"))
    assert _signed_role(stack, rows["dita"]) is None

    # On a terminal, y/N for each in username order (ana, bora, cen, dita): Enter is no.
    asked = _sign(stack, answers="y\nn\n\nyes\n", tty=True)
    assert asked.returncode == 0, asked.stderr
    assert asked.stdout.count("[y/N]") == 4
    rows = await _rows(stack)
    assert _signed_role(stack, rows["ana"]) == "counsellor"
    assert rows["bora"].key_signature is None and rows["cen"].key_signature is None
    assert _signed_role(stack, rows["dita"]) == "supervisor"
    assert f"ana {prints['ana']}" in asked.stdout and f"dita {prints['dita']}" in asked.stdout

    # Named by fingerprint (as typed: any case, spaces): only that key; an unknown one is said so.
    unknown = crypto.key_fingerprint(bytes(nacl.public.PrivateKey.generate().public_key))
    named = _sign(stack, "--fingerprint", prints["bora"].lower().replace("-", " "), "--fingerprint", unknown)
    assert named.returncode == 0, named.stderr
    assert f"No waiting key has the fingerprint {unknown}" in named.stderr
    rows = await _rows(stack)
    assert _signed_role(stack, rows["bora"]) == "officer"
    assert rows["cen"].key_signature is None
    # An officer's signed key is not a counsellor's: a child's page and the Python client refuse it.
    bora = rows["bora"]
    assert not crypto.verify_staff_key(stack.org_public_key, bora.participant_id, keys["bora"],
                                       str(bora.key_signature), roles=crypto.CHAT_ROLES)

    bad = _sign(stack, "--fingerprint", "not-a-fingerprint")
    assert bad.returncode != 0 and "16 letters and digits" in bad.stderr


async def test_embedded_org_key_signs_old_signatures_again_at_start(
        stack: Stack, start_server: Callable[..., ServerProcess]) -> None:
    """With the org key at hand (the default), a key the org signed without a role is signed again,
    with its holder's role, when the server starts; a key the org never signed stays unsigned."""
    org = load_signing_key(stack.data_dir / "org-signing.key")
    add_user(stack, "ana", "counsellor")
    add_user(stack, "bora", "officer")
    add_user(stack, "cen", "counsellor")
    for name in ("ana", "bora"):
        await _enrol(stack, name, lambda staff, public: crypto.b64u_encode(
            bytes(org.sign(crypto.legacy_staff_key_statement(staff.participant_id, public)).signature)))
    rogue = nacl.signing.SigningKey.generate()
    await _enrol(stack, "cen", lambda staff, public: crypto.b64u_encode(
        bytes(rogue.sign(crypto.legacy_staff_key_statement(staff.participant_id, public)).signature)))
    before = await _rows(stack)
    assert _signed_role(stack, before["ana"]) is None

    start_server()
    rows = await _rows(stack)
    assert _signed_role(stack, rows["ana"]) == "counsellor"
    assert _signed_role(stack, rows["bora"]) == "officer"
    assert rows["cen"].key_signature == before["cen"].key_signature  # not the org's: left alone
    assert _signed_role(stack, rows["cen"]) is None


async def test_a_role_change_signs_the_key_again_or_leaves_it_waiting(
        stack: Stack, start_server: Callable[..., ServerProcess]) -> None:
    """The signature names the role, so a role change cannot keep the old one: with the org key at
    hand the key is signed for the new role; without it the key waits for `helpline keys sign`."""
    from tests.integration.referral_support import member

    admin = await member(stack, "root", "admin")
    await member(stack, "cen", "counsellor")
    target = (await _rows(stack))["cen"]
    assert _signed_role(stack, target) == "counsellor"

    embedded = start_server()
    async with admin.client(embedded.url) as http:
        changed = await http.post(f"/console/api/admin/staff/{target.public_id}/role", json={"role": "supervisor"})
        assert changed.status_code == 200, changed.text
    assert _signed_role(stack, (await _rows(stack))["cen"]) == "supervisor"

    offline = start_server(HELPLINE_ORG_KEY_FILE=str(stack.data_dir / "not-here.key"))
    async with admin.client(offline.url) as http:
        changed = await http.post(f"/console/api/admin/staff/{target.public_id}/role", json={"role": "manager"})
        assert changed.status_code == 200, changed.text
        listed_staff = (await http.get("/console/api/admin/staff")).json()["staff"]
    assert next(s for s in listed_staff if s["username"] == "cen")["key"] == "pending"
    assert (await _rows(stack))["cen"].key_signature is None
    listed = _sign(stack)
    assert f"{crypto.key_fingerprint(crypto.b64u_decode(str(target.public_key)))}  cen (Cen), manager - new key" \
        in listed.stdout
