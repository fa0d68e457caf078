"""The core's own routes, shared by every page: the browser bundles and the health check."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

if TYPE_CHECKING:
    from helpline.app import Services


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
    Route("/bundle/{name:str}.js", bundle_file),
    Route("/healthz", health),
]
