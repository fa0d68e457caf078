"""ASGI middleware: forget who the client is, and send strict security headers.

`forget_client` runs first, so no route, log line or error report below it can learn the
client's address or user agent: it removes them from the scope that uvicorn's own WebSocket log
lines read too.

No cache keeps what a staff member was shown: every answer to a request that carries a staff
session, and every JSON answer, is sent with `Cache-Control: no-store` unless the route chose its
own caching (the hashed bundles, the stylesheets) or serves a static file, which is the same for
everyone.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from helpline.security.sessions import COOKIE_NAME

NO_STORE = (b"cache-control", b"no-store")
_SESSION_COOKIE = COOKIE_NAME.encode() + b"="
IDENTIFYING_HEADERS = {b"user-agent", b"x-forwarded-for", b"x-real-ip", b"forwarded", b"cf-connecting-ip",
                       b"true-client-ip", b"x-client-ip"}


class ForgetClient:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            scope["client"] = None
            scope["headers"] = [(k, v) for k, v in scope["headers"] if k not in IDENTIFYING_HEADERS]
        await self.app(scope, receive, send)


def content_security_policy(style_hashes: list[str]) -> str:
    styles = " ".join(["'self'"] + [f"'{h}'" for h in style_hashes])
    return "; ".join([
        "default-src 'none'",
        "script-src 'self'",
        f"style-src {styles}",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'none'",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ])


class SecurityHeaders:
    def __init__(self, app: ASGIApp, csp: str) -> None:
        self.app = app
        self.headers = [
            (b"content-security-policy", csp.encode()),
            (b"strict-transport-security", b"max-age=63072000; includeSubDomains"),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"no-referrer"),
            (b"x-frame-options", b"DENY"),
            (b"cross-origin-opener-policy", b"same-origin"),
            (b"cross-origin-resource-policy", b"same-origin"),
            (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=(), usb=(), "
                                    b"interest-cohort=()"),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        staff = any(k == b"cookie" and _SESSION_COOKIE in v for k, v in scope["headers"])
        static = scope["path"].startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                headers += [h for h in self.headers if h[0] not in present]
                if b"cache-control" not in present and not static and (staff or _is_json(headers)):
                    headers.append(NO_STORE)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _is_json(headers: list[tuple[bytes, bytes]]) -> bool:
    return any(k.lower() == b"content-type" and v.startswith(b"application/json") for k, v in headers)
