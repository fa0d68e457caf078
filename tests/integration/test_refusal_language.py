"""A refusal is one whole sentence in the request's language (issue 17).

"Kërkesa u refuzua: 'username' is missing." mixed Albanian and English: the sentence around a
field came from the code in English. Now every validation refusal is a catalog sentence; only the
field's name stays as the code spells it. Checked on the public sign-in, a staff route and the
officers' portal, in Albanian and in English, against a real server."""

from __future__ import annotations

import re

import httpx

from helpline.i18n import translate
from tests.chat_client import StaffClient
from tests.support import ServerProcess, Stack, add_user

ENGLISH_WORDS = re.compile(r"\b(missing|must|field|contains|request|refused|unknown|characters?|one of)\b", re.I)


def whole(locale: str, msgid: str, **params: object) -> str:
    return translate(locale, msgid) % params


async def test_validation_refusals_are_whole_sentences_in_one_language(stack: Stack, server: ServerProcess) -> None:
    password = add_user(stack, "lang-admin", role="admin")
    admin = StaffClient(server.url, "lang-admin", password)
    await admin.sign_in()
    async with httpx.AsyncClient(base_url=server.url, headers={"origin": server.url}) as public, \
            httpx.AsyncClient(base_url=server.url, cookies=admin.cookies,
                              headers={"origin": server.url, "x-csrf-token": admin.csrf}) as console:
        for lang in ("sq", "en"):
            missing = await public.post(f"/console/api/login?lang={lang}", json={})
            assert missing.status_code == 400
            assert missing.json()["error"] == whole(lang, "The field '%(name)s' is missing.", name="username")

            unknown = await console.post("/console/api/admin/canned", headers={"x-helpline-lang": lang},
                                         json={"locale": "sq", "shortcut": "x", "title": "t", "body": "b", "extra": 1})
            assert unknown.json()["error"] == whole(lang, "There is no field '%(name)s' here.", name="extra")
            long_title = await console.post("/console/api/admin/canned", headers={"x-helpline-lang": lang},
                                            json={"locale": "sq", "shortcut": "x", "title": "t" * 500, "body": "b"})
            assert long_title.status_code == 400
            sentence = long_title.json()["error"]
            assert "'title'" in sentence and "500" not in sentence
            not_object = await console.post("/console/api/admin/canned", headers={"x-helpline-lang": lang},
                                            json=[1, 2])
            assert not_object.json()["error"] == whole(lang, "The request must be a JSON object.")

            for answer in (missing, unknown, long_title, not_object):
                text = answer.json()["error"]
                without_fields = re.sub(r"'[^']*'", "", text)
                if lang == "sq":
                    assert not ENGLISH_WORDS.search(without_fields), text
                    assert "Kërkesa u refuzua:" not in text
                else:
                    assert not re.search(r"[ëç]|Kërkesa|Fusha|Mungon", text), text
    assert whole("sq", "The field '%(name)s' is missing.", name="username") == "Mungon fusha 'username'."
    await admin.close()
