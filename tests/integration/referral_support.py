"""Helpers for the referral tests: staff with real keys, an HTTP client per member, browser-side crypto.

Staff accounts are made by the real CLI (`helpline user add`, `helpline directory officer`). The
key a browser would enrol is made here with PyNaCl and signed with the stack's org key, and a
session with the second factor done is opened in the database: the sign-in pages are another
engineer's work in progress, and these tests are about referrals, not about signing in.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import nacl.public
from sqlalchemy import select

from helpline import crypto
from helpline.db import make_engine, make_sessionmaker
from helpline.keys import load_signing_key
from helpline.models import Staff
from helpline.security import sessions
from tests.support import ROOT, Stack, add_user


def cli(stack: Stack, *args: str, check: bool = True, env: dict[str, str] | None = None
        ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "helpline.cli", *args], cwd=ROOT, env={**stack.env, **(env or {})},
                          text=True, capture_output=True, check=check)


@dataclass
class Member:
    username: str
    role: str
    participant: str
    private_key: nacl.public.PrivateKey
    cookie: str
    csrf: str

    @property
    def public_key(self) -> bytes:
        return bytes(self.private_key.public_key)

    def client(self, base_url: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=base_url, cookies={sessions.COOKIE_NAME: self.cookie},
                                 headers={"x-csrf-token": self.csrf, "origin": base_url}, timeout=20)


async def member(stack: Stack, username: str, role: str, agency: str | None = None, email: str | None = None,
                 with_key: bool = True) -> Member:
    """A staff member with an org-signed key (as the browser enrols it) and a signed-in session."""
    add_user(stack, username, role)
    if agency is not None:
        cli(stack, "directory", "officer", username, agency, *(["--email", email] if email else []))
    private = nacl.public.PrivateKey.generate()
    signing = load_signing_key(stack.data_dir / "org-signing.key")
    engine = make_engine(stack.database_url)
    try:
        async with make_sessionmaker(engine)() as db, db.begin():
            staff = (await db.execute(select(Staff).where(Staff.username == username))).scalar_one()
            if with_key:
                public = bytes(private.public_key)
                staff.public_key = crypto.b64u_encode(public)
                staff.key_signature = crypto.sign_staff_key(signing, staff.participant_id, public,
                                                             role=staff.role)
            cookie, csrf = await sessions.create_session(db, staff, mfa_done=True)
            participant = staff.participant_id
    finally:
        await engine.dispose()
    return Member(username, role, participant, private, cookie, csrf)


def seal_text(key: bytes, text: str) -> str:
    return crypto.seal(key, crypto.pad(text.encode("utf-8")))


def open_text(key: bytes, wire: str) -> str:
    return crypto.unpad(crypto.open_sealed(key, wire)).decode("utf-8")


def wrap_for(readers: list[dict[str, Any]], sender: Member, key: bytes, org_public: bytes) -> list[dict[str, str]]:
    """What the console does: checks every reader's key against the pinned org key, then wraps."""
    wrapped = []
    for reader in readers:
        public = crypto.b64u_decode(reader["public_key"])
        assert crypto.verify_staff_key(org_public, reader["id"], public, reader["signature"],
                                       roles=crypto.REFERRAL_ROLES), reader
        wrapped.append({"reader": reader["id"], "wrapped_key": crypto.wrap_key(key, public, sender.private_key),
                        "wrapper_public_key": crypto.b64u_encode(sender.public_key)})
    return wrapped


def unwrap(me: Member, read: dict[str, Any]) -> bytes:
    """What the portal does with the referral it read: unwraps its key with the officer's key."""
    assert read["key"] is not None
    return crypto.unwrap_key(read["key"]["wrapped_key"], crypto.b64u_decode(read["key"]["wrapper_public_key"]),
                             me.private_key)


CONTENT = {"child": "Arta, 12 vjeç", "place": "Rruga e Detit 7", "concern": "dhunë në familje",
           "requested_action": "vizitë në shtëpi sot"}


async def refer(base_url: str, counsellor: Member, stack: Stack, agency: str = "cpu-shkoder",
                urgency: str = "emergency", content: dict[str, str] | None = None) -> tuple[dict[str, Any], bytes]:
    """A counsellor's browser: asks whom to encrypt for, encrypts, wraps, sends. Returns (referral, key)."""
    key = crypto.new_conversation_key()
    async with counsellor.client(base_url) as http:
        readers = await http.get("/console/api/referral-readers", params={"agency": agency})
        assert readers.status_code == 200, readers.text
        body = {"agency": agency, "urgency": urgency, "chi_category": "violence.physical",
                "consent": {"identity": "child_consented", "location": "child_consented",
                            "school": "not_shared"},
                "content": seal_text(key, json.dumps(content or CONTENT, ensure_ascii=False)),
                "keys": wrap_for(readers.json()["readers"], counsellor, key, stack.org_public_key)}
        created = await http.post("/console/api/referrals", json=body)
        assert created.status_code == 201, created.text
        return created.json(), key


async def eventually(check: Callable[[], Any], timeout: float = 20, every: float = 0.1) -> Any:
    """Awaits ``check()`` (sync or async) until it returns something truthy."""
    for _ in range(int(timeout / every)):
        value = check()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        await asyncio.sleep(every)
    raise AssertionError("condition not met in time")


async def query(stack: Stack, statement: str, params: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
    """Reads rows straight from the database, as an inspector would."""
    from sqlalchemy import text

    engine = make_engine(stack.database_url)
    try:
        async with engine.connect() as conn:
            return [tuple(row) for row in (await conn.execute(text(statement), params or {})).all()]
    finally:
        await engine.dispose()


async def execute(stack: Stack, statement: str, params: dict[str, Any] | None = None) -> None:
    from sqlalchemy import text

    engine = make_engine(stack.database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(statement), params or {})
    finally:
        await engine.dispose()


async def report_proof(page: httpx.AsyncClient) -> dict[str, str]:
    """What the report page does before it sends: fetch a challenge and solve it (ADR 0020)."""
    from helpline.security import pow

    challenge = (await page.get("/report/api/challenge")).json()
    nonce = await asyncio.to_thread(pow.solve, challenge["seed"], challenge["bits"])
    return {"seed": challenge["seed"], "nonce": nonce}
