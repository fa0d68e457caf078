"""The org signature names the role a staff key is for (ADR 0022), and Chromium holds to it: the
child's page accepts only a counsellor's or a supervisor's key, and the console encrypts a
referral or a case note only for keys signed for a role that may read it."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import nacl.public
import nacl.signing
import pytest
from playwright.sync_api import Browser, BrowserContext, Request, expect
from sqlalchemy import select

from helpline import crypto
from helpline.db import make_engine, make_sessionmaker
from helpline.keys import load_signing_key
from helpline.models import Staff
from tests.browser.conftest import Loop
from tests.browser.console_signin import sign_in
from tests.browser.test_child_chat import BackgroundCounsellor, start_chat
from tests.integration.referral_support import cli, query
from tests.support import ServerProcess, Stack, add_user, run_async


@pytest.fixture
def contexts(browser: Browser) -> Iterator[tuple[BrowserContext, BrowserContext]]:
    child = browser.new_context(viewport={"width": 360, "height": 740})
    staff = browser.new_context(viewport={"width": 1280, "height": 900})
    yield child, staff
    child.close()
    staff.close()


async def _sign_as(stack: Stack, username: str, role: str | None, *, make_key: bool = False) -> None:
    """Writes into the database what a database writer could: the staff member's key signed by the
    org key for `role` (which need not be hers), or by a key that is not the org's (`role` None)."""
    org = load_signing_key(stack.data_dir / "org-signing.key")
    engine = make_engine(stack.database_url)
    try:
        async with make_sessionmaker(engine)() as db, db.begin():
            staff = (await db.execute(select(Staff).where(Staff.username == username))).scalar_one()
            if make_key:
                staff.public_key = crypto.b64u_encode(bytes(nacl.public.PrivateKey.generate().public_key))
            public = crypto.b64u_decode(str(staff.public_key))
            signer = org if role else nacl.signing.SigningKey.generate()
            staff.key_signature = crypto.sign_staff_key(signer, staff.participant_id, public, role=role or "counsellor")
    finally:
        await engine.dispose()


def test_the_child_page_refuses_an_officers_signed_key_and_accepts_a_counsellors(
        stack: Stack, server: ServerProcess, contexts: tuple[BrowserContext, BrowserContext]) -> None:
    mira_password = add_user(stack, "mira")
    ana_password = add_user(stack, "ana", child_name="Arta")
    page = contexts[0].new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    # Mira's key carries a genuine org signature, but one that says "officer" (written after her
    # browser enrolled the key, before her console connects).
    mira = BackgroundCounsellor(server, "mira", mira_password,
                                before_connect=lambda: run_async(_sign_as(stack, "mira", "officer")))
    try:
        start_chat(page, server)
        queue = mira.run(mira.client.socket.next_event("queue"))  # type: ignore[union-attr]
        while not queue.get("items"):
            queue = mira.run(mira.client.socket.next_event("queue"))  # type: ignore[union-attr]
        conv = queue["items"][0]["conv"]
        mira.run(mira.client.accept(conv))
        expect(page.locator("#chat-error")).to_have_text(
            "Personi që hyri nuk është nga këshilltarët tanë. Për sigurinë tënde, biseda ndalon këtu. "
            "Telefono në 116 111.")
        assert conv not in mira.client.keys  # nothing was wrapped for her key
    finally:
        mira.close()
    assert run_async(query(stack, "SELECT participant FROM conversation_keys WHERE conversation_id = :c",
                           {"c": conv})) == [("child",)]

    # Ana's key is signed as a counsellor's: the next chat goes on.
    ana = BackgroundCounsellor(server, "ana", ana_password)
    try:
        start_chat(page, server)
        queue = ana.run(ana.client.socket.next_event("queue"))  # type: ignore[union-attr]
        while not queue.get("items"):
            queue = ana.run(ana.client.socket.next_event("queue"))  # type: ignore[union-attr]
        second = queue["items"][0]["conv"]
        ana.run(ana.client.accept(second))
        ana.run(ana.client.wait_for_key(second))
        expect(page.locator("#counsellor")).to_contain_text("Arta")  # the name chosen for children
        expect(page.locator("#chat-error")).to_be_empty()
    finally:
        ana.close()
    assert errors == []


