"""Staff sign-in over HTTP against the real server: TOTP enrolment and verification, reuse and
recovery codes, throttling and locks, CSRF, password change, admin reset, admin pages' APIs and
the settings they change."""

from __future__ import annotations

import secrets
from typing import Any

import httpx
import nacl.public
import pyotp
import pytest
from sqlalchemy import select

from counsellor_ui.admin import KEY_GONE
from helpline import crypto
from helpline.db import make_engine, make_sessionmaker
from helpline.i18n import translate
from helpline.models import AuditEntry, RecoveryCode, Staff, Throttle
from tests.chat_client import ChildClient, FrameError, StaffClient, next_totp_code, signin_body
from tests.support import ServerProcess, Stack, add_user


def client(server: ServerProcess) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=server.url, headers={"origin": server.url})


async def login(http: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await http.post("/console/api/login?lang=en", json=await signin_body(http, username, password))


async def rows(stack: Stack, model: Any) -> list[Any]:
    engine = make_engine(stack.database_url)
    try:
        async with make_sessionmaker(engine)() as db:
            return list((await db.execute(select(model))).scalars())
    finally:
        await engine.dispose()


async def admin_http(server: ServerProcess, stack: Stack) -> tuple[httpx.AsyncClient, dict[str, str]]:
    password = add_user(stack, "root", role="admin")
    admin = StaffClient(server.url, "root", password)
    await admin.sign_in()
    http = httpx.AsyncClient(base_url=server.url, cookies=admin.cookies, headers={"x-csrf-token": admin.csrf})
    return http, {"password": password}


async def test_totp_enrolment_then_codes_once_each_and_recovery_codes_once(stack: Stack, server: ServerProcess) -> None:
    password = add_user(stack, "ana")
    async with client(server) as http:
        first = await login(http, "ana", password)
        assert first.status_code == 200 and first.json()["next"] == "enrol"
        assert "kdf_salt" not in first.json() and "encrypted_private_key" not in first.json()
        half_cookie, csrf = http.cookies["hl_session"], first.json()["csrf"]
        # The password alone opens nothing: no key, no profile, no staff socket.
        me = (await http.get("/console/api/me")).json()
        assert me == {"next": "enrol", "csrf": csrf}
        refused = await http.post("/console/api/keys", headers={"x-csrf-token": csrf},
                                  json={"public_key": "x", "encrypted_private_key": "y"})
        assert refused.status_code in (400, 401)
        assert (await http.get("/console/api/canned")).status_code == 401

        enrol = (await http.post("/console/api/mfa/enrol", headers={"x-csrf-token": csrf}, json={})).json()
        assert enrol["qr"].startswith("data:image/svg+xml") and "ana" in enrol["uri"]
        secret = enrol["secret"]
        wrong = await http.post("/console/api/mfa/confirm?lang=en", headers={"x-csrf-token": csrf},
                                json={"code": "000000" if pyotp.TOTP(secret).now() != "000000" else "111111"})
        assert wrong.status_code == 400 and "Wrong code" in wrong.json()["error"]
        first_code = await next_totp_code(secret)
        confirmed = await http.post("/console/api/mfa/confirm", headers={"x-csrf-token": csrf},
                                    json={"code": first_code})
        assert confirmed.status_code == 200
        done = confirmed.json()
        codes = done["recovery_codes"]
        assert len(codes) == 10 and len(set(codes)) == 10 and done["needs_key"] is True
        # The session was replaced at that moment: new cookie, new CSRF token; the old cookie is dead.
        assert http.cookies["hl_session"] != half_cookie and done["csrf"] != csrf
        old = await httpx.AsyncClient(base_url=server.url, cookies={"hl_session": half_cookie}).get("/console/api/me")
        assert old.status_code == 401

    sealed = [s for s in await rows(stack, Staff) if s.username == "ana"][0].totp_secret
    assert sealed and secret not in sealed
    hashes = [r.code_hash for r in await rows(stack, RecoveryCode)]
    assert len(hashes) == 10 and not any(c.replace("-", "") in h for c in codes for h in hashes)

    async with client(server) as http:
        again = await login(http, "ana", password)
        assert again.json()["next"] == "verify"
        csrf = again.json()["csrf"]
        # A code whose time step was already used is refused, with a message that says so.
        reused = await http.post("/console/api/mfa/verify?lang=en", headers={"x-csrf-token": csrf},
                                 json={"code": first_code})
        assert reused.status_code == 400 and "already used" in reused.json()["error"]
        ok = await http.post("/console/api/mfa/verify", headers={"x-csrf-token": csrf}, json={"code": codes[0]})
        assert ok.status_code == 200 and ok.json()["recovery_left"] == 9

    async with client(server) as http:
        csrf = (await login(http, "ana", password)).json()["csrf"]
        twice = await http.post("/console/api/mfa/verify?lang=en", headers={"x-csrf-token": csrf},
                                json={"code": codes[0].upper().replace("-", " ")})
        assert twice.status_code == 400 and "already used" in twice.json()["error"]
        fresh = await http.post("/console/api/mfa/verify", headers={"x-csrf-token": csrf},
                                json={"code": await next_totp_code(secret)})
        assert fresh.status_code == 200 and fresh.json()["staff"]["name"] == "Ana"
    actions = [e.action for e in await rows(stack, AuditEntry)]
    assert "mfa.enrolled" in actions and actions.count("signin") == 2 and "signin.failed" in actions


async def test_failures_lock_the_account_and_an_admin_lifts_the_lock(stack: Stack, server: ServerProcess) -> None:
    password = add_user(stack, "ben")
    async with client(server) as http:
        answers = [await login(http, "ben", "wrong-" + str(i)) for i in range(5)]
        assert [a.status_code for a in answers] == [401, 401, 401, 401, 423]
        assert answers[0].json()["error"] == "Wrong username or password."
        locked = await login(http, "ben", password)  # the right password does not pass a lock
        assert locked.status_code == 423
        assert "locked" in locked.json()["error"] and "1 min" in locked.json()["error"]
        # A name that does not exist is slowed down the same way (no hint which names exist).
        ghosts = [await login(http, "nobody", "x") for _ in range(5)]
        assert ghosts[-1].status_code == 423
    # Keyed hashes only: no username in the throttle table.
    keys = [t.key for t in await rows(stack, Throttle)]
    assert len(keys) == 2 and all(len(k) == 64 and "ben" not in k for k in keys)

    admin, _ = await admin_http(server, stack)
    async with admin:
        listed = (await admin.get("/console/api/admin/staff")).json()["staff"]
        ben = next(s for s in listed if s["username"] == "ben")
        assert ben["locked"] is True
        assert (await admin.post(f"/console/api/admin/staff/{ben['id']}/unlock", json={})).status_code == 200
    async with client(server) as http:
        assert (await login(http, "ben", password)).status_code == 200


async def test_a_session_cookie_without_the_csrf_token_changes_nothing(stack: Stack, server: ServerProcess) -> None:
    admin, _ = await admin_http(server, stack)
    async with admin:
        bare = httpx.AsyncClient(base_url=server.url, cookies=admin.cookies)
        async with bare:
            created = await bare.post("/console/api/admin/canned", json={
                "locale": "sq", "shortcut": "hi", "title": "Hi", "body": "Përshëndetje!"})
            assert created.status_code == 403
            assert created.json()["error"] == translate("sq", "This request lacks the page's security token. "
                                                              "Reload the page and try again.")
            wrong = await bare.post("/console/api/admin/staff", headers={"x-csrf-token": "forged"},
                                    json={"username": "eve", "name": "Eve", "role": "admin"})
            assert wrong.status_code == 403
            assert (await bare.post("/console/api/logout-everywhere")).status_code == 403
            assert (await bare.post("/console/api/password", json={})).status_code in (400, 403)
        assert (await admin.get("/console/api/admin/canned")).json()["replies"] == []
        assert "eve" not in [s["username"] for s in (await admin.get("/console/api/admin/staff")).json()["staff"]]
        assert (await admin.get("/console/api/me")).status_code == 200  # still signed in
    denied = [e for e in await rows(stack, AuditEntry) if e.action == "denied"]
    assert denied and all(e.detail["reason"] == "csrf" for e in denied)


async def test_password_change_keeps_the_key_and_admin_reset_starts_again(stack: Stack, server: ServerProcess) -> None:
    password = add_user(stack, "ana")
    ana = StaffClient(server.url, "ana", password)
    profile = await ana.sign_in()
    assert ana.private_key is not None
    key_before = bytes(ana.private_key)
    new_password = "new-" + secrets.token_urlsafe(12)
    salt = secrets.token_bytes(16)
    # What the page sends (ADR 0021): auth values of the old and new password, never the passwords.
    old_salt = crypto.b64u_decode(profile["kdf_salt"])
    old_auth = crypto.b64u_encode(crypto.derive_signin(password, old_salt)[0])
    new_auth, new_unwrap = crypto.derive_signin(new_password, salt)
    sealed = crypto.seal(new_unwrap, key_before)
    async with httpx.AsyncClient(base_url=server.url, cookies=ana.cookies) as http:
        body = {"old_auth": crypto.b64u_encode(crypto.derive_signin("not-it-" + password, old_salt)[0]),
                "new_auth": crypto.b64u_encode(new_auth),
                "kdf_salt": crypto.b64u_encode(salt), "encrypted_private_key": sealed}
        wrong = await http.post("/console/api/password?lang=en", headers={"x-csrf-token": ana.csrf}, json=body)
        assert wrong.status_code == 400 and "current password" in wrong.json()["error"]
        malformed = await http.post("/console/api/password?lang=en", headers={"x-csrf-token": ana.csrf},
                                    json={**body, "old_auth": old_auth, "new_auth": new_password})
        assert malformed.status_code == 400 and "32 bytes" in malformed.json()["error"]
        changed = await http.post("/console/api/password", headers={"x-csrf-token": ana.csrf},
                                  json={**body, "old_auth": old_auth})
        assert changed.status_code == 200
    async with client(server) as http:
        assert (await login(http, "ana", password)).status_code == 401  # the old password is gone
    again = StaffClient(server.url, "ana", new_password, totp_secret=ana.totp_secret)
    await again.sign_in()
    assert again.private_key is not None and bytes(again.private_key) == key_before
    assert again.private_key.public_key == nacl.public.PrivateKey(key_before).public_key

    admin, _ = await admin_http(server, stack)
    async with admin:
        member = next(s for s in (await admin.get("/console/api/admin/staff")).json()["staff"]
                      if s["username"] == "ana")
        assert member["totp"] is True and member["key"] == "signed"
        reset = (await admin.post(f"/console/api/admin/staff/{member['id']}/reset", json={})).json()
        assert reset["notice"] == translate("sq", KEY_GONE) and len(reset["password"]) >= 12
        member = next(s for s in (await admin.get("/console/api/admin/staff")).json()["staff"]
                      if s["username"] == "ana")
        assert member["totp"] is False and member["key"] == "none" and member["key_reset_at"]
    async with httpx.AsyncClient(base_url=server.url, cookies=again.cookies) as http:
        assert (await http.get("/console/api/me")).status_code == 401  # their sessions ended
    fresh = StaffClient(server.url, "ana", reset["password"])
    info = await fresh.sign_in()  # enrols TOTP and a new key pair, as at a first sign-in
    assert info["key_reset"] is True and fresh.totp_secret != ana.totp_secret
    assert fresh.private_key is not None and bytes(fresh.private_key) != key_before
    actions = [e.action for e in await rows(stack, AuditEntry)]
    assert {"password.changed", "staff.reset", "key.enrolled"} <= set(actions)


async def test_admin_staff_canned_and_settings_apis(stack: Stack, server: ServerProcess) -> None:
    admin, _ = await admin_http(server, stack)
    counsellor_password = add_user(stack, "ana")
    ana = StaffClient(server.url, "ana", counsellor_password)
    await ana.sign_in()
    async with admin:
        made = await admin.post("/console/api/admin/staff", json={
            "username": "dita", "name": "Dita", "role": "supervisor", "locale": "en"})
        assert made.status_code == 201
        one_time = made.json()["password"]
        assert (await admin.post("/console/api/admin/staff", json={
            "username": "dita", "name": "Dita", "role": "supervisor"})).status_code == 409
        officer = await admin.post("/console/api/admin/staff", json={
            "username": "oli", "name": "Oli", "role": "officer"})
        assert officer.status_code == 400
        assert officer.json()["error"] == translate("sq", "An officer needs an agency.")
        bad = await admin.post("/console/api/admin/staff", json={"username": "X Y", "name": "x", "role": "admin"})
        assert bad.status_code == 400
        dita = StaffClient(server.url, "dita", one_time)
        assert (await dita.sign_in())["staff"]["role"] == "supervisor"
        listed = {s["username"]: s for s in (await admin.get("/console/api/admin/staff")).json()["staff"]}
        assert (await admin.post(f"/console/api/admin/staff/{listed['dita']['id']}/role",
                                 json={"role": "counsellor"})).status_code == 200
        assert (await admin.post(f"/console/api/admin/staff/{listed['dita']['id']}/disabled",
                                 json={"disabled": True})).status_code == 200
        async with client(server) as http:
            assert (await login(http, "dita", one_time)).status_code == 401
        assert (await admin.post(f"/console/api/admin/staff/{listed['root']['id']}/disabled",
                                 json={"disabled": True})).status_code == 409  # not yourself

        reply = {"locale": "sq", "shortcut": "hello", "title": "Greeting", "body": "Përshëndetje! Si je?"}
        created = await admin.post("/console/api/admin/canned", json=reply)
        assert created.status_code == 201
        assert (await admin.post("/console/api/admin/canned", json=reply)).status_code == 409
        assert (await admin.post("/console/api/admin/canned", json={**reply, "shortcut": "Bad one"})).status_code == 400
        reply_id = created.json()["id"]
        assert (await admin.put(f"/console/api/admin/canned/{reply_id}",
                                json={**reply, "title": "Hello"})).json()["title"] == "Hello"
        async with httpx.AsyncClient(base_url=server.url, cookies=ana.cookies,
                                     headers={"x-csrf-token": ana.csrf}) as http:
            assert [r["shortcut"] for r in (await http.get("/console/api/canned")).json()["replies"]] == ["hello"]
            assert (await http.post("/console/api/admin/canned", json={**reply, "shortcut": "x"})).status_code == 403
            assert (await http.get("/console/api/admin/staff")).status_code == 403
        assert (await admin.get("/console/api/canned")).status_code == 403  # admins do not chat
        assert (await admin.delete(f"/console/api/admin/canned/{reply_id}")).status_code == 200

        # Opening hours and the chat limit: the console overrides the environment at once.
        settings = (await admin.get("/console/api/admin/settings")).json()
        assert settings["opening_hours"] == "00:00-24:00" and settings["overridden"] == []
        assert (await admin.post("/console/api/admin/settings",
                                 json={"opening_hours": "25:00-26:00", "max_chats": 1})).status_code == 400
        closed = (await admin.post("/console/api/admin/settings",
                                   json={"opening_hours": "03:00-03:01", "max_chats": 1})).json()
        assert closed["overridden"] == ["max_chats", "opening_hours"]
        assert "03:00" in httpx.get(server.url + "/").text  # the child page says when it opens
        child = ChildClient(server.url, stack.org_public_key)
        await child.connect()
        with pytest.raises(FrameError) as refused:
            await child.start({})
        assert refused.value.code == "closed"
        await child.close()
        await admin.post("/console/api/admin/settings", json={"opening_hours": None, "max_chats": 1})
        convs = []
        for _ in range(2):
            kid = ChildClient(server.url, stack.org_public_key)
            await kid.connect()
            convs.append((kid, await kid.start({})))
        await ana.connect()
        await ana.accept(convs[0][1])
        with pytest.raises(FrameError) as busy:
            await ana.accept(convs[1][1])
        assert busy.value.code == "busy"
        for kid, _conv in convs:
            await kid.close()
        await ana.close()
    actions = [e.action for e in await rows(stack, AuditEntry)]
    assert {"staff.created", "staff.role", "staff.disabled", "canned.saved", "canned.deleted",
            "settings.saved"} <= set(actions)
