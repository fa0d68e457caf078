"""Every role × route cell of the permission matrix, against a real server on both backends.

Allowed cells must get past the guard (any answer but 401/403: the sample request may still be
refused for its content, which the feature tests cover); refused cells get 403 and an audit row.
Every staff route must name an action, and docs/permissions.md must show the matrix as it is.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from starlette.routing import BaseRoute, Mount, Route

from helpline.app import _routes
from helpline.models import Role
from helpline.security import permissions
from helpline.staffweb import action_of
from tests.chat_client import FrameError, StaffClient
from tests.integration.test_teamwork import audit_rows
from tests.support import ROOT, ServerProcess, Stack, add_user, run_async

# Routes anyone may call: pages with no data in them, sign-in steps, the child's side, health.
PUBLIC = re.compile(r"^(/|/healthz|/openapi.json|/console|/referrals|/stats|/report.*|/help.*|/bundle/.*|/static/.*"
                    r"|/easy.*"
                    r"|/i18n/.*|/readyz|/metrics"  # /metrics: the operator's token (ADR 0032)
                    r"|/api/child/status"  # the child's resume token (ADR 0034)
                    r"|/console/api/(login|login/salt|mfa/.*|me|keys|keys/reseal|password|logout|logout-everywhere)|/ws/.*)$")


def staff_routes() -> list[tuple[str, str, str]]:
    """(method, path, action) for every guarded route the app serves."""
    found: list[tuple[str, str, str]] = []

    def walk(routes: list[BaseRoute]) -> None:
        for route in routes:
            if isinstance(route, Mount):
                continue  # static files
            if isinstance(route, Route):
                action = action_of(route)
                if action is None:
                    assert PUBLIC.match(route.path), f"{route.path} has no permission action and is not public"
                    continue
                for method in sorted((route.methods or {"GET"}) - {"HEAD"}):
                    found.append((method, route.path, action))

    walk(_routes())
    return found


def sample_path(path: str) -> str:
    """Fills path parameters with values that name nothing, so nothing is changed by an allowed call."""
    return re.sub(r"\{(\w+)(:(\w+))?\}", lambda m: "999999" if m.group(3) == "int" or "id" in m.group(1)
                  else "nothing-here", path)


def test_every_staff_route_names_a_known_action() -> None:
    routes = staff_routes()
    assert len(routes) > 20
    for _, path, action in routes:
        assert action in permissions.MATRIX, f"{path}: {action}"


def test_the_docs_show_the_matrix_as_the_code_has_it() -> None:
    doc = (ROOT / "docs" / "permissions.md").read_text(encoding="utf-8")
    assert permissions.markdown_table() in doc, "regenerate: python -m helpline.security.permissions"


@pytest.mark.slow
def test_every_role_on_every_route(stack: Stack, server: ServerProcess) -> None:
    routes = staff_routes()
    passwords = {role: add_user(stack, f"matrix-{role.value}", role=role.value) for role in Role}

    async def scenario() -> list[str]:
        problems: list[str] = []
        for role in Role:
            staff = StaffClient(server.url, f"matrix-{role.value}", passwords[role])
            await staff.sign_in()
            async with httpx.AsyncClient(base_url=server.url, cookies=staff.cookies,
                                         headers={"origin": server.url, "x-csrf-token": staff.csrf}) as http:
                for method, path, action in routes:
                    kwargs: dict[str, Any] = {} if method == "GET" else {"json": {}}
                    answer = await http.request(method, sample_path(path), **kwargs)
                    allowed = permissions.allowed(role.value, action)
                    if answer.status_code >= 500:
                        problems.append(f"{role.value} {method} {path}: server error {answer.status_code}")
                    if allowed and answer.status_code in (401, 403):
                        problems.append(f"{role.value} {method} {path}: {answer.status_code} but allowed")
                    if not allowed and answer.status_code != 403:
                        problems.append(f"{role.value} {method} {path}: {answer.status_code}, expected 403")
                # A state-changing call without the CSRF token changes nothing, whatever the role.
                no_csrf = await http.post("/console/api/staff/1/max-chats", json={"max_chats": 9},
                                          headers={"x-csrf-token": ""})
                if no_csrf.status_code != 403:
                    problems.append(f"{role.value}: POST without CSRF answered {no_csrf.status_code}")
        return problems

    assert run_async(scenario()) == []
    denied = {(subject, detail["action"]) for action, subject, detail in audit_rows(stack) if action == "denied"}
    for role in Role:
        for method, path, action in routes:
            if not permissions.allowed(role.value, action):
                assert (sample_path(path)[:64], action) in denied, f"{role.value} {method} {path} not audited"


def socket_refusals(stack: Stack) -> list[tuple[str, dict[str, Any]]]:
    """(actor, detail) of every refusal the audit log holds for the staff socket."""
    from sqlalchemy import select

    from helpline.db import make_engine, make_sessionmaker
    from helpline.models import AuditEntry

    async def read() -> list[tuple[str, dict[str, Any]]]:
        engine = make_engine(stack.database_url)
        try:
            async with make_sessionmaker(engine)() as db:
                rows = await db.execute(select(AuditEntry.actor, AuditEntry.detail)
                                        .where(AuditEntry.action == "denied", AuditEntry.subject == "/ws/staff")
                                        .order_by(AuditEntry.id))
                return [(actor, detail) for actor, detail in rows]
        finally:
            await engine.dispose()

    return run_async(read())


@pytest.mark.slow
def test_chat_frames_follow_the_matrix(stack: Stack, server: ServerProcess) -> None:
    """Roles outside the console cannot open the staff socket; an admin can, but takes no chat.

    Every frame the matrix refuses is in the audit log, as a refused HTTP call is."""
    passwords = {role: add_user(stack, f"frames-{role.value}", role=role.value) for role in Role}
    refused: list[tuple[str, dict[str, Any]]] = []

    async def scenario() -> None:
        for role in Role:
            staff = StaffClient(server.url, f"frames-{role.value}", passwords[role])
            await staff.sign_in()
            if not permissions.allowed(role.value, "console.use"):
                with pytest.raises(Exception):  # noqa: B017,PT011 - the socket is closed with 4403
                    await staff.connect()
                continue
            await staff.connect()
            for frame, action in (({"type": "accept", "conv": "x"}, "chat.accept"),
                                  ({"type": "join", "alert": 1}, "supervise.act"),
                                  ({"type": "assign", "conv": "x", "to": "staff:x"}, "supervise.act"),
                                  ({"type": "block", "conv": "x", "reason": "other"}, "chat.work")):
                try:
                    await staff.command(frame)
                    code = "ok"
                except FrameError as exc:
                    code = exc.frame["code"]
                allowed = permissions.allowed(role.value, action)
                assert (code != "forbidden") == allowed, f"{role.value} {frame['type']}: {code}"
                if not allowed:
                    refused.append((staff.participant, {"action": action, "reason": "role"}))
            await staff.close()

    run_async(scenario())
    assert refused, "some role is refused some frame"
    assert socket_refusals(stack) == refused


def test_frames_on_a_chat_that_is_not_theirs_are_refused_and_audited(stack: Stack, server: ServerProcess) -> None:
    """A counsellor's frame on a colleague's chat is refused, and the audit log says so with the
    reason `object`, as for a refused HTTP call on something that is not theirs."""
    from tests.integration.test_chat_e2e import open_chat

    owner_password, other_password = add_user(stack, "owner"), add_user(stack, "other")

    async def scenario() -> str:
        child, owner, conv = await open_chat(server, stack, owner_password, "owner")
        other = StaffClient(server.url, "other", other_password)
        await other.sign_in()
        await other.connect()
        try:
            for frame in ({"type": "sync", "conv": conv, "after": 0}, {"type": "end", "conv": conv}):
                with pytest.raises(FrameError) as refused:
                    await other.command(frame)
                assert refused.value.frame["code"] == "forbidden"
            assert (await owner.command({"type": "sync", "conv": conv, "after": 0}))["conv"] == conv
        finally:
            for client in (child, owner, other):
                await client.close()
        return other.participant

    who = run_async(scenario())
    assert [r for r in socket_refusals(stack) if r[1]["reason"] == "object"] == [
        (who, {"action": "frame.sync", "reason": "object"}), (who, {"action": "frame.end", "reason": "object"})]
