"""Issue 19: the yearly report for the State Agency is the dashboard's report for one calendar
year, as a printable page with server-side SVG charts and as CSV, under the same k-suppression:
its CSV is cell for cell the dashboard's export for 1 January to 31 December."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

from helpline.settings import load_settings
from tests.integration.test_stats_e2e import demo_data, manager_http
from tests.support import Stack


async def test_the_yearly_report_is_the_dashboard_for_the_year(stack: Stack, start_server: Any) -> None:
    demo_data(stack, conversations=300, referrals=40)
    server = start_server()
    tz = load_settings(stack.env, dotenv=None).timezone
    year = dt.datetime.now(dt.UTC).astimezone(tz).year
    async with await manager_http(server.url, stack, "yearly-manager") as http:
        yearly = await http.get("/stats/yearly.csv", params={"year": str(year), "lang": "en"})
        assert yearly.status_code == 200 and yearly.headers["content-type"].startswith("text/csv")
        assert f'helpline-yearly-{year}.csv' in yearly.headers["content-disposition"]
        same = await http.get("/stats/export.csv", params={"from": f"{year}-01-01", "to": f"{year}-12-31",
                                                             "lang": "en"})
        rows = list(csv.reader(io.StringIO(yearly.text.lstrip("\ufeff"))))
        assert rows == list(csv.reader(io.StringIO(same.text.lstrip("\ufeff"))))
        assert rows[0][3] == f"{year}-01-01 to {year}-12-31"
        totals = [r for r in rows if r[1] == "total"]
        assert totals and all(r[3] for r in totals)
        # Suppressed as everywhere: no shown number is below k unless written "< k".
        k = int(load_settings(stack.env, dotenv=None).stats_k)
        for row in rows[1:]:
            if row[3].isdigit():
                assert int(row[3]) == 0 or int(row[3]) >= k, row

        page = await http.get("/stats/yearly", params={"year": str(year), "lang": "en"})
        assert page.status_code == 200
        assert f"Yearly report {year}" in page.text and "<svg" in page.text
        # For the agency the pack's routing.state_agency names, as the directory writes it.
        assert "A report for: Agjencia Shtetërore për të Drejtat dhe Mbrojtjen e Fëmijës (ASHDMF)." in page.text
        albanian = await http.get("/stats/yearly", params={"year": str(year), "lang": "sq"})
        assert f"Raporti vjetor {year}" in albanian.text

        too_early = await http.get("/stats/yearly", params={"year": "1999", "lang": "en"})
        assert too_early.status_code == 400
        assert too_early.json()["error"] == f"Choose a year from 2000 to {year}."
        assert (await http.get("/stats/yearly.csv", params={"year": "next"})).status_code == 400
