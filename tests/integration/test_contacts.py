"""Contacts on every channel, on both backends (issue 18: "Every contact, one form", "Counting all of it").

* The contact endpoint keeps the form's rules (the same module as a chat's wrap-up): a clear
  refusal in the staff member's language changes nothing; a second save of the same contact
  corrects it rather than counting it twice; another counsellor may not read it, a supervisor may.
* The CHI export: every cell of every section, the period and the one before, is what the privacy
  rules make of a plain recount of a generated data set (chats, calls, e-mails, visits, letters,
  reports), counted one row at a time in Python from the base tables. The JSON API and the
  dashboard CSV count the contacts by channel alike.
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import secrets
import subprocess
import sys
from collections import Counter
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from helpline.db import make_engine, make_sessionmaker
from helpline.models import Agency, CaseRecord, Conversation, Referral
from helpline.settings import load_settings
from stats.export import CHI_SECTIONS
from stats.rollups import county_of_municipality
from stats.tables import counts_table
from tests.chat_client import StaffClient
from tests.integration.referral_support import execute, query
from tests.support import ROOT, Stack, add_user

pytestmark = pytest.mark.slow

K = 3
DAYS = 20
CALL = {"channel": "phone", "started_at": "", "duration_seconds": 310, "contact_by": "adult",
        "contact_type": "counselling", "primary_category": "violence", "secondary_categories": ["violence.bullying"],
        "risk": "low", "outcome": "advice", "age_band": "13-15", "gender": "girl", "municipality": "Pukë"}


async def signed_in(url: str, stack: Stack, name: str, role: str = "counsellor") -> httpx.AsyncClient:
    password = await asyncio.to_thread(add_user, stack, name, role)
    staff = StaffClient(url, name, password)
    await staff.sign_in()
    return httpx.AsyncClient(base_url=url, cookies=staff.cookies, timeout=30,
                             headers={"origin": url, "x-csrf-token": staff.csrf})


def ref() -> str:
    return secrets.token_urlsafe(16)


async def test_a_call_is_recorded_corrected_and_refused_clearly(stack: Stack, start_server: Any) -> None:
    server = start_server()
    started = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10)).isoformat().replace("+00:00", "Z")
    call = {**CALL, "started_at": started}
    async with await signed_in(server.url, stack, "ana") as ana, \
            await signed_in(server.url, stack, "cen") as cen, \
            await signed_in(server.url, stack, "sara", "supervisor") as sara:
        contact = ref()
        first = await ana.put(f"/console/api/contacts/{contact}", json=call)
        assert first.status_code == 201, first.text
        assert first.json()["county"] == "Shkodër" and first.json()["conv"] is None
        again = await ana.put(f"/console/api/contacts/{contact}", json={**call, "risk": "medium"})
        assert again.status_code == 200 and again.json()["id"] == first.json()["id"]

        for wrong, sentence in (
                ({"primary_category": None}, "Një kontakt këshillimi"),
                ({"municipality": "Atlantis"}, "'municipality'"),
                ({"started_at": "2999-01-01T00:00:00Z"}, "në të ardhmen"),
                ({"channel": "chat"}, "'channel'"),
                ({"phone_number": "0691234567"}, "'phone_number'")):
            refused = await ana.put(f"/console/api/contacts/{ref()}", json={**call, **wrong},
                                    headers={"x-helpline-lang": "sq"})
            assert refused.status_code == 400 and sentence in refused.json()["error"], (wrong, refused.text)
        rows = await query(stack, "SELECT risk, channel, contact_by FROM case_records")
        assert rows == [("medium", "phone", "adult")]  # the refusals changed nothing

        assert (await cen.get(f"/console/api/contacts/{contact}")).status_code == 403
        assert (await cen.put(f"/console/api/contacts/{contact}", json=call)).status_code == 403
        read = await sara.get(f"/console/api/contacts/{contact}")
        assert read.status_code == 200 and read.json()["contact"]["municipality"] == "Pukë"
        listed = (await ana.get("/console/api/cases")).json()["cases"]
        assert [(c["ref"], c["channel"]) for c in listed] == [(contact, "phone")]
        assert (await cen.get("/console/api/cases")).json()["cases"] == []
    actions = [a for (a,) in await query(stack, "SELECT action FROM audit_log ORDER BY id")]
    assert actions.count("contact.write") == 2 and "contact.read" in actions


async def recount(stack: Stack) -> dict[str, Counter[str]]:
    """Every contact, chat or not, counted one row at a time from the base tables."""
    tz = load_settings(stack.env, dotenv=None).timezone
    county_of = county_of_municipality()
    counts: dict[str, Counter[str]] = {name: Counter() for name, _ in CHI_SECTIONS}
    counts["r_agency_kind"] = Counter()

    def add(channel: str, who: str | None, age: str | None, gender: str | None, county: str, record: Any) -> None:
        counts["channel"][channel] += 1
        counts["contact_by"][who or "?"] += 1
        counts["age_band"][age or "?"] += 1
        counts["gender"][gender or "?"] += 1
        counts["county"][county] += 1
        counts["contact_type"][(record.contact_type if record else None) or "-"] += 1
        # The dashboard counts a main category with its sub-codes (``violence.physical`` is ``violence``).
        counts["category"][((record.primary_category if record else None) or "-").split(".")[0]] += 1
        counts["outcome"][(record.outcome if record else None) or "-"] += 1
        for code in sorted({c.split(".")[0] for c in (record.secondary_categories if record else ())}):
            counts["secondary"][code] += 1

    engine = make_engine(stack.database_url)
    async with make_sessionmaker(engine)() as db:
        for conv, record in (await db.execute(select(Conversation, CaseRecord).outerjoin(
                CaseRecord, CaseRecord.conversation_id == Conversation.id))).all():
            county = conv.county or (county_of.get(conv.municipality, "?") if conv.municipality else "?")
            add("chat", conv.contact_by, (record.age_band if record else None) or conv.age_band,
                (record.gender if record else None) or conv.gender, county, record)
        for record in (await db.execute(select(CaseRecord).where(CaseRecord.conversation_id.is_(None)))).scalars():
            assert record.started_at is not None
            local = record.started_at.astimezone(tz)
            assert local.date() <= dt.datetime.now(tz).date()
            add(record.channel, record.contact_by, record.age_band, record.gender, record.county or "?", record)
        for (kind,) in (await db.execute(select(Agency.kind).join(Referral, Referral.agency_id == Agency.id)
                                         .where(Referral.state != "draft"))).all():
            counts["r_agency_kind"][kind] += 1
    await engine.dispose()
    return counts


def csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))


async def test_the_chi_export_cell_by_cell_against_a_recount(stack: Stack, start_server: Any) -> None:
    subprocess.run(  # noqa: S603 - our own command
        [sys.executable, "-m", "helpline.cli", "demo-data", "--conversations", "300", "--referrals", "40",
         "--contacts", "900", "--days", str(DAYS), "--seed", "13", "--no-rollup"],
        cwd=ROOT, env=stack.env, check=True, capture_output=True)
    server = start_server(HELPLINE_STATS_K=str(K))
    counts = await recount(stack)
    assert set(counts["channel"]) == {"chat", "phone", "email", "visit", "letter", "report"}
    assert counts["channel"]["phone"] > sum(counts["channel"].values()) / 2  # the telephone carries most
    tz = load_settings(stack.env, dotenv=None).timezone
    today = dt.datetime.now(dt.UTC).astimezone(tz).date()
    span = {"from": (today - dt.timedelta(days=DAYS + 2)).isoformat(), "to": today.isoformat(), "lang": "en"}
    async with await signed_in(server.url, stack, "stats-manager", "manager") as http:
        chi = csv_rows((await http.get("/stats/export.csv", params={**span, "layout": "chi"})).text)
        dashboard = csv_rows((await http.get("/stats/export.csv", params=span)).text)
        report = (await http.get("/stats/api/report", params=span)).json()
    compared = 0
    for section, title in CHI_SECTIONS:
        label_set = "agency_kind" if section == "r_agency_kind" else section
        expected = counts_table(section, title, label_set, counts[section], Counter(), K, "en")
        cells = {row.key: (row.cell.text(K), row.previous.text(K) if row.previous else "") for row in expected.rows}
        if section != "secondary":
            cells["total"] = (expected.total.text(K), "0")
        got = {row[1].removeprefix("'"): (row[3], row[4]) for row in chi[1:] if row[0] == title}
        assert got == cells, section
        compared += len(cells)
    assert compared > 60
    channel = {r["key"]: r["value"] for r in next(t for t in report["tables"] if t["id"] == "channel")["rows"]}
    in_dashboard = {row[1]: row[3] for row in dashboard if row[0] == "Contacts by channel"}
    assert channel == {key: value for key, value in in_dashboard.items() if key != "total"}
    assert channel == {key: cell[0] for key, cell in cells.items() if key != "total"}  # the last section


async def test_a_calls_note_is_purged_with_the_chats_and_its_counts_stay(stack: Stack) -> None:
    """Retention: a call's note goes when its start is older than the retention period, as a chat's."""
    await asyncio.to_thread(add_user, stack, "ana")
    staff = (await query(stack, "SELECT id FROM staff WHERE username = 'ana'"))[0][0]
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)  # the columns hold naive UTC
    for name, days in (("old-call", 91), ("new-call", 2)):
        at = now - dt.timedelta(days=days)
        await execute(stack, "INSERT INTO case_records (ref, channel, counsellor_id, contact_type, risk, outcome, "
                      "follow_up, secondary_categories, taxonomy_version, started_at, created_at, updated_at, note, "
                      "note_keys) VALUES (:ref, 'phone', :staff, 'counselling', 'low', 'advice', :no, '[]', "
                      "'chi-2024-al1', :at, :at, :at, 'Q0lQSEVSVEVYVA', '{}')",
                      {"ref": name, "staff": staff, "at": at, "no": False})
    await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "helpline.cli", "purge"],  # noqa: S603
                            cwd=ROOT, env=stack.env, check=True, capture_output=True)
    rows = await query(stack, "SELECT ref, note, note_keys, channel, risk FROM case_records ORDER BY ref")
    kept = [(ref, note is not None, keys not in (None, "null"), channel, risk)  # JSON null reads as 'null'
            for ref, note, keys, channel, risk in rows]
    assert kept == [("new-call", True, True, "phone", "low"), ("old-call", False, False, "phone", "low")]
