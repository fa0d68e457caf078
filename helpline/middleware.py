"""ASGI middleware: forget who the client is, and send strict security headers.

`forget_client` runs first, so no route, log line or error report below it can learn the
client's address or user agent: it removes them from the scope that uvicorn's own WebSocket log
lines read too.

No cache keeps what a staff member was shown: every answer to a request that carries a staff
session, and every JSON answer, is sent with `Cache-Control: no-store` unless the route chose its
own caching (the hashed bundles, the stylesheets) or serves a static file, which is the same for
everyone.

`PublicHost` refuses, with 421 and a sentence, a request for any Host but the one in
HELPLINE_PUBLIC_ORIGIN (when it is set), and never lets a redirect carry the Host a request
named: an absolute `Location` on the request's own Host is made relative.

`BodyLimit` refuses a request body larger than MAX_BODY before it is read: at once when
`Content-Length` says so, and while a body without one (chunked) streams in, as soon as it passes
the limit. No route ever holds more than the limit in memory.
"""

from __future__ import annotations

import base64
import hashlib
import json
from urllib.parse import parse_qs, urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from helpline.i18n import pick_locale, translate
from helpline.security.sessions import COOKIE_NAME

MAX_BODY = 64 * 1024  # the largest request body any route accepts (JSON forms and reports)
_LANG_HEADER = b"x-helpline-lang"  # the language the console page asks for (staffweb.LANG_HEADER)
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


def style_hash(css: str) -> str:
    """The CSP source that allows one inlined stylesheet."""
    return "sha256-" + base64.b64encode(hashlib.sha256(css.encode("utf-8")).digest()).decode("ascii")


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
            (b"permissions-policy", b"camera=(), microphone=(self), geolocation=(), payment=(), usb=(), "
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


def _header(scope: Scope, name: bytes) -> bytes:
    return next((v for k, v in scope["headers"] if k == name), b"")


def request_locale(scope: Scope) -> str:
    """The language a refusal made below the routes answers in: `?lang=`, the console's language
    header, else Albanian."""
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    asked = (query.get("lang") or [None])[0] or _header(scope, _LANG_HEADER).decode("latin-1")
    return pick_locale(asked)


def allowed_hosts(public_origin: str) -> frozenset[bytes]:
    """The Host header values that name the public origin (with and without its default port)."""
    if not public_origin:
        return frozenset()
    parts = urlsplit(public_origin)
    default = {"http": 80, "https": 443}.get(parts.scheme)
    host = parts.netloc.lower().rsplit("@", 1)[-1]
    hosts = {host}
    if parts.port is None and default:
        hosts.add(f"{host}:{default}")
    elif parts.port == default:
        hosts.add(host.rsplit(":", 1)[0])
    return frozenset(h.encode("ascii") for h in hosts)


OPERATOR_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


class PublicHost:
    """With a public origin, only its Host is served; redirects never echo a request's Host.

    `/healthz`, `/readyz` and `/metrics` answer on any Host, for load balancers and Prometheus that
    call the process by its address (ADR 0032)."""

    def __init__(self, app: ASGIApp, public_origin: str) -> None:
        self.app = app
        self.origin = public_origin.rstrip("/")
        self.hosts = allowed_hosts(public_origin)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        host = _header(scope, b"host").lower()
        if self.hosts and host not in self.hosts and scope["path"] not in OPERATOR_PATHS:
            await self._refuse(scope, receive, send)
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_relative(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [(k, _relative(v, host) if k.lower() == b"location" else v)
                                      for k, v in message.get("headers", [])]
            await send(message)

        await self.app(scope, receive, send_relative)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await receive()  # websocket.connect; closing before accepting answers the handshake with 403
            await send({"type": "websocket.close", "code": 1008})
            return
        sentence = translate(request_locale(scope), "This helpline answers only at %(origin)s, "
                             "not at the address this request was sent to.") % {"origin": self.origin}
        await send_text(send, 421, sentence)


async def send_text(send: Send, status: int, sentence: str, *, json_error: bool = False) -> None:
    """A refusal made below the routes: one sentence (JSON `{error}` for an API), and the
    connection is not kept."""
    body, media = (json.dumps({"error": sentence}).encode(), b"application/json") if json_error else \
        (sentence.encode(), b"text/plain; charset=utf-8")
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", media), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    """The body streaming in passed the limit."""


class BodyLimit:
    """Request bodies above ``max_bytes`` get 413 without being read into memory."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _header(scope, b"content-length")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, send)
            return
        seen = 0
        started = False

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _TooLarge
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except _TooLarge:
            if not started:  # an answer already begun cannot be replaced; the connection just ends
                await self._refuse(scope, send)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        await send_text(send, 413, translate(request_locale(scope), "The request is too large."),
                        json_error="/api/" in scope["path"])


def _relative(location: bytes, host: bytes) -> bytes:
    """An absolute URL on the request's own Host becomes a path: the browser keeps its origin."""
    parts = urlsplit(location.decode("latin-1"))
    if not parts.netloc or parts.netloc.lower().encode("latin-1") != host:
        return location
    relative = (parts.path or "/") + (f"?{parts.query}" if parts.query else "") + \
        (f"#{parts.fragment}" if parts.fragment else "")
    return relative.encode("latin-1")
