"""Console routes: the page shell (no data in it) and every console API, gathered from its modules."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from counsellor_ui import admin, auth, cases, casework, contacts, emergency, followups, handover, keys, mfa, supervise
from helpline import pack
from helpline.i18n import js_config, locales, month_names, pick_locale
from helpline.voice import voice_config

if TYPE_CHECKING:
    from helpline.app import Services


def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


async def console_page(request: Request) -> Response:
    services = _services(request)
    locale = pick_locale(request.query_params.get("lang"))
    bundle = services.bundles["console"]
    config = {**js_config("console", locale), "languages": list(locales()), "ws_path": "/ws/staff",
              "timezone": str(services.settings.timezone), "months": month_names(locale),
              "numbers": pack.numbers(), **voice_config(services, "voice")}
    return services.render(request, "console.html", {
        "bundle_src": bundle.src, "bundle_integrity": bundle.integrity, "config": config,
    }, locale=locale, headers={"cache-control": "no-store"})



# POST answers the page too: a sign-in form submitted before its script has loaded lands here, and
# the body (which carries no password: those fields have no name) is never read.
routes: list[BaseRoute] = [Route("/console", console_page, methods=["GET", "POST"]), *auth.routes, *mfa.routes,
                           *keys.routes, *admin.routes, *cases.routes, *contacts.routes, *supervise.routes,
                           *emergency.routes]
routes += [*casework.routes, *followups.routes, *handover.routes]  # issue 18
