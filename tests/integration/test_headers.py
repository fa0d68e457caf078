"""Every HTTP response carries the strict security headers; scripts carry SRI."""

from __future__ import annotations

import re
from typing import Any

import httpx
from starlette.routing import Route

from helpline.app import _routes
from tests.support import ServerProcess, Stack, add_user, run_async

REQUIRED = {
    "strict-transport-security": "max-age=",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "permissions-policy": "camera=()",
    "x-frame-options": "DENY",
}


def test_every_route_sends_the_security_headers(stack: Stack, server: ServerProcess) -> None:
    home = httpx.get(server.url + "/")
    bundle_src = re.search(r'<script src="([^"]+)" integrity="(sha384-[^"]+)"', home.text)
    assert bundle_src, "the child page's script has no SRI hash"
    paths = ["/", "/?lang=en", "/console", "/healthz", bundle_src.group(1), "/static/console/console.css",
             "/no-such-page", "/bundle/child.wrong.js"]
    for path in paths:
        answer = httpx.get(server.url + path)
        csp = answer.headers.get("content-security-policy", "")
        assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp, path
        assert "unsafe-inline" not in csp and "script-src 'self'" in csp, path
        for name, expected in REQUIRED.items():
            assert expected in answer.headers.get(name, ""), f"{path}: {name}"
    assert "<script>" not in home.text and " on" + "click=" not in home.text
    console = httpx.get(server.url + "/console").text
    assert re.search(r'<script src="/bundle/console\.[^"]+" integrity="sha384-', console)


def test_staff_answers_and_json_are_never_stored(stack: Stack, server: ServerProcess) -> None:
    """Issue 17: the sealed private key, case and referral reads came without `Cache-Control`.

    Every route the app serves, called as a signed-in admin and as a signed-in counsellor, answers
    with `no-store` (allowed or refused), and so does every JSON answer without a session; only the
    script bundles and static files, the same for everyone, keep their caching."""
    from tests.chat_client import StaffClient
    from tests.integration.test_permissions import sample_path

    routes = [(method, route.path) for route in _routes() if isinstance(route, Route)
              for method in sorted((route.methods or {"GET"}) - {"HEAD"})
              if not route.path.startswith(("/bundle/", "/static/"))]
    # Ending the session comes last, so that every other call is made signed in.
    routes.sort(key=lambda r: r[1].startswith("/console/api/logout"))
    assert len(routes) > 60
    passwords = {role: add_user(stack, f"cache-{role}", role=role) for role in ("admin", "counsellor")}

    async def scenario() -> list[str]:
        stored: list[str] = []
        for role, password in passwords.items():
            staff = StaffClient(server.url, f"cache-{role}", password)
            await staff.sign_in()
            async with httpx.AsyncClient(base_url=server.url, cookies=staff.cookies,
                                         headers={"origin": server.url, "x-csrf-token": staff.csrf}) as http:
                for method, path in routes:
                    kwargs: dict[str, Any] = {} if method in ("GET", "DELETE") else {"json": {}}
                    answer = await http.request(method, sample_path(path), **kwargs)
                    if "no-store" not in answer.headers.get("cache-control", ""):
                        stored.append(f"{role} {method} {path}: {answer.status_code} "
                                      f"{answer.headers.get('cache-control')!r}")
        async with httpx.AsyncClient(base_url=server.url, headers={"origin": server.url}) as http:
            for method, path, body in (("POST", "/console/api/login", {"username": "cache-admin", "password": "x"}),
                                       ("GET", "/console/api/me", None), ("GET", "/report/api/readers", None),
                                       ("GET", "/openapi.json", None)):
                answer = await http.request(method, path, json=body)
                assert answer.headers["content-type"].startswith("application/json"), path
                if "no-store" not in answer.headers.get("cache-control", ""):
                    stored.append(f"no session {method} {path}: {answer.status_code}")
        return stored

    assert run_async(scenario()) == []
    stylesheet = httpx.get(server.url + "/static/stats.css")
    assert "no-store" not in stylesheet.headers.get("cache-control", "")
