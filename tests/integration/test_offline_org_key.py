"""Production shape: the server cannot read the org signing key, an admin signs keys offline."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable

import httpx

from helpline import crypto
from tests.chat_client import StaffClient
from tests.support import ROOT, ServerProcess, Stack, add_user


async def test_keys_wait_unsigned_until_signed_with_the_offline_key(
        stack: Stack, start_server: Callable[..., ServerProcess]) -> None:
    offline = stack.data_dir / "org-signing.key"
    server = start_server(HELPLINE_ORG_KEY_FILE=str(stack.data_dir / "not-here.key"))
    password = add_user(stack, "ana")
    staff = StaffClient(server.url, "ana", password)
    info = await staff.sign_in()
    assert info["needs_key"] is True
    console = StaffClient(server.url, "ana", password)
    again = await console.sign_in()  # password and TOTP again
    assert again["public_key"] and again["key_signature"] is None  # children will refuse it for now

    # The console shows the same fingerprint the admin sees; the admin signs the key by naming it.
    fingerprint = crypto.key_fingerprint(crypto.b64u_decode(again["public_key"]))
    signed = subprocess.run([sys.executable, "-m", "helpline.cli", "keys", "sign", "--key-file", str(offline),
                             "--fingerprint", fingerprint],
                            cwd=ROOT, env=stack.env, capture_output=True, text=True, check=True)
    assert f"{fingerprint}  ana (Ana), counsellor - new key" in signed.stdout
    assert f"Signed 1 staff key(s): ana {fingerprint}" in signed.stdout
    # The open console reads its profile again (a third sign-in would wait for a new TOTP step).
    async with httpx.AsyncClient(base_url=server.url, cookies=console.cookies) as http:
        after = (await http.get("/console/api/me")).raise_for_status().json()
    assert crypto.staff_key_role(stack.org_public_key, after["staff"]["id"], crypto.b64u_decode(after["public_key"]),
                                 after["key_signature"]) == "counsellor"
