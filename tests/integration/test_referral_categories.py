"""Issue 19, acceptance 4 (the filter): referrals carry the taxonomy's sub-codes, as the console sends
them; filtering the dashboard by a category shows that category's referrals, sub-codes included, and
the referrals-by-category table counts them. A category the taxonomy does not know is refused."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from helpline import crypto
from tests.integration.referral_support import cli, member, query, seal_text, wrap_for
from tests.support import ServerProcess, Stack


def _table(report: dict[str, Any], table_id: str) -> dict[str, str]:
    table = next(t for t in report["tables"] if t["id"] == table_id)
    return {row["key"]: row["value"] for row in table["rows"]} | {"total": table["total"]}


async def test_the_category_filter_counts_sub_codes_and_unknown_categories_are_refused(
        stack: Stack, start_server: Callable[..., ServerProcess]) -> None:
    cli(stack, "directory", "load")
    server = start_server(HELPLINE_STATS_K="3")
    ana = await member(stack, "ana", "counsellor")
    await member(stack, "drita", "officer", agency="cpu-shkoder")
    mona = await member(stack, "mona", "manager", with_key=False)
    for code in ("violence.physical", "violence.image_sharing", "violence.sextortion", "mental_health.anxiety",
                 "mental_health.suicidal", "mental_health.sadness"):
        await _refer_with(server.url, ana, stack, code)

    async with ana.client(server.url) as console:
        readers = (await console.get("/console/api/referral-readers", params={"agency": "cpu-shkoder"})).json()
        key = crypto.new_conversation_key()
        made_up = await console.post("/console/api/referrals", json={
            "agency": "cpu-shkoder", "urgency": "urgent", "chi_category": "violence.made_up", "consent": {},
            "content": seal_text(key, "{}"), "keys": wrap_for(readers["readers"], ana, key, stack.org_public_key)})
    assert made_up.status_code == 400 and "violence.made_up" in made_up.json()["error"]
    assert "klasifikim" in made_up.json()["error"]  # in the counsellor's language (Albanian by default)
    assert await query(stack, "SELECT count(*) FROM referrals") == [(6,)]

    async with mona.client(server.url) as http:
        violence = (await http.get("/stats/api/report", params={"category": "violence"})).json()
        everything = (await http.get("/stats/api/report", params={"lang": "en"})).json()
    assert _table(violence, "r_agency_kind")["total"] == "3"  # the three violence.* referrals
    assert _table(everything, "r_agency_kind")["total"] == "6"
    by_category = _table(everything, "r_category")
    assert by_category["violence"] == "3" and by_category["mental_health"] == "3"
    table = next(t for t in everything["tables"] if t["id"] == "r_category")
    assert table["title"] == "Referrals by category"


async def _refer_with(url: str, counsellor: Any, stack: Stack, code: str) -> None:
    """The console's referral, with the category the counsellor chose."""
    key = crypto.new_conversation_key()
    async with counsellor.client(url) as http:
        readers = (await http.get("/console/api/referral-readers", params={"agency": "cpu-shkoder"})).json()
        made = await http.post("/console/api/referrals", json={
            "agency": "cpu-shkoder", "urgency": "routine", "chi_category": code, "consent": {},
            "content": seal_text(key, json.dumps({"concern": "test"})),
            "keys": wrap_for(readers["readers"], counsellor, key, stack.org_public_key)})
        assert made.status_code == 201, made.text



