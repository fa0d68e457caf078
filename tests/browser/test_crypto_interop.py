"""tweetnacl (through wire.js) in real Chromium against PyNaCl (through helpline/crypto.py).

Every check goes both ways: what the browser seals, Python opens, and the other way round. The
page is a bare one served from a temporary directory with the two scripts the bundle carries.
"""

from __future__ import annotations

import functools
import hashlib
import http.server
import json
import secrets
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nacl.public
import nacl.signing
import pytest
from playwright.sync_api import Browser, Page

from helpline import crypto

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
PAGE = """<!doctype html><meta charset="utf-8"><title>wire</title>
<script src="nacl.min.js"></script><script src="wire.js"></script>"""
VECTORS = json.loads((ROOT / "tests" / "vectors" / "wire.json").read_text(encoding="utf-8"))

b64u = crypto.b64u_encode
unb64u = crypto.b64u_decode


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Keep the test output clean."""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """127.0.0.1 on a random port: a secure context, so WebCrypto is available."""
    root = tmp_path_factory.mktemp("wire-page")
    shutil.copy(ROOT / "node_modules" / "tweetnacl" / "nacl.min.js", root)
    shutil.copy(ROOT / "helpline" / "static" / "js" / "wire.js", root)
    (root / "index.html").write_text(PAGE, encoding="utf-8")
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(root))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/index.html"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture(scope="module")
def page(browser: Browser, site: str) -> Iterator[Page]:
    """One tab for the module, on the session's Chromium (tests/browser/conftest.py)."""
    context = browser.new_context()
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.goto(site)
    assert tab.evaluate("typeof HelplineWire.encryptMessage") == "function"
    yield tab
    context.close()
    assert errors == []


def js(page: Page, body: str, *args: Any) -> Any:
    """Runs `body` with W = HelplineWire and the arguments as a, b, c, d, e."""
    return page.evaluate(
        f"([a, b, c, d, e]) => {{ const W = HelplineWire; {body} }}", [*args, *[None] * 5][:5]
    )


# -- messages -------------------------------------------------------------------------------------


def test_message_sealed_in_the_browser_opens_in_python(page: Page) -> None:
    key = crypto.new_conversation_key()
    text = "Më ndihmoni, ju lutem 🙏\n«shkolla»"
    wire = js(
        page,
        "return W.encryptMessage(W.b64uDecode(a), {conv: 'c_1', from: 'child', cid: 'm1', text: b, at: 7});",
        b64u(key),
        text,
    )
    payload = crypto.decrypt_message(key, wire, conv="c_1", sender="child", cid="m1")
    assert payload == {"v": 1, "conv": "c_1", "from": "child", "cid": "m1", "text": text, "at": 7}
    with pytest.raises(crypto.CryptoError, match="moved"):
        crypto.decrypt_message(key, wire, conv="c_2", sender="child", cid="m1")


def test_message_sealed_in_python_opens_in_the_browser(page: Page) -> None:
    key = crypto.new_conversation_key()
    text = "Jam këtu me ty. Çfarë ndodhi?"
    wire = crypto.encrypt_message(key, conv="c_1", sender="staff:k7", cid="s1", text=text, at=9)
    opened = js(
        page,
        "return W.decryptMessage(W.b64uDecode(a), b, {conv: 'c_1', from: 'staff:k7', cid: 's1'});",
        b64u(key),
        wire,
    )
    assert opened == {"v": 1, "conv": "c_1", "from": "staff:k7", "cid": "s1", "text": text, "at": 9}
    refused = js(
        page,
        """try { W.decryptMessage(W.b64uDecode(a), b, {conv: 'c_1', from: 'child', cid: 's1'}); }
           catch (e) { return e.message; }
           return 'opened';""",
        b64u(key),
        wire,
    )
    assert "moved" in refused


def test_vectors_hold_in_the_browser(page: Page) -> None:
    message = VECTORS["message"]
    for row in message["messages"]:
        fields = {k: row[k] for k in ("conv", "from", "cid", "text", "at")}
        wire = js(
            page,
            "return W.encryptMessage(W.b64uDecode(a), b, W.b64uDecode(c));",
            b64u(bytes.fromhex(message["key"])),
            fields,
            b64u(bytes.fromhex(row["nonce"])),
        )
        assert wire == row["wire"]


# -- wrapped conversation keys --------------------------------------------------------------------


def test_key_wrapped_by_the_child_page_unwraps_for_staff_in_python(page: Page) -> None:
    staff = nacl.public.PrivateKey.generate()
    conv_key = crypto.new_conversation_key()
    secret = secrets.token_bytes(10)
    child_public, wire = js(
        page,
        """const child = W.childKeyPair(W.b64uDecode(a));
           const shared = W.sharedKey(W.b64uDecode(b), child.secretKey);
           return [W.b64uEncode(child.publicKey), W.wrapKey(W.b64uDecode(c), shared)];""",
        b64u(secret),
        b64u(bytes(staff.public_key)),
        b64u(conv_key),
    )
    assert unb64u(child_public) == bytes(crypto.child_private_key(secret).public_key)
    assert crypto.unwrap_key(wire, unb64u(child_public), staff) == conv_key


