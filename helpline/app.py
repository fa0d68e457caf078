"""The composition root: settings in, one Starlette app out, every service wired once."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import nacl.signing
from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket

import chat.web
import child_ui.easy_read
import child_ui.pack_pages
import child_ui.report
import child_ui.status
import child_ui.web
import helpline.web
import referral.admin_directory
import referral.console_routes
import referral.follow_routes
import referral.portal
import referral.report_routes
import referral.services_routes
import referral.thread_routes
import referral.worker
from chat.broker import Broker, make_broker
from chat.hub import STAFF_CHANNEL, Hub, revoke_notice
from chat.service import ChatService
from chat.session_checks import SessionChecks
from chat.teamwork import Teamwork
from helpline import bundle, datadir, drain, gc_tuning, i18n, keys, metrics, openapi, pack, retention, staffweb, timing
from helpline.db import Store, StoreRejected, make_engine, make_sessionmaker
from helpline.jobs import Scheduler
from helpline.middleware import (
    BodyLimit,
    ForgetClient,
    PublicHost,
    SecurityHeaders,
    content_security_policy,
    style_hash,
)
from helpline.models import Staff, StaffSession
from helpline.security import throttle
from helpline.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parent.parent
log = logging.getLogger("helpline")


@dataclass
class Services:
    """Everything a route needs, built once per process."""

    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    store: Store
    broker: Broker
    chat: ChatService
    teamwork: Teamwork
    hub: Hub
    org_public_key: bytes
    org_signing_key: nacl.signing.SigningKey | None
    server_secret: bytes
    bundles: dict[str, bundle.Bundle]
    templates: jinja2.Environment
    child_css: Markup
    municipalities: list[dict[str, str]] = field(default_factory=list)
    session_checks: SessionChecks = field(init=False)  # the console sockets' session reads (ADR 0036)

    def __post_init__(self) -> None:
        self.session_checks = SessionChecks(self.store, self.settings)

    def render(self, request: Request, template: str, context: dict[str, Any], *, locale: str,
               status_code: int = 200, headers: dict[str, str] | None = None) -> HTMLResponse:
        html = i18n.render(self.templates, template, locale, {"request": request, **context})
        return HTMLResponse(html, status_code=status_code, headers=headers)

    def js_strings(self, domain: str, locale: str) -> dict[str, str]:
        return i18n.js_strings(domain, locale)

    async def staff_for_websocket(self, websocket: WebSocket) -> tuple[Staff, StaffSession] | None:
        """The signed-in staff member and session behind a console socket, or None (also for a
        foreign Origin)."""
        from helpline.security import sessions

        origin = websocket.headers.get("origin")
        if origin and origin != self.origin_of(websocket.headers.get("host", ""), websocket.url.scheme):
            return None
        cookie = websocket.cookies.get(sessions.COOKIE_NAME)
        if not cookie:
            return None
        async with self.sessionmaker() as db:
            found = await sessions.authenticate(db, cookie, idle_minutes=self.settings.session_idle_minutes,
                                                max_hours=self.settings.session_max_hours)
            await db.commit()
        if found is None:
            return None
        staff, session = found
        return found if not staff.disabled and session.mfa_done else None

    async def revoke_staff(self, participant: str) -> None:
        """After a commit that took access away (disable, role change, reset, sign-out, password
        change): every process re-checks that person's open console sockets at once."""
        await self.broker.publish(STAFF_CHANNEL, revoke_notice(participant))

    def origin_of(self, host: str, scheme: str) -> str:
        if self.settings.public_origin:
            return str(self.settings.public_origin)
        http_scheme = {"ws": "http", "wss": "https"}.get(scheme, scheme)
        return f"{http_scheme}://{host}"


def build_services(settings: Settings) -> Services:
    engine = make_engine(str(settings.database_url))
    sessionmaker = make_sessionmaker(engine)
    broker = make_broker(str(settings.redis_url), str(settings.redis_prefix))
    store = Store(sessionmaker, serialise_writes=settings.uses_sqlite)
    chat_service = ChatService(store, broker, settings)
    org_public = keys.load_public_key(settings.org_public_key_file)
    i18n.enable_pseudo(bool(settings.pseudo_locale))  # before the bundles: they carry every language's strings
    css = child_ui.web.stylesheet()
    templates = i18n.make_environment([ROOT / "child_ui" / "templates", ROOT / "stats" / "templates",
                                       ROOT / "counsellor_ui" / "templates"])
    # A pack's own safety pages, found as pack/<locale>/<page>.html (child_ui/pack_pages.py).
    assert templates.loader is not None
    templates.loader = jinja2.ChoiceLoader([templates.loader, child_ui.pack_pages.loader()])
    templates.globals.update(brand=pack.active().brand, numbers=pack.numbers())
    return Services(
        settings=settings, engine=engine, sessionmaker=sessionmaker, store=store, broker=broker,
        chat=chat_service, teamwork=Teamwork(chat_service),
        hub=Hub(chat_service), org_public_key=org_public,
        org_signing_key=keys.load_optional_signing_key(settings.org_key_file),
        server_secret=keys.load_or_create_secret(settings.secret_file),
        bundles=bundle.build_all(org_public),
        templates=templates,
        child_css=Markup(css),  # noqa: S704 - our own stylesheet, not user input  # nosec B704
        municipalities=child_ui.web.municipalities(),
    )


