"""Easy-read safety pages (issue 23): for children with intellectual disabilities, and for any child who
reads with difficulty. One short sentence a line, each beside a picture we drew (inline SVG, no request
leaves the page), large text, the helpline's number as a big button. Reached from the start page in
two taps: the "easy-read pages" link, then a page (docs/adr/0040-easy-read-pages-and-a-second-pack.md).

The pages are templates under child_ui/templates/help/easy/; a helpline pack may override them (not add new ones).
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from child_ui import pack_pages, web
from helpline import pack
from helpline.i18n import pick_locale
from helpline.middleware import content_security_policy, style_hash

if TYPE_CHECKING:
    from helpline.app import Services

# In the order the index lists them. Each is child_ui/templates/help/easy/<slug>.html.
EASY_PAGES = ("hurt", "helpers", "talk", "photos")


@functools.cache
def stylesheet() -> str:
    """The easy-read pages' own styles, inlined after child.css and allowed by their CSP hash (ADR 0004)."""
    path = web.STATIC / "easy.css"
    return path.read_text(encoding="utf-8") if path.exists() else ""


def _policy(services: Services) -> dict[str, str]:
    """The pages' own CSP: the child pages' inlined styles and these; the others' stays one hash shorter."""
    return {"content-security-policy": _policy_for(str(services.child_css))}


@functools.cache
def _policy_for(child_css: str) -> str:
    """Hashed once per stylesheet, not at every request."""
    return content_security_policy([style_hash(child_css), style_hash(stylesheet())])


def _context(services: Services, request: Request, slug: str) -> tuple[str, dict[str, Any]]:
    locale = pick_locale(request.query_params.get("lang"))
    context = {**web._page_context(services, locale), "slug": slug, "state": "help", "easy_pages": EASY_PAGES,
               "config": {"quick_exit_url": services.settings.quick_exit_url, "lang": locale,
                          "numbers": pack.numbers()},
               "easy_css": Markup(stylesheet())}  # noqa: S704 - our own stylesheet  # nosec B704
    return locale, context


async def easy_index(request: Request) -> Response:
    """The list of easy-read pages, each with its picture."""
    services: Services = request.app.state.services
    locale, context = _context(services, request, "easy")
    return web._render(services, request, pack_pages.template(locale, "help/easy/index.html"), context, locale,
                       headers=_policy(services))


async def easy_page(request: Request) -> Response:
    """One easy-read page; a page that does not exist says so in the same easy words, with a 404."""
    services: Services = request.app.state.services
    slug = request.path_params.get("slug", "")
    found = slug in EASY_PAGES
    locale, context = _context(services, request, slug if found else "easy")
    name = pack_pages.template(locale, f"help/easy/{slug}.html") if found else "help/easy/index.html"
    return web._render(services, request, name, context, locale, status_code=200 if found else 404,
                       headers=_policy(services))


routes = [
    Route("/easy", easy_index),
    Route("/easy/{slug:str}", easy_page),
]
