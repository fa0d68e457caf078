"""Issue 19, acceptance 4 (the filter): referrals carry the taxonomy's sub-codes, as the console sends
them; filtering the dashboard by a category shows that category's referrals, sub-codes included, and
the referrals-by-category table counts them. A category the taxonomy does not know is refused."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
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





async def test_the_pathway_table_matches_a_recount(stack: Stack, start_server: Callable[..., ServerProcess]) -> None:
    """Acceptance 4 (the pathway): referred → acknowledged → action taken → support received, each count
    and each median as a recount of the rows in the database gives it, under the same suppression."""
    from stats import privacy
    from stats.rollups import ACK_EDGES, bucket

    cli(stack, "directory", "load")
    server = start_server(HELPLINE_STATS_K="3")
    ana = await member(stack, "ana", "counsellor")
    drita = await member(stack, "drita", "officer", agency="cpu-shkoder")
    mona = await member(stack, "mona", "manager", with_key=False)
    for _ in range(7):
        await _refer_with(server.url, ana, stack, "violence.physical")
    ids = [row[0] for row in await query(stack, "SELECT id FROM referrals ORDER BY created_at, id")]
    async with drita.client(server.url) as portal:
        for rid in ids[:6]:
            assert (await portal.post(f"/referrals/api/referrals/{rid}/acknowledge")).status_code == 200
        for rid in ids[:5]:
            acted = await portal.post(f"/referrals/api/referrals/{rid}/actions", json={
                "kind": "contact_child", "body": seal_text(b"\0" * 32, "x")})
            assert acted.status_code == 200, acted.text
        for rid, support in zip(ids[:4], (["psychological"], ["social", "legal"], ["medical"], ["none"]), strict=True):
            closed = await portal.post(f"/referrals/api/referrals/{rid}/close", json={
                "outcome": "services_provided", "support": support,
                "none_reason": "not_needed" if support == ["none"] else None})
            assert closed.status_code == 200, closed.text
    async with mona.client(server.url) as http:
        report = (await http.get("/stats/api/report", params={"lang": "en"})).json()
        violence = (await http.get("/stats/api/report", params={"lang": "en", "category": "violence"})).json()
        other = (await http.get("/stats/api/report", params={"lang": "en", "category": "family"})).json()

    rows = await query(stack, """
        SELECT r.sent_at, r.acknowledged_at, f.acted_at, r.closed_at,
               (SELECT count(*) FROM referral_support s WHERE s.referral_id = r.id AND s.kind != 'none')
        FROM referrals r LEFT JOIN referral_follow f ON f.referral_id = r.id WHERE r.source = 'helpline'""")
    counts = {"contacts": 0, "referred": len(rows), "acknowledged": sum(1 for r in rows if r[1]),
              "acted": sum(1 for r in rows if r[2]), "supported": sum(1 for r in rows if r[4])}
    assert counts == {"contacts": 0, "referred": 7, "acknowledged": 6, "acted": 5, "supported": 3}
    for shown in (report, violence):
        assert _table(shown, "r_pathway") == {
            **{step: privacy.show(step, n, 3).text(3) for step, n in counts.items()}, "total": "0"}
    assert _table(other, "r_pathway")["referred"] == "0"

    def hours(a: Any, b: Any) -> int:
        start, end = (dt.datetime.fromisoformat(str(v)) for v in (a, b))
        return bucket(max(0.0, (end - start).total_seconds() / 3600), ACK_EDGES)

    figures = {f["id"]: f["value"] for f in report["figures"]}
    acknowledged = Counter(hours(r[0], r[1]) for r in rows if r[1])
    assert figures["pathway_acknowledged_median"] == \
        f"up to {privacy.percentile_bucket(acknowledged, 0.5, 3)} hours"
    assert figures["pathway_supported_median"] == "up to 1 hours"  # all within the hour in this test
    assert figures["pathway_referred_median"] == "–"  # none of these came from a chat
