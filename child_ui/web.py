"""The child's pages: the chat page and the safety pages (the report page is child_ui/report.py)."""

from __future__ import annotations

import datetime as dt
import functools
import gzip
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from babel.dates import format_date, format_time
from babel.numbers import get_decimal_symbol, get_group_symbol
from babel.support import NullTranslations
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from chat.model import is_open
from child_ui import more_help, pack_pages
from helpline import pack, runtime_config, taxonomy
from helpline.i18n import (
    JS_SOURCES,
    babel_locale,
    catalog_dirs,
    default_locale,
    js_messages,
    js_plural_ids,
    load_catalog,
    locales,
    page_language,
    pick_locale,
    plural_config,
    plural_table,
)
from helpline.opening import OpeningHours
from helpline.voice import voice_config

if TYPE_CHECKING:
    from helpline.app import Services

ROOT = Path(__file__).resolve().parent.parent
STATIC = Path(__file__).resolve().parent / "static"

# The safety pages, in the order the start page lists them. Each is child_ui/templates/help/<slug>.html.
SAFETY_PAGES = ("grooming", "sextortion", "photos", "cyberbullying", "chatting-here", "confidentiality",
                "report-images", "more-help", "after-referral")

def municipalities() -> list[dict[str, str]]:
    """The helpline pack's municipalities (and their counties) for the pre-chat question."""
    return [dict(m) for m in pack.active().municipalities]


def prechat_choices(locale: str) -> dict[str, list[tuple[str, str]]]:
    """The pack's pre-chat topics and age bands, (code, label) in its order; the labels are the taxonomy's
    ``child_label`` (else ``label``) msgids, translated with the child catalog."""
    data = taxonomy.load().data
    labels = {name: {item["code"]: item.get("child_label") or item.get("label") or item["code"]
                     for item in data.get(name, [])} for name in ("topics", "age_bands")}
    active, catalog = pack.active(), child_translations(locale)
    return {"topic": [(code, catalog.gettext(labels["topics"].get(code, code))) for code in active.topics],
            "age_band": [(code, catalog.gettext(labels["age_bands"].get(code, code))) for code in active.age_bands]}


def stylesheet() -> str:
    """The child pages' styles, inlined into `<style>` and allowed by a CSP hash (ADR 0004)."""
    path = STATIC / "child.css"
    return path.read_text(encoding="utf-8") if path.exists() else ""


def format_clock(time: dt.time, locale: str) -> str:
    """A time of day with Babel's sq_AL data, on the 24-hour clock written in Albania ("08:00")."""
    return format_time(time, "HH:mm", locale=babel_locale(locale))


def opens_at(services: Services, locale: str, hours: tuple[int, int] | None = None) -> dict[str, str] | None:
    """When the chat next opens (see ``next_opening``), or None when open now. ``hours`` are the admins'
    opening hours (helpline.runtime_config) when they override the default."""
    settings = services.settings
    week = runtime_config.week(settings, hours)
    return next_opening(week, dt.datetime.now(dt.UTC).astimezone(settings.timezone), locale)


def next_opening(week: OpeningHours, local: dt.datetime, locale: str) -> dict[str, str] | None:
    """Local time of day of the next opening ("08:00"), and whether that is "today", "tomorrow" or
    "later" (then "day" names the weekday as Babel writes it: "e hënë"); None when open now or never."""
    start = None if week.is_open(local) else week.next_opening(local)
    if start is None:
        return None
    days = (start.date() - local.date()).days
    return {"time": format_clock(start.time(), locale),
            "when": "today" if days == 0 else "tomorrow" if days == 1 else "later",
            "day": format_date(start.date(), "EEEE", locale=babel_locale(locale))}


def child_translations(locale: str) -> NullTranslations:
    """The child domain alone. The merged catalog lets the console's wording win for a msgid both use
    ("Connected", "Counsellor", "Under 10"); the child pages keep their own (docs/glossary.md)."""
    return _child_catalog(locale, catalog_dirs())


@functools.cache
def _child_catalog(locale: str, _folders: tuple[Path, ...]) -> NullTranslations:  # cached per configuration
    return load_catalog(locale, ["child"])


def child_js_config(locale: str) -> dict[str, Any]:
    """Everything child.js needs to speak the locale: strings, plural forms and their rule, number symbols.

    Embedded in the page's config block rather than fetched (docs/adr/0008-child-strings-in-the-page.md).
    """
    return _child_js_config(locale, catalog_dirs())


@functools.cache
def _child_js_config(locale: str, _folders: tuple[Path, ...]) -> dict[str, Any]:
    catalog = child_translations(locale)
    pairs = [pair for path in JS_SOURCES["child"] for pair in js_plural_ids(path)]
    number_locale = babel_locale(locale)
    return {
        "strings": {msg: catalog.gettext(msg) for path in JS_SOURCES["child"] for msg in js_messages(path)},
        "plurals": plural_table(catalog, locale, pairs),
        "plural": plural_config(locale),
        "number": {"group": get_group_symbol(number_locale), "decimal": get_decimal_symbol(number_locale)},
    }


