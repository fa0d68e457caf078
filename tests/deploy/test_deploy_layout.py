"""`make deploy-check` (issue 21): the layout docs/deploy.md tells an operator to build, run end to end.

Caddy with its internal certificate authority in front of two `helpline serve` processes on
PostgreSQL + Redis, from the files in deploy/; a child and a counsellor in Chromium chat over
https:// and wss:// through it; the proxy's logs name no client; the Host check and
HELPLINE_PUBLIC_ORIGIN hold through the proxy; operators reach /metrics and /readyz only on the
processes themselves."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import BrowserContext, expect, sync_playwright

from tests.browser.conftest import CHROMIUM, FLAGS, axe_violations
from tests.browser.console_signin import sign_in
from tests.deploy.layout import SITE, Layout, app_env, client_keys, log_entries, unit_command
from tests.support import ServerProcess, add_user, destroy_stack, free_port, make_stack

pytestmark = [pytest.mark.browser, pytest.mark.slow]
TOKEN = secrets.token_urlsafe(24)


@pytest.fixture
def layout(tmp_path: Path) -> Iterator[Layout]:
    stack = make_stack("postgres", tmp_path)
    built = Layout(stack, tmp_path / "caddy", free_port())
    built.folder.mkdir()
    try:
        env = app_env(stack, built.origin, TOKEN)
        for _ in range(2):
            port = free_port()
            server = ServerProcess(stack, port, command=unit_command(port), env=env).start()
            stack.servers.append(server)
            built.servers.append(server)
        built.start_caddy()
        yield built
    finally:
        built.stop_caddy()
        destroy_stack(stack)


@pytest.fixture
def contexts() -> Iterator[tuple[BrowserContext, BrowserContext]]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=[
            *FLAGS, f"--host-resolver-rules=MAP {SITE} 127.0.0.1"])
        # Caddy's own authority is not in the test profile's store: its certificate is accepted
        # as it is (the Python checks below verify it against Caddy's root).
        child = browser.new_context(viewport={"width": 320, "height": 700}, ignore_https_errors=True)
        staff = browser.new_context(viewport={"width": 1280, "height": 900}, ignore_https_errors=True)
        yield child, staff
        browser.close()


def chat_in_chromium(layout: Layout, contexts: tuple[BrowserContext, BrowserContext], password: str) -> list[str]:
    """A child and a counsellor chat through the proxy; returns every WebSocket URL the pages opened."""
    child, counsellor = contexts[0].new_page(), contexts[1].new_page()
    sockets: list[str] = []
    errors: list[str] = []
    for page in (child, counsellor):
        page.on("websocket", lambda ws: sockets.append(ws.url))
        page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(counsellor, layout, "ana", password)  # type: ignore[arg-type]  # only .url is read
    child.goto(layout.origin + "/")
    child.click("#start-chat")
    child.select_option("#municipality", "Shkodër")
    child.click("#prechat-submit")
    accept = counsellor.locator("button[data-accept]")
    expect(accept).to_have_count(1)
    accept.click()
    panel = counsellor.locator("[data-conv]")
    expect(child.locator("#counsellor")).not_to_be_empty()
    panel.locator("textarea.compose").fill("Përshëndetje! Si mund të të ndihmoj?")
    panel.locator("button.send").click()
    expect(child.locator("#messages")).to_contain_text("Si mund të të ndihmoj?")
    child.fill("#message-input", "Kam nevojë për ndihmë")
    child.click("#send-message")
    expect(panel.locator(".messages .from-child")).to_have_text(["Kam nevojë për ndihmë"])
    assert child.url.startswith(f"https://{SITE}:")
    assert axe_violations(child) == []
    assert open_sockets(layout) == {"child": 1.0, "staff": 1.0}  # summed over both processes
    assert errors == []
    child.close()  # the sockets end, and Caddy writes their lines
    counsellor.close()
    return sockets


def open_sockets(layout: Layout) -> dict[str, float]:
    """helpline_open_sockets, scraped from each process directly and added up, as Prometheus would."""
    total: dict[str, float] = {}
    for server in layout.servers:
        answer = httpx.get(server.url + "/metrics", headers={"authorization": f"Bearer {TOKEN}"}, timeout=5)
        assert answer.status_code == 200
        for line in answer.text.splitlines():
            if line.startswith("helpline_open_sockets{"):
                kind = line.split('"')[1]
                total[kind] = total.get(kind, 0.0) + float(line.rsplit(" ", 1)[1])
    return total


def test_the_documented_layout_carries_a_chat_and_logs_no_client(
        layout: Layout, contexts: tuple[BrowserContext, BrowserContext]) -> None:
    password = add_user(layout.stack, "ana")
    sockets = chat_in_chromium(layout, contexts, password)
    assert sockets and all(url.startswith(f"wss://{SITE}:{layout.https_port}/ws/") for url in sockets), sockets
    assert {url.rsplit("/", 1)[1].split("?")[0] for url in sockets} >= {"child", "staff"}

    # The app's Host check through the proxy: a name Caddy serves but not HELPLINE_PUBLIC_ORIGIN.
    status, body = layout.request("/?lang=en", host=f"{SITE}:{free_port()}")
    assert status == 421 and layout.origin in body
    assert layout.request("/?lang=en")[0] == 200
    # Operators' endpoints are not on the public side, token or not.
    for path in ("/metrics", "/readyz"):
        assert layout.request(path, headers={"Authorization": f"Bearer {TOKEN}"})[0] == 404
    assert all(httpx.get(s.url + "/readyz", timeout=5).text == "ready" for s in layout.servers)

    layout.stop_caddy()  # every line written
    access = list(log_entries(layout.logs / "access.log"))
    uris = [e.get("request", {}).get("uri", "") for e in access]
    assert len(access) >= 5 and any(uri.startswith("/ws/child") for uri in uris), uris
    own = list(log_entries(layout.logs / "caddy.log"))
    for entry in access + own:
        assert client_keys(entry) == [], entry
    access_text = (layout.logs / "access.log").read_text(encoding="utf-8")
    own_text = layout.caddy_log()
    admin_port = layout.admin.rsplit(":", 1)[1]
    for known in [f"127.0.0.1:{admin_port}", f"[::1]:{admin_port}", *(f"127.0.0.1:{s.port}" for s in layout.servers)]:
        own_text = own_text.replace(known, "")  # the upstreams' and admin's addresses are not a client's
    for text in (access_text, own_text):
        for needle in ("127.0.0.1", "::1", "HeadlessChrome", "Mozilla", "hl_session", "User-Agent"):
            assert needle not in text, f"{needle} in Caddy's log"
