"""The sign-in pages' forms cannot put a password in a URL, even before (or without) their script:
every form with a password field is method="post" back to the page, which never reads the body,
and no password field has a name (issue 17)."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx

from tests.support import ServerProcess, Stack

SIGN_IN_PAGES = ["/console", "/console?lang=sq", "/referrals?lang=en", "/stats"]
CREDENTIALS = {"username", "password", "auth", "code", "old_password", "new_password"}


class Forms(HTMLParser):
    """Each form's attributes and the inputs inside it."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[dict[str, str | None], list[dict[str, str | None]]]] = []
        self._open = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "form":
            self.forms.append((dict(attrs), []))
            self._open = True
        elif tag == "input" and self._open:
            self.forms[-1][1].append(dict(attrs))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._open = False


async def test_every_password_form_posts_to_a_page_that_takes_no_credentials(
        stack: Stack, server: ServerProcess) -> None:
    async with httpx.AsyncClient(base_url=server.url, follow_redirects=True) as http:
        for path in SIGN_IN_PAGES:
            page = await http.get(path)
            assert page.status_code == 200, (path, page.status_code)
            parser = Forms()
            parser.feed(page.text)
            with_password = [(form, inputs) for form, inputs in parser.forms
                             if any((i.get("type") or "").lower() == "password" for i in inputs)]
            assert with_password, f"{path} has no password form"
            for form, inputs in with_password:
                assert (form.get("method") or "get").lower() == "post", (path, form)
                action = urljoin(str(page.url), form.get("action") or "")
                parts = urlsplit(action)
                assert parts.netloc == urlsplit(server.url).netloc, action
                assert not CREDENTIALS & set(parse_qs(parts.query)), action
                assert "/api/" not in parts.path, action  # not an endpoint that takes credentials
                for field in inputs:
                    if (field.get("type") or "").lower() == "password":
                        assert field.get("name") is None, (path, field)
                # What a browser without the script would send: the page again, nothing read.
                sent = await http.post(action, data={"username": "someone", "password": "typed-secret"})
                assert sent.status_code == 200 and "typed-secret" not in sent.text, (action, sent.status_code)
                assert "text/html" in sent.headers["content-type"]
    assert "typed-secret" not in server.log()
