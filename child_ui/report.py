"""The public page for reporting illegal content at /report (issue 4): no account, nothing kept about
the reporter. The page encrypts the report in the browser (child_ui/static/report.js, bundle
`report`) to the police cybercrime officers' keys, each checked against the pinned org key, and
sends it to the API in referral/portal.py; the reporter gets a code to check its status."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from child_ui import web
from helpline import pack
from helpline.i18n import bcp47, catalog_dirs, js_messages, pick_locale

if TYPE_CHECKING:
    from helpline.app import Services

SCRIPT = web.STATIC / "report.js"
KINDS = ("sexual_images", "grooming", "threats", "other")  # referral.service.REPORT_KINDS


def report_strings(locale: str) -> dict[str, str]:
    """The script's own words, from the child catalog (it is a page for children)."""
    return _report_strings(locale, catalog_dirs())


@functools.cache
def _report_strings(locale: str, _folders: tuple[Path, ...]) -> dict[str, str]:
    catalog = web.child_translations(locale)
    return {msg: catalog.gettext(msg) for msg in js_messages(SCRIPT)}


async def report_page(request: Request) -> Response:
    services: Services = request.app.state.services
    locale = pick_locale(request.query_params.get("lang"))
    bundle = services.bundles["report"]
    config: dict[str, Any] = {"strings": report_strings(locale), "lang": locale,
                              "lang_tag": bcp47(locale), "quick_exit_url": services.settings.quick_exit_url,
                              "numbers": pack.numbers()}
    context = {**web._page_context(services, locale), "bundle_src": bundle.src,
               "bundle_integrity": bundle.integrity, "config": config, "state": "report", "slug": "",
               "kinds": KINDS}
    return web._render(services, request, "report.html", context, locale)


routes = [Route("/report", report_page)]
