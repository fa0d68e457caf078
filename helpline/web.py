"""The child's page and the browser bundles."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from chat.service import is_open
from helpline.i18n import js_strings, pick_locale

if TYPE_CHECKING:
    from helpline.app import Services

DATA = Path(__file__).resolve().parent / "data"


def municipalities() -> list[dict[str, str]]:
    path = DATA / "municipalities.json"
    loaded: list[dict[str, str]] = json.loads(path.read_text(encoding="utf-8")) if path.exists() else []
    return loaded


def opens_at(services: Services, locale: str) -> str | None:
    """When the chat next opens, as local time of day ("08:00"), or None when open now."""
    settings = services.settings
    if is_open(settings):
        return None
    start = settings.opening_hours[0]
    return dt.time(start // 60, start % 60).strftime("%H:%M")


async def child_page(request: Request) -> Response:
    services: Services = request.app.state.services
    locale = pick_locale(request.query_params.get("lang"))
    open_now = is_open(services.settings)
    bundle = services.bundles["child"]
    config: dict[str, Any] = {
        "strings": js_strings("child", locale),
        "open": open_now,
        "opens_at": opens_at(services, locale),
        "quick_exit_url": services.settings.quick_exit_url,
        "ws_path": "/ws/child",
        "municipalities": services.municipalities,
        "lang": locale,
    }
    return services.render(request, "child.html", {
        "bundle_src": bundle.src, "bundle_integrity": bundle.integrity, "inline_css": services.child_css,
        "config": config, "municipalities": services.municipalities, "open": open_now,
        "opens_at": config["opens_at"],
    }, locale=locale, headers={"cache-control": "no-store"})


async def bundle_file(request: Request) -> Response:
    services: Services = request.app.state.services
    name, _, _digest = request.path_params["name"].partition(".")
    bundle = services.bundles.get(name)
    if bundle is None or request.url.path != bundle.src:
        return Response("Not found", status_code=404, media_type="text/plain")
    headers = {"cache-control": "public, max-age=31536000, immutable", "vary": "accept-encoding"}
    if "gzip" in request.headers.get("accept-encoding", ""):
        headers["content-encoding"] = "gzip"
        return Response(bundle.gzipped, media_type="text/javascript", headers=headers)
    return Response(bundle.body, media_type="text/javascript", headers=headers)


async def health(request: Request) -> Response:
    return HTMLResponse("ok", media_type="text/plain")


routes = [
    Route("/", child_page),
    Route("/bundle/{name:str}.js", bundle_file),
    Route("/healthz", health),
]