async def resign_at_start(services: Services) -> None:
    """Keys the org key signed before the statement named the role are signed again (ADR 0022)."""
    from helpline.staff import resign_legacy_keys

    assert services.org_signing_key is not None
    async with services.store.write() as db:
        done = await resign_legacy_keys(db, services.org_signing_key)
    if done:
        log.info("signed %d staff key(s) again with their role", len(done))


def _routes() -> list[BaseRoute]:
    routes: list[BaseRoute] = [*child_ui.web.routes, *helpline.web.routes, *chat.web.routes, *referral.portal.routes,
                               *referral.console_routes.routes, *referral.report_routes.routes, *openapi.routes]
    with contextlib.suppress(ImportError):
        import counsellor_ui.web

        routes += counsellor_ui.web.routes
    from stats import web as stats_web  # statistics for managers (issue 7)

    routes += stats_web.routes
    from stats import yearly as stats_yearly  # the yearly report for the State Agency (issue 19)

    routes += stats_yearly.routes
    routes += child_ui.report.routes  # the public page for reporting illegal content (issue 4)
    routes += child_ui.easy_read.routes  # easy-read safety pages (issue 23)
    routes += referral.admin_directory.routes  # admins edit the agency directory (issue 4)
    routes += metrics.routes + metrics.operator_routes  # /readyz and /metrics (ADR 0032)
    routes += referral.follow_routes.routes  # action dates and the overdue list (issue 19)
    routes += child_ui.status.routes  # where her case stands, for the returning child (issue 19)
    routes += referral.services_routes.routes  # the services directory: search, CSV (issue 19)
    routes += referral.thread_routes.routes  # one referral to several agencies, one thread (ADR 0035)
    console_static = ROOT / "counsellor_ui" / "static"
    routes.append(Mount("/static/console", app=StaticFiles(directory=console_static, check_dir=False)))
    return routes


def create_app(settings: Settings | None = None) -> Starlette:
    """Builds the ASGI app; `uvicorn --factory helpline.app:create_app` calls it with no argument."""
    settings = settings or load_settings()
    datadir.keep_private()  # the database, its WAL, the outbox: the service user's only
    datadir.tighten(settings)
    helpline_pack = pack.use(settings.data_dir)  # the installed helpline pack, else packs/al
    i18n.use_pack(helpline_pack)
    throttle.configure(settings.throttle_max_rows)
    timing.configure(settings.timing_file)
    services = build_services(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await services.broker.start()
        if services.org_signing_key is not None:  # the embedded default: sign v1 keys again, with the role
            await resign_at_start(services)
        await services.hub.start()
        drain.install(services.hub.stop)  # `reconnect` goes out before uvicorn closes the sockets
        jobs = Scheduler()  # every background job, its state in the DB
        referral.worker.add_job(jobs, services)  # escalations and notices
        retention.add_job(jobs, services)  # content past HELPLINE_RETENTION_DAYS
        with contextlib.suppress(ImportError):  # follow-ups falling due and overdue (issue 18)
            from counsellor_ui import followups

            followups.add_job(jobs, services)
        jobs.start()
        gc_tuning.tune()  # after start-up: see docs/adr/0016-garbage-collector.md
        try:
            yield
        finally:
            await jobs.stop()
            await services.hub.stop()
            await services.chat.writer.stop()
            await services.session_checks.close()
            await services.broker.stop()
            await services.engine.dispose()
            timing.dump()
            metrics.process_stopped()

    # The child pages' inlined styles, allowed by hash (ADR 0004); the easy-read pages send their own policy.
    csp = content_security_policy([style_hash(str(services.child_css))])
    app = Starlette(
        routes=_routes(),
        lifespan=lifespan,
        middleware=[Middleware(ForgetClient), Middleware(SecurityHeaders, csp=csp),
                    Middleware(PublicHost, public_origin=str(settings.public_origin)), Middleware(BodyLimit)],
        exception_handlers={HTTPException: openapi.http_error, StoreRejected: staffweb.store_rejected},
    )
    app.state.services = services
    return app
