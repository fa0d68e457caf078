"""A value the database refuses is the request's fault, not an outage: 400 and a clear message, not 503.

PostgreSQL (through asyncpg) refuses an integer beyond its column's range with SQLSTATE class 22;
SQLite refuses one beyond 64 bits while binding it. Both backends."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from starlette.requests import Request

from helpline.db import Store, StoreRejected, make_engine, make_sessionmaker
from helpline.i18n import translate
from helpline.models import Staff
from helpline.staffweb import REJECTED, store_rejected
from tests.chat_client import StaffClient
from tests.integration.test_teamwork import api
from tests.support import ServerProcess, Stack, add_user, run_async

TOO_BIG = 2**63  # beyond every integer column on both backends


def test_the_store_tells_a_refused_value_from_an_outage(stack: Stack) -> None:
    async def scenario() -> None:
        engine = make_engine(stack.database_url)
        store = Store(make_sessionmaker(engine), serialise_writes=stack.database_url.startswith("sqlite"))
        try:
            with pytest.raises(StoreRejected):
                async with store.read() as db:
                    await db.execute(select(Staff).where(Staff.id == TOO_BIG))
            with pytest.raises(StoreRejected):
                async with store.write() as db:
                    await db.execute(select(Staff).where(Staff.max_chats == TOO_BIG))
            async with store.write() as db:  # the store works on: nothing was broken
                assert (await db.execute(select(Staff).where(Staff.id == 1))).first() is None
        finally:
            await engine.dispose()

    run_async(scenario())


def test_an_out_of_range_number_in_a_staff_route_gets_400(stack: Stack, server: ServerProcess) -> None:
    sara_pw = add_user(stack, "sara", role="supervisor")

    async def scenario() -> None:
        sara = StaffClient(server.url, "sara", sara_pw)
        await sara.sign_in()
        # The path takes any whole number; the database is the first to find this one too big.
        refused = await api(sara, "POST", f"/console/api/staff/{TOO_BIG}/max-chats", {"max_chats": 3})
        assert refused.status_code == 400, refused.text
        assert refused.json()["error"] == translate("sq", REJECTED) != REJECTED  # in Albanian
        missing = await api(sara, "POST", "/console/api/staff/999999/max-chats", {"max_chats": 3})
        assert missing.status_code == 404  # the next request is served as usual

    run_async(scenario())


def test_outside_the_staff_routes_a_refused_value_is_400_too() -> None:
    """The app's fallback handler, for routes with no wrapper of their own."""
    request = Request({"type": "http", "method": "GET", "path": "/report/api/x", "query_string": b"lang=en",
                       "headers": []})
    answer = run_async(store_rejected(request, StoreRejected()))
    assert answer.status_code == 400
    assert json.loads(bytes(answer.body)) == {"error": REJECTED}
