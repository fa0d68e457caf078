"""The child's pages: the chat page and the safety pages (the report page is child_ui/report.py)."""

from __future__ import annotations

import datetime as dt
import gzip
from pathlib import Path
from typing import TYPE_CHECKING, Any

from babel.dates import format_date, format_time
from babel.messages.extract import extract_javascript
from babel.numbers import get_decimal_symbol, get_group_symbol
from babel.support import NullTranslations
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from chat.model import is_open
from child_ui import more_help, pack_pages
from helpline import pack, runtime_config, taxonomy
from helpline.i18n import BABEL_LOCALES, JS_SOURCES, cached, domain_translations, pick_locale
from helpline.opening import OpeningHours
from helpline.voice import voice_config

if TYPE_CHECKING:
    from helpline.app import Services

ROOT = Path(__file__).resolve().parent.parent
STATIC = Path(__file__).resolve().parent / "static"

# The safety pages, in the order the start page lists them. Each is child_ui/templates/help/<slug>.html.
SAFETY_PAGES = ("grooming", "sextortion", "photos", "cyberbullying", "chatting-here", "confidentiality",
                "report-images", "more-help", "after-referral")

# Plural rules the browser knows by name (child.js PLURAL_RULES); Albanian and English share one.
PLURAL_RULES = {"(n != 1)": "one-other"}


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
    return format_time(time, "HH:mm", locale=BABEL_LOCALES[locale])


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
            "day": format_date(start.date(), "EEEE", locale=BABEL_LOCALES[locale])}


def child_translations(locale: str) -> NullTranslations:
    """The child domain alone (the pack's catalog over the core's). The merged catalog lets the console's
    wording win for a msgid both use ("Connected", "Counsellor", "Under 10"); the child pages keep their
    own (docs/glossary.md)."""
    return domain_translations(locale, ("child",))


def _js_messages(path: Path) -> list[str]:
    with path.open("rb") as handle:
        found: list[str] = []
        for _line, _func, message, _comments in extract_javascript(handle, {"_": None}, [], {}):
            if isinstance(message, str):
                found.append(message)
        return found


def _js_plural_ids(path: Path) -> list[tuple[str, str]]:
    with path.open("rb") as handle:
        found: list[tuple[str, str]] = []
        for _line, _func, message, _comments in extract_javascript(handle, {"ngettext": (1, 2)}, [], {}):
            if isinstance(message, (tuple, list)) and len(message) == 2 and all(isinstance(m, str) for m in message):
                found.append((str(message[0]), str(message[1])))
        return found


@cached
def child_js_config(locale: str) -> dict[str, Any]:
    """Everything child.js needs to speak the locale: strings, plural forms and their rule, number symbols.

    Embedded in the page's config block rather than fetched (docs/adr/0008-child-strings-in-the-page.md).
    """
    catalog = child_translations(locale)
    plurals: dict[str, list[str]] = {}
    for path in JS_SOURCES["child"]:
        for singular, plural in _js_plural_ids(path):
            plurals[singular] = [catalog.ngettext(singular, plural, 1), catalog.ngettext(singular, plural, 2)]
    rule = getattr(catalog, "plural", None)
    expr = getattr(catalog, "_info", {}).get("plural-forms", "nplurals=2; plural=(n != 1);")
    expr = expr.split("plural=", 1)[-1].rstrip(";").strip()
    if expr not in PLURAL_RULES:
        raise RuntimeError(f"child.js does not know the plural rule {expr!r} of {locale}")
    assert rule is None or (rule(1), rule(2)) == (0, 1)
    babel_locale = BABEL_LOCALES[locale]
    return {
        "strings": {msg: catalog.gettext(msg) for path in JS_SOURCES["child"] for msg in _js_messages(path)},
        "plurals": plurals,
        "plural_rule": PLURAL_RULES[expr],
        "number": {"group": get_group_symbol(babel_locale), "decimal": get_decimal_symbol(babel_locale)},
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


LANGUAGE_NAMES = {"sq": "Shqip", "en": "English"}  # each in its own language, never translated


def _render(services: Services, request: Request, template: str, context: dict[str, Any], locale: str,
            status_code: int = 200) -> Response:
    """Renders a child page with the child catalog, gzipped when the browser accepts it; never cached."""
    catalog = child_translations(locale)
    html = services.templates.get_template(template).render(
        request=request, **context, gettext=catalog.gettext, ngettext=catalog.ngettext, _=catalog.gettext,
        lang=locale)
    return _compressed(request, HTMLResponse(html, status_code=status_code, headers={"cache-control": "no-store"}))


def _page_context(services: Services, locale: str) -> dict[str, Any]:
    bundle = services.bundles["child"]
    other = "en" if locale == "sq" else "sq"
    numbers = pack.numbers()  # the pack's numbers and brand reach the catalog's strings as placeholders
    return {"bundle_src": bundle.src, "bundle_integrity": bundle.integrity, "inline_css": services.child_css,
            "safety_pages": SAFETY_PAGES, "brand": numbers["brand"], "numbers": numbers,
            "lang_query": "" if locale == "sq" else f"?lang={locale}",
            "other_lang": other, "other_lang_name": LANGUAGE_NAMES[other]}


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
    query = f"?lang={request.query_params['lang']}" if request.query_params.get("lang") in BABEL_LOCALES else ""
    return RedirectResponse("/" + query + "#learn", status_code=303)


routes = [
    Route("/", child_page),
    Route("/help", safety_index),
    Route("/help/{slug:str}", safety_page),
]