def _compressed(request: Request, response: Response) -> Response:
    """Gzips a page for a browser that accepts it: on slow mobile data every kilobyte counts.

    The pages hold no secret (no token, no personal data), so compression leaks nothing.
    """
    headers = {k: v for k, v in response.headers.items() if k not in ("content-length", "content-type")}
    assert isinstance(response.body, bytes)
    headers["vary"] = "accept-encoding"
    if "gzip" not in request.headers.get("accept-encoding", ""):
        return Response(response.body, status_code=response.status_code, headers=headers,
                        media_type=response.media_type)
    headers["content-encoding"] = "gzip"
    return Response(gzip.compress(bytes(response.body), compresslevel=9, mtime=0), status_code=response.status_code,
                    headers=headers, media_type=response.media_type)


def _render(services: Services, request: Request, template: str, context: dict[str, Any], locale: str,
            status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    """Renders a child page with the child catalog, gzipped when the browser accepts it; never cached."""
    catalog = child_translations(locale)
    html = services.templates.get_template(template).render(
        request=request, **context, gettext=catalog.gettext, ngettext=catalog.ngettext, _=catalog.gettext,
        **page_language(locale))
    return _compressed(request, HTMLResponse(unindent(html), status_code=status_code,
                                             headers={"cache-control": "no-store", **(headers or {})}))


# What keeps its whitespace: scripts, styles (their CSP hash is of the exact text) and preformatted text.
VERBATIM = re.compile(r"(<(script|style|textarea|pre)\b.*?</\2>)", re.S | re.I)
INDENTATION = re.compile(r"\n[ \t]+")


def unindent(html: str) -> str:
    """The page without the templates' indentation, which a browser ignores: fewer bytes on a child's phone."""
    parts = VERBATIM.split(html)
    # split() returns text, then each match and its tag name: keep the match, drop the name.
    out = [INDENTATION.sub("\n", parts[i]) if i % 3 == 0 else parts[i] for i in range(len(parts)) if i % 3 != 2]
    return "".join(out)


def _page_context(services: Services, locale: str) -> dict[str, Any]:
    bundle = services.bundles["child"]
    numbers = pack.numbers()  # the pack's numbers and brand reach the catalog's strings as placeholders
    return {"bundle_src": bundle.src, "bundle_integrity": bundle.integrity, "inline_css": services.child_css,
            "safety_pages": SAFETY_PAGES, "brand": numbers["brand"], "numbers": numbers,
            "lang_query": "" if locale == default_locale() else f"?lang={locale}"}


async def child_page(request: Request) -> Response:
    services: Services = request.app.state.services
    locale = pick_locale(request.query_params.get("lang"))
    hours = await runtime_config.opening_hours(services.store, services.settings)
    open_now = is_open(services.settings, hours=hours)
    waiting = services.bundles["child_waiting"]
    config: dict[str, Any] = {
        **child_js_config(locale),
        "open": open_now,
        "opens_at": opens_at(services, locale, hours),  # the closed screen's sentence
        "quick_exit_url": services.settings.quick_exit_url,
        "ws_path": "/ws/child",
        "lang": locale,
        "autolock_minutes": services.settings.child_autolock_minutes,
        "numbers": pack.numbers(),  # for fmt(): `%(helpline)s` in a string (helpline/static/js/fmt.js)
        # Loaded only when a waiting child needs it (child_waiting.js, ADR 0027).
        "waiting": {"src": waiting.src, "integrity": waiting.integrity},
        **voice_config(services, "voice_child"),
    }
    return _render(services, request, "child.html", {
        **_page_context(services, locale), "config": config, "municipalities": services.municipalities,
        "prechat": prechat_choices(locale),
        "open": open_now, "opens_at": config["opens_at"], "state": "welcome" if open_now else "closed", "slug": "",
    }, locale)


async def safety_page(request: Request) -> Response:
    """A short page a child can read without starting a chat; no script is needed to read it."""
    services: Services = request.app.state.services
    locale = pick_locale(request.query_params.get("lang"))
    slug = request.path_params.get("slug", "")
    config = {"quick_exit_url": services.settings.quick_exit_url, "lang": locale, "numbers": pack.numbers()}
    found = slug in SAFETY_PAGES
    extra: dict[str, Any] = {}
    if slug == "more-help":  # the unit of the municipality she picks (issue 19)
        extra = await more_help.context(services, request)
    template = pack_pages.template(locale, f"help/{slug}.html") if found else "help/missing.html"
    return _render(services, request, template,
                   {**_page_context(services, locale), "slug": slug if found else "", "config": config,
                    "state": "help", **extra}, locale, status_code=200 if found else 404)


async def safety_index(request: Request) -> Response:
    query = f"?lang={request.query_params['lang']}" if request.query_params.get("lang") in locales() else ""
    return RedirectResponse("/" + query + "#learn", status_code=303)


routes = [
    Route("/", child_page),
    Route("/help", safety_index),
    Route("/help/{slug:str}", safety_page),
]