def test_the_console_encrypts_referrals_and_case_notes_only_for_keys_signed_for_them(
        stack: Stack, server: ServerProcess, loop: Loop, contexts: tuple[BrowserContext, BrowserContext]) -> None:
    cli(stack, "directory", "load")
    password = add_user(stack, "ana")
    add_user(stack, "drita", "officer")
    cli(stack, "directory", "officer", "drita", "cpu-shkoder")
    add_user(stack, "cen", "counsellor")
    # The agency officer's key is signed by the org, but for the manager's role; colleague Cen's for an officer's.
    run_async(_sign_as(stack, "drita", "manager", make_key=True))
    run_async(_sign_as(stack, "cen", "officer", make_key=True))

    page = contexts[1].new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sent: list[str] = []

    def record(request: Request) -> None:
        if request.method in ("POST", "PUT") and ("/api/referrals" in request.url or "/api/cases/" in request.url):
            sent.append(request.method + " " + request.url)

    page.on("request", record)
    page.on("dialog", lambda dialog: dialog.accept())
    sign_in(page, server, "ana", password)
    # The console shows the fingerprint `helpline keys sign` shows the admin; her key is signed.
    ana = run_async(query(stack, "SELECT public_key FROM staff WHERE username = 'ana'"))[0][0]
    expect(page.locator("#key-fingerprint")).to_have_text(
        f"Your key’s fingerprint: {crypto.key_fingerprint(crypto.b64u_decode(ana))}")
    expect(page.locator("#key-pending")).to_be_hidden()
    child, conv = loop.child(server, stack)
    clients: list[Any] = [child]
    try:
        page.locator("button[data-accept]").click()
        panel = page.locator(f"[data-conv='{conv}']")
        expect(panel).to_be_visible()

        # Referral: the officer's key is refused before anything is sealed or sent.
        panel.locator("button.refer").click()
        form = panel.locator("form.referral-form")
        expect(form.locator("select[name=agency]")).to_have_value("cpu-shkoder")
        form.locator("textarea[name=requested_action]").fill("Vizitë në shtëpi sot")
        form.locator("select[name=urgency]").select_option("urgent")  # the form starts with none chosen
        form.locator("select[name=chi_category]").select_option("violence.physical")
        form.locator("button[type=submit]").click()
        expect(form.locator(".referral-error")).to_have_text(
            "The key of Drita is not signed for reading referrals. Nothing was sent.")
        # A signature by another key than the org's is refused too.
        run_async(_sign_as(stack, "drita", None))
        form.locator("button[type=submit]").click()
        expect(form.locator(".referral-error")).to_have_text(
            "The key of Drita is not signed by the helpline. Nothing was sent.")

        # Case note: a colleague's key signed for an officer is refused; nothing is saved.
        panel.locator(".end-chat").click()
        case = panel.locator("form.case-form")
        expect(case.locator("select[name=contact_type] option")).not_to_have_count(0)
        case.locator("select[name=contact_type]").select_option(index=0)
        case.locator("select[name=primary_category]").select_option(index=1)
        case.locator("textarea[name=note]").fill("Fëmija ka frikë; telefonoi sërish")
        case.locator("button[type=submit]").click()
        expect(case.locator(".case-error")).to_have_text(
            "The key of Cen is not signed by the helpline for case notes. Nothing was saved: ask an admin.")
        assert sent == []
        assert run_async(query(stack, "SELECT count(*) FROM referrals")) == [(0,)]
        assert run_async(query(stack, "SELECT count(*) FROM case_records")) == [(0,)]

        # Signed for a counsellor, Cen can read case notes: the note is saved, wrapped for both.
        run_async(_sign_as(stack, "cen", "counsellor"))
        case.locator("button[type=submit]").click()
        expect(panel.locator(".case-saved")).to_be_visible()
        assert len(sent) == 1 and sent[0].startswith("PUT ")
    finally:
        loop.close(clients)
    assert errors == []


def test_the_fingerprint_the_console_shows_is_the_one_keys_sign_takes(
        stack: Stack, start_server: Callable[..., ServerProcess],
        contexts: tuple[BrowserContext, BrowserContext]) -> None:
    """Org key offline: the new key waits, the console says so with its fingerprint, and the admin
    signs exactly that key by typing the fingerprint the staff member reads out."""
    server = start_server(HELPLINE_ORG_KEY_FILE=str(stack.data_dir / "not-here.key"))
    password = add_user(stack, "ana")
    add_user(stack, "cen")
    page = contexts[1].new_page()
    sign_in(page, server, "ana", password)
    notice = page.locator("#key-pending")
    expect(notice).to_be_visible()
    found = re.search(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", notice.inner_text())
    assert found, notice.inner_text()
    fingerprint = found.group(0)
    # Another key slipped into the database meanwhile (forged signature) is listed, not signed.
    run_async(_sign_as(stack, "cen", None, make_key=True))
    signed = cli(stack, "keys", "sign", "--key-file", str(stack.data_dir / "org-signing.key"),
                 "--fingerprint", fingerprint)
    assert f"{fingerprint}  ana (Ana), counsellor - new key" in signed.stdout
    assert "cen (Cen), counsellor - new key" in signed.stdout
    assert f"Signed 1 staff key(s): ana {fingerprint}" in signed.stdout
    roles = run_async(_signed_roles(stack))
    assert roles == {"ana": "counsellor", "cen": None}


async def _signed_roles(stack: Stack) -> dict[str, str | None]:
    engine = make_engine(stack.database_url)
    try:
        async with make_sessionmaker(engine)() as db:
            return {staff.username: crypto.staff_key_role(stack.org_public_key, staff.participant_id,
                                                          crypto.b64u_decode(str(staff.public_key)),
                                                          staff.key_signature or "")
                    for staff in (await db.execute(select(Staff))).scalars()}
    finally:
        await engine.dispose()