def test_key_wrapped_in_python_unwraps_in_the_browser(page: Page) -> None:
    secret = secrets.token_bytes(10)
    child = crypto.child_private_key(secret)
    staff = nacl.public.PrivateKey.generate()
    conv_key = crypto.new_conversation_key()
    for_child = crypto.wrap_key(conv_key, bytes(child.public_key), staff)
    self_wrapped = crypto.wrap_key(conv_key, bytes(child.public_key), child)
    opened = js(
        page,
        """const child = W.childKeyPair(W.b64uDecode(a));
           const fromStaff = W.unwrapKey(b, W.sharedKey(W.b64uDecode(c), child.secretKey));
           const fromSelf = W.unwrapKey(d, W.sharedKey(child.publicKey, child.secretKey));
           return [W.b64uEncode(fromStaff), W.b64uEncode(fromSelf)];""",
        b64u(secret),
        for_child,
        b64u(bytes(staff.public_key)),
        self_wrapped,
    )
    assert opened == [b64u(conv_key), b64u(conv_key)]


def test_a_key_wrapped_by_someone_else_does_not_unwrap_as_the_childs_own(page: Page) -> None:
    """The page unwraps its self key with its own public key; a stranger's wrap must fail."""
    secret = secrets.token_bytes(10)
    child = crypto.child_private_key(secret)
    stranger = nacl.public.PrivateKey.generate()
    forged = crypto.wrap_key(crypto.new_conversation_key(), bytes(child.public_key), stranger)
    outcome = js(
        page,
        """const child = W.childKeyPair(W.b64uDecode(a));
           try { W.unwrapKey(b, W.sharedKey(child.publicKey, child.secretKey)); return 'opened'; }
           catch (e) { return e.message; }""",
        b64u(secret),
        forged,
    )
    assert outcome == "wrapped key does not open"


# -- resume code, child key, token ----------------------------------------------------------------


def test_resume_code_made_in_the_browser_gives_python_the_same_keys(page: Page) -> None:
    code, public_key, token = js(
        page,
        """const secret = W.newResumeSecret();
           return [W.formatResumeCode(secret), W.b64uEncode(W.childKeyPair(secret).publicKey),
                   W.b64uEncode(W.childToken(secret))];""",
    )
    secret = crypto.parse_resume_code(code.lower())
    assert b64u(bytes(crypto.child_private_key(secret).public_key)) == public_key
    assert b64u(crypto.child_token(secret)) == token


# -- staff key signatures -------------------------------------------------------------------------


def test_staff_key_signed_in_python_verifies_in_the_browser(page: Page) -> None:
    org = nacl.signing.SigningKey.generate()
    staff_public = bytes(nacl.public.PrivateKey.generate().public_key)
    signature = crypto.sign_staff_key(org, "staff:ana1", staff_public, role="counsellor")
    tampered = bytearray(unb64u(signature))
    tampered[10] ^= 0x20
    verdicts = js(
        page,
        """const org = W.b64uDecode(a), key = W.b64uDecode(b);
           return [W.verifyStaffKey(org, 'staff:ana1', key, c, W.CHAT_ROLES),
                   W.verifyStaffKey(org, 'staff:ana2', key, c, W.CHAT_ROLES),
                   W.verifyStaffKey(org, 'staff:ana1', key, d, W.CHAT_ROLES),
                   W.verifyStaffKey(org, 'staff:ana1', key, 'not a signature', W.CHAT_ROLES),
                   W.staffKeyRole(org, 'staff:ana1', key, c)];""",
        b64u(bytes(org.verify_key)),
        b64u(staff_public),
        signature,
        b64u(bytes(tampered)),
    )
    assert verdicts == [True, False, False, False, "counsellor"]


def test_staff_key_statement_signed_in_the_browser_verifies_in_python(page: Page) -> None:
    """The console may sign with tweetnacl (e.g. in tests); the statement bytes must agree."""
    seed = secrets.token_bytes(32)
    staff_public = bytes(nacl.public.PrivateKey.generate().public_key)
    org_public, signature, fingerprint = js(
        page,
        """const org = nacl.sign.keyPair.fromSeed(W.b64uDecode(a));
           const statement = W.staffKeyStatement('staff:ëç', W.b64uDecode(b), 'officer');
           const signature = nacl.sign.detached(statement, org.secretKey);
           return [W.b64uEncode(org.publicKey), W.b64uEncode(signature), W.keyFingerprint(W.b64uDecode(b))];""",
        b64u(seed),
        b64u(staff_public),
    )
    assert crypto.staff_key_role(unb64u(org_public), "staff:ëç", staff_public, signature) == "officer"
    assert crypto.verify_staff_key(unb64u(org_public), "staff:ëç", staff_public, signature,
                                   roles=crypto.REFERRAL_ROLES)
    assert not crypto.verify_staff_key(unb64u(org_public), "staff:ëç", staff_public, signature,
                                       roles=crypto.CHAT_ROLES)
    assert not crypto.verify_staff_key(unb64u(org_public), "staff:ec", staff_public, signature,
                                       roles=crypto.REFERRAL_ROLES)
    assert fingerprint == crypto.key_fingerprint(staff_public)


