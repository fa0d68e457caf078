"""Unicode edge cases, size limits and content types on the HTTP forms, against the real server on
both backends (issue 6, "Uploads and forms").

Right-to-left marks, emoji (with skin tones and ZWJ sequences), combining characters, Albanian
letters and scripts far from Latin are stored and read back exactly as sent (no normalisation, no
mangling); NUL and other control characters and lone surrogates are refused with a 400 naming the
field; a body over 64 KiB gets 413, a form without `Content-Type: application/json` 415, broken
JSON 400. No answer is a server error, and the log holds no traceback.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.chat_client import StaffClient
from tests.support import ServerProcess, Stack, add_user

pytestmark = pytest.mark.slow

KEPT = [
    "Ç'kemi, ëndërr e çmendur",                       # Albanian letters
    "\u200fمرحبا\u200e hello \u202bRTL\u202c",          # RTL/LTR marks and embeddings
    "👩🏽‍💻 🧑‍🤝‍🧑 ❤️‍🩹 🇦🇱",                    # emoji: skin tone, ZWJ sequences, flag
    "e\u0301 vs é, a\u0308\u0323 Z\u0335\u0321a\u0336lgo",   # combining characters (not normalised)
    "ﬁ ＡＢＣ ℌ 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 한국어 中文 ελληνικά",       # compatibility forms and other scripts
    "tab\tand line\nbreak",                           # the two control characters a multi-line text may hold
]
REFUSED = ["nul\u0000byte", "bell\u0007", "escape\u001b[31m", "delete\u007f", "c1\u0085x"]


async def admin(server: ServerProcess, stack: Stack) -> httpx.AsyncClient:
    password = add_user(stack, "unicode-admin", role="admin")
    staff = StaffClient(server.url, "unicode-admin", password)
    await staff.sign_in()
    return httpx.AsyncClient(base_url=server.url, cookies=staff.cookies,
                             headers={"origin": server.url, "x-csrf-token": staff.csrf, "x-helpline-lang": "en"})


def canned(title: str, body: str, shortcut: str) -> dict[str, Any]:
    return {"locale": "sq", "shortcut": shortcut, "title": title, "body": body}


async def test_text_keeps_its_meaning_or_is_refused_clearly(stack: Stack, server: ServerProcess) -> None:
    async with await admin(server, stack) as http:
        for i, text in enumerate(KEPT):
            title = text.replace("\n", " ").replace("\t", " ")[:100]
            saved = await http.post("/console/api/admin/canned", json=canned(title, text, f"u{i}"))
            assert saved.status_code == 201, (text, saved.text)
            assert saved.json()["title"] == title and saved.json()["body"] == text
        listed = {r["shortcut"]: r for r in (await http.get("/console/api/admin/canned")).json()["replies"]}
        for i, text in enumerate(KEPT):
            assert listed[f"u{i}"]["body"] == text, "changed on the way through the database"
            assert listed[f"u{i}"]["body"].encode("utf-8") == text.encode("utf-8")

        for i, text in enumerate(REFUSED):
            refused = await http.post("/console/api/admin/canned", json=canned("t", text, f"r{i}"))
            assert refused.status_code == 400, (text, refused.text)
            assert "'body'" in refused.json()["error"] and "control character" in refused.json()["error"]
        # A lone surrogate is valid JSON (\ud800) but no text: refused, not a database error.
        raw = json.dumps(canned("t", "x", "s1")).replace('"x"', '"\\ud800 lone"')
        lone = await http.post("/console/api/admin/canned", content=raw,
                               headers={"content-type": "application/json"})
        assert lone.status_code == 400, lone.text
        # One-line fields refuse a line break with a clear reason.
        two_lines = await http.post("/console/api/admin/canned", json=canned("a\nb", "x", "n1"))
        assert two_lines.status_code == 400 and "one line" in two_lines.json()["error"]
        # A display name with RTL override and emoji is kept; with NUL refused.
        made = await http.post("/console/api/admin/staff", json={"username": "rtl-name", "name": "Ana \u202e🙂",
                                                                  "role": "counsellor"})
        assert made.status_code in (200, 201), made.text
        bad = await http.post("/console/api/admin/staff", json={"username": "nul-name", "name": "A\u0000",
                                                                 "role": "counsellor"})
        assert bad.status_code == 400, bad.text
    assert "Traceback" not in server.log()


async def test_size_limits_and_content_types(stack: Stack, server: ServerProcess) -> None:
    async with await admin(server, stack) as http:
        big = json.dumps(canned("t", "x" * 70_000, "big"))
        too_large = await http.post("/console/api/admin/canned", content=big,
                                    headers={"content-type": "application/json"})
        assert too_large.status_code == 413 and too_large.json()["error"]
        over_field = await http.post("/console/api/admin/canned", json=canned("t", "x" * 2001, "long"))
        assert over_field.status_code == 400 and "2000" in over_field.json()["error"]
        for content_type in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
                             ""):
            wrong = await http.post("/console/api/admin/canned", content=json.dumps(canned("t", "x", "ct")),
                                    headers={"content-type": content_type})
            assert wrong.status_code == 415, (content_type, wrong.status_code)
        for broken in ("{", "[1, 2]", '"text"', "\xff\xfe", "null"):
            answer = await http.post("/console/api/admin/canned", content=broken.encode("latin-1"),
                                     headers={"content-type": "application/json"})
            assert answer.status_code == 400, (broken, answer.status_code, answer.text)
            assert answer.json()["error"]
    assert "Traceback" not in server.log()
