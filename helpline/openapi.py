"""The OpenAPI document of every HTTP route, built from the app's own route table at request time.

Nothing is listed by hand, so a new route appears in the document (and in the schemathesis run
of tests/reliability/test_openapi_fuzz.py) the moment it is added. What the table knows is put
in: path and method, path parameters (with Starlette's `int` converter as an integer), whether a
staff session is needed (security schemes: the `hl_session` cookie, and the `x-csrf-token` header
on every state-changing method; staff_route and openapi.needs_session) and for which action of
the permission matrix (staff_route), and what comes back: JSON under /api/ and for health, HTML
pages, script bundles. Request bodies of the JSON APIs are objects checked field by field by
helpline/validate.py, which answers 400 with a sentence naming the field, 413 above 64 KiB and
415 without `Content-Type: application/json`; a route that declares the spec it reads
(validate.declares, staff_route(body=)) gets that body's exact schema (fields, which are
required, nothing else; a field the server checks against a pattern carries it), and a route
that declares an empty spec reads no body. A 405 lists in `Allow` the methods the document gives
the path, and a page that sends a visitor without a session to sign in says so.
WebSocket endpoints are described in docs/protocol.md, not here.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Match, Route

from helpline import validate
from helpline.security import sessions

_PARAM = re.compile(r"{([A-Za-z_][A-Za-z0-9_]*)(?::([a-z]+))?}")
_ERROR = {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}}


def _media(path: str) -> dict[str, Any]:
    if "/api/" in path or path == "/openapi.json":
        return {"application/json": {"schema": {"type": "object"}}}
    if path in ("/healthz", "/readyz"):
        return {"text/plain": {"schema": {"type": "string"}}}
    if path.startswith("/bundle/"):
        return {"application/javascript": {"schema": {"type": "string"}},
                "text/plain": {"schema": {"type": "string"}}}
    for suffix, media_type in ((".css", "text/css"), (".csv", "text/csv")):
        if path.endswith(suffix):
            return {media_type: {"schema": {"type": "string"}}, "text/plain": {"schema": {"type": "string"}}}
    return {"text/html": {"schema": {"type": "string"}}, "text/plain": {"schema": {"type": "string"}}}


def _operation(route: Route, method: str, path: str) -> dict[str, Any]:
    action = getattr(route.endpoint, "helpline_action", None)
    params = [{"name": name, "in": "path", "required": True,
               "schema": {"type": "integer", "minimum": 0} if conv == "int" else {"type": "string", "minLength": 1}}
              for name, conv in _PARAM.findall(route.path)]
    media = _media(path)
    json_api = "application/json" in media and path != "/openapi.json"
    op: dict[str, Any] = {
        "operationId": f"{method}{path}",
        "responses": {"default": {"description": "the answer; errors are JSON `{error}` on JSON routes",
                                  "content": media}},
    }
    if json_api or action is not None:  # staff routes refuse in JSON, whatever they serve
        op["responses"]["4XX"] = {"description": "refused; nothing was changed",
                                  "content": {"application/json": {"schema": _ERROR}}}
        op["responses"]["503"] = {"description": "the database is unavailable; try again",
                                  "content": {"application/json": {"schema": _ERROR}}}
    if params:
        op["parameters"] = params
    if action is not None or getattr(route.endpoint, "helpline_session", False):
        # The session cookie, and on every state-changing method the page's CSRF token with it.
        op["security"] = [{"staffSession": []} if method == "get" else {"staffSession": [], "csrfToken": []}]
    if action is not None:
        op["x-helpline-action"] = action
    if method in ("post", "put", "patch") and json_api and request_schema(route) is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": request_schema(route)}}}
    if getattr(route.endpoint, "helpline_signin_page", False):
        op["security"] = [{"staffSession": []}, {}]  # without a session it answers too: see 303
        op["responses"]["303"] = {"description": "without a session: to the console's sign-in page, which "
                                                 "comes back here after signing in",
                                  "headers": {"Location": {"schema": {"type": "string"}}}}
        op["responses"]["403"] = {"description": "a role that may not see it: a page saying so",
                                  "content": _media(path)}
    return op


def needs_session(endpoint: Any) -> Any:
    """Marks a console endpoint outside staff_route that answers only a session (401 without):
    the document gives it the session's security schemes."""
    endpoint.helpline_session = True
    return endpoint


def request_schema(route: Route) -> dict[str, Any] | None:
    """The body a route reads, from the spec it declares (validate.declares, staff_route(body=)):
    its fields, which are required, nothing else; None for a route that declares it reads no body
    (an empty spec). A route that declares nothing is documented as taking any object;
    tests/reliability/test_openapi_fuzz.py requires every JSON route to declare."""
    spec = getattr(route.endpoint, "helpline_body", None)
    if spec is None:
        return {"type": "object"}
    return validate.object_schema(spec) if spec else None


def document(routes: list[BaseRoute]) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        if not isinstance(route, Route) or getattr(route.endpoint, "helpline_undocumented", False):
            continue
        path = _PARAM.sub(lambda m: "{" + m.group(1) + "}", route.path)
        for method in sorted(route.methods or ()):
            if method == "HEAD":
                continue
            paths.setdefault(path, {})[method.lower()] = _operation(route, method.lower(), path)
    return {
        "openapi": "3.0.3",
        "info": {"title": "Helpline", "version": "1",
                 "description": "Every HTTP route of this server. Chat frames: docs/protocol.md."},
        "paths": dict(sorted(paths.items())),
        "components": {"securitySchemes": {
            "staffSession": {"type": "apiKey", "in": "cookie", "name": sessions.COOKIE_NAME,
                             "description": "Console session; state-changing calls also need `x-csrf-token`."},
            "csrfToken": {"type": "apiKey", "in": "header", "name": "x-csrf-token",
                          "description": "The session's CSRF token (the sign-in answers it as `csrf`)."}}},
    }


async def endpoint(request: Request) -> JSONResponse:
    return JSONResponse(document(list(request.app.routes)))


async def http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own refusals (no such path, wrong method) in the route's language: JSON under /api/."""
    assert isinstance(exc, HTTPException)
    if exc.status_code in (204, 304):
        return Response(status_code=exc.status_code, headers=exc.headers)
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = ", ".join(documented_methods(request))
    if "/api/" in request.url.path:
        return JSONResponse({"error": exc.detail}, status_code=exc.status_code, headers=headers)
    return PlainTextResponse(exc.detail, status_code=exc.status_code, headers=headers)


def documented_methods(request: Request) -> list[str]:
    """The methods the document lists for the request's path, without HEAD (served with GET, not
    listed), whatever route Starlette's router happened to try first."""
    matching = [r for r in request.app.routes if isinstance(r, Route) and r.matches(request.scope)[0] != Match.NONE]
    # A path named in full (/cases/pending) is its own entry in the document, apart from the
    # pattern that would also match it (/cases/{conv}).
    exact = [r for r in matching if r.path == request.url.path]
    chosen = exact or [r for r in matching if matching and r.path == matching[0].path]
    return sorted({m for r in chosen for m in (r.methods or ())} - {"HEAD"})


routes = [Route("/openapi.json", endpoint, methods=["GET"])]
