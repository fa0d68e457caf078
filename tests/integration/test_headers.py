"""Every HTTP response carries the strict security headers; scripts carry SRI."""

from __future__ import annotations

import re

import httpx

from tests.support import ServerProcess, Stack

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
