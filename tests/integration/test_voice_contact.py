"""A voice call is a contact of its chat (issue 24): the case timeline shows it, channel voice, with
its length and nothing else, and the statistics count it as a contact on channel "voice" (ADR 0033)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from sqlalchemy import func, select

from helpline import crypto
from helpline.models import StatsDaily
from helpline.settings import load_settings
from stats.tables import counts_table
from tests.integration.test_casework import db_rows, record_chat, wrap_for
from tests.integration.test_chat_e2e import open_chat
from tests.integration.test_contacts import signed_in
from tests.integration.test_teamwork import api, card
from tests.support import ServerProcess, Stack, add_user, run_async


def test_a_voice_call_shows_in_the_case_timeline(stack: Stack, server: ServerProcess) -> None:
    password = add_user(stack, "ana")

    async def scenario() -> None:
        child, ana, conv = await open_chat(server, stack, password)
        await ana.command({"type": "voice_record", "conv": conv, "call": "c4llIdAbCdEf", "seconds": 185})
        await ana.end(conv)
        ana_card = await card(ana, ana)
        record, note_key = await record_chat(ana, conv, "Folëm me zë.", [ana_card])
        case_key = crypto.new_conversation_key()
        opened = await api(ana, "POST", "/console/api/casework", {
            "record": record, **wrap_for(case_key, [ana_card]), "case_note_key": crypto.seal(case_key, note_key)})
        assert opened.status_code == 201, opened.text
        view = (await api(ana, "GET", f"/console/api/casework/{opened.json()['case']}")).json()
        calls = view["contacts"][0]["voice_calls"]
        assert [(c["channel"], c["seconds"]) for c in calls] == [("voice", 185)]
        await child.close()
        await ana.close()

    run_async(scenario())


CALLS = {"c4llAaaaaaaa": 185, "c4llBbbbbbbb": 40, "c4llCccccccc": 700, "c4llDddddddd": 3000}  # seconds
K = 3


def test_voice_calls_count_in_the_statistics(stack: Stack, start_server: Any) -> None:
    """Each call is a contact on channel "voice", counted under its chat's child and case record, with its
    length in "Length of calls"; the dashboard's JSON shows the same protected cells as a recount."""
    server = start_server(HELPLINE_STATS_K=str(K))
    password = add_user(stack, "ana")

    async def scenario() -> None:
        child, ana, conv = await open_chat(server, stack, password)
        for call, seconds in CALLS.items():
            await ana.command({"type": "voice_record", "conv": conv, "call": call, "seconds": seconds})
        await ana.command({"type": "voice_record", "conv": conv, "call": "c4llAaaaaaaa", "seconds": 185})  # twice
        await ana.end(conv)
        await record_chat(ana, conv, "Folëm me zë.", [await card(ana, ana)])  # category "violence"
        tz = load_settings(stack.env, dotenv=None).timezone
        today = dt.datetime.now(dt.UTC).astimezone(tz).date()
        span = {"from": (today - dt.timedelta(days=1)).isoformat(), "to": today.isoformat(), "lang": "en"}
        async with await signed_in(server.url, stack, "stats-manager", "manager") as http:
            report = (await http.get("/stats/api/report", params=span)).json()
        tables = {t["id"]: {r["key"]: r["value"] for r in t["rows"]} for t in report["tables"]}
        expected = {"channel": Counter({"chat": 1, "voice": 4}),
                    "call_duration": Counter({"5": 1, "2": 1, "15": 1, "60": 1})}
        for name, counts in expected.items():
            table = counts_table(name, name, name, counts, Counter(), K, "en")
            assert tables[name] == {row.key: row.cell.text(K) for row in table.rows}, name
        assert tables["channel"]["voice"] == "3"  # 4 calls, rounded to a multiple of k
        rolled = await db_rows(stack, select(StatsDaily.dim, StatsDaily.value, func.sum(StatsDaily.n))
                               .where(StatsDaily.source == "c", StatsDaily.county == "*",
                                      StatsDaily.category == "violence",
                                      StatsDaily.dim.in_(("channel", "age_band", "call_duration", "duration")))
                               .group_by(StatsDaily.dim, StatsDaily.value))
        by_dim: dict[str, dict[str, int]] = {}
        for dim, value, n in rolled:
            by_dim.setdefault(dim, {})[value] = int(n)
        assert by_dim["channel"] == {"chat": 1, "voice": 4}
        assert by_dim["age_band"] == {"13-15": 5}  # the chat's child, the calls' too
        assert by_dim["call_duration"] == {"2": 1, "5": 1, "15": 1, "60": 1}
        assert sum(by_dim["duration"].values()) == 1  # the chat's own length, not the calls'
        await child.close()
        await ana.close()

    run_async(scenario())
