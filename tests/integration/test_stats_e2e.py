"""Statistics end to end on both backends (issue 7, acceptance 2 and 3).

* The numbers a manager gets through the real server (roll-ups built by the first request,
  then privacy rules) match a plain recount of the same generated rows, read straight from the
  base tables and counted one by one in Python.
* Serving /stats, its JSON API and both CSV layouts (including the roll-up refresh the first
  request triggers) runs no SQL that names a column holding ciphertext, notes or wrapped keys,
  nor any table that holds only content: every statement is captured with SQLAlchemy's
  ``before_cursor_execute`` event on an in-process server over the real database.
* A manager gets 403 on every conversation, case and referral content route, with real ids.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import datetime as dt
import io
import re
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import event, select
from sqlalchemy.engine import Engine

from helpline.app import create_app
from helpline.db import make_engine, make_sessionmaker
from helpline.models import Agency, Base, CaseRecord, Conversation, Referral
from helpline.security import permissions
from helpline.settings import load_settings
from stats import privacy
from stats.rollups import county_of_municipality
from tests.chat_client import StaffClient
from tests.integration.test_permissions import sample_path, staff_routes
from tests.pgbouncer import also_through_pgbouncer
from tests.support import ROOT, Stack, add_user, free_port

pytestmark = pytest.mark.slow

DAYS = 20
# Columns that hold ciphertext, notes or wrapped keys (helpline/models.py), as table.column. (The staff
# row and session the sign-in guard reads on every request are the signed-in manager's own, not content.)
SECRET_COLUMNS = {
    "messages.body", "conversation_keys.wrapped_key", "transfers.note", "case_records.note",
    "case_records.note_keys", "referrals.content", "referral_keys.wrapped_key", "referral_events.body",
    "notices.body",
}
# Tables with nothing but content and keys: statistics have no reason to name them at all.
CONTENT_TABLES = {"messages", "conversation_keys", "referral_keys", "referral_events", "notices", "transfers"}


def test_the_secret_columns_exist_in_the_models() -> None:
    """A renamed column must be renamed here too, or the SQL check below would look for nothing."""
    tables = Base.metadata.tables
    for name in SECRET_COLUMNS:
        table, column = name.split(".")
        assert column in tables[table].c, name
    assert CONTENT_TABLES <= set(tables)


def demo_data(stack: Stack, conversations: int = 500, referrals: int = 80) -> None:
    subprocess.run(  # noqa: S603 - our own command
        [sys.executable, "-m", "helpline.cli", "demo-data", "--conversations", str(conversations), "--referrals",
         str(referrals), "--days", str(DAYS), "--seed", "11", "--no-rollup"],
        cwd=ROOT, env=stack.env, check=True, capture_output=True)


async def recount(stack: Stack) -> tuple[dict[str, Counter[str]], dict[str, Counter[str]]]:
    """Plain recount from the base tables: one row per conversation / referral, counted in Python."""
    tz = load_settings(stack.env, dotenv=None).timezone
    county_of = county_of_municipality()
    engine = make_engine(stack.database_url)
    conv: dict[str, Counter[str]] = {d: Counter() for d in ("total", "county", "category", "age_band", "hour")}
    refs: dict[str, Counter[str]] = {d: Counter() for d in ("total", "agency_kind", "r_urgency")}
    async with make_sessionmaker(engine)() as db:
        rows = await db.execute(select(Conversation.created_at, Conversation.county, Conversation.municipality,
                                       Conversation.age_band, CaseRecord.age_band, CaseRecord.primary_category)
                                .outerjoin(CaseRecord, CaseRecord.conversation_id == Conversation.id))
        for created, county, municipality, age, case_age, category in rows.all():
            created = created if created.tzinfo else created.replace(tzinfo=dt.UTC)
            conv["total"]["all"] += 1
            conv["county"][county or (county_of.get(municipality, "?") if municipality else "?")] += 1
            conv["category"][category or "-"] += 1
            conv["age_band"][case_age or age or "?"] += 1
            conv["hour"][str(created.astimezone(tz).hour)] += 1
        rows = await db.execute(select(Referral.urgency, Agency.kind).join(Agency, Agency.id == Referral.agency_id)
                                .where(Referral.state != "draft"))
        for urgency, kind in rows.all():
            refs["total"]["all"] += 1
            refs["agency_kind"][kind] += 1
            refs["r_urgency"][urgency] += 1
    await engine.dispose()
    return conv, refs


def period(stack: Stack) -> dict[str, str]:
    tz = load_settings(stack.env, dotenv=None).timezone
    today = dt.datetime.now(dt.UTC).astimezone(tz).date()
    return {"from": (today - dt.timedelta(days=DAYS + 2)).isoformat(), "to": today.isoformat(), "lang": "en"}


async def manager_http(url: str, stack: Stack, name: str) -> httpx.AsyncClient:
    password = await asyncio.to_thread(add_user, stack, name, "manager")
    staff = StaffClient(url, name, password)
    await staff.sign_in()
    return httpx.AsyncClient(base_url=url, cookies=staff.cookies,
                             headers={"origin": url, "x-csrf-token": staff.csrf}, timeout=30)


def assert_same_after_protection(table: dict[str, Any], raw: Counter[str], k: int) -> int:
    """Each shown row is what the privacy rules make of the recount; returns how many rows were compared."""
    compared = 0
    for row in table["rows"]:
        expected = privacy.show(row["key"], raw.get(row["key"], 0), k).text(k)
        if row["value"] != "x":  # "x": hidden by complementary suppression, checked in the unit tests
            assert row["value"] == expected, (table["id"], row, raw.get(row["key"], 0))
            compared += 1
    assert set(raw) <= {row["key"] for row in table["rows"]}, (table["id"], raw)
    assert table["total"] == privacy.show("total", sum(raw.values()), k).text(k), table["id"]
    return compared


@also_through_pgbouncer
async def test_the_numbers_match_a_recount_of_the_same_data(stack: Stack, start_server: Any) -> None:
    demo_data(stack)
    server = start_server(HELPLINE_STATS_K="3")
    conv, refs = await recount(stack)
    assert conv["total"]["all"] == 500 and refs["total"]["all"] > 0
    async with await manager_http(server.url, stack, "stats-manager") as http:
        answer = await http.get("/stats/api/report", params=period(stack))
        assert answer.status_code == 200, answer.text
        report = answer.json()
        assert report["k"] == 3
        tables = {t["id"]: t for t in report["tables"]}
        compared = 0
        for dim in ("county", "category", "age_band", "hour"):
            compared += assert_same_after_protection(tables[dim], conv[dim], 3)
        for table_id, dim in (("r_agency_kind", "agency_kind"), ("r_urgency", "r_urgency")):
            compared += assert_same_after_protection(tables[table_id], refs[dim], 3)
        assert compared > 30  # most rows are shown: the comparison is not vacuous
        figure = {f["id"]: f["value"] for f in report["figures"]}["contacts"]
        assert figure == privacy.show("total", 500, 3).text(3)

        # One county: its slice of the roll-ups matches the recount of that county alone.
        county = conv["county"].most_common(1)[0][0]
        answer = await http.get("/stats/api/report", params={**period(stack), "county": county})
        by_county = {t["id"]: t for t in answer.json()["tables"]}
        assert by_county["county"]["total"] == privacy.show("total", conv["county"][county], 3).text(3)

        # The CSV export carries the same cells as the API.
        csv_text = (await http.get("/stats/export.csv", params=period(stack))).text
        exported = list(csv.reader(io.StringIO(csv_text.removeprefix("\ufeff"))))
        for table_id in ("category", "county", "r_agency_kind"):
            title = tables[table_id]["title"]
            # (a leading "-" is escaped as "'-" against spreadsheet formulas)
            in_csv = {row[1].removeprefix("'"): row[3] for row in exported if row[0] == title}
            assert in_csv == {**{r["key"]: r["value"] for r in tables[table_id]["rows"]},
                              "total": tables[table_id]["total"]}, table_id


@contextlib.asynccontextmanager
async def in_process_server(stack: Stack) -> AsyncIterator[str]:
    """The real app over the real database, in this process so its SQL can be watched."""
    app = create_app(load_settings(stack.env, dotenv=None))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           ws="websockets-sansio", lifespan="on"))
    task = asyncio.create_task(server.serve())
    for _ in range(400):
        if server.started:
            break
        await asyncio.sleep(0.025)
    assert server.started, "in-process server did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 20)


async def test_stats_routes_read_no_content_column(stack: Stack) -> None:
    demo_data(stack, 200, 40)
    statements: list[str] = []

    def capture(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    async with in_process_server(stack) as url:
        async with await manager_http(url, stack, "sql-manager") as http:
            event.listen(Engine, "before_cursor_execute", capture)
            try:
                for path, extra in (("/stats", {}), ("/stats/api/report", {}), ("/stats/export.csv", {}),
                                    ("/stats/export.csv", {"layout": "chi"}),
                                    ("/stats/api/report", {"county": "Tiranë"}),
                                    ("/stats", {"category": "-", "lang": "sq"})):
                    answer = await http.get(path, params={**period(stack), **extra})
                    assert answer.status_code == 200, (path, answer.text[:300])
            finally:
                event.remove(Engine, "before_cursor_execute", capture)
    stats_sql = [s for s in statements if "stats_daily" in s]
    assert stats_sql, "no statistics query was seen: the capture is not working"
    assert any("FROM conversations" in s for s in statements), "the roll-up refresh was not seen"
    problems = []
    for statement in statements:
        flat = re.sub(r"\s+", " ", statement.lower())
        for name in SECRET_COLUMNS:
            table, column = name.split(".")
            if re.search(rf"\b{table}\.{column}\b", flat) or (
                    re.search(rf"\b{table}\b", flat) and re.search(rf"(?<![\w.]){column}\b", flat)):
                problems.append(f"{name} in: {statement[:200]}")
        for table in CONTENT_TABLES:
            if re.search(rf"\b(from|join)\s+{table}\b", flat):
                problems.append(f"table {table} in: {statement[:200]}")
        assert "select *" not in flat, statement
    assert problems == []


CONTENT_ACTIONS = ("case.", "referral.", "chat.", "disclosure.", "supervise.")


def test_a_manager_is_refused_every_content_route(stack: Stack, start_server: Any) -> None:
    """Every console and portal API route that reads or writes a conversation, a case or a referral
    answers 403 to a manager, also with ids that exist (and the manager's matrix row holds nothing else)."""
    allowed = {action for action in permissions.MATRIX if permissions.allowed("manager", action)}
    assert allowed == {"account.self", "stats.view"}
    routes = [(m, p, a) for m, p, a in staff_routes() if a.startswith(CONTENT_ACTIONS)]
    assert len(routes) >= 10, routes
    demo_data(stack, 30, 10)
    server = start_server()

    async def scenario() -> list[str]:
        engine = make_engine(stack.database_url)
        async with make_sessionmaker(engine)() as db:
            conv_id = (await db.execute(select(Conversation.id))).scalars().first()
            case_id = (await db.execute(select(CaseRecord.conversation_id))).scalars().first()
            referral_id = (await db.execute(select(Referral.id))).scalars().first()
        await engine.dispose()
        assert conv_id and case_id and referral_id
        problems = []
        async with await manager_http(server.url, stack, "content-manager") as http:
            for method, path, _action in routes:
                real = re.sub(r"\{conv[^}]*\}", str(conv_id if "/cases/" not in path else case_id), path)
                real = re.sub(r"\{rid[^}]*\}", str(referral_id), real)
                for target in {real if "{" not in real else sample_path(real), sample_path(path)}:
                    kwargs: dict[str, Any] = {} if method == "GET" else {"json": {}}
                    answer = await http.request(method, target, **kwargs)
                    if answer.status_code != 403:
                        problems.append(f"{method} {target}: {answer.status_code}")
                    elif "ciphertext" in answer.text or "body" in answer.text:
                        problems.append(f"{method} {target}: content in the refusal")
        return problems

    assert asyncio.run(scenario()) == []