def test_officer_and_admin_keys_are_refused_in_the_browser_and_in_python(page: Page) -> None:
    """The same org key signs one staff key for each role: Chromium and PyNaCl agree on which
    purposes accept it (a child's chat only counsellors and supervisors)."""
    org = nacl.signing.SigningKey.generate()
    staff_public = bytes(nacl.public.PrivateKey.generate().public_key)
    signatures = {role: crypto.sign_staff_key(org, "staff:x1", staff_public, role=role)
                  for role in crypto.STAFF_ROLES}
    verdicts = js(
        page,
        """const org = W.b64uDecode(a), key = W.b64uDecode(b), out = {};
           for (const [role, sig] of Object.entries(c)) {
             out[role] = [W.verifyStaffKey(org, 'staff:x1', key, sig, W.CHAT_ROLES),
                          W.verifyStaffKey(org, 'staff:x1', key, sig, W.REFERRAL_ROLES),
                          W.verifyStaffKey(org, 'staff:x1', key, sig, W.REPORT_ROLES)];
           }
           return out;""",
        b64u(bytes(org.verify_key)),
        b64u(staff_public),
        signatures,
    )
    for role, sig in signatures.items():
        python = [crypto.verify_staff_key(bytes(org.verify_key), "staff:x1", staff_public, sig, roles=roles)
                  for roles in (crypto.CHAT_ROLES, crypto.REFERRAL_ROLES, crypto.REPORT_ROLES)]
        assert verdicts[role] == python, role
    assert verdicts["officer"][0] is False and verdicts["admin"] == [False, False, False]
    assert verdicts["counsellor"][0] is True and verdicts["supervisor"][0] is True


# -- password-derived wrapping key and the sealed staff private key -------------------------------


def test_webcrypto_pbkdf2_equals_hashlib(page: Page) -> None:
    salt = secrets.token_bytes(16)
    password = "Fjalëkalim i gjatë 🔑"
    derived = page.evaluate(
        """([password, salt]) => HelplineWire.deriveWrappingKey(password, HelplineWire.b64uDecode(salt))
             .then(HelplineWire.b64uEncode)""",
        [password, b64u(salt)],
    )
    expected = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, 600_000, 32)
    assert unb64u(derived) == expected == crypto.derive_wrapping_key(password, salt)


def test_webcrypto_signin_derivation_equals_python(page: Page) -> None:
    """ADR 0021: Chromium's auth and unwrap values are helpline/crypto.py's, for a random salt and
    for every vector."""
    rows = [{"password": "Fjalëkalim i gjatë 🔑", "salt": b64u(secrets.token_bytes(16)), "iterations": 600_000},
            *VECTORS["signin"]]
    for row in rows:
        derived = page.evaluate(
            """([password, salt, iterations]) => HelplineWire.deriveSignin(password, HelplineWire.b64uDecode(salt),
                 iterations).then((d) => [HelplineWire.b64uEncode(d.auth), HelplineWire.b64uEncode(d.unwrap)])""",
            [row["password"], row["salt"], row["iterations"]],
        )
        auth, unwrap = crypto.derive_signin(row["password"], unb64u(row["salt"]), row["iterations"])
        assert derived == [b64u(auth), b64u(unwrap)]
        if "auth" in row:
            assert derived[0] == row["auth"] and unb64u(derived[1]).hex() == row["unwrap"]


def test_private_key_sealed_in_the_browser_opens_in_python_and_back(page: Page) -> None:
    wrapping_key = secrets.token_bytes(32)
    staff = nacl.public.PrivateKey.generate()
    sealed_in_browser = js(
        page,
        "return W.sealPrivateKey(W.b64uDecode(a), W.b64uDecode(b));",
        b64u(wrapping_key),
        b64u(bytes(staff)),
    )
    assert crypto.open_sealed(wrapping_key, sealed_in_browser) == bytes(staff)
    sealed_in_python = crypto.seal(wrapping_key, bytes(staff))
    opened = js(
        page,
        "return W.b64uEncode(W.openPrivateKey(W.b64uDecode(a), b));",
        b64u(wrapping_key),
        sealed_in_python,
    )
    assert unb64u(opened) == bytes(staff)
